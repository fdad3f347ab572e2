/* The distribution (os-release) and the one safe way to read a file inside a root
 * filesystem: openat2 with RESOLVE_IN_ROOT, so an image's absolute symlinks and ".."
 * resolve inside its root and never reach the host's files. */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sys.h"
#include "core/util.h"
#include "scan/scan.h"

int brick_rootfs_read(int rootfd, const char *path, char **out, size_t *len, brick_err *err) {
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  _cleanup_close_ int fd = brick_sys->openat2(rootfd, path, &how, sizeof how);
  if (fd < 0)
    return brick_errno(err, "open %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return brick_errno(err, "stat %s", path);
  if (!S_ISREG(st.st_mode))
    return brick_error(err, EINVAL, "%s: not a regular file", path);
  size_t max = 512u << 20;
  if ((size_t)st.st_size > max)
    return brick_error(err, EFBIG, "%s: larger than %zu bytes", path, max);
  /* one buffer of the file's size (a dpkg status is megabytes: growing a buffer by
   * doubling copied it several times); a file still growing takes the general path */
  size_t want = (size_t)st.st_size, got = 0;
  char *buf = xmalloc(want + 2);
  while (got <= want) {
    ssize_t r = read(fd, buf + got, want + 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      free(buf);
      return brick_errno(err, "read %s", path);
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  if (got > want) {
    free(buf);
    if (lseek(fd, 0, SEEK_SET) < 0)
      return brick_errno(err, "seek %s", path);
    if (brick_read_fd(fd, out, len, max, err) < 0)
      return brick_error_prefix(err, "%s", path);
    return 0;
  }
  buf[got] = '\0';
  *out = buf;
  if (len)
    *len = got;
  return 0;
}

/* Value of an os-release assignment: quotes removed, backslash escapes resolved. */
static char *unquote(const char *v, size_t n) {
  char *out = xmalloc(n + 1), *o = out;
  char quote = 0;
  for (size_t i = 0; i < n; i++) {
    char c = v[i];
    if (!quote && (c == '"' || c == '\'')) {
      quote = c;
      continue;
    }
    if (quote && c == quote) {
      quote = 0;
      continue;
    }
    if (c == '\\' && quote != '\'' && i + 1 < n)
      c = v[++i];
    *o++ = c;
  }
  *o = '\0';
  return out;
}

static char *major_of(const char *v) {
  size_t n = strspn(v, "0123456789");
  return n ? strndup(v, n) : NULL;
}

char *brick_os_ecosystem(const char *id, const char *version_id, const char *id_like) {
  if (!id)
    return NULL;
  if (!version_id || !*version_id)
    return NULL;
  if (!strcmp(id, "debian"))
    return xasprintf("Debian:%s", version_id);
  if (!strcmp(id, "ubuntu"))
    return xasprintf("Ubuntu:%s", version_id);
  if (!strcmp(id, "alpine")) {
    /* 3.19.1 -> v3.19 */
    const char *dot = strchr(version_id, '.');
    const char *dot2 = dot ? strchr(dot + 1, '.') : NULL;
    size_t n = dot2 ? (size_t)(dot2 - version_id) : strlen(version_id);
    return xasprintf("Alpine:v%.*s", (int)n, version_id);
  }
  _cleanup_free_ char *major = major_of(version_id);
  if (!major)
    return NULL;
  if (!strcmp(id, "almalinux"))
    return xasprintf("AlmaLinux:%s", major);
  if (!strcmp(id, "rocky"))
    return xasprintf("Rocky Linux:%s", major);
  if (!strcmp(id, "rhel"))
    return xasprintf("Red Hat:%s", major);
  (void)id_like;
  return NULL;
}

int brick_os_release_parse(const char *buf, struct brick_os *os) {
  _cleanup_free_ char *id_like = NULL;
  const char *s = buf;
  while (*s) {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    const char *eq = memchr(s, '=', n);
    if (eq && *s != '#') {
      size_t klen = (size_t)(eq - s);
      char **slot = NULL;
      if (klen == 2 && !strncmp(s, "ID", 2))
        slot = &os->id;
      else if (klen == 10 && !strncmp(s, "VERSION_ID", 10))
        slot = &os->version_id;
      else if (klen == 11 && !strncmp(s, "PRETTY_NAME", 11))
        slot = &os->pretty_name;
      else if (klen == 7 && !strncmp(s, "ID_LIKE", 7))
        slot = &id_like;
      if (slot) {
        size_t vlen = n - klen - 1;
        while (vlen && isspace((unsigned char)eq[vlen]))
          vlen--;
        free(*slot);
        *slot = unquote(eq + 1, vlen);
      }
    }
    s += n;
    if (*s == '\n')
      s++;
  }
  free(os->ecosystem);
  os->ecosystem = brick_os_ecosystem(os->id, os->version_id, id_like);
  return 0;
}
