/* Content addresses: "sha256:<64 lowercase hex>". Every blob brick reads from an image
 * source is hashed while it streams and checked against the digest and size its
 * descriptor promised before anything uses it. */
#ifndef BRICK_IMAGE_DIGEST_H
#define BRICK_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define BRICK_SHA256_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define BRICK_DIGEST_STR_LEN (7 + BRICK_SHA256_HEX_LEN + 1)

struct brick_sha256;  /* streaming hasher (an OpenSSL EVP context) */

struct brick_sha256 *brick_sha256_new(void);
void brick_sha256_update(struct brick_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (BRICK_DIGEST_STR_LEN bytes) and frees h. */
void brick_sha256_final(struct brick_sha256 *h, char out[BRICK_DIGEST_STR_LEN]);
void brick_sha256_free(struct brick_sha256 *h);

/* One-shot digest of a buffer. */
void brick_sha256_buf(const void *data, size_t len, char out[BRICK_DIGEST_STR_LEN]);

/* True for "sha256:" followed by exactly 64 lowercase hex digits. Other algorithms
 * (sha512) are well-formed OCI digests but brick's store is sha256-only. */
bool brick_digest_valid(const char *digest);
/* Validate and point *hex at the 64 hex digits; error names the bad value. */
int brick_digest_hex(const char *digest, const char **hex, brick_err *err);

/* Copy exactly `size` bytes from in_fd to out_fd (out_fd < 0: only hash), hashing as it
 * streams; fails when the source holds more or fewer bytes than size or when the digest
 * differs. what names the blob in errors. */
int brick_digest_copy_verify(int in_fd, int out_fd, const char *digest, int64_t size,
                             const char *what, brick_err *err);
/* Hash a whole fd (from its current offset) without a size promise. */
int brick_digest_fd(int fd, char out[BRICK_DIGEST_STR_LEN], uint64_t *size, brick_err *err);

#endif
