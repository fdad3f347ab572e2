/* Small helpers shared by every module: scope-bound cleanup (as crun and systemd do),
 * whole-file I/O, atomic writes and string lists. */
#ifndef BRICK_UTIL_H
#define BRICK_UTIL_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/error.h"

static inline void brick_freep(void *p) { free(*(void **)p); }
static inline void brick_closep(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
static inline void brick_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void brick_json_decrefp(json_t **j) { if (*j) json_decref(*j); }
void brick_strv_free(char **v);
static inline void brick_strv_freep(char ***v) { brick_strv_free(*v); }

#define _cleanup_free_ __attribute__((cleanup(brick_freep)))
#define _cleanup_close_ __attribute__((cleanup(brick_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(brick_fclosep)))
#define _cleanup_json_ __attribute__((cleanup(brick_json_decrefp)))
#define _cleanup_strv_ __attribute__((cleanup(brick_strv_freep)))

/* Hand ownership out of a cleanup-scoped variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure is not a recoverable condition for a runtime: abort loudly. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file (at most max bytes, 0 = 64 MiB) into a NUL-terminated buffer. */
int brick_read_file(const char *path, char **out, size_t *len, brick_err *err);
int brick_read_fd(int fd, char **out, size_t *len, size_t max, brick_err *err);
/* Write a file atomically: temp file in the same directory, fsync, rename. */
int brick_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                            brick_err *err);
/* The same without fsync: for state that does not outlive a reboot (container state,
 * pid files), where the rename alone keeps readers from seeing half a file. */
int brick_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                             brick_err *err);
/* Write a short string into an existing file (procfs, cgroupfs, sysfs). */
int brick_write_string(const char *path, const char *s, brick_err *err);
int brick_write_string_at(int dirfd, const char *path, const char *s, brick_err *err);
/* mkdir -p with the given mode for created components. */
int brick_mkdir_p(const char *path, mode_t mode, brick_err *err);
/* rm -rf of a directory tree that does not cross mount points. */
int brick_rm_rf(const char *path, brick_err *err);

bool brick_str_has_prefix(const char *s, const char *prefix);
size_t brick_strv_len(char *const *v);
char **brick_strv_dup(char *const *v);
/* Append a copy of s to a NULL-terminated vector. */
void brick_strv_push(char ***v, const char *s);

#endif
