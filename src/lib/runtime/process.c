#include "runtime/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "lsm/lsm.h"
#include "runtime/sync.h"
#include "seccomp/seccomp.h"

static const char *env_get(char *const *env, const char *key) {
  size_t kl = strlen(key);
  for (; env && *env; env++)
    if (!strncmp(*env, key, kl) && (*env)[kl] == '=')
      return *env + kl + 1;
  return NULL;
}

static bool is_executable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

void brick_warn_unraisable_ambient(const struct brick_caps *caps) {
  uint64_t left_out = brick_caps_unraisable_ambient(caps->permitted, caps->inheritable,
                                                    caps->ambient);
  if (!left_out)
    return;
  char names[512] = "";
  size_t len = 0;
  for (int i = 0; i < 64 && len < sizeof names; i++)
    if (left_out >> i & 1)
      len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? " " : "",
                              brick_cap_name(i));
  brick_warn("process.capabilities.ambient: %s not both permitted and inheritable, so the "
             "kernel cannot raise them; left out", names);
}

char *brick_process_find_exec(const struct brick_process *proc, brick_err *err) {
  const char *name = proc->args[0];
  if (strchr(name, '/')) {
    if (!is_executable_file(name))
      return brick_errno(err, "exec: \"%s\"", name), NULL;
    return xstrdup(name);
  }
  const char *path = env_get(proc->env, "PATH");
  if (!path)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  _cleanup_free_ char *copy = xstrdup(path);
  char *save = NULL;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    _cleanup_free_ char *cand = xasprintf("%s/%s", *dir ? dir : ".", name);
    if (is_executable_file(cand))
      return TAKE_PTR(cand);
  }
  brick_error(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
  return NULL;
}

struct sched_attr_compat {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};

static int parse_cpu_list(const char *list, cpu_set_t *set, brick_err *err) {
  CPU_ZERO(set);
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *end;
    long a = strtol(tok, &end, 10), b = a;
    if (*end == '-')
      b = strtol(end + 1, &end, 10);
    if (*end != '\0' || a < 0 || b < a || b >= CPU_SETSIZE)
      return brick_error(err, 0, "process.execCPUAffinity: invalid cpu list \"%s\"", list);
    for (long c = a; c <= b; c++)
      CPU_SET(c, set);
  }
  return 0;
}

int brick_process_apply_oom_score(const struct brick_process *proc, brick_err *err) {
  if (!proc->has_oom_score_adj)
    return 0;
  char v[16];
  snprintf(v, sizeof v, "%d", proc->oom_score_adj);
  if (brick_write_string("/proc/self/oom_score_adj", v, err) < 0)
    return brick_error_prefix(err, "process.oomScoreAdj");
  return 0;
}

int brick_process_apply_attrs(const struct brick_process *proc, brick_err *err) {
  for (size_t i = 0; i < proc->n_rlimits; i++) {
    struct rlimit rl = {.rlim_cur = proc->rlimits[i].soft, .rlim_max = proc->rlimits[i].hard};
    if (setrlimit(proc->rlimits[i].resource, &rl) < 0)
      return brick_errno(err, "process.rlimits[%zu]: %s", i, proc->rlimits[i].type);
  }
  if (proc->scheduler.present) {
    struct sched_attr_compat a = {
        .size = sizeof a, .sched_policy = (uint32_t)proc->scheduler.policy,
        .sched_flags = proc->scheduler.flags, .sched_nice = proc->scheduler.nice,
        .sched_priority = (uint32_t)proc->scheduler.priority,
        .sched_runtime = proc->scheduler.runtime, .sched_deadline = proc->scheduler.deadline,
        .sched_period = proc->scheduler.period};
    if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
      return brick_errno(err, "process.scheduler");
  }
  if (proc->io_priority.present) {
    int prio = (proc->io_priority.class_ << 13) | proc->io_priority.priority;
    if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, prio) < 0)
      return brick_errno(err, "process.ioPriority");
  }
  const char *cpus = proc->exec_cpu_affinity.initial ? proc->exec_cpu_affinity.initial
                                                     : proc->exec_cpu_affinity.final;
  if (cpus) {
    cpu_set_t set;
    if (parse_cpu_list(cpus, &set, err) < 0)
      return -1;
    if (sched_setaffinity(0, sizeof set, &set) < 0)
      return brick_errno(err, "process.execCPUAffinity");
  }
  return 0;
}

static int set_identity(const struct brick_process *proc, brick_err *err) {
  const struct brick_user *u = &proc->user;
  /* setgroups is denied when the parent wrote "deny" to setgroups (an unprivileged
   * single-id map); with no extra groups that is fine. */
  if (setgroups(u->n_additional_gids, u->additional_gids) < 0 &&
      !(errno == EPERM && u->n_additional_gids == 0))
    return brick_errno(err, "process.user.additionalGids");
  if (setresgid(u->gid, u->gid, u->gid) < 0)
    return brick_errno(err, "process.user.gid %u", (unsigned)u->gid);
  if (setresuid(u->uid, u->uid, u->uid) < 0)
    return brick_errno(err, "process.user.uid %u", (unsigned)u->uid);
  return 0;
}

/* No host fd may survive into the container (CVE-2024-21626): everything above the
 * preserved range is closed on exec. Marked before any seccomp filter goes in: a
 * config's profile need not allow close_range (Docker's older default does not). */
static int mark_fds_cloexec(const struct brick_process_ctx *ctx, brick_err *err) {
  unsigned first = 3u + (unsigned)(ctx->preserve_fds > 0 ? ctx->preserve_fds : 0);
  if (syscall(SYS_close_range, first, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
    return brick_errno(err, "close_range");
  return 0;
}

int brick_process_install_seccomp_early(const struct brick_process_ctx *ctx, brick_err *err) {
  if (!ctx->seccomp || !brick_seccomp_uses_notify(ctx->seccomp))
    return brick_error(err, EINVAL, "seccomp: early install is for SCMP_ACT_NOTIFY profiles");
  if (mark_fds_cloexec(ctx, err) < 0)
    return -1;
  int notify_fd = -1;
  if (brick_seccomp_install(ctx->seccomp, &notify_fd, err) < 0)
    return brick_error_prefix(err, "seccomp");
  return notify_fd;
}

int brick_process_exec(const struct brick_process_ctx *ctx, const char *path, brick_err *err) {
  const struct brick_process *proc = ctx->proc;
  if (!ctx->seccomp_installed && mark_fds_cloexec(ctx, err) < 0)
    return -1;
  const struct brick_seccomp_prog *prog = ctx->seccomp_installed ? NULL : ctx->seccomp;
  /* Its listener fd has nowhere to go from here: the caller installs it early. */
  if (prog && brick_seccomp_uses_notify(prog))
    return brick_error(err, EINVAL, "seccomp: a SCMP_ACT_NOTIFY profile must be installed "
                                    "while the runtime still listens");

  if (proc->selinux_label && brick_selinux_set_exec_label(proc->selinux_label, err) < 0)
    return brick_error_prefix(err, "process.selinuxLabel");

  if (ctx->landlock) {
    /* Landlock wants no_new_privs or CAP_SYS_ADMIN; we still hold the latter here. */
    bool applied = false;
    if (brick_landlock_apply(ctx->landlock, ctx->n_landlock, &applied, err) < 0)
      return brick_error_prefix(err, "landlock");
  }

  /* Without no_new_privs, installing a filter needs CAP_SYS_ADMIN: do it before the caps
   * go. With no_new_privs it goes last, so the filter need not allow the setup calls. */
  if (prog && !proc->no_new_privileges) {
    if (brick_seccomp_install(prog, NULL, err) < 0)
      return brick_error_prefix(err, "seccomp");
  }

  if (brick_caps_keep(true, err) < 0)
    return -1;
  if (set_identity(proc, err) < 0)
    return -1;
  const struct brick_caps *c = &proc->caps;
  if (brick_caps_apply(c->bounding, c->effective, c->inheritable, c->permitted, c->ambient,
                       err) < 0)
    return brick_error_prefix(err, "process.capabilities");
  if (brick_caps_keep(false, err) < 0)
    return -1;
  if (proc->user.has_umask)
    umask(proc->user.umask);
  else
    umask(022);

  if (proc->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return brick_errno(err, "no_new_privs");
  if (prog && proc->no_new_privileges) {
    if (brick_seccomp_install(prog, NULL, err) < 0)
      return brick_error_prefix(err, "seccomp");
  }

  execve(path, proc->args, proc->env ? proc->env : (char *[]){NULL});
  return brick_errno(err, "exec %s", path);
}
