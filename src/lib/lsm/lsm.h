/* Linux security modules and process privileges for a container init: SELinux labels
 * and MCS category allocation, Landlock filesystem/scope restriction and the five
 * capability sets. Each helper either does its job completely or returns -1 with a
 * brick_err naming what failed; none of them prints. */
#ifndef BRICK_LSM_H
#define BRICK_LSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* ---- SELinux (selinux.c) ---- */

/* is_selinux_enabled() > 0 and selinuxfs mounted at /sys/fs/selinux. */
bool brick_selinux_enabled(void);
bool brick_selinux_enforcing(void);

/* Default container labels from the policy's lxc_contexts file
 * (selinux_lxc_contexts_path()): its "process" and "file" entries, falling back to
 * system_u:system_r:container_t:s0 / system_u:object_r:container_file_t:s0 when the
 * policy ships no such file. With mcs_level != NULL the level field of both is
 * replaced by it. Both outputs are malloc'ed. */
int brick_selinux_default_labels(const char *mcs_level, char **process_label,
                                 char **file_label, brick_err *err);
/* Same, reading an explicit lxc_contexts file; path == NULL or a missing file gives
 * the built-in defaults. */
int brick_selinux_labels_from_file(const char *path, const char *mcs_level,
                                   char **process_label, char **file_label, brick_err *err);

/* Parse "user:role:type[:level]" and return a copy with level replaced (level may
 * itself contain ':' as in "s0-s0:c0.c1023"). Errors on a malformed context. */
int brick_selinux_context_with_level(const char *context, const char *level, char **out,
                                     brick_err *err);
/* Split a context into its four fields (level may be NULL on MLS-less policies). */
struct brick_selinux_context {
  char *user, *role, *type, *level;
};
int brick_selinux_context_parse(const char *context, struct brick_selinux_context *out,
                                brick_err *err);
void brick_selinux_context_free(struct brick_selinux_context *ctx);

/* Exec label for the next execve (setexeccon), verified by reading
 * /proc/thread-self/attr/exec back. label == NULL, or SELinux disabled on the host:
 * returns 0 and does nothing (the runtime warns about an ignored label). */
int brick_selinux_set_exec_label(const char *label, brick_err *err);
/* Label of keyrings created from now on (setkeycreatecon); same NULL/disabled rules. */
int brick_selinux_set_keycreate_label(const char *label, brick_err *err);

/* Label every file under path (path included) with file_label using lsetfilecon,
 * leaving files that already carry it untouched, not following symlinks and not
 * crossing into other mounts. Refuses system directories ("/", "/usr", "/etc", ...)
 * whose relabelling would break the host. Works whether or not SELinux is enabled
 * (the xattr is stored either way); the runtime calls it only when enabled. */
int brick_selinux_relabel_tree(const char *path, const char *file_label, brick_err *err);

/* "context=\"<label>\"" for mount(2) data (quoted: MCS levels contain commas).
 * NULL for a NULL label. malloc'ed. */
char *brick_selinux_context_mount_option(const char *file_label);

/* ---- MCS category allocation (mcs.c) ---- */

/* State lives in <state_dir>/mcs.json, guarded by flock on <state_dir>/mcs.lock.
 * allocate: a random pair "s0:cX,cY" (X < Y, 0..1023) no other live id holds; the same
 * id gets its existing level back. reserve: record an explicit level from the config
 * (validated, canonicalised) so random ones avoid it; an id re-reserving replaces its
 * entry; several ids may share an explicit level (pods do). release: forget the id
 * (no error when unknown). */
int brick_mcs_allocate(const char *state_dir, const char *id, char **level, brick_err *err);
int brick_mcs_reserve(const char *state_dir, const char *id, const char *level,
                      brick_err *err);
int brick_mcs_release(const char *state_dir, const char *id, brick_err *err);
/* The level recorded for id, or *level = NULL when none. */
int brick_mcs_lookup(const char *state_dir, const char *id, char **level, brick_err *err);
/* Validate an MLS level "sN[-sM][:cats]" (cats: cX or cX.cY, comma separated, 0..1023)
 * and return it canonicalised (categories sorted, merged). */
int brick_mcs_level_canonical(const char *level, char **out, brick_err *err);

/* ---- Landlock (landlock.c) ---- */

/* Landlock ABI version of the running kernel; 0 when unsupported or disabled. */
int brick_landlock_abi(void);

struct brick_landlock_rule {
  const char *path;
  bool write; /* every handled right (read, write, create, remove, exec, ...) */
  bool exec;  /* with write == false: allow execute on top of read */
};

/* Restrict the calling process (and its future children) to the rules: every FS right
 * the running ABI knows is handled; write == false rules get read (+ execute when exec),
 * write == true rules get all of them. Directory-only rights are masked off for rules
 * on non-directories. With ABI >= 6 abstract unix sockets and signals are scoped to the
 * domain. Network is not restricted (the network namespace does that). Missing paths
 * are skipped. Needs no_new_privs or CAP_SYS_ADMIN. With ABI 0: returns 0 and
 * *applied = false (best effort, as Landlock documents). */
int brick_landlock_apply(const struct brick_landlock_rule *rules, size_t n, bool *applied,
                         brick_err *err);

/* ---- Capabilities (caps.c) ---- */

/* Bit i of each mask is capability i. In order: drop the bounding-set caps not in
 * bounding, set inheritable/permitted/effective (cap_set_proc), clear the ambient set
 * and raise the ambient caps that are both permitted and inheritable. Bits above
 * cap_last_cap are ignored. Safe to call again after a setresuid done under
 * brick_caps_keep(true). */
int brick_caps_apply(uint64_t bounding, uint64_t effective, uint64_t inheritable,
                     uint64_t permitted, uint64_t ambient, brick_err *err);
/* Ambient caps the kernel will not raise (not both permitted and inheritable), which
 * brick_caps_apply leaves out; callers warn about them. */
uint64_t brick_caps_unraisable_ambient(uint64_t permitted, uint64_t inheritable,
                                       uint64_t ambient);
int brick_caps_keep(bool keep, brick_err *err); /* PR_SET_KEEPCAPS */
int brick_cap_last_cap(void);                   /* /proc/sys/kernel/cap_last_cap, cached */

#endif
