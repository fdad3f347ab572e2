/* Path safety for archive entries: names are checked as strings first (no absolute
 * paths, no ".." components), then resolved against the target directory only through
 * dirfds with openat2(RESOLVE_BENEATH), never by joining strings. */
#ifndef BRICK_IMAGE_PATH_H
#define BRICK_IMAGE_PATH_H

#include <stdbool.h>

#include "core/error.h"

/* Normalise an archive entry name into a relative path: strips leading "./", collapses
 * "//" and "." components and a trailing "/". Absolute names and any ".." component are
 * errors (OCI layers hold relative paths; a ".." can only be an escape attempt). The
 * archive root itself ("." or "./") normalises to "". */
int brick_path_clean(const char *name, char **out, brick_err *err);

/* Split a clean relative path into its parent ("" for top level) and last component. */
void brick_path_split(const char *clean, char **parent, char **base);

/* Open dir (a clean relative path, "" = root) as an O_PATH directory fd beneath rootfd.
 * Relative symlinks that stay inside the root are followed (merged-/usr images have
 * lib -> usr/lib); anything that would resolve outside — an absolute symlink, a ".."
 * chain above the root, a magic link, another mount — fails with EXDEV/ELOOP.
 * create: make missing components (mode 0755) the same way, one at a time. */
int brick_open_beneath(int rootfd, const char *dir, bool create, brick_err *err);

/* Open a regular file (a clean relative path) for reading beneath rootfd, same rules. */
int brick_open_file_beneath(int rootfd, const char *path, brick_err *err);

#endif
