/* Signatures kept with an image: <store>/signatures/<id>/signature-1, -2, … in the
 * layout of a `dir:` image, so the trust module reads them like any other signature
 * store. They are what a container start re-verifies against the current policy; the
 * store itself treats them as opaque blobs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "image/store_internal.h"

/* Far above what any image carries; bounds a hostile or runaway store. */
#define MAX_KEPT_SIGNATURES 1024
#define MAX_KEPT_SIGNATURE_BYTES (4u << 20)

void brick_import_kept_clear(struct brick_import_kept *k) {
  if (!k)
    return;
  for (size_t i = 0; i < k->n_sigs; i++)
    free(k->sigs[i].data);
  free(k->sigs);
  memset(k, 0, sizeof *k);
}

char *brick_store_signature_dir(const struct brick_store *s, const char *id) {
  return xasprintf("%s/signatures/%s", s->dir, id);
}

static bool id_is_hex64(const char *id) {
  size_t n = 0;
  for (; id[n]; n++)
    if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
      return false;
  return n == 64;
}

int brick_store_signatures_add_locked(struct brick_store *s, const char *id,
                                      const struct brick_store_sig *sigs, size_t n,
                                      size_t *added, brick_err *err) {
  if (added)
    *added = 0;
  if (!id_is_hex64(id))
    return brick_error(err, EINVAL, "image id \"%s\": expected 64 hex digits", id);
  if (n == 0)
    return 0;
  _cleanup_free_ char *dir = brick_store_signature_dir(s, id);
  if (brick_mkdir_p(dir, 0700, err) < 0)
    return -1;
  /* what is there already: signature-1 … up to the first gap */
  struct brick_store_sig *have = NULL;
  size_t nhave = 0;
  int ret = -1;
  for (size_t i = 1; i <= MAX_KEPT_SIGNATURES; i++) {
    _cleanup_free_ char *p = xasprintf("%s/signature-%zu", dir, i);
    _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT)
        break;
      brick_errno(err, "open %s", p);
      goto out;
    }
    char *data;
    size_t len;
    if (brick_read_fd(fd, &data, &len, MAX_KEPT_SIGNATURE_BYTES, err) < 0) {
      brick_error_prefix(err, "%s", p);
      goto out;
    }
    have = xrealloc(have, (nhave + 1) * sizeof *have);
    have[nhave++] = (struct brick_store_sig){(unsigned char *)data, len};
  }
  for (size_t i = 0; i < n; i++) {
    bool dup = false;
    for (size_t j = 0; j < nhave && !dup; j++)
      dup = have[j].len == sigs[i].len && !memcmp(have[j].data, sigs[i].data, sigs[i].len);
    if (dup)
      continue;
    if (nhave >= MAX_KEPT_SIGNATURES) {
      brick_error(err, EMLINK, "%s: too many signatures (%d)", dir, MAX_KEPT_SIGNATURES);
      goto out;
    }
    _cleanup_free_ char *p = xasprintf("%s/signature-%zu", dir, nhave + 1);
    if (brick_write_file_atomic(p, sigs[i].data, sigs[i].len, 0644, err) < 0)
      goto out;
    have = xrealloc(have, (nhave + 1) * sizeof *have);
    have[nhave].data = xmalloc(sigs[i].len ? sigs[i].len : 1);
    memcpy(have[nhave].data, sigs[i].data, sigs[i].len);
    have[nhave++].len = sigs[i].len;
    if (added)
      (*added)++;
  }
  ret = 0;
out:
  for (size_t j = 0; j < nhave; j++)
    free(have[j].data);
  free(have);
  return ret;
}

int brick_store_signatures_add(struct brick_store *s, const char *id,
                               const struct brick_store_sig *sigs, size_t n, size_t *added,
                               brick_err *err) {
  if (brick_store_lock(s, err) < 0)
    return -1;
  /* only for an image the store has: a stray directory would outlive nothing */
  _cleanup_json_ json_t *rec = NULL;
  int ret = brick_store_read_record(s, id, &rec, err);
  if (ret == 0)
    ret = brick_store_signatures_add_locked(s, id, sigs, n, added, err);
  brick_store_unlock(s);
  return ret;
}

int brick_store_signatures_gc_locked(struct brick_store *s, brick_err *err) {
  _cleanup_free_ char *sdir = xasprintf("%s/signatures", s->dir);
  DIR *d = opendir(sdir);
  if (!d) {
    if (errno == ENOENT)
      return 0;
    return brick_errno(err, "open %s", sdir);
  }
  char **doomed = NULL;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *rp = xasprintf("%s/images/%s.json", s->dir, de->d_name);
    struct stat st;
    if (lstat(rp, &st) < 0 && errno == ENOENT)
      brick_strv_push(&doomed, de->d_name);
  }
  closedir(d);
  int ret = 0;
  for (size_t i = 0; doomed && doomed[i] && ret == 0; i++) {
    _cleanup_free_ char *p = xasprintf("%s/%s", sdir, doomed[i]);
    ret = brick_rm_rf(p, err);
  }
  brick_strv_free(doomed);
  return ret;
}
