#include "image/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

struct brick_sha256 {
  EVP_MD_CTX *ctx;
};

struct brick_sha256 *brick_sha256_new(void) {
  struct brick_sha256 *h = xmalloc(sizeof *h);
  h->ctx = EVP_MD_CTX_new();
  if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
    abort(); /* only fails on allocation failure, like xmalloc */
  return h;
}

void brick_sha256_update(struct brick_sha256 *h, const void *data, size_t len) {
  if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
    abort();
}

void brick_sha256_final(struct brick_sha256 *h, char out[BRICK_DIGEST_STR_LEN]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
    abort();
  static const char hexd[] = "0123456789abcdef";
  memcpy(out, "sha256:", 7);
  for (unsigned i = 0; i < n; i++) {
    out[7 + 2 * i] = hexd[md[i] >> 4];
    out[7 + 2 * i + 1] = hexd[md[i] & 15];
  }
  out[7 + 2 * n] = '\0';
  brick_sha256_free(h);
}

void brick_sha256_free(struct brick_sha256 *h) {
  if (!h)
    return;
  EVP_MD_CTX_free(h->ctx);
  free(h);
}

void brick_sha256_buf(const void *data, size_t len, char out[BRICK_DIGEST_STR_LEN]) {
  struct brick_sha256 *h = brick_sha256_new();
  brick_sha256_update(h, data, len);
  brick_sha256_final(h, out);
}

bool brick_digest_valid(const char *digest) {
  if (!digest || strncmp(digest, "sha256:", 7) != 0)
    return false;
  const char *p = digest + 7;
  size_t n = 0;
  for (; p[n]; n++) {
    char c = p[n];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return n == BRICK_SHA256_HEX_LEN;
}

int brick_digest_hex(const char *digest, const char **hex, brick_err *err) {
  if (!digest)
    return brick_error(err, EINVAL, "missing digest");
  if (!brick_digest_valid(digest)) {
    const char *colon = strchr(digest, ':');
    if (colon && strncmp(digest, "sha256:", 7) != 0)
      return brick_error(err, ENOTSUP, "digest \"%.80s\": unsupported algorithm (only sha256)",
                         digest);
    return brick_error(err, EINVAL, "digest \"%.80s\": not of the form sha256:<64 hex>", digest);
  }
  *hex = digest + 7;
  return 0;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int brick_digest_copy_verify(int in_fd, int out_fd, const char *digest, int64_t size,
                             const char *what, brick_err *err) {
  const char *hex;
  if (brick_digest_hex(digest, &hex, err) < 0)
    return brick_error_prefix(err, "%s", what);
  if (size < 0)
    return brick_error(err, EINVAL, "%s: negative size %lld", what, (long long)size);
  struct brick_sha256 *h = brick_sha256_new();
  _Thread_local static char tbuf[1 << 16];
  uint64_t total = 0;
  for (;;) {
    ssize_t r = read(in_fd, tbuf, sizeof tbuf);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      brick_sha256_free(h);
      return brick_errno(err, "%s: read", what);
    }
    if (r == 0)
      break;
    total += (uint64_t)r;
    /* stop as soon as the source outgrows its promise: an endless blob must not fill
     * the disk before the size check runs */
    if (total > (uint64_t)size) {
      brick_sha256_free(h);
      return brick_error(err, EBADMSG, "%s: size mismatch: more than the %lld bytes its "
                         "descriptor declares", what, (long long)size);
    }
    brick_sha256_update(h, tbuf, (size_t)r);
    if (out_fd >= 0 && write_all(out_fd, tbuf, (size_t)r) < 0) {
      brick_sha256_free(h);
      return brick_errno(err, "%s: write", what);
    }
  }
  if (total != (uint64_t)size) {
    brick_sha256_free(h);
    return brick_error(err, EBADMSG, "%s: size mismatch: %llu bytes, descriptor declares %lld",
                       what, (unsigned long long)total, (long long)size);
  }
  char got[BRICK_DIGEST_STR_LEN];
  brick_sha256_final(h, got);
  if (strcmp(got, digest) != 0)
    return brick_error(err, EBADMSG, "%s: digest mismatch: content is %s, descriptor declares %s",
                       what, got, digest);
  return 0;
}

int brick_digest_fd(int fd, char out[BRICK_DIGEST_STR_LEN], uint64_t *size, brick_err *err) {
  struct brick_sha256 *h = brick_sha256_new();
  _Thread_local static char tbuf[1 << 16];
  uint64_t total = 0;
  for (;;) {
    ssize_t r = read(fd, tbuf, sizeof tbuf);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      brick_sha256_free(h);
      return brick_errno(err, "read");
    }
    if (r == 0)
      break;
    total += (uint64_t)r;
    brick_sha256_update(h, tbuf, (size_t)r);
  }
  brick_sha256_final(h, out);
  if (size)
    *size = total;
  return 0;
}
