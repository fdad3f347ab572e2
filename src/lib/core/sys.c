#include "core/sys.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static int k_mount(const char *src, const char *tgt, const char *fstype, unsigned long flags,
                   const void *data) {
  return mount(src, tgt, fstype, flags, data);
}
static int k_umount2(const char *tgt, int flags) { return umount2(tgt, flags); }
static int k_open_tree(int dfd, const char *path, unsigned int flags) {
  return (int)syscall(SYS_open_tree, dfd, path, flags);
}
static int k_move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
                        unsigned int flags) {
  return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}
static int k_mount_setattr(int dfd, const char *path, unsigned int flags,
                           struct mount_attr *attr, size_t size) {
  return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, size);
}
static int k_fsopen(const char *fsname, unsigned int flags) {
  return (int)syscall(SYS_fsopen, fsname, flags);
}
static int k_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux) {
  return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}
static int k_fsmount(int fd, unsigned int flags, unsigned int attr_flags) {
  return (int)syscall(SYS_fsmount, fd, flags, attr_flags);
}
static int k_openat2(int dfd, const char *path, struct open_how *how, size_t size) {
  return (int)syscall(SYS_openat2, dfd, path, how, size);
}
static int k_pivot_root(const char *new_root, const char *put_old) {
  return (int)syscall(SYS_pivot_root, new_root, put_old);
}
static int k_setns(int fd, int nstype) { return setns(fd, nstype); }
static int k_unshare(int flags) { return unshare(flags); }

const struct brick_sys brick_sys_kernel = {
    .mount = k_mount,
    .umount2 = k_umount2,
    .open_tree = k_open_tree,
    .move_mount = k_move_mount,
    .mount_setattr = k_mount_setattr,
    .fsopen = k_fsopen,
    .fsconfig = k_fsconfig,
    .fsmount = k_fsmount,
    .openat2 = k_openat2,
    .pivot_root = k_pivot_root,
    .setns = k_setns,
    .unshare = k_unshare,
};

const struct brick_sys *brick_sys = &brick_sys_kernel;
