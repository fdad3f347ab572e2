/* Scan targets beyond a plain directory: images in the store (through the image
 * module's store API, with the per-image inventory cache) and containers (their rootfs,
 * from the runtime's state file). */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>

#include "core/util.h"
#include "image/store.h"
#include "scan/scan.h"

static int inventory_of(const char *store_dir, const struct brick_image_info *info,
                        struct brick_inventory *inv, brick_err *err) {
  brick_err cache_err = {0};
  if (brick_scan_cache_load(store_dir, info->id, inv, &cache_err) == 0)
    return 0;
  brick_error_clear(&cache_err);
  size_t n = brick_strv_len(info->layer_blobs);
  int r = n ? brick_inventory_layers(info->layer_blobs, info->layer_digests, n, inv, err)
            : brick_inventory_rootfs(info->rootfs, inv, err);
  if (r < 0)
    return brick_error_prefix(err, "image %s", info->id);
  brick_err save_err = {0};
  /* A read-only store still scans; only the cache is lost. */
  if (brick_scan_cache_save(store_dir, info->id, inv, NULL, &save_err) < 0)
    brick_error_clear(&save_err);
  return 0;
}

static void fill(struct brick_scan_result *res, const struct brick_image_info *info,
                 const char *asked) {
  memset(res, 0, sizeof *res);
  res->image_id = xstrdup(info->id);
  if (asked)
    res->target = xstrdup(asked);
  else if (info->names && info->names[0])
    res->target = xstrdup(info->names[0]);
  else
    res->target = xasprintf("sha256:%.12s", info->id);
}

int brick_scan_load_image(const char *store_dir, const char *name_or_id,
                          struct brick_scan_result *res, brick_err *err) {
  struct brick_store *s = NULL;
  if (brick_store_open(store_dir, &s, err) < 0)
    return -1;
  struct brick_image_info info = {0};
  int r = brick_store_lookup(s, name_or_id, &info, err);
  if (r == 0) {
    fill(res, &info, name_or_id);
    r = inventory_of(brick_store_dir(s), &info, &res->inv, err);
    if (r < 0)
      brick_scan_result_free(res);
  }
  brick_image_info_clear(&info);
  brick_store_close(s);
  return r;
}

int brick_scan_load_all_images(const char *store_dir, struct brick_scan_result **res,
                               size_t *n, brick_err *err) {
  struct brick_store *s = NULL;
  if (brick_store_open(store_dir, &s, err) < 0)
    return -1;
  struct brick_image_info *list = NULL;
  size_t count = 0;
  int r = brick_store_list(s, &list, &count, err);
  for (size_t i = 0; r == 0 && i < count; i++) {
    *res = xrealloc(*res, (*n + 1) * sizeof **res);
    struct brick_scan_result *x = &(*res)[*n];
    fill(x, &list[i], NULL);
    (*n)++;
    r = inventory_of(brick_store_dir(s), &list[i], &x->inv, err);
  }
  brick_image_info_list_free(list, count);
  brick_store_close(s);
  return r;
}

static int check_container_id(const char *id, brick_err *err) {
  if (!id || !*id || strchr(id, '/') || id[0] == '.')
    return brick_error(err, EINVAL, "container id \"%s\" is not valid", id ? id : "");
  return 0;
}

int brick_scan_container_rootfs(const char *state_root, const char *id, char **rootfs,
                                brick_err *err) {
  if (check_container_id(id, err) < 0)
    return -1;
  _cleanup_free_ char *path = xasprintf("%s/%s/state.json", state_root, id);
  _cleanup_free_ char *buf = NULL;
  if (brick_read_file(path, &buf, NULL, err) < 0) {
    if (err && err->errnum == ENOENT)
      return brick_error(err, ENOENT, "container %s does not exist (no %s)", id, path);
    return -1;
  }
  json_error_t je;
  _cleanup_json_ json_t *j = json_loads(buf, 0, &je);
  if (!j)
    return brick_error(err, 0, "%s: line %d: %s", path, je.line, je.text);
  const char *r = json_string_value(json_object_get(j, "rootfs"));
  if (!r || !*r)
    return brick_error(err, 0, "%s: \"rootfs\" is missing", path);
  *rootfs = xstrdup(r);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int brick_scan_list_containers(const char *state_root, char ***ids, brick_err *err) {
  *ids = NULL;
  _cleanup_close_ int dfd = open(state_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    if (errno == ENOENT)
      return 0;
    return brick_errno(err, "open %s", state_root);
  }
  int fd2 = dup(dfd);
  if (fd2 < 0)
    return brick_errno(err, "dup");
  DIR *d = fdopendir(fd2);
  if (!d) {
    close(fd2);
    return brick_errno(err, "open %s", state_root);
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *p = xasprintf("%s/state.json", de->d_name);
    if (faccessat(dfd, p, F_OK, 0) == 0)
      brick_strv_push(ids, de->d_name);
  }
  closedir(d);
  size_t n = brick_strv_len(*ids);
  if (n)
    qsort(*ids, n, sizeof **ids, cmp_str);
  return 0;
}
