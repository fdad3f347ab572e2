#include "runtime/rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/sys.h"
#include "core/util.h"
#include "runtime/defaults.h"

/* mount(2) accepts a magic link as its target: the kernel follows it to the very object
 * we resolved safely, so no path string is ever re-resolved by the kernel. */
#define FD_PATH(buf, fd) (snprintf((buf), sizeof(buf), "/proc/self/fd/%d", (fd)), (buf))

static int openat2_in_root(int rootfd, const char *path, int flags, brick_err *err) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  int fd = brick_sys->openat2(rootfd, path, &how, sizeof how);
  if (fd < 0 && err)
    brick_errno(err, "open %s in rootfs", path);
  return fd;
}

int brick_open_in_root(int rootfd, const char *path, bool create, bool as_file, brick_err *err) {
  int fd = openat2_in_root(rootfd, path, O_PATH, NULL);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT || !create)
    return brick_errno(err, "open %s in rootfs", path);

  /* Walk down from the root one component at a time, creating what is missing. A step
   * that meets no symlink stays beneath the directory it starts from (RESOLVE_BENEATH |
   * RESOLVE_NO_SYMLINKS); at a symlink the prefix so far is resolved again from the
   * root with RESOLVE_IN_ROOT, so a link planted by the image is followed only inside
   * the rootfs and the creation itself cannot be redirected. */
  size_t len = strlen(path);
  _cleanup_free_ char *prefix = xcalloc(len + 2, 1);
  size_t plen = 0;
  _cleanup_close_ int dirfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  if (dirfd < 0)
    return brick_errno(err, "dup rootfs fd");
  const char *p = path;
  for (;;) {
    while (*p == '/')
      p++;
    if (*p == '\0')
      break;
    const char *end = strchrnul(p, '/');
    bool last = end[strspn(end, "/")] == '\0';
    size_t clen = (size_t)(end - p);
    _cleanup_free_ char *comp = strndup(p, clen);
    prefix[plen++] = '/';
    memcpy(prefix + plen, p, clen);
    plen += clen;
    prefix[plen] = '\0';
    p = end;
    if (!strcmp(comp, "."))
      continue;
    struct open_how step = {.flags = O_PATH | O_CLOEXEC,
                            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    int child = strcmp(comp, "..") ? brick_sys->openat2(dirfd, comp, &step, sizeof step) : -1;
    if (child < 0 && errno == ENOENT) {
      if (last && as_file) {
        int f = openat(dirfd, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0 && errno != EEXIST)
          return brick_errno(err, "create %s in rootfs", path);
        if (f >= 0)
          close(f);
      } else if (mkdirat(dirfd, comp, 0755) < 0 && errno != EEXIST) {
        return brick_errno(err, "mkdir %s in rootfs", path);
      }
      child = brick_sys->openat2(dirfd, comp, &step, sizeof step);
    }
    if (child < 0)  /* a symlink, "..", or a race: resolve the prefix inside the root */
      child = openat2_in_root(rootfd, prefix, O_PATH, err);
    if (child < 0)
      return -1;
    close(dirfd);
    dirfd = child;
  }
  return TAKE_FD(dirfd);
}

/* Flags of the mount under fd that a user namespace may not clear (the kernel locks
 * them): a remount must repeat them or it fails with EPERM. */
static unsigned long locked_flags(int fd) {
  struct statvfs sv;
  if (fstatvfs(fd, &sv) < 0)
    return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int remount_bind_fd(int fd, const char *dest, unsigned long flags, brick_err *err) {
  char buf[64];
  unsigned long keep = locked_flags(fd) & ~MS_RDONLY;
  if (brick_sys->mount(NULL, FD_PATH(buf, fd), NULL, MS_REMOUNT | MS_BIND | flags | keep, NULL) < 0)
    return brick_errno(err, "remount %s", dest);
  return 0;
}

static int remount_bind(int rootfd, const char *dest, unsigned long flags, brick_err *err) {
  _cleanup_close_ int fd = openat2_in_root(rootfd, dest, O_PATH, err);
  if (fd < 0)
    return -1;
  char buf[64];
  unsigned long keep = locked_flags(fd) & ~MS_RDONLY;
  unsigned long want = MS_REMOUNT | MS_BIND | flags | keep;
  if (brick_sys->mount(NULL, FD_PATH(buf, fd), NULL, want, NULL) < 0)
    return brick_errno(err, "remount %s", dest);
  return 0;
}

static int apply_rec_attrs(int rootfd, const struct brick_mount *m, brick_err *err) {
  if (m->rec_attr_set == 0 && m->rec_attr_clr == 0)
    return 0;
  _cleanup_close_ int fd = openat2_in_root(rootfd, m->destination, O_PATH, err);
  if (fd < 0)
    return -1;
  struct mount_attr attr = {.attr_set = m->rec_attr_set, .attr_clr = m->rec_attr_clr};
  if (brick_sys->mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    return brick_errno(err, "mount_setattr %s", m->destination);
  return 0;
}

static const unsigned long BIND_REMOUNT_FLAGS =
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
    MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_LAZYTIME;

static char *with_label(const char *data, const char *label) {
  if (!label)
    return data ? xstrdup(data) : NULL;
  if (data && *data)
    return xasprintf("%s,context=\"%s\"", data, label);
  return xasprintf("context=\"%s\"", label);
}

/* v1 and hybrid hosts: a tmpfs with one read-only bind per controller hierarchy,
 * pointing at the container's own cgroup, as runc does (cgroup v1 cannot be mounted
 * fresh inside a user namespace). Pure v2: a fresh cgroup2 mount in the cgroup ns. */
static int mount_cgroup(int rootfd, const struct brick_mount *m, int destfd,
                        const struct brick_rootfs_ctx *ctx, brick_err *err) {
  char buf[64];
  bool v2_only = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  unsigned long ro = m->flags & MS_RDONLY;
  if (v2_only) {
    if (brick_sys->mount("cgroup2", FD_PATH(buf, destfd), "cgroup2",
                         (m->flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
      /* Without a cgroup namespace of our own the kernel refuses a fresh mount: bind. */
      _cleanup_free_ char *src = xasprintf("/sys/fs/cgroup%s", ctx->cgroup_path ? ctx->cgroup_path : "");
      if (brick_sys->mount(src, FD_PATH(buf, destfd), NULL, MS_BIND | MS_REC, NULL) < 0)
        return brick_errno(err, "mount cgroup2 on %s", m->destination);
    }
    return ro ? remount_bind(rootfd, m->destination, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) : 0;
  }
  if (brick_sys->mount("tmpfs", FD_PATH(buf, destfd), "tmpfs",
                       MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") < 0)
    return brick_errno(err, "mount tmpfs on %s", m->destination);
  DIR *d = opendir("/sys/fs/cgroup");
  if (!d)
    return brick_errno(err, "opendir /sys/fs/cgroup");
  /* The tmpfs just mounted is ours: no symlink can be in it, so its entries are made
   * and opened relative to one fd instead of resolving each path from the root. */
  _cleanup_close_ int dfd = openat2_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY, err);
  if (dfd < 0) {
    closedir(d);
    return -1;
  }
  int ret = 0;
  struct dirent *de;
  while ((de = readdir(d)) && ret == 0) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *host = xasprintf("/sys/fs/cgroup/%s", de->d_name);
    _cleanup_free_ char *inner = xasprintf("%s/%s", m->destination, de->d_name);
    unsigned char type = de->d_type;
    struct stat st;
    if (type == DT_UNKNOWN && lstat(host, &st) == 0)
      type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
    if (type == DT_LNK) {
      char target[256];
      ssize_t n = readlink(host, target, sizeof target - 1);
      if (n <= 0)
        continue;
      target[n] = '\0';
      if (symlinkat(target, dfd, de->d_name) < 0)
        ret = brick_errno(err, "symlink %s", inner);
      continue;
    }
    if (type != DT_DIR)
      continue;
    _cleanup_free_ char *src = xasprintf("%s%s", host, ctx->cgroup_path ? ctx->cgroup_path : "");
    if (access(src, F_OK) < 0) {
      free(src);
      src = xstrdup(host); /* controller not joined (e.g. not used): show its root read-only */
    }
    if (mkdirat(dfd, de->d_name, 0755) < 0 && errno != EEXIST) {
      ret = brick_errno(err, "mkdir %s", inner);
      break;
    }
    _cleanup_close_ int fd = openat(dfd, de->d_name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      ret = brick_errno(err, "open %s", inner);
      break;
    }
    if (brick_sys->mount(src, FD_PATH(buf, fd), NULL, MS_BIND | MS_REC, NULL) < 0) {
      ret = brick_errno(err, "bind %s", src);
      break;
    }
    /* Reopen: fd still names the directory under the new bind, not the bind. */
    _cleanup_close_ int top = openat(dfd, de->d_name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (top < 0) {
      ret = brick_errno(err, "open %s", inner);
      break;
    }
    ret = remount_bind_fd(top, inner, MS_NOSUID | MS_NODEV | MS_NOEXEC | ro, err);
  }
  closedir(d);
  if (ret == 0 && ro)
    ret = remount_bind(rootfd, m->destination, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
  return ret;
}

static int mount_one(int rootfd, const struct brick_spec *spec, size_t index,
                     const struct brick_rootfs_ctx *ctx, brick_err *err) {
  const struct brick_mount *m = &spec->mounts[index];
  const char *type = m->type ? m->type : "none";
  char buf[64];

  bool src_is_file = false;
  /* In a new user namespace the container's root may not reach the source path (or
   * may see it through other ids): the parent opens it and hands over a detached clone. */
  _cleanup_close_ int srcfd = -1;
  if (m->bind && (m->idmap || (ctx->new_userns && ctx->get_idmapped))) {
    if (!ctx->get_idmapped)
      return brick_error(err, 0, "mounts[%zu] (%s): idmap requested but not available",
                         index, m->destination);
    srcfd = ctx->get_idmapped(ctx->opaque, (int)index, err);
    if (srcfd < 0)
      return brick_error_prefix(err, "mounts[%zu] (%s)", index, m->destination);
  }
  if (m->bind) {
    struct stat st;
    if (srcfd >= 0 ? fstat(srcfd, &st) < 0 : stat(m->source, &st) < 0)
      return brick_errno(err, "mounts[%zu]: source %s", index, m->source);
    src_is_file = !S_ISDIR(st.st_mode);
  }
  _cleanup_close_ int destfd = brick_open_in_root(rootfd, m->destination, true, src_is_file, err);
  if (destfd < 0)
    return brick_error_prefix(err, "mounts[%zu] (%s)", index, m->destination);

  if (m->bind) {
    if (srcfd >= 0) {
      if (brick_sys->move_mount(srcfd, "", destfd, "",
                                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return brick_errno(err, "mounts[%zu]: attach %s on %s", index, m->source, m->destination);
    } else {
      unsigned long f = MS_BIND | (m->recursive_bind ? MS_REC : 0);
      if (brick_sys->mount(m->source, FD_PATH(buf, destfd), NULL, f, NULL) < 0)
        return brick_errno(err, "mounts[%zu]: bind %s on %s", index, m->source, m->destination);
    }
    unsigned long extra = m->flags & BIND_REMOUNT_FLAGS;
    if (extra && remount_bind(rootfd, m->destination, extra, err) < 0)
      return brick_error_prefix(err, "mounts[%zu]", index);
  } else if (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2")) {
    if (mount_cgroup(rootfd, m, destfd, ctx, err) < 0)
      return brick_error_prefix(err, "mounts[%zu]", index);
  } else {
    _cleanup_free_ char *data = NULL;
    /* In a user namespace SELinux takes context= only on tmpfs, ramfs and devpts (mqueue
     * fails with EINVAL); mqueue then keeps the policy's label for it. */
    bool labelled = ctx->mount_label &&
                    (!strcmp(type, "tmpfs") || !strcmp(type, "devpts") ||
                     (!strcmp(type, "mqueue") && !ctx->new_userns));
    data = with_label(m->data, labelled ? ctx->mount_label : NULL);
    const char *src = m->source ? m->source : type;
    if (brick_sys->mount(src, FD_PATH(buf, destfd), type, m->flags & ~MS_REMOUNT, data) < 0) {
      int e = errno;
      /* sysfs needs a network namespace owned by our user namespace; otherwise bind the
       * host's /sys read-only (runc does the same for rootless containers). */
      if (!strcmp(type, "sysfs") && (e == EPERM || e == EACCES)) {
        if (brick_sys->mount("/sys", FD_PATH(buf, destfd), NULL, MS_BIND | MS_REC, NULL) < 0)
          return brick_errno(err, "mounts[%zu]: bind /sys on %s", index, m->destination);
        if (remount_bind(rootfd, m->destination, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
          return -1;
      } else {
        return brick_error(err, e, "mounts[%zu]: mount %s (%s) on %s", index, src, type,
                           m->destination);
      }
    }
  }
  if (m->propagation) {
    _cleanup_close_ int fd = openat2_in_root(rootfd, m->destination, O_PATH, err);
    if (fd < 0 || brick_sys->mount(NULL, FD_PATH(buf, fd), NULL, m->propagation, NULL) < 0)
      return fd < 0 ? -1 : brick_errno(err, "mounts[%zu]: propagation of %s", index, m->destination);
  }
  return apply_rec_attrs(rootfd, m, err);
}

static bool has_mount_at(const struct brick_spec *spec, const char *dest) {
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (!strcmp(spec->mounts[i].destination, dest))
      return true;
  return false;
}

struct std_device {
  const char *path;
  unsigned major, minor;
};
static const struct std_device std_devices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static int make_device(int rootfd, const char *path, char type, mode_t perm, unsigned major,
                       unsigned minor, uid_t uid, gid_t gid, bool bind, brick_err *err) {
  if (bind) {
    /* In a user namespace mknod is refused: bind the host's node instead. The host
     * path must be the same node, checked by major:minor, never trusted by name. */
    struct stat st;
    if (stat(path, &st) < 0 || major(st.st_rdev) != major || minor(st.st_rdev) != minor)
      return brick_error(err, 0, "device %s (%u:%u) not found on the host to bind", path,
                         major, minor);
    _cleanup_close_ int fd = brick_open_in_root(rootfd, path, true, true, err);
    if (fd < 0)
      return -1;
    char buf[64];
    if (brick_sys->mount(path, FD_PATH(buf, fd), NULL, MS_BIND, NULL) < 0)
      return brick_errno(err, "bind device %s", path);
    return 0;
  }
  _cleanup_free_ char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  *slash = '\0';
  _cleanup_close_ int dfd = brick_open_in_root(rootfd, *dir ? dir : "/", true, false, err);
  if (dfd < 0)
    return -1;
  mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
  /* dfd is O_PATH: reopen as a real directory fd for mknodat/fchownat. */
  _cleanup_close_ int real = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (real < 0)
    return brick_errno(err, "open %s", dir);
  unlinkat(real, slash + 1, 0);
  if (mknodat(real, slash + 1, fmt | perm, makedev(major, minor)) < 0)
    return brick_errno(err, "mknod %s", path);
  /* mknod's mode went through the umask; linux.devices[].fileMode is exact. */
  if (fchmodat(real, slash + 1, perm, 0) < 0)
    return brick_errno(err, "chmod %s", path);
  if (fchownat(real, slash + 1, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return brick_errno(err, "chown %s", path);
  return 0;
}

static int setup_dev(int rootfd, const struct brick_spec *spec, const struct brick_rootfs_ctx *ctx,
                     brick_err *err) {
  const struct brick_linux *l = &spec->linux_;
  for (size_t i = 0; i < ARRAY_SIZE(std_devices); i++) {
    bool configured = false;
    for (size_t j = 0; j < l->n_devices; j++)
      if (!strcmp(l->devices[j].path, std_devices[i].path))
        configured = true;
    if (configured)
      continue;
    if (make_device(rootfd, std_devices[i].path, 'c', 0666, std_devices[i].major,
                    std_devices[i].minor, 0, 0, ctx->new_userns, err) < 0)
      return -1;
  }
  for (size_t j = 0; j < l->n_devices; j++) {
    const struct brick_device *d = &l->devices[j];
    mode_t perm = d->has_file_mode ? (d->file_mode & 07777) : 0666;
    if (make_device(rootfd, d->path, d->type == 'u' ? 'c' : d->type, perm, (unsigned)d->major,
                    (unsigned)d->minor, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
                    ctx->new_userns, err) < 0)
      return brick_error_prefix(err, "linux.devices[%zu]", j);
  }
  static const struct { const char *target, *link; } links[] = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
      {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
  };
  _cleanup_close_ int devfd = brick_open_in_root(rootfd, "/dev", true, false, err);
  if (devfd < 0)
    return -1;
  _cleanup_close_ int dev = openat(devfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dev < 0)
    return brick_errno(err, "open /dev");
  for (size_t i = 0; i < ARRAY_SIZE(links); i++)
    if (symlinkat(links[i].target, dev, links[i].link) < 0 && errno != EEXIST)
      return brick_errno(err, "symlink /dev/%s", links[i].link);
  if (has_mount_at(spec, "/dev/pts")) {
    unlinkat(dev, "ptmx", 0);
    if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
      return brick_errno(err, "symlink /dev/ptmx");
  }
  return 0;
}

/* In a new user namespace the container's root may be unable to reach the bundle's
 * path (a 0700 parent directory). Then the rootfs (or the overlay's directories) arrive
 * from the parent as detached mounts and are attached beneath a tmpfs of our own, in this
 * private mount namespace only, over /mnt (rarely used by hooks, so createContainer hooks
 * still see the host's /tmp) or /tmp where there is no /mnt. The old root goes at
 * pivot_root, staging included. */
static char staged_rootfs[32], staged_layers[32];

static bool reachable(const char *path) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0)
    return false;
  close(fd);
  return true;
}

static int ensure_staging(brick_err *err) {
  if (staged_rootfs[0])
    return 0;
  struct stat st;
  const char *dir = stat("/mnt", &st) == 0 && S_ISDIR(st.st_mode) ? "/mnt" : "/tmp";
  if (brick_sys->mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                       "mode=700,size=16k") < 0)
    return brick_errno(err, "mount the rootfs staging tmpfs on %s", dir);
  snprintf(staged_rootfs, sizeof staged_rootfs, "%s/.brick-rootfs", dir);
  snprintf(staged_layers, sizeof staged_layers, "%s/.brick-layers", dir);
  return 0;
}

/* The image's shared rootfs is the lower layer. In a user namespace it is first
 * idmapped and attached over the (empty) rootfs directory, then the overlay is mounted
 * on top of it with lowerdir naming that same path: the lower resolves to the idmapped
 * mount at mount time, and the overlay covers it. Nothing here is visible on the host. */
static int mount_overlay(const struct brick_rootfs_ctx *ctx, brick_err *err) {
  const char *lower = ctx->overlay_lower;
  if (ctx->new_userns && ctx->get_idmapped) {
    _cleanup_close_ int mfd = ctx->get_idmapped(ctx->opaque, -2, err);
    if (mfd < 0)
      return brick_error_prefix(err, "idmapped image layer %s", ctx->overlay_lower);
    if (brick_sys->move_mount(mfd, "", AT_FDCWD, ctx->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
      return brick_errno(err, "attach idmapped image layer on %s", ctx->rootfs);
    lower = ctx->rootfs;
  }
  const char *upper = ctx->overlay_upper, *work = ctx->overlay_work;
  _cleanup_free_ char *staged_upper = NULL, *staged_work = NULL;
  if (ctx->new_userns && ctx->get_idmapped && !reachable(upper)) {
    /* upper and work may sit below directories the container's root cannot search:
     * their common directory comes from the parent and is attached next to the rootfs. */
    const char *us = strrchr(upper, '/'), *ws = strrchr(work, '/');
    if (!us || !ws || us - upper != ws - work || strncmp(upper, work, (size_t)(us - upper)))
      return brick_error(err, 0, "annotations: %s and %s must be in the same directory",
                         BRICK_ANNOTATION_OVERLAY_UPPER, BRICK_ANNOTATION_OVERLAY_WORK);
    _cleanup_close_ int dfd = ctx->get_idmapped(ctx->opaque, -3, err);
    if (dfd < 0)
      return brick_error_prefix(err, "overlay directories");
    if (ensure_staging(err) < 0)
      return -1;
    if (mkdir(staged_layers, 0700) < 0 ||
        brick_sys->move_mount(dfd, "", AT_FDCWD, staged_layers, MOVE_MOUNT_F_EMPTY_PATH) < 0)
      return brick_errno(err, "attach overlay directories on %s", staged_layers);
    upper = staged_upper = xasprintf("%s%s", staged_layers, us);
    work = staged_work = xasprintf("%s%s", staged_layers, ws);
  }
  if (strpbrk(lower, ",:") || strpbrk(upper, ",:") || strpbrk(work, ",:"))
    return brick_error(err, 0, "overlay paths must not contain ',' or ':'");
  _cleanup_free_ char *data = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s%s", lower,
                                        upper, work,
                                        ctx->new_userns ? ",userxattr" : "");
  if (brick_sys->mount("overlay", ctx->rootfs, "overlay", MS_NODEV, data) < 0)
    return brick_errno(err, "mount overlay on %s (%s)", ctx->rootfs, data);
  return 0;
}

static int stage_rootfs(struct brick_rootfs_ctx *ctx, brick_err *err) {
  if (reachable(ctx->rootfs))
    return 0;
  if (ensure_staging(err) < 0)
    return -1;
  if (mkdir(staged_rootfs, 0700) < 0)
    return brick_errno(err, "mkdir %s", staged_rootfs);
  ctx->rootfs = staged_rootfs;
  return 0;
}

int brick_rootfs_prepare(const struct brick_spec *spec, struct brick_rootfs_ctx *ctx,
                         brick_err *err) {
  char buf[64];
  unsigned long prop = spec->linux_.rootfs_propagation ? spec->linux_.rootfs_propagation
                                                       : (MS_SLAVE | MS_REC);
  /* First cut propagation to the host so nothing below leaks out of this namespace. */
  if (brick_sys->mount(NULL, "/", NULL,
                       (prop & (MS_SHARED | MS_UNBINDABLE)) ? (MS_SLAVE | MS_REC) : prop,
                       NULL) < 0)
    return brick_errno(err, "make / %s", (prop & MS_PRIVATE) ? "private" : "slave");

  if (ctx->new_userns && ctx->get_idmapped && stage_rootfs(ctx, err) < 0)
    return -1;
  if (ctx->overlay_lower) {
    if (mount_overlay(ctx, err) < 0)
      return -1;
  } else if (ctx->get_idmapped && ctx->new_userns) {
    _cleanup_close_ int mfd = ctx->get_idmapped(ctx->opaque, -1, err);
    if (mfd < 0)
      return brick_error_prefix(err, "rootfs");
    if (brick_sys->move_mount(mfd, "", AT_FDCWD, ctx->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
      return brick_errno(err, "attach rootfs on %s", ctx->rootfs);
  } else if (brick_sys->mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
    return brick_errno(err, "bind rootfs %s", ctx->rootfs);
  }
  _cleanup_close_ int rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return brick_errno(err, "open rootfs %s", ctx->rootfs);
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (mount_one(rootfd, spec, i, ctx, err) < 0)
      return -1;
  if (setup_dev(rootfd, spec, ctx, err) < 0)
    return -1;
  (void)buf;
  return 0;
}

int brick_rootfs_pivot(const struct brick_rootfs_ctx *ctx, brick_err *err) {
  if (ctx->no_pivot) {
    if (chdir(ctx->rootfs) < 0)
      return brick_errno(err, "chdir %s", ctx->rootfs);
    if (brick_sys->mount(ctx->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
      return brick_errno(err, "move rootfs to /");
    if (chroot(".") < 0)
      return brick_errno(err, "chroot");
    if (chdir("/") < 0)
      return brick_errno(err, "chdir /");
    return 0;
  }
  _cleanup_close_ int newroot = open(ctx->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0)
    return brick_errno(err, "open %s", ctx->rootfs);
  if (fchdir(newroot) < 0)
    return brick_errno(err, "chdir %s", ctx->rootfs);
  if (brick_sys->pivot_root(".", ".") < 0)
    return brick_errno(err, "pivot_root %s", ctx->rootfs);
  /* The old root now sits on top of "."; make sure its unmount does not propagate to
   * the host, then detach it. */
  if (brick_sys->mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return brick_errno(err, "make old root slave");
  if (brick_sys->umount2(".", MNT_DETACH) < 0)
    return brick_errno(err, "detach old root");
  if (chdir("/") < 0)
    return brick_errno(err, "chdir /");
  return 0;
}

static int write_sysctl(const struct brick_kv *kv, brick_err *err) {
  _cleanup_free_ char *path = xasprintf("/proc/sys/%s", kv->key);
  for (char *p = path + strlen("/proc/sys/"); *p; p++)
    if (*p == '.')
      *p = '/';
  if (strstr(kv->key, "..") || strchr(kv->key, '/'))
    return brick_error(err, 0, "linux.sysctl: invalid key \"%s\"", kv->key);
  _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int fd = openat2_in_root(rootfd, path, O_WRONLY, err);
  if (fd < 0)
    return brick_error_prefix(err, "linux.sysctl: %s", kv->key);
  if (write(fd, kv->value, strlen(kv->value)) < 0)
    return brick_errno(err, "linux.sysctl: %s = %s", kv->key, kv->value);
  return 0;
}

/* Open a masked or read-only path target. No symlink may stand in for it: a link the
 * container made would move the protection elsewhere. Returns -1 with errno ENOENT (and
 * err untouched) when the path does not exist, which is not an error. */
static int open_protected(int rootfd, const char *path, const char *what, brick_err *err) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS};
  const char *rel = path;
  while (*rel == '/')
    rel++;
  int fd = brick_sys->openat2(rootfd, rel, &how, sizeof how);
  if (fd < 0 && errno != ENOENT)
    brick_errno(err, "%s: %s", what, path);
  return fd;
}

static int mask_path(int rootfd, int nullfd, const char *path, brick_err *err) {
  _cleanup_close_ int fd = open_protected(rootfd, path, "linux.maskedPaths", err);
  if (fd < 0)
    return errno == ENOENT ? 0 : -1;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return brick_errno(err, "stat %s", path);
  char tgt[64], src[64];
  if (S_ISDIR(st.st_mode)) {
    if (brick_sys->mount("tmpfs", FD_PATH(tgt, fd), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                         "size=0,mode=000") < 0)
      return brick_errno(err, "linux.maskedPaths: mask %s", path);
  } else if (brick_sys->mount(FD_PATH(src, nullfd), FD_PATH(tgt, fd), NULL, MS_BIND, NULL) < 0) {
    return brick_errno(err, "linux.maskedPaths: mask %s", path);
  }
  return 0;
}

static int readonly_path(int rootfd, const char *path, brick_err *err) {
  _cleanup_close_ int fd = open_protected(rootfd, path, "linux.readonlyPaths", err);
  if (fd < 0)
    return errno == ENOENT ? 0 : -1;
  char buf[64];
  if (brick_sys->mount(FD_PATH(buf, fd), FD_PATH(buf, fd), NULL, MS_BIND | MS_REC, NULL) < 0)
    return brick_errno(err, "linux.readonlyPaths: bind %s", path);
  if (remount_bind(rootfd, path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
    return brick_error_prefix(err, "linux.readonlyPaths");
  return 0;
}

int brick_rootfs_finish(const struct brick_spec *spec, const struct brick_rootfs_ctx *ctx,
                        brick_err *err) {
  const struct brick_linux *l = &spec->linux_;
  for (size_t i = 0; i < l->n_sysctl; i++)
    if (write_sysctl(&l->sysctl[i], err) < 0)
      return -1;

  _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return brick_errno(err, "open /");
  if (l->masked_paths && l->masked_paths[0]) {
    /* /dev/null is ours (created above), but verify it is the real node before using it
     * as the source of every file mask. */
    _cleanup_close_ int nullfd = openat2_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, err);
    struct stat st;
    if (nullfd < 0 || fstat(nullfd, &st) < 0 || !S_ISCHR(st.st_mode) ||
        major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
      return brick_error(err, 0, "linux.maskedPaths: /dev/null in the container is not the null device");
    for (char **p = l->masked_paths; *p; p++)
      if (mask_path(rootfd, nullfd, *p, err) < 0)
        return -1;
  }
  for (char **p = l->readonly_paths; p && *p; p++)
    if (readonly_path(rootfd, *p, err) < 0)
      return -1;
  /* Device nodes belong in the /dev mount only: a node planted in the image (or written
   * by the container) must not open a host device. Without a /dev mount the default
   * nodes live on the rootfs itself, so it keeps dev then. */
  unsigned long root_extra = (spec->root.readonly ? MS_RDONLY : 0) |
                             (has_mount_at(spec, "/dev") ? MS_NODEV : 0);
  if (root_extra) {
    unsigned long keep = locked_flags(rootfd) & ~MS_RDONLY;
    if (brick_sys->mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | root_extra | keep, NULL) < 0)
      return brick_errno(err, "remount /%s%s", (root_extra & MS_RDONLY) ? " read-only" : "",
                         (root_extra & MS_NODEV) ? " nodev" : "");
  }
  /* Shared and unbindable wait until now: pivot_root refuses a shared new root, an
   * unbindable "/" refuses the rootfs and mask binds, and a fresh shared group here has
   * only the container's mounts in it (the host's "/" was made a slave above). */
  unsigned long prop = l->rootfs_propagation;
  if ((prop & (MS_SHARED | MS_UNBINDABLE)) && brick_sys->mount(NULL, "/", NULL, prop, NULL) < 0)
    return brick_errno(err, "linux.rootfsPropagation: make / %s",
                       (prop & MS_SHARED) ? "shared" : "unbindable");
  (void)ctx;
  return 0;
}
