#include "runtime/state.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "core/util.h"

int brick_state_check_id(const char *id, brick_err *err) {
  if (id == NULL || *id == '\0')
    return brick_error(err, 0, "container id must not be empty");
  if (!strcmp(id, ".") || !strcmp(id, ".."))
    return brick_error(err, 0, "invalid container id \"%s\"", id);
  if (strlen(id) > 1024)
    return brick_error(err, 0, "container id longer than 1024 characters");
  for (const char *p = id; *p; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok)
      return brick_error(err, 0, "invalid container id \"%s\": only [A-Za-z0-9_+.-] allowed", id);
  }
  return 0;
}

char *brick_state_dir(const char *root, const char *id) { return xasprintf("%s/%s", root, id); }

int brick_state_lock(const char *root, const char *id, brick_err *err) {
  /* The lock lives beside the state dir so it survives the dir's removal by delete and
   * a racing create cannot take a lock on a directory that is being removed. */
  if (brick_mkdir_p(root, 0700, err) < 0)
    return -1;
  _cleanup_free_ char *path = xasprintf("%s/.%s.lock", root, id);
  for (;;) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
      return brick_errno(err, "open lock %s", path);
    while (flock(fd, LOCK_EX) < 0) {
      if (errno != EINTR) {
        close(fd);
        return brick_errno(err, "lock %s", path);
      }
    }
    /* delete removes the lock file while holding it (so /run does not fill with one
     * per container ever made): a lock on a file no longer at `path` is no lock. */
    struct stat held, now;
    if (fstat(fd, &held) < 0) {
      close(fd);
      return brick_errno(err, "stat lock %s", path);
    }
    if (stat(path, &now) == 0 && now.st_dev == held.st_dev && now.st_ino == held.st_ino)
      return fd;
    close(fd);
  }
}

void brick_state_lock_remove(const char *root, const char *id) {
  _cleanup_free_ char *path = xasprintf("%s/.%s.lock", root, id);
  (void)unlink(path);
}

int brick_state_create_dir(const char *root, const char *id, brick_err *err) {
  if (brick_mkdir_p(root, 0700, err) < 0)
    return -1;
  _cleanup_free_ char *dir = brick_state_dir(root, id);
  if (mkdir(dir, 0700) < 0) {
    if (errno == EEXIST)
      return brick_error(err, 0, "container \"%s\" already exists", id);
    return brick_errno(err, "mkdir %s", dir);
  }
  return 0;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

int brick_state_save(const struct brick_state *st, brick_err *err) {
  _cleanup_json_ json_t *o = json_object();
  json_object_set_new(o, "id", json_string(st->id));
  json_object_set_new(o, "pid", json_integer(st->pid));
  json_object_set_new(o, "pid_start", json_integer((json_int_t)st->pid_start));
  json_object_set_new(o, "bundle", str_or_null(st->bundle));
  json_object_set_new(o, "rootfs", str_or_null(st->rootfs));
  json_object_set_new(o, "config", str_or_null(st->config_path));
  json_object_set_new(o, "cgroup_path", str_or_null(st->cgroup_path));
  json_object_set_new(o, "created", str_or_null(st->created));
  json_object_set_new(o, "owner", str_or_null(st->owner));
  json_object_set_new(o, "started", json_boolean(st->started));
  json_object_set_new(o, "systemd_cgroup", json_boolean(st->systemd_cgroup));
  json_object_set_new(o, "owned_bundle", json_boolean(st->owned_bundle));
  json_object_set_new(o, "mcs_level", str_or_null(st->mcs_level));
  json_object_set_new(o, "userns_base", json_integer(st->userns_base));
  json_object_set_new(o, "hook_kinds", json_integer(st->hook_kinds));
  json_object_set(o, "annotations", st->annotations ? st->annotations : json_null());
  _cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
  _cleanup_free_ char *path = xasprintf("%s/state.json", st->dir);
  return brick_write_file_replace(path, text, strlen(text), 0600, err);
}

static char *dup_member(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? xstrdup(s) : NULL;
}

int brick_state_load(const char *root, const char *id, struct brick_state *st, brick_err *err) {
  memset(st, 0, sizeof *st);
  if (brick_state_check_id(id, err) < 0)
    return -1;
  _cleanup_free_ char *dir = brick_state_dir(root, id);
  _cleanup_free_ char *path = xasprintf("%s/state.json", dir);
  json_error_t jerr;
  _cleanup_json_ json_t *o = json_load_file(path, 0, &jerr);
  if (o == NULL) {
    if (access(dir, F_OK) < 0)
      return brick_error(err, 0, "container \"%s\" does not exist", id);
    if (access(path, F_OK) < 0)
      return brick_error(err, 0, "container \"%s\" is still being created", id);
    return brick_error(err, 0, "%s: corrupt state: %s", path, jerr.text);
  }
  st->id = xstrdup(id);
  st->dir = TAKE_PTR(dir);
  st->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
  st->pid_start = (uint64_t)json_integer_value(json_object_get(o, "pid_start"));
  st->bundle = dup_member(o, "bundle");
  st->rootfs = dup_member(o, "rootfs");
  st->config_path = dup_member(o, "config");
  st->cgroup_path = dup_member(o, "cgroup_path");
  st->created = dup_member(o, "created");
  st->owner = dup_member(o, "owner");
  st->started = json_is_true(json_object_get(o, "started"));
  st->systemd_cgroup = json_is_true(json_object_get(o, "systemd_cgroup"));
  st->owned_bundle = json_is_true(json_object_get(o, "owned_bundle"));
  st->mcs_level = dup_member(o, "mcs_level");
  st->userns_base = (uint32_t)json_integer_value(json_object_get(o, "userns_base"));
  json_t *hk = json_object_get(o, "hook_kinds");
  st->hook_kinds = json_is_integer(hk) ? (uint32_t)json_integer_value(hk) : UINT32_MAX;
  json_t *a = json_object_get(o, "annotations");
  st->annotations = json_is_object(a) ? json_incref(a) : NULL;
  return 0;
}

void brick_state_clear(struct brick_state *st) {
  free(st->id);
  free(st->dir);
  free(st->bundle);
  free(st->rootfs);
  free(st->config_path);
  free(st->cgroup_path);
  free(st->created);
  free(st->owner);
  free(st->mcs_level);
  if (st->annotations)
    json_decref(st->annotations);
  memset(st, 0, sizeof *st);
}

/* Field 22 of /proc/<pid>/stat; the comm field (2) may hold spaces and parentheses, so
 * parse from the last ')'. Also reports whether the process is a zombie. */
static uint64_t proc_stat(pid_t pid, char *state_out) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (!p || p[1] == '\0')
    return 0;
  p += 2; /* state is field 3 */
  if (state_out)
    *state_out = *p;
  unsigned long long start = 0;
  int field = 3;
  for (char *tok = strtok(p, " "); tok; tok = strtok(NULL, " "), field++) {
    if (field == 22) {
      start = strtoull(tok, NULL, 10);
      break;
    }
  }
  return start;
}

uint64_t brick_proc_start_time(pid_t pid) { return proc_stat(pid, NULL); }

bool brick_proc_alive(pid_t pid, uint64_t start_time) {
  if (pid <= 0)
    return false;
  char state = 0;
  uint64_t st = proc_stat(pid, &state);
  if (st == 0 || state == 'Z' || state == 'X')
    return false;
  return start_time == 0 || st == start_time;
}

enum brick_status brick_state_status(const struct brick_state *st) {
  if (!brick_proc_alive(st->pid, st->pid_start))
    return BRICK_STOPPED;
  if (!st->started) {
    _cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", st->dir);
    if (access(fifo, F_OK) == 0)
      return BRICK_CREATED;
  }
  if (st->cgroup_path) {
    bool frozen = false;
    if (brick_cgroup_is_frozen(st->cgroup_path, &frozen, NULL) == 0 && frozen)
      return BRICK_PAUSED;
  }
  return BRICK_RUNNING;
}

const char *brick_status_name(enum brick_status s) {
  switch (s) {
  case BRICK_CREATING: return "creating";
  case BRICK_CREATED: return "created";
  case BRICK_RUNNING: return "running";
  case BRICK_PAUSED: return "paused";
  case BRICK_STOPPED: return "stopped";
  }
  return "unknown";
}

json_t *brick_state_to_oci(const struct brick_state *st, enum brick_status status) {
  json_t *o = json_object();
  json_object_set_new(o, "ociVersion", json_string("1.3.0"));
  json_object_set_new(o, "id", json_string(st->id));
  json_object_set_new(o, "status", json_string(brick_status_name(status)));
  /* runc reports pid 0 once the container has stopped; engines rely on it. */
  json_object_set_new(o, "pid", json_integer(status == BRICK_STOPPED ? 0 : st->pid));
  json_object_set_new(o, "bundle", json_string(st->bundle ? st->bundle : ""));
  json_object_set_new(o, "rootfs", json_string(st->rootfs ? st->rootfs : ""));
  json_object_set_new(o, "created", json_string(st->created ? st->created : ""));
  json_object_set_new(o, "owner", json_string(st->owner ? st->owner : ""));
  if (st->annotations && json_object_size(st->annotations) > 0)
    json_object_set(o, "annotations", st->annotations);
  return o;
}
