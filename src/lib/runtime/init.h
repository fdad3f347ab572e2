/* The container side of create: the first child enters or creates the namespaces,
 * the second (pid 1 of a new pid namespace) builds the filesystem view, waits on
 * exec.fifo for `start`, and becomes the user's process. Everything it learns goes
 * back to the parent over the sync socket. */
#ifndef BRICK_INIT_H
#define BRICK_INIT_H

#include <stdbool.h>

#include "spec/spec.h"

struct brick_seccomp_prog;
struct brick_landlock_rule;

struct brick_init_args {
  const struct brick_spec *spec;
  const char *rootfs;             /* absolute host path */
  int sync_sock;                  /* child end of the sync socketpair */
  int fifo_fd;                    /* O_PATH fd of exec.fifo */
  int console_sock;               /* connected console socket, or -1 */
  int lock_fd;                    /* the parent's state lock: must not outlive create */
  const struct brick_seccomp_prog *seccomp;
  int ns_fds[BRICK_NS_COUNT];     /* namespaces to join (opened by the parent), else -1 */
  int unshare_flags;              /* CLONE_NEW* to create */
  bool no_pivot;
  bool no_new_keyring;
  bool idmap;                     /* ask the parent for idmapped mounts */
  bool rootfs_preshifted;         /* the engine already chowned the rootfs to the maps */
  bool landlock;
  int preserve_fds;
  const char *cgroup_path;
  const char *mount_label;
  const char *id;
  const char *bundle;
};

/* Never returns: exits 0 in the first child once the init is forked; the init either
 * execs the container process or exits non-zero after reporting an error. */
_Noreturn void brick_init_stage1(const struct brick_init_args *a);

/* Landlock rules for a container as seen from inside it (after pivot_root): read and
 * execute everywhere visible, write beneath the writable rootfs (not /proc, /sys, /dev),
 * its writable mounts, /tmp, /dev/shm, /dev/mqueue, /dev/pts and the allowed devices. */
int brick_landlock_rules_for(const struct brick_spec *spec, struct brick_landlock_rule **rules,
                             size_t *n);

#endif
