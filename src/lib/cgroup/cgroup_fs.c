/* Reading and writing cgroupfs files and directories. Writes open without O_CREAT: on
 * cgroupfs a missing file means a controller that is not there, and that must surface
 * as an error naming the resource, not as a stray regular file. */
#include "cgroup/cgroup_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/util.h"

void cg_sleep_ms(int ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

int cg_write(const char *dir, const char *file, const char *value, const char *what,
             brick_err *err) {
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int e = errno;
    if (what)
      return brick_error(err, e, "%s: open %s", what, path);
    return brick_error(err, e, "open %s", path);
  }
  size_t len = strlen(value);
  ssize_t w;
  do
    w = write(fd, value, len);
  while (w < 0 && errno == EINTR);
  if (w < 0 || (size_t)w != len) {
    int e = w < 0 ? errno : EIO;
    if (what)
      return brick_error(err, e, "%s: write \"%s\" to %s", what, value, path);
    return brick_error(err, e, "write \"%s\" to %s", value, path);
  }
  return 0;
}

int cg_write_u64(const char *dir, const char *file, uint64_t v, const char *what,
                 brick_err *err) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%" PRIu64, v);
  return cg_write(dir, file, buf, what, err);
}

int cg_read(const char *dir, const char *file, char **out, brick_err *err) {
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
  return brick_read_file(path, out, NULL, err);
}

static int parse_u64(const char *s, uint64_t *out) {
  while (*s == ' ' || *s == '\t')
    s++;
  if (!strncmp(s, "max", 3)) {
    *out = UINT64_MAX;
    return 0;
  }
  if (*s == '-') {  /* v1 writes -1 as unlimited and may read it back that way */
    *out = UINT64_MAX;
    return 0;
  }
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s)
    return -1;
  *out = v;
  return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out, brick_err *err) {
  _cleanup_free_ char *text = NULL;
  if (cg_read(dir, file, &text, err) < 0)
    return -1;
  if (parse_u64(text, out) < 0)
    return brick_error(err, 0, "%s/%s: not a number: \"%.40s\"", dir, file, text);
  return 0;
}

int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out,
                  brick_err *err) {
  _cleanup_free_ char *text = NULL;
  if (cg_read(dir, file, &text, err) < 0)
    return -1;
  size_t kl = strlen(key);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    if (!strncmp(line, key, kl) && line[kl] == ' ')
      if (parse_u64(line + kl + 1, out) == 0)
        return 0;
  return brick_error(err, ENOENT, "%s/%s: no key \"%s\"", dir, file, key);
}

bool cg_file_exists(const char *dir, const char *file) {
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
  return access(path, F_OK) == 0;
}

int cg_mkdir_tracked(const char *dir, char ***created, brick_err *err) {
  /* Usually only the container's own level is new: one mkdir per hierarchy, and the
   * walk from the mountpoint only when a parent is missing too. */
  if (mkdir(dir, 0755) == 0) {
    brick_strv_push(created, dir);
    return 0;
  }
  if (errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return brick_errno(err, "mkdir %s", dir);
  _cleanup_free_ char *p = xstrdup(dir);
  size_t len = strlen(p);
  for (size_t i = 1; i <= len; i++) {
    if (p[i] != '/' && p[i] != '\0')
      continue;
    char saved = p[i];
    p[i] = '\0';
    if (mkdir(p, 0755) == 0) {
      brick_strv_push(created, p);
    } else if (errno != EEXIST) {
      return brick_errno(err, "mkdir %s", p);
    }
    p[i] = saved;
  }
  return 0;
}

static int rmdir_children(const char *dir, brick_err *err) {
  DIR *d = opendir(dir);
  if (!d)
    return errno == ENOENT ? 0 : brick_errno(err, "opendir %s", dir);
  int ret = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
    if (rmdir_children(sub, err) < 0)
      ret = -1;
    else if (rmdir(sub) < 0 && errno != ENOENT)
      ret = brick_errno(err, "rmdir %s", sub);
  }
  closedir(d);
  return ret;
}

int cg_rmdir_tree(const char *dir, int timeout_ms, brick_err *err) {
  for (int waited = 0;; waited += 10) {
    brick_err local = {0};
    int r = rmdir_children(dir, &local);
    if (r == 0 && (rmdir(dir) == 0 || errno == ENOENT)) {
      brick_error_clear(&local);
      return 0;
    }
    if (r == 0)
      brick_errno(&local, "rmdir %s", dir);
    if (local.errnum != EBUSY || waited >= timeout_ms) {
      if (err) {
        brick_error_clear(err);
        *err = local;
      } else {
        brick_error_clear(&local);
      }
      return -1;
    }
    brick_error_clear(&local);
    cg_sleep_ms(10);
  }
}

int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap, brick_err *err) {
  _cleanup_free_ char *text = NULL;
  if (cg_read(dir, "cgroup.procs", &text, err) < 0)
    return -1;
  char *save = NULL;
  for (char *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
    long v = strtol(t, NULL, 10);
    if (v <= 0)
      continue;
    if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 16;
      *pids = xrealloc(*pids, *cap * sizeof(**pids));
    }
    (*pids)[(*n)++] = (pid_t)v;
  }
  DIR *d = opendir(dir);
  if (!d)
    return brick_errno(err, "opendir %s", dir);
  struct dirent *de;
  int ret = 0;
  while ((de = readdir(d))) {
    if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
    brick_err local = {0};
    if (cg_collect_pids(sub, pids, n, cap, &local) < 0 && local.errnum != ENOENT) {
      if (err) {
        brick_error_clear(err);
        *err = local;
      } else {
        brick_error_clear(&local);
      }
      ret = -1;
      break;
    }
    brick_error_clear(&local);
  }
  closedir(d);
  return ret;
}

bool cg_dir_has_prefix(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  if (!d)
    return false;
  bool found = false;
  struct dirent *de;
  while (!found && (de = readdir(d)))
    found = brick_str_has_prefix(de->d_name, prefix);
  closedir(d);
  return found;
}

int cg_check_memory_before_update(const char *dir, const char *usage_file,
                                  const struct brick_resources *r, bool update, brick_err *err) {
  if (!update || !r->memory.has_check_before_update || !r->memory.check_before_update ||
      !r->memory.has_limit || r->memory.limit <= 0)
    return 0;
  uint64_t usage;
  if (cg_read_u64(dir, usage_file, &usage, err) < 0)
    return brick_error_prefix(err, "linux.resources.memory.checkBeforeUpdate");
  if ((uint64_t)r->memory.limit < usage)
    return brick_error(err, EBUSY,
                       "linux.resources.memory.limit: new limit %" PRId64
                       " is below the current usage %" PRIu64 " (checkBeforeUpdate)",
                       r->memory.limit, usage);
  return 0;
}
