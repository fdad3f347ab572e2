/* Inventory of a root filesystem: which package databases exist and in what order they
 * are read. The same code serves unpacked directories and image layers (db_source). */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>

#include "core/sys.h"
#include "core/util.h"
#include "scan/scan_internal.h"

static const char *const rpm_dirs[] = {"usr/lib/sysimage/rpm", "var/lib/rpm", "usr/share/rpm"};
static const char *const os_release_paths[] = {"etc/os-release", "usr/lib/os-release"};
#define DPKG_STATUS "var/lib/dpkg/status"
#define DPKG_STATUS_D "var/lib/dpkg/status.d/"
#define APK_INSTALLED "lib/apk/db/installed"

static const char *rpm_db_files[] = {"rpmdb.sqlite", "Packages.db", "Packages"};

bool scan_is_db_path(const char *path) {
  for (size_t i = 0; i < ARRAY_SIZE(os_release_paths); i++)
    if (!strcmp(path, os_release_paths[i]))
      return true;
  if (!strcmp(path, DPKG_STATUS) || !strcmp(path, APK_INSTALLED))
    return true;
  if (brick_str_has_prefix(path, DPKG_STATUS_D))
    return !strchr(path + strlen(DPKG_STATUS_D), '/');
  for (size_t i = 0; i < ARRAY_SIZE(rpm_dirs); i++) {
    size_t n = strlen(rpm_dirs[i]);
    if (!strncmp(path, rpm_dirs[i], n) && path[n] == '/')
      for (size_t j = 0; j < ARRAY_SIZE(rpm_db_files); j++)
        if (!strcmp(path + n + 1, rpm_db_files[j]))
          return true;
  }
  return false;
}

/* 1 when read, 0 when absent, -1 on error. */
static int try_read(const struct db_source *src, const char *path, char **buf, size_t *len,
                    brick_err *err) {
  brick_err e = {0};
  if (src->read(src->ctx, path, buf, len, &e) == 0)
    return 1;
  if (e.errnum == ENOENT || e.errnum == ENOTDIR) {
    brick_error_clear(&e);
    return 0;
  }
  if (err) {
    brick_error_clear(err);
    *err = e;
  } else {
    brick_error_clear(&e);
  }
  return -1;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int scan_inventory_from_source(const struct db_source *src, struct brick_inventory *inv,
                               brick_err *err) {
  for (size_t i = 0; i < ARRAY_SIZE(os_release_paths); i++) {
    _cleanup_free_ char *buf = NULL;
    int r = try_read(src, os_release_paths[i], &buf, NULL, err);
    if (r < 0)
      return -1;
    if (r > 0) {
      brick_os_release_parse(buf, &inv->os);
      break;
    }
  }

  _cleanup_free_ char *status = NULL;
  size_t len = 0;
  int r = try_read(src, DPKG_STATUS, &status, &len, err);
  if (r < 0)
    return -1;
  if (r > 0 && brick_dpkg_parse_status(status, len, "/" DPKG_STATUS, inv, err) < 0)
    return -1;
  _cleanup_strv_ char **names = src->list(src->ctx, DPKG_STATUS_D);
  size_t nn = brick_strv_len(names);
  if (nn)
    qsort(names, nn, sizeof *names, cmp_str);
  for (size_t i = 0; i < nn; i++) {
    if (names[i][0] == '.' || strstr(names[i], ".md5sums"))
      continue;
    _cleanup_free_ char *path = xasprintf(DPKG_STATUS_D "%s", names[i]);
    _cleanup_free_ char *buf = NULL;
    r = try_read(src, path, &buf, &len, err);
    if (r < 0)
      return -1;
    _cleanup_free_ char *origin = xasprintf("/%s", path);
    if (r > 0 && brick_dpkg_parse_status(buf, len, origin, inv, err) < 0)
      return -1;
  }

  /* The rpm directories are usually one database behind symlinks: the first found wins. */
  bool rpm_done = false;
  for (size_t d = 0; d < ARRAY_SIZE(rpm_dirs) && !rpm_done; d++) {
    for (size_t f = 0; f < ARRAY_SIZE(rpm_db_files) && !rpm_done; f++) {
      _cleanup_free_ char *path = xasprintf("%s/%s", rpm_dirs[d], rpm_db_files[f]);
      _cleanup_free_ char *buf = NULL;
      r = try_read(src, path, &buf, &len, err);
      if (r < 0)
        return -1;
      if (r == 0)
        continue;
      _cleanup_free_ char *origin = xasprintf("/%s", path);
      if (f == 0)
        r = brick_rpm_parse_sqlite(buf, len, origin, inv, err);
      else if (f == 1)
        r = brick_rpm_parse_ndb((unsigned char *)buf, len, origin, inv, err);
      else
        r = brick_rpm_parse_bdb((unsigned char *)buf, len, origin, inv, err);
      if (r < 0)
        return -1;
      rpm_done = true;
    }
  }

  _cleanup_free_ char *apk = NULL;
  r = try_read(src, APK_INSTALLED, &apk, &len, err);
  if (r < 0)
    return -1;
  if (r > 0 && brick_apk_parse_installed(apk, len, "/" APK_INSTALLED, inv, err) < 0)
    return -1;
  brick_inventory_sort(inv);
  return 0;
}

static int rootfs_read(void *ctx, const char *path, char **buf, size_t *len, brick_err *err) {
  return brick_rootfs_read(*(int *)ctx, path, buf, len, err);
}

static char **rootfs_list(void *ctx, const char *dir) {
  struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd = brick_sys->openat2(*(int *)ctx, dir, &how, sizeof how);
  if (fd < 0)
    return NULL;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return NULL;
  }
  char **names = NULL;
  struct dirent *de;
  while ((de = readdir(d)))
    if (de->d_type == DT_REG || de->d_type == DT_UNKNOWN)
      brick_strv_push(&names, de->d_name);
  closedir(d);
  return names;
}

int brick_inventory_rootfs(const char *rootfs, struct brick_inventory *inv, brick_err *err) {
  _cleanup_close_ int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return brick_errno(err, "open rootfs %s", rootfs);
  struct db_source src = {rootfs_read, rootfs_list, &fd};
  if (scan_inventory_from_source(&src, inv, err) < 0) {
    brick_error_prefix(err, "%s", rootfs);
    return -1;
  }
  return 0;
}
