/* Import: source -> verified blobs in staging -> policy hook -> unpacked rootfs in
 * staging -> (store lock) renames into place and the image record. Nothing is visible in
 * the store until the locked commit, and the staging directory goes on any failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "image/source.h"
#include "image/store_internal.h"
#include "image/unpack.h"

struct progress {
  bool on;
  size_t layer, nlayers;
  uint64_t total;
  int last_pct;
};

/* The one place the library draws on stderr: only when the caller asked (a tty). */
static void progress_cb(uint64_t done, void *ctx) {
  struct progress *p = ctx;
  if (!p->on || p->total == 0)
    return;
  int pct = (int)(done * 100 / p->total);
  if (pct > 100)
    pct = 100;
  if (pct == p->last_pct)
    return;
  p->last_pct = pct;
  char bar[31];
  int fill = pct * 30 / 100;
  for (int i = 0; i < 30; i++)
    bar[i] = i < fill ? '#' : ' ';
  bar[30] = '\0';
  fprintf(stderr, "\rlayer %zu/%zu [%s] %3d%% %6.1f MiB", p->layer, p->nlayers, bar, pct,
          (double)p->total / (1024.0 * 1024.0));
  fflush(stderr);
}

static int make_staging(struct brick_store *s, char **dir_out, int *lockfd_out, brick_err *err) {
  char *dir = xasprintf("%s/tmp/import-XXXXXX", s->dir);
  if (!mkdtemp(dir)) {
    int e = errno;
    free(dir);
    return brick_error(err, e, "create staging directory in %s/tmp", s->dir);
  }
  _cleanup_free_ char *lp = xasprintf("%s/.lock", dir);
  int lfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lfd < 0 || flock(lfd, LOCK_EX) < 0) {
    int e = errno;
    if (lfd >= 0)
      close(lfd);
    brick_rm_rf(dir, NULL);
    free(dir);
    return brick_error(err, e, "lock staging directory");
  }
  *dir_out = dir;
  *lockfd_out = lfd;
  return 0;
}

static void fill_candidate(const struct brick_resolved *r, const char *blobdir,
                           struct brick_image_info *c) {
  memset(c, 0, sizeof *c);
  c->id = xstrdup(r->manifest_digest + 7);
  c->manifest_digest = xstrdup(r->manifest_digest);
  c->config_digest = xstrdup(r->config_digest);
  c->names = r->names ? brick_strv_dup(r->names) : xcalloc(1, sizeof(char *));
  c->manifest_path = xasprintf("%s/%s", blobdir, r->manifest_digest + 7);
  c->layer_blobs = xcalloc(1, sizeof(char *));
  c->layer_digests = xcalloc(1, sizeof(char *));
  c->layer_media_types = xcalloc(1, sizeof(char *));
  uint64_t size = (uint64_t)r->manifest_size + (uint64_t)r->config_size;
  for (size_t i = 0; i < r->nlayers; i++) {
    _cleanup_free_ char *bp = xasprintf("%s/%s", blobdir, r->layers[i].digest + 7);
    brick_strv_push(&c->layer_blobs, bp);
    brick_strv_push(&c->layer_digests, r->layers[i].digest);
    brick_strv_push(&c->layer_media_types, r->layers[i].media_type);
    size += (uint64_t)r->layers[i].size;
  }
  c->config = json_incref(r->config);
  c->created = (int64_t)time(NULL);
  c->size = size;
}

static int unpack_all(const struct brick_import_opts *o, const struct brick_resolved *r,
                      int blob_dirfd, const char *rootfs, brick_err *err) {
  if (mkdir(rootfs, 0755) < 0)
    return brick_errno(err, "mkdir %s", rootfs);
  _cleanup_close_ int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return brick_errno(err, "open %s", rootfs);
  json_t *diff_ids = json_object_get(json_object_get(r->config, "rootfs"), "diff_ids");
  struct progress prog = {.on = o->progress, .nlayers = r->nlayers, .last_pct = -1};
  for (size_t i = 0; i < r->nlayers; i++) {
    _cleanup_close_ int bfd = openat(blob_dirfd, r->layers[i].digest + 7,
                                     O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (bfd < 0)
      return brick_errno(err, "layer %s: open staged blob", r->layers[i].digest);
    prog.layer = i + 1;
    prog.total = (uint64_t)r->layers[i].size;
    prog.last_pct = -1;
    struct brick_unpack_opts uo = {
        .layer_digest = r->layers[i].digest,
        .compression = r->layers[i].compression,
        .max_layer_bytes = o->max_layer_bytes,
        .max_entry_bytes = o->max_entry_bytes,
        .max_entries = o->max_entries,
        .expect_diff_id = json_string_value(json_array_get(diff_ids, i)),
        .progress = progress_cb,
        .progress_ctx = &prog,
    };
    struct brick_unpack_result res;
    int rr = brick_unpack_layer(rootfd, bfd, &uo, &res, err);
    for (size_t d = 0; rr == 0 && res.devices && res.devices[d]; d++)
      brick_warn("layer %s: device node \"%s\" not created (images may not carry devices)",
                 r->layers[i].digest, res.devices[d]);
    brick_unpack_result_clear(&res);
    if (rr < 0) {
      if (prog.on)
        fputc('\n', stderr);
      return -1;
    }
  }
  if (prog.on && r->nlayers)
    fputc('\n', stderr);
  return 0;
}

/* The rootfs for this config is already in the store: still prove that these layer
 * blobs are the ones the config's diff_ids name, so layer_blobs never lie. */
static int check_diff_ids(const struct brick_import_opts *o, const struct brick_resolved *r,
                          int blob_dirfd, brick_err *err) {
  json_t *diff_ids = json_object_get(json_object_get(r->config, "rootfs"), "diff_ids");
  for (size_t i = 0; i < r->nlayers; i++) {
    const char *want = json_string_value(json_array_get(diff_ids, i));
    if (r->layers[i].compression == BRICK_COMPRESS_NONE && want &&
        !strcmp(want, r->layers[i].digest))
      continue;
    _cleanup_close_ int bfd = openat(blob_dirfd, r->layers[i].digest + 7,
                                     O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (bfd < 0)
      return brick_errno(err, "layer %s: open staged blob", r->layers[i].digest);
    struct brick_unpack_opts uo = {
        .layer_digest = r->layers[i].digest,
        .compression = r->layers[i].compression,
        .max_layer_bytes = o->max_layer_bytes,
        .expect_diff_id = want,
    };
    char got[BRICK_DIGEST_STR_LEN];
    if (brick_layer_diff_id(bfd, &uo, got, err) < 0)
      return -1;
  }
  return 0;
}

static bool exists_at(const char *p) {
  struct stat st;
  return lstat(p, &st) == 0;
}

static int commit_locked(struct brick_store *s, const struct brick_resolved *r,
                         const char *staging, char **names, bool have_rootfs,
                         const struct brick_image_info *cand,
                         const struct brick_import_kept *kept, brick_err *err) {
  /* blobs: content-addressed, so an existing file is the same content */
  const char *digests[3 + 0];
  size_t nd = 0;
  digests[nd++] = r->manifest_digest;
  digests[nd++] = r->config_digest;
  for (size_t i = 0; i < nd + r->nlayers; i++) {
    const char *dg = i < nd ? digests[i] : r->layers[i - nd].digest;
    _cleanup_free_ char *from = xasprintf("%s/blobs/%s", staging, dg + 7);
    _cleanup_free_ char *to = brick_store_blob_path(s, dg);
    if (exists_at(to))
      continue;
    if (rename(from, to) < 0 && !(errno == ENOENT && exists_at(to)))
      return brick_errno(err, "commit blob %s", dg);
  }
  _cleanup_free_ char *root_to = xasprintf("%s/rootfs/%s", s->dir, r->config_digest + 7);
  if (have_rootfs && !exists_at(root_to)) {
    _cleanup_free_ char *root_from = xasprintf("%s/rootfs", staging);
    if (rename(root_from, root_to) < 0)
      return brick_errno(err, "commit rootfs %s", root_to);
  }
  if (!exists_at(root_to))
    return brick_error(err, ENOENT, "rootfs %s vanished during import", root_to);

  const char *id = r->manifest_digest + 7;
  _cleanup_json_ json_t *rec = NULL;
  brick_err e = {0};
  if (brick_store_read_record(s, id, &rec, &e) < 0) {
    brick_error_clear(&e);
    uint64_t size = (uint64_t)r->manifest_size + (uint64_t)r->config_size;
    json_t *layers = json_array();
    for (size_t i = 0; i < r->nlayers; i++) {
      size += (uint64_t)r->layers[i].size;
      json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "digest", r->layers[i].digest,
                                              "mediaType", r->layers[i].media_type, "size",
                                              (json_int_t)r->layers[i].size));
    }
    rec = json_pack("{s:s, s:s, s:s, s:s, s:o, s:[], s:I, s:I}", "id", id, "manifest_digest",
                    r->manifest_digest, "manifest_media_type", r->manifest_media_type,
                    "config_digest", r->config_digest, "layers", layers, "names", "created",
                    (json_int_t)time(NULL), "size", (json_int_t)size);
    if (!rec)
      abort();
  }
  json_object_set_new(rec, "source", json_pack("{s:s, s:s}", "transport", cand->source_transport,
                                               "reference", cand->source_reference));
  /* signatures first: a record naming the image is what makes it runnable */
  if (kept && brick_store_signatures_add_locked(s, id, kept->sigs, kept->n_sigs, NULL, err) < 0)
    return -1;
  json_t *jn = json_object_get(rec, "names");
  for (size_t i = 0; names && names[i]; i++) {
    if (brick_store_unname_others(s, names[i], id, err) < 0)
      return -1;
    bool have = false;
    for (size_t j = 0; j < json_array_size(jn); j++)
      have |= !strcmp(json_string_value(json_array_get(jn, j)) ?: "", names[i]);
    if (!have)
      json_array_append_new(jn, json_string(names[i]));
  }
  return brick_store_write_record(s, id, rec, err);
}

int brick_store_import(struct brick_store *s, const struct brick_import_opts *o,
                       struct brick_image_info *out, brick_err *err) {
  if (out)
    memset(out, 0, sizeof *out);
  if (!o || !o->source)
    return brick_error(err, EINVAL, "import: no source");
  _cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
  if (o->name) {
    _cleanup_free_ char *norm = NULL;
    if (brick_image_name_normalize(o->name, &norm, err) < 0)
      return brick_error_prefix(err, "--name");
    brick_strv_push(&names, norm);
  }
  _cleanup_free_ char *staging = NULL;
  _cleanup_close_ int stage_lock = -1;
  if (make_staging(s, &staging, &stage_lock, err) < 0)
    return -1;
  int ret = -1;
  struct brick_image_source src = {.dirfd = -1};
  struct brick_resolved res = {0};
  struct brick_image_info cand = {0};
  _cleanup_free_ char *blobdir = xasprintf("%s/blobs", staging);
  _cleanup_close_ int blob_dirfd = -1;
  _cleanup_free_ char *final_root = NULL;
  if (mkdir(blobdir, 0700) < 0 ||
      (blob_dirfd = open(blobdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    brick_errno(err, "staging %s", blobdir);
    goto out;
  }
  if (brick_source_open(o->source, staging, &src, err) < 0 ||
      brick_source_resolve(&src, o->platform, blob_dirfd, &res, err) < 0 ||
      brick_source_fetch_layers(&src, &res, blob_dirfd, err) < 0)
    goto out;
  if (!o->name) {
    for (size_t i = 0; res.names && res.names[i]; i++) {
      _cleanup_free_ char *norm = NULL;
      brick_err ne = {0};
      if (brick_image_name_normalize(res.names[i], &norm, &ne) == 0)
        brick_strv_push(&names, norm);
      else
        brick_warn("%s: ignoring the name \"%s\" it carries: %s", o->source, res.names[i],
                   brick_error_msg(&ne));
      brick_error_clear(&ne);
    }
  }
  fill_candidate(&res, blobdir, &cand);
  brick_source_policy_name(&src, &cand.source_transport, &cand.source_reference);
  brick_strv_free(cand.names);
  cand.names = brick_strv_dup(names);
  if (o->verify && o->verify(&cand, o->source, o->verify_ctx, err) < 0) {
    brick_error_prefix(err, "%s: refused", o->source);
    goto out;
  }
  final_root = xasprintf("%s/rootfs/%s", s->dir, res.config_digest + 7);
  bool have_rootfs = false;
  if (!exists_at(final_root)) {
    _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", staging);
    if (unpack_all(o, &res, blob_dirfd, rootfs, err) < 0) {
      brick_error_prefix(err, "%s", o->source);
      goto out;
    }
    have_rootfs = true;
  } else if (check_diff_ids(o, &res, blob_dirfd, err) < 0) {
    brick_error_prefix(err, "%s", o->source);
    goto out;
  }
  if (brick_store_lock(s, err) < 0)
    goto out;
  ret = commit_locked(s, &res, staging, names, have_rootfs, &cand, o->kept, err);
  brick_store_unlock(s);
  if (ret == 0 && out)
    ret = brick_store_lookup(s, res.manifest_digest + 7, out, err);
out:
  brick_image_info_clear(&cand);
  brick_resolved_clear(&res);
  brick_source_close(&src);
  brick_err rmerr = {0};
  if (brick_rm_rf(staging, &rmerr) < 0)
    brick_warn("cannot remove staging directory %s: %s", staging, brick_error_msg(&rmerr));
  brick_error_clear(&rmerr);
  return ret;
}
