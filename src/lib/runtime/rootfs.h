/* The container's filesystem view, built inside its mount namespace: the rootfs bind
 * (or idmapped mount), every configured mount, /dev, pivot_root, then masked and
 * read-only paths. Every path inside the rootfs is resolved with openat2(RESOLVE_IN_ROOT)
 * so a symlink planted by the image or the container cannot redirect a mount outside. */
#ifndef BRICK_ROOTFS_H
#define BRICK_ROOTFS_H

#include <stdbool.h>

#include "core/error.h"
#include "spec/spec.h"

struct brick_rootfs_ctx {
  const char *rootfs;        /* absolute host path */
  bool new_userns;           /* mknod impossible: devices are bind mounts */
  bool new_netns;            /* sysfs can be mounted fresh */
  bool no_pivot;
  const char *cgroup_path;   /* container cgroup (relative to hierarchy roots) */
  const char *mount_label;   /* SELinux context= for fresh mounts, NULL if none */
  /* An image rootfs: overlay of a shared read-only lower and a private upper, mounted
   * here, inside the container's mount namespace, so the lower can be idmapped
   * (overlayfs itself cannot be). NULL lower = root.path is used as is. */
  const char *overlay_lower, *overlay_upper, *overlay_work;
  /* Ask the parent for a prepared (idmapped) mount: index -1 is the rootfs, -2 the
   * overlay lower, otherwise the mounts[] index. Returns a mount fd or -1 with err set. NULL = no idmap support. */
  int (*get_idmapped)(void *opaque, int index, brick_err *err);
  void *opaque;
  /* The engine (podman --uidmap) already owns the rootfs by the mapped ids: an idmapped
   * rootfs would shift them twice, and overlayfs refuses idmapping anyway. */
  bool rootfs_preshifted;
};

/* Before pivot: propagation, rootfs, mounts, /dev. */
/* May move ctx->rootfs to a staging path (new user namespace): pivot uses the result. */
int brick_rootfs_prepare(const struct brick_spec *spec, struct brick_rootfs_ctx *ctx,
                         brick_err *err);
/* pivot_root (or MS_MOVE+chroot with no_pivot) and drop the old root. */
int brick_rootfs_pivot(const struct brick_rootfs_ctx *ctx, brick_err *err);
/* After pivot: sysctl, masked and read-only paths, read-only root. */
int brick_rootfs_finish(const struct brick_spec *spec, const struct brick_rootfs_ctx *ctx,
                        brick_err *err);

/* Resolve path beneath rootfd without leaving it; create missing directories (and the
 * last component as a file when as_file). Returns an O_PATH fd. Exposed for tests. */
int brick_open_in_root(int rootfd, const char *path, bool create, bool as_file, brick_err *err);

#endif
