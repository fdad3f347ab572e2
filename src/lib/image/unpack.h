/* Safe, streaming extraction of one OCI layer (tar, tar+gzip, tar+zstd) into a
 * directory, applying OCI whiteouts. Nothing may land outside the target: names are
 * cleaned as strings (brick_path_clean) and every parent is resolved from a dirfd of the
 * target with openat2(RESOLVE_BENEATH); the last component is never followed. Device
 * nodes are not created but reported. The decompressed stream is hashed on the way
 * (the layer's diff_id) and bounded (decompression bombs). */
#ifndef BRICK_IMAGE_UNPACK_H
#define BRICK_IMAGE_UNPACK_H

#include <stdint.h>

#include "core/error.h"
#include "image/digest.h"
#include "image/media.h"

#define BRICK_UNPACK_DEFAULT_MAX_LAYER_BYTES (8ULL << 30) /* 8 GiB decompressed */
#define BRICK_UNPACK_DEFAULT_MAX_ENTRY_BYTES (4ULL << 30) /* 4 GiB per file */
#define BRICK_UNPACK_DEFAULT_MAX_ENTRIES 1000000ULL

struct brick_unpack_opts {
  const char *layer_digest;           /* names the layer in errors */
  enum brick_compression compression; /* what the media type promises */
  uint64_t max_layer_bytes;           /* decompressed tar stream; 0 = default */
  uint64_t max_entry_bytes;           /* one file's size; 0 = default */
  uint64_t max_entries;               /* 0 = default */
  const char *expect_diff_id;         /* "sha256:..." from the config, NULL = no check */
  /* bytes of the (compressed) blob consumed so far */
  void (*progress)(uint64_t blob_bytes, void *ctx);
  void *progress_ctx;
};

struct brick_unpack_result {
  char diff_id[BRICK_DIGEST_STR_LEN]; /* sha256 of the decompressed tar */
  uint64_t tar_bytes;                 /* decompressed size */
  uint64_t entries;
  char **devices;                     /* device nodes that were skipped (clean paths) */
};

/* Extract the layer read from blob_fd into the directory rootfd. On error the message
 * starts with "layer <digest>" and names the entry; the caller discards the target. */
int brick_unpack_layer(int rootfd, int blob_fd, const struct brick_unpack_opts *o,
                       struct brick_unpack_result *res, brick_err *err);
/* Only hash the decompressed stream (no extraction): the diff_id check for a layer whose
 * rootfs is already in the store. Bounded by max_layer_bytes like an unpack. */
int brick_layer_diff_id(int blob_fd, const struct brick_unpack_opts *o,
                        char out[BRICK_DIGEST_STR_LEN], brick_err *err);
void brick_unpack_result_clear(struct brick_unpack_result *res);

/* Whiteout names (OCI image-spec layer.md). */
#define BRICK_WHITEOUT_PREFIX ".wh."
#define BRICK_WHITEOUT_OPAQUE ".wh..wh..opq"

#endif
