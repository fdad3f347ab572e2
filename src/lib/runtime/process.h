/* The last steps before a container process becomes the user's program, shared by the
 * container init and `exec`: resource and scheduling attributes, identity, Landlock,
 * capabilities, no_new_privs, seccomp, fd hygiene, execve. Order matters and is
 * explained where it happens. */
#ifndef BRICK_PROCESS_H
#define BRICK_PROCESS_H

#include <stdbool.h>

#include "core/error.h"
#include "spec/spec.h"

struct brick_seccomp_prog;
struct brick_landlock_rule;

struct brick_process_ctx {
  const struct brick_process *proc;
  const struct brick_seccomp_prog *seccomp;     /* NULL: no filter */
  const struct brick_landlock_rule *landlock;   /* NULL: no Landlock */
  size_t n_landlock;
  int preserve_fds;
  bool seccomp_installed;                       /* brick_process_install_seccomp_early ran */
};

/* Warn (from the runtime, before any fork) about ambient caps the kernel cannot raise;
 * they are left out, as runc warns and crun says nothing. */
void brick_warn_unraisable_ambient(const struct brick_caps *caps);
/* Resolve process.args[0] against the PATH of process.env, as runc does, so a missing
 * binary is reported by create rather than failing silently after start.
 * Returns a malloc'd path or NULL with err. Must run after pivot_root. */
char *brick_process_find_exec(const struct brick_process *proc, brick_err *err);
/* Attributes that do not depend on identity: rlimits, scheduler, ioprio, cpu affinity. */
int brick_process_apply_attrs(const struct brick_process *proc, brick_err *err);
/* oom_score_adj, written before the process enters the user namespace: once there,
 * not dumpable, its /proc/self files belong to the host's root and cannot be opened. */
int brick_process_apply_oom_score(const struct brick_process *proc, brick_err *err);
/* A profile with SCMP_ACT_NOTIFY goes in early, while a parent still listens and can
 * take the listener fd to linux.seccomp.listenerPath (runc does the same): marks the fds
 * close-on-exec as brick_process_exec would, then installs ctx->seccomp using the
 * CAP_SYS_ADMIN the process still holds. Everything it does afterwards (LSM, caps,
 * setresuid, no_new_privs, execve) passes through the filter, so a NOTIFY rule on one
 * of those waits for the agent. Returns the listener fd, or -1 with err. */
int brick_process_install_seccomp_early(const struct brick_process_ctx *ctx, brick_err *err);
/* Identity, LSM, caps, no_new_privs, seccomp, then execve(path). Returns only on error. */
int brick_process_exec(const struct brick_process_ctx *ctx, const char *path, brick_err *err);

#endif
