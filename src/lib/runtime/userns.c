#include "runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/util.h"

int brick_id_pool_read(const char *subuid_path, struct brick_id_pool *pool, brick_err *err) {
  pool->start = 1000000000u;
  pool->count = 1000000000u;
  _cleanup_fclose_ FILE *f = fopen(subuid_path ? subuid_path : "/etc/subuid", "re");
  if (!f)
    return 0;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    unsigned long long start, count;
    char name[128];
    if (sscanf(line, "%127[^:]:%llu:%llu", name, &start, &count) != 3)
      continue;
    if (strcmp(name, "containers"))
      continue;
    if (count < BRICK_USERNS_RANGE || start + count > 0xFFFFFFFFull || start == 0)
      return brick_error(err, 0, "%s: containers entry %llu:%llu is not a usable range",
                         subuid_path ? subuid_path : "/etc/subuid", start, count);
    pool->start = (uint32_t)start;
    pool->count = (uint32_t)count;
    return 0;
  }
  return 0;
}

static int with_pool_file(const char *state_root, json_t **doc, int *lockfd, brick_err *err) {
  if (brick_mkdir_p(state_root, 0700, err) < 0)
    return -1;
  _cleanup_free_ char *path = xasprintf("%s/userns.json", state_root);
  _cleanup_free_ char *lock = xasprintf("%s/.userns.lock", state_root);
  int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return brick_errno(err, "open %s", lock);
  if (flock(fd, LOCK_EX) < 0) {
    close(fd);
    return brick_errno(err, "lock %s", lock);
  }
  json_error_t jerr;
  json_t *d = json_load_file(path, 0, &jerr);
  if (!d)
    d = json_object();
  if (!json_is_object(d)) {
    json_decref(d);
    d = json_object();
  }
  *doc = d;
  *lockfd = fd;
  return 0;
}

static int save_pool_file(const char *state_root, json_t *doc, brick_err *err) {
  _cleanup_free_ char *path = xasprintf("%s/userns.json", state_root);
  _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
  return brick_write_file_replace(path, text, strlen(text), 0600, err);
}

int brick_userns_allocate(const char *state_root, const char *id, const struct brick_id_pool *pool,
                          uint32_t *base, brick_err *err) {
  _cleanup_json_ json_t *doc = NULL;
  _cleanup_close_ int lockfd = -1;
  if (with_pool_file(state_root, &doc, &lockfd, err) < 0)
    return -1;
  json_t *mine = json_object_get(doc, id);
  if (json_is_integer(mine)) {
    *base = (uint32_t)json_integer_value(mine);
    return 0;
  }
  uint32_t slots = pool->count / BRICK_USERNS_RANGE;
  if (slots == 0)
    return brick_error(err, 0, "user namespace id pool is smaller than one range");
  /* Mark used slots, then take the first free one. Slots are few thousand at most in
   * practice; a bitmap over the live containers is cheap. */
  size_t nbytes = (slots + 7) / 8;
  _cleanup_free_ unsigned char *used = xcalloc(nbytes, 1);
  const char *key;
  json_t *val;
  json_object_foreach(doc, key, val) {
    uint64_t b = (uint64_t)json_integer_value(val);
    if (b < pool->start)
      continue;
    uint64_t slot = (b - pool->start) / BRICK_USERNS_RANGE;
    if (slot < slots)
      used[slot / 8] |= (unsigned char)(1u << (slot % 8));
  }
  for (uint32_t s = 0; s < slots; s++) {
    if (used[s / 8] & (1u << (s % 8)))
      continue;
    *base = pool->start + s * BRICK_USERNS_RANGE;
    json_object_set_new(doc, id, json_integer(*base));
    return save_pool_file(state_root, doc, err);
  }
  return brick_error(err, ENOSPC, "user namespace id pool exhausted (%u ranges in use)", slots);
}

int brick_userns_release(const char *state_root, const char *id, brick_err *err) {
  _cleanup_json_ json_t *doc = NULL;
  _cleanup_close_ int lockfd = -1;
  if (with_pool_file(state_root, &doc, &lockfd, err) < 0)
    return -1;
  if (json_object_del(doc, id) < 0)
    return 0;
  return save_pool_file(state_root, doc, err);
}

static int write_map(pid_t pid, const char *file, const struct brick_id_mapping *m, size_t n,
                     brick_err *err) {
  if (n == 0)
    return 0;
  size_t cap = n * 40 + 1, len = 0;
  _cleanup_free_ char *buf = xmalloc(cap);
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                            m[i].size);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return brick_errno(err, "open %s", path);
  /* The kernel takes the whole map in one write or not at all. */
  if (write(fd, buf, len) != (ssize_t)len)
    return brick_errno(err, "write %s", path);
  return 0;
}

int brick_userns_write_maps(pid_t pid, const struct brick_id_mapping *uids, size_t n_uids,
                            const struct brick_id_mapping *gids, size_t n_gids, brick_err *err) {
  if (write_map(pid, "uid_map", uids, n_uids, err) < 0)
    return brick_error_prefix(err, "linux.uidMappings");
  if (write_map(pid, "gid_map", gids, n_gids, err) < 0)
    return brick_error_prefix(err, "linux.gidMappings");
  return 0;
}
