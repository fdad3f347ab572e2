/* Where signatures live on disk: signature-1, signature-2, … either beside
 * manifest.json in a `dir:` image, or in a lookaside store under
 * <base>/<repository path>@<algo>=<hex>/ (the layout containers/image uses, so
 * skopeo and podman find brick's signatures and brick finds theirs). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "trust/internal.h"

/* No real image has anywhere near this many; it bounds a hostile store. */
#define MAX_SIGNATURES 1024
#define MAX_SIGNATURE_SIZE (4u << 20)

int brick_sigs_read_dir(const char *dir, struct brick_sig_blob **sigs, size_t *n,
                        brick_err *err) {
  struct brick_sig_blob *out = NULL;
  size_t count = 0;
  for (size_t i = 1; i <= MAX_SIGNATURES; i++) {
    _cleanup_free_ char *path = xasprintf("%s/signature-%zu", dir, i);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT)
        break;
      brick_sig_blobs_free(out, count);
      return brick_errno(err, "open %s", path);
    }
    char *data;
    size_t len;
    if (brick_read_fd(fd, &data, &len, MAX_SIGNATURE_SIZE, err) < 0) {
      brick_sig_blobs_free(out, count);
      return brick_error_prefix(err, "%s", path);
    }
    out = xrealloc(out, (count + 1) * sizeof *out);
    out[count++] = (struct brick_sig_blob){(unsigned char *)data, len};
  }
  *sigs = out;
  *n = count;
  return 0;
}

int brick_sigs_write_next(const char *dir, const unsigned char *blob, size_t len,
                          char **written_path, brick_err *err) {
  if (brick_mkdir_p(dir, 0755, err) < 0)
    return -1;
  for (size_t i = 1; i <= MAX_SIGNATURES; i++) {
    _cleanup_free_ char *path = xasprintf("%s/signature-%zu", dir, i);
    /* O_EXCL claims the slot, so two signers never overwrite each other. */
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST)
        continue;
      return brick_errno(err, "create %s", path);
    }
    size_t off = 0;
    while (off < len) {
      ssize_t w = write(fd, blob + off, len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        int e = errno;
        unlink(path);
        return brick_error(err, e, "write %s", path);
      }
      off += (size_t)w;
    }
    if (fsync(fd) < 0) {
      int e = errno;
      unlink(path);
      return brick_error(err, e, "fsync %s", path);
    }
    if (written_path)
      *written_path = TAKE_PTR(path);
    return 0;
  }
  return brick_error(err, 0, "%s: too many signatures (%d)", dir, MAX_SIGNATURES);
}

int brick_lookaside_dir(const char *base, const char *reference, const char *manifest_digest,
                        char **out, brick_err *err) {
  struct brick_dref r;
  if (brick_dref_parse(reference, true, &r, err) < 0)
    return -1;
  const char *colon = strchr(manifest_digest, ':');
  if (!colon || colon == manifest_digest || !colon[1] || strchr(colon + 1, '/')) {
    brick_dref_clear(&r);
    return brick_error(err, 0, "invalid manifest digest \"%s\"", manifest_digest);
  }
  size_t blen = strlen(base);
  while (blen > 1 && base[blen - 1] == '/')
    blen--;
  *out = xasprintf("%.*s/%s@%.*s=%s", (int)blen, base, r.path, (int)(colon - manifest_digest),
                   manifest_digest, colon + 1);
  brick_dref_clear(&r);
  return 0;
}

int brick_sigstore_load(const char *registries_d, const char *reference,
                        const char *manifest_digest, struct brick_sig_blob **sigs, size_t *n,
                        brick_err *err) {
  *sigs = NULL;
  *n = 0;
  struct stat st;
  if (brick_str_has_prefix(reference, "dir:"))
    return brick_sigs_read_dir(reference + 4, sigs, n, err);
  if (reference[0] == '/' || reference[0] == '.') {
    if (stat(reference, &st) < 0 || !S_ISDIR(st.st_mode))
      return brick_error(err, ENOTDIR, "%s: not a dir: image", reference);
    return brick_sigs_read_dir(reference, sigs, n, err);
  }
  const char *ref = brick_str_has_prefix(reference, "docker://") ? reference + 9 : reference;
  _cleanup_free_ char *base = NULL;
  if (brick_registries_d_lookaside(registries_d, ref, false, &base, err) < 0)
    return -1;
  if (!base)
    return 0; /* no lookaside configured: the image simply has no signatures here */
  _cleanup_free_ char *dir = NULL;
  if (brick_lookaside_dir(base, ref, manifest_digest, &dir, err) < 0)
    return -1;
  return brick_sigs_read_dir(dir, sigs, n, err);
}
