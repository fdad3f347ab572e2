/* Test-time builders for layers (hostile or not) and OCI layouts. */
#ifndef BRICK_TEST_IMAGE_HELPERS_H
#define BRICK_TEST_IMAGE_HELPERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum t_kind { T_FILE, T_DIR, T_SYMLINK, T_HARDLINK, T_CHAR, T_FIFO };

struct t_entry {
  enum t_kind kind;
  const char *name;
  const char *data;   /* file content, or link target */
  int64_t size;       /* declared size for T_FILE when data is NULL (zeros), else strlen */
  mode_t mode;
  const char *xattr_name, *xattr_value;
};

/* Write a tar (gzip: 0 none, 1 gzip, 2 zstd) of entries to path. */
void t_make_tar(const char *path, const struct t_entry *e, size_t n, int compress);
/* sha256 of a file -> "sha256:..." (static buffer per call site is the caller's) */
void t_file_digest(const char *path, char out[72], int64_t *size);
/* Make an OCI layout at dir with one image of the given layer files (already written),
 * media types and diff_ids computed from uncompressed tars. Returns manifest digest. */
char *t_make_layout(const char *dir, const char *const *layer_tars, const int *compress,
                    size_t n, json_t *config_extra);
/* mkdtemp under /tmp; caller removes with t_rm_rf */
char *t_tmpdir(void);
void t_rm_rf(const char *path);
/* Snapshot of a directory tree (names, sizes, content hash) for "untouched" checks. */
char *t_tree_fingerprint(const char *dir);
char *t_read(const char *path);

#endif
