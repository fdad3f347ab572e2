/* The store: records, names, lookup, removal and pruning. Import lives in
 * store_import.c. */
#include "image/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "core/util.h"
#include "image/digest.h"
#include "image/store_internal.h"

const char *brick_store_dir(const struct brick_store *s) { return s->dir; }

int brick_store_open(const char *dir, struct brick_store **out, brick_err *err) {
  if (!dir || !*dir)
    return brick_error(err, EINVAL, "empty store path");
  if (brick_mkdir_p(dir, 0711, err) < 0)
    return brick_error_prefix(err, "image store");
  char real[PATH_MAX];
  if (!realpath(dir, real))
    return brick_errno(err, "image store %s", dir);
  static const char *const subdirs[] = {"blobs", "blobs/sha256", "rootfs", "images", "tmp",
                                        "containers", "signatures"};
  for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
    _cleanup_free_ char *p = xasprintf("%s/%s", real, subdirs[i]);
    /* containers/: a container's root (an unprivileged id on the host) reaches its
     * bundle's overlay directories by path; search-only, nothing to list */
    mode_t mode = strcmp(subdirs[i], "containers") ? 0700 : 0711;
    if (mkdir(p, mode) < 0 && errno != EEXIST)
      return brick_errno(err, "image store: mkdir %s", p);
  }
  _cleanup_free_ char *lock = xasprintf("%s/lock", real);
  int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lfd < 0)
    return brick_errno(err, "image store: open %s", lock);
  struct brick_store *s = xcalloc(1, sizeof *s);
  s->dir = xstrdup(real);
  s->lockfd = lfd;
  *out = s;
  return 0;
}

void brick_store_close(struct brick_store *s) {
  if (!s)
    return;
  if (s->lockfd >= 0)
    close(s->lockfd);
  free(s->dir);
  free(s);
}

int brick_store_lock(struct brick_store *s, brick_err *err) {
  while (flock(s->lockfd, LOCK_EX) < 0) {
    if (errno != EINTR)
      return brick_errno(err, "lock image store %s", s->dir);
  }
  return 0;
}

void brick_store_unlock(struct brick_store *s) { (void)flock(s->lockfd, LOCK_UN); }

/* ---- names ---- */

static bool ref_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-' || c == '/' || c == ':';
}

static bool all_hex(const char *s, size_t *n) {
  size_t i = 0;
  for (; s[i]; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  if (n)
    *n = i;
  return true;
}

int brick_image_name_normalize(const char *name, char **out, brick_err *err) {
  if (!name || !*name)
    return brick_error(err, EINVAL, "empty image name");
  size_t len = strlen(name);
  if (len > 255)
    return brick_error(err, EINVAL, "image name \"%.40s...\" is longer than 255 characters",
                       name);
  for (const char *p = name; *p; p++)
    if (!ref_char_ok(*p))
      return brick_error(err, EINVAL, "image name \"%s\": character '%c' is not allowed", name,
                         *p);
  if (name[0] == '/' || name[0] == ':' || name[0] == '.' || name[0] == '-' ||
      name[len - 1] == '/' || name[len - 1] == ':' || strstr(name, "//"))
    return brick_error(err, EINVAL, "image name \"%s\" is malformed", name);
  size_t hn;
  if (all_hex(name, &hn) && hn == 64)
    return brick_error(err, EINVAL, "image name \"%s\" would be mistaken for an image id", name);
  const char *slash = strrchr(name, '/');
  const char *colon = strrchr(name, ':');
  bool has_tag = colon && (!slash || colon > slash);
  /* the repository part is lowercase, the tag may mix case */
  const char *repo_end = has_tag ? colon : name + len;
  for (const char *p = name; p < repo_end; p++)
    if (*p >= 'A' && *p <= 'Z')
      return brick_error(err, EINVAL, "image name \"%s\": repository must be lowercase", name);
  if (has_tag && strlen(colon + 1) > 128)
    return brick_error(err, EINVAL, "image name \"%s\": tag longer than 128 characters", name);
  if (has_tag && strchr(colon + 1, '/'))
    return brick_error(err, EINVAL, "image name \"%s\" is malformed", name);
  *out = has_tag ? xstrdup(name) : xasprintf("%s:latest", name);
  return 0;
}

/* ---- records ---- */

char *brick_store_blob_path(const struct brick_store *s, const char *digest) {
  return xasprintf("%s/blobs/sha256/%s", s->dir, digest + 7);
}

int brick_store_read_record(struct brick_store *s, const char *id, json_t **out, brick_err *err) {
  _cleanup_free_ char *p = xasprintf("%s/images/%s.json", s->dir, id);
  json_error_t je;
  *out = json_load_file(p, JSON_REJECT_DUPLICATES, &je);
  if (!*out) {
    if (access(p, F_OK) < 0 && errno == ENOENT)
      return brick_error(err, ENOENT, "image %s not found", id);
    return brick_error(err, EINVAL, "%s: %s", p, je.text);
  }
  return 0;
}

int brick_store_write_record(struct brick_store *s, const char *id, json_t *rec, brick_err *err) {
  _cleanup_free_ char *p = xasprintf("%s/images/%s.json", s->dir, id);
  _cleanup_free_ char *data = json_dumps(rec, JSON_INDENT(2));
  if (!data)
    abort();
  return brick_write_file_atomic(p, data, strlen(data), 0644, err);
}

/* Sorted ids of all records. */
int brick_store_record_ids(struct brick_store *s, char ***ids, brick_err *err) {
  _cleanup_free_ char *p = xasprintf("%s/images", s->dir);
  DIR *d = opendir(p);
  if (!d)
    return brick_errno(err, "open %s", p);
  char **v = xcalloc(1, sizeof *v);
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t n = strlen(de->d_name);
    if (n != 64 + 5 || strcmp(de->d_name + 64, ".json") != 0)
      continue;
    _cleanup_free_ char *id = strndup(de->d_name, 64);
    if (!id)
      abort();
    if (all_hex(id, NULL))
      brick_strv_push(&v, id);
  }
  closedir(d);
  qsort(v, brick_strv_len(v), sizeof *v, (int (*)(const void *, const void *))strcmp);
  *ids = v;
  return 0;
}

static int cmp_strp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int brick_store_info_from_record(struct brick_store *s, json_t *rec,
                                 struct brick_image_info *out, brick_err *err) {
  memset(out, 0, sizeof *out);
  const char *id = json_string_value(json_object_get(rec, "id"));
  const char *md = json_string_value(json_object_get(rec, "manifest_digest"));
  const char *cd = json_string_value(json_object_get(rec, "config_digest"));
  if (!id || !brick_digest_valid(md) || !brick_digest_valid(cd))
    return brick_error(err, EINVAL, "image record %s is damaged", id ? id : "?");
  out->id = xstrdup(id);
  out->manifest_digest = xstrdup(md);
  out->config_digest = xstrdup(cd);
  out->manifest_path = brick_store_blob_path(s, md);
  out->rootfs = xasprintf("%s/rootfs/%s", s->dir, cd + 7);
  out->created = json_integer_value(json_object_get(rec, "created"));
  out->size = (uint64_t)json_integer_value(json_object_get(rec, "size"));
  json_t *src = json_object_get(rec, "source");
  const char *st = json_string_value(json_object_get(src, "transport"));
  const char *sr = json_string_value(json_object_get(src, "reference"));
  if (st && sr) {
    out->source_transport = xstrdup(st);
    out->source_reference = xstrdup(sr);
  }
  out->names = xcalloc(1, sizeof *out->names);
  json_t *names = json_object_get(rec, "names");
  for (size_t i = 0; i < json_array_size(names); i++)
    if (json_string_value(json_array_get(names, i)))
      brick_strv_push(&out->names, json_string_value(json_array_get(names, i)));
  out->layer_blobs = xcalloc(1, sizeof(char *));
  out->layer_digests = xcalloc(1, sizeof(char *));
  out->layer_media_types = xcalloc(1, sizeof(char *));
  json_t *layers = json_object_get(rec, "layers");
  for (size_t i = 0; i < json_array_size(layers); i++) {
    json_t *l = json_array_get(layers, i);
    const char *dg = json_string_value(json_object_get(l, "digest"));
    const char *mt = json_string_value(json_object_get(l, "mediaType"));
    if (!brick_digest_valid(dg) || !mt) {
      brick_image_info_clear(out);
      return brick_error(err, EINVAL, "image record %s: layers[%zu] is damaged", id, i);
    }
    _cleanup_free_ char *bp = brick_store_blob_path(s, dg);
    brick_strv_push(&out->layer_blobs, bp);
    brick_strv_push(&out->layer_digests, dg);
    brick_strv_push(&out->layer_media_types, mt);
  }
  _cleanup_free_ char *cp = brick_store_blob_path(s, cd);
  json_error_t je;
  out->config = json_load_file(cp, JSON_REJECT_DUPLICATES, &je);
  if (!out->config) {
    brick_image_info_clear(out);
    return brick_error(err, EIO, "image %s: config blob %s: %s", id, cd, je.text);
  }
  return 0;
}

void brick_image_info_clear(struct brick_image_info *info) {
  if (!info)
    return;
  free(info->id);
  free(info->manifest_digest);
  free(info->config_digest);
  brick_strv_free(info->names);
  free(info->rootfs);
  brick_strv_free(info->layer_blobs);
  brick_strv_free(info->layer_digests);
  brick_strv_free(info->layer_media_types);
  free(info->manifest_path);
  free(info->source_transport);
  free(info->source_reference);
  if (info->config)
    json_decref(info->config);
  memset(info, 0, sizeof *info);
}

void brick_image_info_list_free(struct brick_image_info *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    brick_image_info_clear(&list[i]);
  free(list);
}

int brick_store_list(struct brick_store *s, struct brick_image_info **out, size_t *n,
                     brick_err *err) {
  _cleanup_strv_ char **ids = NULL;
  if (brick_store_record_ids(s, &ids, err) < 0)
    return -1;
  size_t cnt = brick_strv_len(ids), k = 0;
  struct brick_image_info *list = xcalloc(cnt ? cnt : 1, sizeof *list);
  for (size_t i = 0; i < cnt; i++) {
    _cleanup_json_ json_t *rec = NULL;
    brick_err e = {0};
    /* a record removed under us by a concurrent rm is simply gone */
    if (brick_store_read_record(s, ids[i], &rec, &e) < 0) {
      int en = e.errnum;
      if (en != ENOENT) {
        brick_error(err, en, "%s", brick_error_msg(&e));
        brick_error_clear(&e);
        brick_image_info_list_free(list, k);
        return -1;
      }
      brick_error_clear(&e);
      continue;
    }
    if (brick_store_info_from_record(s, rec, &list[k], err) < 0) {
      brick_image_info_list_free(list, k);
      return -1;
    }
    k++;
  }
  *out = list;
  *n = k;
  return 0;
}

/* Resolve name_or_id to an id (no record is loaded beyond what matching needs). */
int brick_store_resolve_id(struct brick_store *s, const char *name_or_id, char **id_out,
                           brick_err *err) {
  if (!name_or_id || !*name_or_id)
    return brick_error(err, EINVAL, "empty image reference");
  _cleanup_strv_ char **ids = NULL;
  if (brick_store_record_ids(s, &ids, err) < 0)
    return -1;
  const char *q = name_or_id;
  if (brick_str_has_prefix(q, "sha256:"))
    q += 7;
  size_t qn;
  if (all_hex(q, &qn) && qn >= 12 && qn <= 64) {
    char *match = NULL;
    for (size_t i = 0; ids[i]; i++) {
      if (strncmp(ids[i], q, qn) == 0) {
        if (match)
          return brick_error(err, EINVAL, "image id prefix \"%s\" is ambiguous", name_or_id);
        match = ids[i];
      }
    }
    if (match) {
      *id_out = xstrdup(match);
      return 0;
    }
  }
  _cleanup_free_ char *norm = NULL;
  brick_err ne = {0};
  if (brick_image_name_normalize(name_or_id, &norm, &ne) < 0)
    brick_error_clear(&ne);
  for (size_t i = 0; ids[i]; i++) {
    _cleanup_json_ json_t *rec = NULL;
    brick_err e = {0};
    if (brick_store_read_record(s, ids[i], &rec, &e) < 0) {
      brick_error_clear(&e);
      continue;
    }
    json_t *names = json_object_get(rec, "names");
    for (size_t j = 0; j < json_array_size(names); j++) {
      const char *nm = json_string_value(json_array_get(names, j));
      if (nm && (!strcmp(nm, name_or_id) || (norm && !strcmp(nm, norm)))) {
        *id_out = xstrdup(ids[i]);
        return 0;
      }
    }
  }
  return brick_error(err, ENOENT, "image \"%s\" not found in %s", name_or_id, s->dir);
}

int brick_store_lookup(struct brick_store *s, const char *name_or_id,
                       struct brick_image_info *out, brick_err *err) {
  _cleanup_free_ char *id = NULL;
  if (brick_store_resolve_id(s, name_or_id, &id, err) < 0)
    return -1;
  _cleanup_json_ json_t *rec = NULL;
  if (brick_store_read_record(s, id, &rec, err) < 0)
    return -1;
  return brick_store_info_from_record(s, rec, out, err);
}

/* Take name away from every record but keep_id. Caller holds the lock. */
int brick_store_unname_others(struct brick_store *s, const char *name, const char *keep_id,
                              brick_err *err) {
  _cleanup_strv_ char **ids = NULL;
  if (brick_store_record_ids(s, &ids, err) < 0)
    return -1;
  for (size_t i = 0; ids[i]; i++) {
    if (keep_id && !strcmp(ids[i], keep_id))
      continue;
    _cleanup_json_ json_t *rec = NULL;
    brick_err e = {0};
    if (brick_store_read_record(s, ids[i], &rec, &e) < 0) {
      brick_error_clear(&e);
      continue;
    }
    json_t *names = json_object_get(rec, "names");
    bool changed = false;
    for (size_t j = json_array_size(names); j-- > 0;) {
      const char *nm = json_string_value(json_array_get(names, j));
      if (nm && !strcmp(nm, name)) {
        json_array_remove(names, j);
        changed = true;
      }
    }
    if (changed && brick_store_write_record(s, ids[i], rec, err) < 0)
      return -1;
  }
  return 0;
}

int brick_store_tag(struct brick_store *s, const char *name_or_id, const char *name,
                    brick_err *err) {
  _cleanup_free_ char *norm = NULL;
  if (brick_image_name_normalize(name, &norm, err) < 0)
    return -1;
  if (brick_store_lock(s, err) < 0)
    return -1;
  int ret = -1;
  _cleanup_free_ char *id = NULL;
  _cleanup_json_ json_t *rec = NULL;
  if (brick_store_resolve_id(s, name_or_id, &id, err) < 0 ||
      brick_store_read_record(s, id, &rec, err) < 0 ||
      brick_store_unname_others(s, norm, id, err) < 0)
    goto out;
  json_t *names = json_object_get(rec, "names");
  if (!json_is_array(names)) {
    names = json_array();
    json_object_set_new(rec, "names", names);
  }
  bool have = false;
  for (size_t j = 0; j < json_array_size(names); j++)
    have |= !strcmp(json_string_value(json_array_get(names, j)) ?: "", norm);
  if (!have)
    json_array_append_new(names, json_string(norm));
  ret = brick_store_write_record(s, id, rec, err);
out:
  brick_store_unlock(s);
  return ret;
}

/* ---- container users ---- */

static int read_bundle_image(const char *store_dir, const char *cid, json_t **out) {
  _cleanup_free_ char *p = xasprintf("%s/containers/%s/%s", store_dir, cid, BRICK_BUNDLE_IMAGE_FILE);
  *out = json_load_file(p, 0, NULL);
  return *out ? 0 : -1;
}

/* Container ids whose bundle references image id (key "image") or rootfs hex ("rootfs"). */
static int users_matching(struct brick_store *s, const char *key, const char *value,
                          char ***out, brick_err *err) {
  _cleanup_free_ char *p = xasprintf("%s/containers", s->dir);
  DIR *d = opendir(p);
  if (!d)
    return brick_errno(err, "open %s", p);
  char **v = xcalloc(1, sizeof *v);
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_json_ json_t *b = NULL;
    if (read_bundle_image(s->dir, de->d_name, &b) < 0)
      continue;
    const char *val = json_string_value(json_object_get(b, key));
    if (val && !strcmp(val, value))
      brick_strv_push(&v, de->d_name);
  }
  closedir(d);
  qsort(v, brick_strv_len(v), sizeof *v, cmp_strp);
  *out = v;
  return 0;
}

int brick_store_image_users(struct brick_store *s, const char *id, char ***containers,
                            brick_err *err) {
  return users_matching(s, "image", id, containers, err);
}

/* ---- removal and pruning ---- */

static int remove_path(const char *p, brick_err *err) {
  struct stat st;
  if (lstat(p, &st) < 0)
    return errno == ENOENT ? 0 : brick_errno(err, "stat %s", p);
  if (S_ISDIR(st.st_mode))
    return brick_rm_rf(p, err);
  if (unlink(p) < 0 && errno != ENOENT)
    return brick_errno(err, "unlink %s", p);
  return 0;
}

/* Remove dir/name for each name, counting what went; stops at the first failure. */
static int remove_each(const char *dir, char **names, size_t *count, brick_err *err) {
  for (size_t i = 0; names && names[i]; i++) {
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, names[i]);
    if (remove_path(p, err) < 0)
      return -1;
    (*count)++;
  }
  return 0;
}

/* Every blob digest hex and rootfs hex the remaining records reference. */
static int referenced(struct brick_store *s, json_t **blobs, json_t **rootfs, brick_err *err) {
  _cleanup_strv_ char **ids = NULL;
  if (brick_store_record_ids(s, &ids, err) < 0)
    return -1;
  *blobs = json_object();
  *rootfs = json_object();
  for (size_t i = 0; ids[i]; i++) {
    _cleanup_json_ json_t *rec = NULL;
    if (brick_store_read_record(s, ids[i], &rec, err) < 0) {
      json_decref(*blobs);
      json_decref(*rootfs);
      return -1;
    }
    const char *md = json_string_value(json_object_get(rec, "manifest_digest"));
    const char *cd = json_string_value(json_object_get(rec, "config_digest"));
    if (brick_digest_valid(md))
      json_object_set_new(*blobs, md + 7, json_true());
    if (brick_digest_valid(cd)) {
      json_object_set_new(*blobs, cd + 7, json_true());
      json_object_set_new(*rootfs, cd + 7, json_true());
    }
    json_t *layers = json_object_get(rec, "layers");
    for (size_t j = 0; j < json_array_size(layers); j++) {
      const char *dg = json_string_value(json_object_get(json_array_get(layers, j), "digest"));
      if (brick_digest_valid(dg))
        json_object_set_new(*blobs, dg + 7, json_true());
    }
  }
  return 0;
}

static int gc_locked(struct brick_store *s, struct brick_prune_report *rep, bool tmp_too,
                     brick_err *err) {
  _cleanup_json_ json_t *blobs = NULL;
  _cleanup_json_ json_t *roots = NULL;
  if (referenced(s, &blobs, &roots, err) < 0)
    return -1;
  _cleanup_free_ char *bdir = xasprintf("%s/blobs/sha256", s->dir);
  DIR *d = opendir(bdir);
  if (!d)
    return brick_errno(err, "open %s", bdir);
  struct dirent *de;
  int ret = 0;
  while ((de = readdir(d)) && ret == 0) {
    if (de->d_name[0] == '.' || json_object_get(blobs, de->d_name))
      continue;
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
      rep->bytes += (uint64_t)st.st_size;
    if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
      ret = brick_errno(err, "unlink %s/%s", bdir, de->d_name);
    else
      rep->blobs++;
  }
  closedir(d);
  if (ret < 0)
    return -1;
  _cleanup_free_ char *rdir = xasprintf("%s/rootfs", s->dir);
  d = opendir(rdir);
  if (!d)
    return brick_errno(err, "open %s", rdir);
  char **doomed = NULL;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.' || json_object_get(roots, de->d_name))
      continue;
    _cleanup_strv_ char **users = NULL;
    if (users_matching(s, "rootfs", de->d_name, &users, err) < 0) {
      closedir(d);
      brick_strv_free(doomed);
      return -1;
    }
    if (!users[0])
      brick_strv_push(&doomed, de->d_name);
  }
  closedir(d);
  ret = remove_each(rdir, doomed, &rep->rootfs, err);
  brick_strv_free(doomed);
  if (ret == 0)
    ret = brick_store_signatures_gc_locked(s, err);
  if (ret < 0 || !tmp_too)
    return ret;
  _cleanup_free_ char *tdir = xasprintf("%s/tmp", s->dir);
  d = opendir(tdir);
  if (!d)
    return brick_errno(err, "open %s", tdir);
  doomed = NULL;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    /* a live import holds a lock on its staging directory's .lock */
    _cleanup_free_ char *lp = xasprintf("%s/%s/.lock", tdir, de->d_name);
    _cleanup_close_ int lfd = open(lp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0)
      continue;
    brick_strv_push(&doomed, de->d_name);
  }
  closedir(d);
  ret = remove_each(tdir, doomed, &rep->tmp, err);
  brick_strv_free(doomed);
  return ret;
}

int brick_store_prune(struct brick_store *s, struct brick_prune_report *report, brick_err *err) {
  struct brick_prune_report rep = {0};
  if (brick_store_lock(s, err) < 0)
    return -1;
  int ret = gc_locked(s, &rep, true, err);
  brick_store_unlock(s);
  if (report)
    *report = rep;
  return ret;
}

int brick_store_remove(struct brick_store *s, const char *name_or_id, bool force,
                       brick_err *err) {
  if (brick_store_lock(s, err) < 0)
    return -1;
  int ret = -1;
  _cleanup_free_ char *id = NULL;
  _cleanup_json_ json_t *rec = NULL;
  _cleanup_strv_ char **users = NULL;
  _cleanup_free_ char *rp = NULL;
  _cleanup_free_ char *norm = NULL;
  if (brick_store_resolve_id(s, name_or_id, &id, err) < 0 ||
      brick_store_read_record(s, id, &rec, err) < 0)
    goto out;
  /* given one of several names: only that name goes (as docker rmi does) */
  json_t *names = json_object_get(rec, "names");
  brick_err ne = {0};
  if (brick_image_name_normalize(name_or_id, &norm, &ne) < 0)
    brick_error_clear(&ne);
  if (json_array_size(names) > 1) {
    for (size_t j = 0; j < json_array_size(names); j++) {
      const char *nm = json_string_value(json_array_get(names, j));
      if (nm && (!strcmp(nm, name_or_id) || (norm && !strcmp(nm, norm)))) {
        json_array_remove(names, j);
        ret = brick_store_write_record(s, id, rec, err);
        goto out;
      }
    }
  }
  if (brick_store_image_users(s, id, &users, err) < 0)
    goto out;
  if (users[0] && !force) {
    _cleanup_free_ char *list = xstrdup(users[0]);
    for (size_t i = 1; users[i]; i++) {
      char *nl = xasprintf("%s, %s", list, users[i]);
      free(list);
      list = nl;
    }
    brick_error(err, EBUSY, "image %.12s is used by container%s %s (remove %s first, or use "
                "--force)", id, users[1] ? "s" : "", list, users[1] ? "them" : "it");
    goto out;
  }
  rp = xasprintf("%s/images/%s.json", s->dir, id);
  if (unlink(rp) < 0) {
    brick_errno(err, "remove %s", rp);
    goto out;
  }
  struct brick_prune_report rep = {0};
  ret = gc_locked(s, &rep, false, err);
out:
  brick_store_unlock(s);
  return ret;
}
