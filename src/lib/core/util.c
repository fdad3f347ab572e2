#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

static void oom(void) {
  static const char msg[] = "brick: out of memory\n";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  abort();
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    oom();
  return p;
}

void *xcalloc(size_t n, size_t m) {
  void *p = calloc(n ? n : 1, m ? m : 1);
  if (!p)
    oom();
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    oom();
  return q;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p)
    oom();
  return p;
}

char *xasprintf(const char *fmt, ...) {
  char *p = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&p, fmt, ap);
  va_end(ap);
  if (r < 0)
    oom();
  return p;
}

void brick_strv_free(char **v) {
  if (!v)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

size_t brick_strv_len(char *const *v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

char **brick_strv_dup(char *const *v) {
  size_t n = brick_strv_len(v);
  char **out = xcalloc(n + 1, sizeof *out);
  for (size_t i = 0; i < n; i++)
    out[i] = xstrdup(v[i]);
  return out;
}

void brick_strv_push(char ***v, const char *s) {
  size_t n = brick_strv_len(*v);
  *v = xrealloc(*v, (n + 2) * sizeof **v);
  (*v)[n] = xstrdup(s);
  (*v)[n + 1] = NULL;
}

bool brick_str_has_prefix(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

int brick_read_fd(int fd, char **out, size_t *len, size_t max, brick_err *err) {
  if (max == 0)
    max = 64u << 20;
  size_t cap = 4096, n = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap) {
      if (cap >= max + 1) {
        free(buf);
        return brick_error(err, EFBIG, "file larger than %zu bytes", max);
      }
      cap *= 2;
      buf = xrealloc(buf, cap);
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      free(buf);
      return brick_errno(err, "read");
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *out = buf;
  if (len)
    *len = n;
  return 0;
}

int brick_read_file(const char *path, char **out, size_t *len, brick_err *err) {
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return brick_errno(err, "open %s", path);
  if (brick_read_fd(fd, out, len, 0, err) < 0)
    return brick_error_prefix(err, "%s", path);
  return 0;
}

static int write_file_renamed(const char *path, const void *data, size_t len, mode_t mode,
                              bool durable, brick_err *err) {
  _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
  _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return brick_errno(err, "create %s", tmp);
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      unlink(tmp);
      return brick_error(err, e, "write %s", tmp);
    }
    p += w;
    len -= (size_t)w;
  }
  if ((durable && fsync(fd) < 0) || rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return brick_error(err, e, "commit %s", path);
  }
  return 0;
}

int brick_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                            brick_err *err) {
  return write_file_renamed(path, data, len, mode, true, err);
}

/* Runtime state dies with the boot: readers must never see half a file (rename), but
 * an fsync (a journal commit, milliseconds on ext4) buys nothing. */
int brick_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                             brick_err *err) {
  return write_file_renamed(path, data, len, mode, false, err);
}

int brick_write_string_at(int dirfd, const char *path, const char *s, brick_err *err) {
  _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return brick_errno(err, "open %s", path);
  size_t len = strlen(s);
  ssize_t w = write(fd, s, len);
  if (w < 0)
    return brick_errno(err, "write \"%s\" to %s", s, path);
  if ((size_t)w != len)
    return brick_error(err, EIO, "short write to %s", path);
  return 0;
}

int brick_write_string(const char *path, const char *s, brick_err *err) {
  return brick_write_string_at(AT_FDCWD, path, s, err);
}

int brick_mkdir_p(const char *path, mode_t mode, brick_err *err) {
  /* Usually only the last component is missing (a container's state or cgroup
   * directory): one mkdir instead of one per component. */
  if (mkdir(path, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return brick_errno(err, "mkdir %s", path);
  _cleanup_free_ char *p = xstrdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, mode) < 0 && errno != EEXIST)
      return brick_errno(err, "mkdir %s", p);
    *s = '/';
  }
  if (mkdir(p, mode) < 0 && errno != EEXIST)
    return brick_errno(err, "mkdir %s", p);
  return 0;
}

static int rm_rf_at(int dirfd, dev_t dev, brick_err *err) {
  DIR *d = fdopendir(dirfd);
  if (!d) {
    close(dirfd);
    return brick_errno(err, "fdopendir");
  }
  int ret = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    struct stat st;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != dev)  /* a mount point: never descend into another filesystem */
        continue;
      int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0 && rm_rf_at(sub, dev, err) < 0)
        ret = -1;
      if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
        ret = brick_errno(err, "rmdir %s", de->d_name);
      }
    } else if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT) {
      ret = brick_errno(err, "unlink %s", de->d_name);
    }
  }
  closedir(d);
  return ret;
}

int brick_rm_rf(const char *path, brick_err *err) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    return brick_errno(err, "open %s", path);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return brick_errno(err, "stat %s", path);
  }
  if (rm_rf_at(fd, st.st_dev, err) < 0)
    return brick_error_prefix(err, "remove %s", path);
  if (rmdir(path) < 0 && errno != ENOENT)
    return brick_errno(err, "rmdir %s", path);
  return 0;
}
