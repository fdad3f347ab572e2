#include "image/path.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sys.h"
#include "core/util.h"

int brick_path_clean(const char *name, char **out, brick_err *err) {
  if (!name)
    return brick_error(err, EINVAL, "entry without a name");
  if (name[0] == '/')
    return brick_error(err, EPERM, "absolute path \"%s\" (layer entries must be relative)",
                       name);
  size_t len = strlen(name);
  char *res = xmalloc(len + 1);
  size_t n = 0;
  const char *p = name;
  while (*p) {
    const char *end = strchr(p, '/');
    size_t clen = end ? (size_t)(end - p) : strlen(p);
    if (clen == 2 && p[0] == '.' && p[1] == '.') {
      free(res);
      return brick_error(err, EPERM, "path \"%s\" contains a \"..\" component", name);
    }
    if (clen > 0 && !(clen == 1 && p[0] == '.')) {
      if (n > 0)
        res[n++] = '/';
      memcpy(res + n, p, clen);
      n += clen;
    }
    p += clen;
    if (*p == '/')
      p++;
  }
  res[n] = '\0';
  *out = res;
  return 0;
}

void brick_path_split(const char *clean, char **parent, char **base) {
  const char *slash = strrchr(clean, '/');
  if (!slash) {
    *parent = xstrdup("");
    *base = xstrdup(clean);
  } else {
    *parent = strndup(clean, (size_t)(slash - clean));
    if (!*parent)
      abort();
    *base = xstrdup(slash + 1);
  }
}

static int open_beneath_once(int rootfd, const char *dir) {
  struct open_how how = {
      .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  const char *p = *dir ? dir : ".";
  for (int tries = 0;; tries++) {
    int fd = brick_sys->openat2(rootfd, p, &how, sizeof how);
    /* EAGAIN: a concurrent rename raced the lookup; the kernel asks us to retry */
    if (fd < 0 && errno == EAGAIN && tries < 16)
      continue;
    return fd;
  }
}

static int beneath_error(brick_err *err, const char *dir) {
  if (errno == EXDEV || errno == ELOOP)
    return brick_error(err, errno, "\"%s\" resolves outside the rootfs (symlink or \"..\" "
                       "escape)", dir);
  if (errno == ENOTDIR)
    return brick_error(err, errno, "\"%s\" is not a directory", dir);
  return brick_errno(err, "open \"%s\"", dir);
}

int brick_open_beneath(int rootfd, const char *dir, bool create, brick_err *err) {
  int fd = open_beneath_once(rootfd, dir);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT || !create)
    return beneath_error(err, dir);
  /* Create the missing components one by one, each resolved from the root again so a
   * symlink planted on the way is judged by the same rule. */
  _cleanup_free_ char *prefix = xstrdup(dir);
  size_t len = strlen(prefix);
  for (size_t i = 0; i <= len; i++) {
    if (prefix[i] != '/' && prefix[i] != '\0')
      continue;
    char saved = prefix[i];
    prefix[i] = '\0';
    int cur = open_beneath_once(rootfd, prefix);
    if (cur < 0 && errno == ENOENT) {
      char *slash = strrchr(prefix, '/');
      _cleanup_close_ int parent = -1;
      const char *name = prefix;
      if (slash) {
        *slash = '\0';
        parent = open_beneath_once(rootfd, prefix);
        if (parent < 0) {
          int r = beneath_error(err, prefix);
          *slash = '/';
          return r;
        }
        *slash = '/';
        name = slash + 1;
      } else {
        parent = open_beneath_once(rootfd, "");
        if (parent < 0)
          return beneath_error(err, ".");
      }
      if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
        return brick_errno(err, "mkdir \"%s\"", prefix);
      cur = open_beneath_once(rootfd, prefix);
    }
    if (cur < 0)
      return beneath_error(err, prefix);
    prefix[i] = saved;
    if (saved == '\0')
      return cur;
    close(cur);
  }
  return brick_error(err, EINVAL, "bad directory \"%s\"", dir);
}

int brick_open_file_beneath(int rootfd, const char *path, brick_err *err) {
  _cleanup_free_ char *clean = NULL;
  if (brick_path_clean(path, &clean, err) < 0)
    return -1;
  struct open_how how = {
      .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  int fd;
  int tries = 0;
  do
    fd = brick_sys->openat2(rootfd, *clean ? clean : ".", &how, sizeof how);
  while (fd < 0 && errno == EAGAIN && ++tries < 16);
  if (fd < 0)
    return beneath_error(err, path);
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return brick_errno(err, "stat \"%s\"", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return brick_error(err, EINVAL, "\"%s\" is not a regular file", path);
  }
  /* O_NONBLOCK only kept a planted fifo from blocking the open */
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}
