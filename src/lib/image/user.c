/* Image users: names in Config.User / --user mean the image's /etc/passwd and /etc/group,
 * read through the image rootfs (RESOLVE_IN_ROOT: an absolute symlink there means the
 * image's file, never the host's). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sys.h"
#include "core/util.h"
#include "image/bundle.h"

static int read_in_root(int rootfd, const char *path, char **out, brick_err *err) {
  struct open_how how = {
      .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  int fd = brick_sys->openat2(rootfd, path, &how, sizeof how);
  if (fd < 0) {
    if (errno == ENOENT) {
      *out = NULL;
      return 0;
    }
    return brick_errno(err, "image /%s", path);
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return brick_error(err, EINVAL, "image /%s is not a regular file", path);
  }
  int r = brick_read_fd(fd, out, NULL, 16u << 20, err);
  close(fd);
  return r < 0 ? brick_error_prefix(err, "image /%s", path) : 0;
}

static bool parse_id(const char *s, unsigned long *out) {
  if (!*s)
    return false;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9')
      return false;
  errno = 0;
  unsigned long v = strtoul(s, NULL, 10);
  if (errno || v >= UINT32_MAX)
    return false;
  *out = v;
  return true;
}

/* Split a colon-separated line into at most n fields (in place). */
static size_t fields(char *line, char **f, size_t n) {
  size_t k = 0;
  f[k++] = line;
  for (char *p = line; *p && k < n; p++) {
    if (*p == ':') {
      *p = '\0';
      f[k++] = p + 1;
    }
  }
  return k;
}

int brick_user_resolve(int rootfd, const char *spec, uid_t *uid, gid_t *gid, gid_t **gids,
                       size_t *ngids, brick_err *err) {
  *gids = NULL;
  *ngids = 0;
  if (!spec || !*spec)
    spec = "0";
  _cleanup_free_ char *copy = xstrdup(spec);
  char *grp = strchr(copy, ':');
  if (grp)
    *grp++ = '\0';
  const char *usr = copy;
  if (!*usr || (grp && !*grp))
    return brick_error(err, EINVAL, "user \"%s\": expected USER[:GROUP]", spec);

  _cleanup_free_ char *passwd = NULL, *group = NULL;
  if (read_in_root(rootfd, "etc/passwd", &passwd, err) < 0 ||
      read_in_root(rootfd, "etc/group", &group, err) < 0)
    return -1;

  unsigned long u, g;
  bool have_gid = false;
  const char *uname = NULL;
  _cleanup_free_ char *uname_buf = NULL;
  if (parse_id(usr, &u)) {
    /* a numeric uid need not exist in /etc/passwd; its primary group comes from there if
     * it does, else 0 — as docker does */
    g = 0;
    for (char *save = NULL, *line = passwd ? strtok_r(passwd, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
      char *f[7];
      unsigned long pu, pg;
      if (fields(line, f, 7) >= 4 && parse_id(f[2], &pu) && pu == u && parse_id(f[3], &pg)) {
        g = pg;
        uname_buf = xstrdup(f[0]);
        uname = uname_buf;
        break;
      }
    }
  } else {
    bool found = false;
    for (char *save = NULL, *line = passwd ? strtok_r(passwd, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
      char *f[7];
      if (fields(line, f, 7) >= 4 && !strcmp(f[0], usr) && parse_id(f[2], &u) &&
          parse_id(f[3], &g)) {
        found = true;
        break;
      }
    }
    if (!found)
      return brick_error(err, ENOENT, "user \"%s\" not found in the image's /etc/passwd", usr);
    uname = usr;
  }
  if (grp) {
    if (parse_id(grp, &g)) {
      have_gid = true;
    } else {
      bool found = false;
      _cleanup_free_ char *gcopy = group ? xstrdup(group) : NULL;
      for (char *save = NULL, *line = gcopy ? strtok_r(gcopy, "\n", &save) : NULL; line;
           line = strtok_r(NULL, "\n", &save)) {
        char *f[4];
        if (fields(line, f, 4) >= 3 && !strcmp(f[0], grp) && parse_id(f[2], &g)) {
          found = true;
          break;
        }
      }
      if (!found)
        return brick_error(err, ENOENT, "group \"%s\" not found in the image's /etc/group", grp);
      have_gid = true;
    }
  }
  (void)have_gid;
  /* supplementary groups: every group listing the user by name (unless a group was given,
   * which like docker's USER u:g means exactly that group) */
  if (!grp && uname && group) {
    for (char *save = NULL, *line = strtok_r(group, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
      char *f[4];
      unsigned long gg;
      if (fields(line, f, 4) < 4 || !parse_id(f[2], &gg) || gg == g)
        continue;
      for (char *s2 = NULL, *m = strtok_r(f[3], ",", &s2); m; m = strtok_r(NULL, ",", &s2)) {
        if (!strcmp(m, uname)) {
          *gids = xrealloc(*gids, (*ngids + 1) * sizeof **gids);
          (*gids)[(*ngids)++] = (gid_t)gg;
          break;
        }
      }
    }
  }
  *uid = (uid_t)u;
  *gid = (gid_t)g;
  return 0;
}

int brick_parse_size(const char *s, uint64_t *out, brick_err *err) {
  if (!s || !*s)
    return brick_error(err, EINVAL, "empty size");
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || s[0] == '-')
    return brick_error(err, EINVAL, "size \"%s\": not a number", s);
  unsigned shift = 0;
  if (*end) {
    switch (*end) {
    case 'b': case 'B': shift = 0; break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: return brick_error(err, EINVAL, "size \"%s\": unknown unit '%c'", s, *end);
    }
    if (end[1] && !((end[1] == 'b' || end[1] == 'B') && !end[2]))
      return brick_error(err, EINVAL, "size \"%s\": trailing characters", s);
  }
  if (shift && v > (UINT64_MAX >> shift))
    return brick_error(err, ERANGE, "size \"%s\" is too large", s);
  *out = (uint64_t)v << shift;
  return 0;
}
