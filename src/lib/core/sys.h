/* The syscall seam: every mount-family and namespace syscall the runtime makes goes
 * through this table, so unit tests can replace it and check the logic (which mounts,
 * in which order, with which flags) without privileges. Production code calls the
 * kernel directly through the default table. */
#ifndef BRICK_SYS_H
#define BRICK_SYS_H

#include <linux/mount.h>
#include <linux/openat2.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct brick_sys {
  int (*mount)(const char *src, const char *tgt, const char *fstype, unsigned long flags,
               const void *data);
  int (*umount2)(const char *tgt, int flags);
  int (*open_tree)(int dfd, const char *path, unsigned int flags);
  int (*move_mount)(int from_dfd, const char *from, int to_dfd, const char *to,
                    unsigned int flags);
  int (*mount_setattr)(int dfd, const char *path, unsigned int flags,
                       struct mount_attr *attr, size_t size);
  int (*fsopen)(const char *fsname, unsigned int flags);
  int (*fsconfig)(int fd, unsigned int cmd, const char *key, const void *value, int aux);
  int (*fsmount)(int fd, unsigned int flags, unsigned int attr_flags);
  int (*openat2)(int dfd, const char *path, struct open_how *how, size_t size);
  int (*pivot_root)(const char *new_root, const char *put_old);
  int (*setns)(int fd, int nstype);
  int (*unshare)(int flags);
};

/* The active table; tests may point it at their own. */
extern const struct brick_sys *brick_sys;
extern const struct brick_sys brick_sys_kernel;

#endif
