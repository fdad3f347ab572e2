/* Resource usage in the shape of runc's `events --stats` "data" object, so tools that
 * read runc's output (podman stats, containerd's shim) read brick's unchanged. Values a
 * host does not offer are reported as 0; only a missing cgroup is an error. */
#include "cgroup/cgroup_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

/* jansson integers are signed 64-bit: "max" (UINT64_MAX) is reported as INT64_MAX. */
static json_t *jnum(uint64_t v) { return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v); }

static uint64_t rd(const char *dir, const char *file) {
  uint64_t v = 0;
  if (!dir || cg_read_u64(dir, file, &v, NULL) < 0)
    return 0;
  return v;
}

static uint64_t rd_key(const char *dir, const char *file, const char *key) {
  uint64_t v = 0;
  if (!dir || cg_read_keyed(dir, file, key, &v, NULL) < 0)
    return 0;
  return v;
}

static json_t *rd_list(const char *dir, const char *file) {
  json_t *a = json_array();
  _cleanup_free_ char *text = NULL;
  if (!dir || cg_read(dir, file, &text, NULL) < 0)
    return a;
  char *save = NULL;
  for (char *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
    json_array_append_new(a, jnum(strtoull(t, NULL, 10)));
  return a;
}

static json_t *rd_flat(const char *dir, const char *file) {
  json_t *o = json_object();
  _cleanup_free_ char *text = NULL;
  if (!dir || cg_read(dir, file, &text, NULL) < 0)
    return o;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *sp = strchr(line, ' ');
    if (!sp)
      continue;
    *sp = '\0';
    json_object_set_new(o, line, jnum(strtoull(sp + 1, NULL, 10)));
  }
  return o;
}

static json_t *mem_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt) {
  return json_pack("{s:o,s:o,s:o,s:o}", "limit", jnum(limit), "usage", jnum(usage), "max",
                   jnum(max), "failcnt", jnum(failcnt));
}

static json_t *blkio_entry(const char *devno, const char *op, uint64_t v) {
  unsigned maj = 0, min = 0;
  sscanf(devno, "%u:%u", &maj, &min);
  return json_pack("{s:I,s:I,s:s,s:o}", "major", (json_int_t)maj, "minor", (json_int_t)min,
                   "op", op, "value", jnum(v));
}

/* v1 "8:0 Read 4096" lines; the "Total" lines carry no device and are skipped. */
static json_t *rd_blkio_v1(const char *dir, const char *file) {
  json_t *a = json_array();
  _cleanup_free_ char *text = NULL;
  if (!dir || cg_read(dir, file, &text, NULL) < 0)
    return a;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char dev[32], op[32];
    unsigned long long v;
    if (sscanf(line, "%31s %31s %llu", dev, op, &v) == 3 && strchr(dev, ':'))
      json_array_append_new(a, blkio_entry(dev, op, v));
  }
  return a;
}

static void hugetlb_stats(json_t *out, const char *dir, bool v2) {
  DIR *d = dir ? opendir(dir) : NULL;
  if (!d)
    return;
  struct dirent *de;
  const char *suffix = v2 ? ".max" : ".limit_in_bytes";
  while ((de = readdir(d))) {
    const char *n = de->d_name;
    size_t len = strlen(n), sl = strlen(suffix);
    if (!brick_str_has_prefix(n, "hugetlb.") || len <= 8 + sl || strcmp(n + len - sl, suffix) ||
        strstr(n, ".rsvd."))
      continue;
    _cleanup_free_ char *size = xasprintf("%.*s", (int)(len - 8 - sl), n + 8);
    _cleanup_free_ char *f_usage = xasprintf(v2 ? "hugetlb.%s.current" : "hugetlb.%s.usage_in_bytes", size);
    _cleanup_free_ char *f_max = xasprintf("hugetlb.%s.max_usage_in_bytes", size);
    _cleanup_free_ char *f_fail = xasprintf(v2 ? "hugetlb.%s.events" : "hugetlb.%s.failcnt", size);
    json_object_set_new(out, size, json_pack("{s:o,s:o,s:o}", "usage", jnum(rd(dir, f_usage)),
                                             "max", jnum(v2 ? 0 : rd(dir, f_max)), "failcnt",
                                             jnum(v2 ? rd_key(dir, f_fail, "max") : rd(dir, f_fail))));
  }
  closedir(d);
}

static json_t *stats_v1(const struct brick_cgroup_mounts *m, const char *path) {
  struct cg_v1_dirs d;
  cg_v1_dirs_for(m, path, &d);
  const char *acct = d.dir[CG_CPUACCT], *cpu = d.dir[CG_CPU], *mem = d.dir[CG_MEMORY];
  long hz = sysconf(_SC_CLK_TCK);
  uint64_t tick_ns = hz > 0 ? 1000000000ULL / (uint64_t)hz : 10000000ULL;
  json_t *usage = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}",
      "total", jnum(rd(acct, "cpuacct.usage")),
      "percpu", rd_list(acct, "cpuacct.usage_percpu"),
      "percpu_kernel", rd_list(acct, "cpuacct.usage_percpu_sys"),
      "percpu_user", rd_list(acct, "cpuacct.usage_percpu_user"),
      "kernel", jnum(rd_key(acct, "cpuacct.stat", "system") * tick_ns),
      "user", jnum(rd_key(acct, "cpuacct.stat", "user") * tick_ns));
  json_t *throttling = json_pack("{s:o,s:o,s:o}",
      "periods", jnum(rd_key(cpu, "cpu.stat", "nr_periods")),
      "throttledPeriods", jnum(rd_key(cpu, "cpu.stat", "nr_throttled")),
      "throttledTime", jnum(rd_key(cpu, "cpu.stat", "throttled_time")));
  json_t *memory = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}",
      "cache", jnum(rd_key(mem, "memory.stat", "total_cache")),
      "usage", mem_entry(rd(mem, "memory.limit_in_bytes"), rd(mem, "memory.usage_in_bytes"),
                         rd(mem, "memory.max_usage_in_bytes"), rd(mem, "memory.failcnt")),
      "swap", mem_entry(rd(mem, "memory.memsw.limit_in_bytes"), rd(mem, "memory.memsw.usage_in_bytes"),
                        rd(mem, "memory.memsw.max_usage_in_bytes"), rd(mem, "memory.memsw.failcnt")),
      "kernel", mem_entry(rd(mem, "memory.kmem.limit_in_bytes"), rd(mem, "memory.kmem.usage_in_bytes"),
                          rd(mem, "memory.kmem.max_usage_in_bytes"), rd(mem, "memory.kmem.failcnt")),
      "kernelTCP", mem_entry(rd(mem, "memory.kmem.tcp.limit_in_bytes"),
                             rd(mem, "memory.kmem.tcp.usage_in_bytes"),
                             rd(mem, "memory.kmem.tcp.max_usage_in_bytes"),
                             rd(mem, "memory.kmem.tcp.failcnt")),
      "raw", rd_flat(mem, "memory.stat"));
  uint64_t pmax = rd(d.dir[CG_PIDS], "pids.max");
  json_t *pids = json_pack("{s:o,s:o}", "current", jnum(rd(d.dir[CG_PIDS], "pids.current")),
                           "limit", jnum(pmax == UINT64_MAX ? 0 : pmax));
  const char *b = d.dir[CG_BLKIO];
  const char *bytes = "blkio.throttle.io_service_bytes_recursive",
             *ios = "blkio.throttle.io_serviced_recursive";
  if (b && cg_file_exists(b, "blkio.io_service_bytes_recursive")) {
    bytes = "blkio.io_service_bytes_recursive";
    ios = "blkio.io_serviced_recursive";
  } else if (b && cg_file_exists(b, "blkio.bfq.io_service_bytes_recursive")) {
    bytes = "blkio.bfq.io_service_bytes_recursive";
    ios = "blkio.bfq.io_serviced_recursive";
  }
  json_t *blkio = json_pack("{s:o,s:o}", "ioServiceBytesRecursive", rd_blkio_v1(b, bytes),
                            "ioServicedRecursive", rd_blkio_v1(b, ios));
  json_t *hugetlb = json_object();
  hugetlb_stats(hugetlb, d.dir[CG_HUGETLB], d.hugetlb_v2);
  cg_v1_dirs_free(&d);
  return json_pack("{s:{s:o,s:o},s:o,s:o,s:o,s:o}", "cpu", "usage", usage, "throttling",
                   throttling, "memory", memory, "pids", pids, "blkio", blkio, "hugetlb", hugetlb);
}

static json_t *io_stat_v2(const char *dir, json_t **ios) {
  json_t *bytes = json_array();
  *ios = json_array();
  _cleanup_free_ char *text = NULL;
  if (cg_read(dir, "io.stat", &text, NULL) < 0)
    return bytes;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *s2 = NULL;
    const char *dev = strtok_r(line, " ", &s2);
    if (!dev)
      continue;
    for (char *kv = strtok_r(NULL, " ", &s2); kv; kv = strtok_r(NULL, " ", &s2)) {
      char *eq = strchr(kv, '=');
      if (!eq)
        continue;
      *eq = '\0';
      uint64_t v = strtoull(eq + 1, NULL, 10);
      if (!strcmp(kv, "rbytes"))
        json_array_append_new(bytes, blkio_entry(dev, "Read", v));
      else if (!strcmp(kv, "wbytes"))
        json_array_append_new(bytes, blkio_entry(dev, "Write", v));
      else if (!strcmp(kv, "rios"))
        json_array_append_new(*ios, blkio_entry(dev, "Read", v));
      else if (!strcmp(kv, "wios"))
        json_array_append_new(*ios, blkio_entry(dev, "Write", v));
    }
  }
  return bytes;
}

static json_t *stats_v2(const char *dir) {
  json_t *usage = json_pack("{s:o,s:o,s:o}",
      "total", jnum(rd_key(dir, "cpu.stat", "usage_usec") * 1000),
      "kernel", jnum(rd_key(dir, "cpu.stat", "system_usec") * 1000),
      "user", jnum(rd_key(dir, "cpu.stat", "user_usec") * 1000));
  json_t *throttling = json_pack("{s:o,s:o,s:o}",
      "periods", jnum(rd_key(dir, "cpu.stat", "nr_periods")),
      "throttledPeriods", jnum(rd_key(dir, "cpu.stat", "nr_throttled")),
      "throttledTime", jnum(rd_key(dir, "cpu.stat", "throttled_usec") * 1000));
  uint64_t cur = rd(dir, "memory.current"), lim = rd(dir, "memory.max");
  uint64_t swap_cur = rd(dir, "memory.swap.current"), swap_max = rd(dir, "memory.swap.max");
  /* As in v1 (and runc), "swap" reports memory+swap. */
  uint64_t swap_lim = swap_max == UINT64_MAX || lim == UINT64_MAX ? UINT64_MAX : swap_max + lim;
  json_t *memory = json_pack("{s:o,s:o,s:o,s:o}",
      "cache", jnum(rd_key(dir, "memory.stat", "file")),
      "usage", mem_entry(lim, cur, rd(dir, "memory.peak"), rd_key(dir, "memory.events", "max")),
      "swap", mem_entry(swap_lim, cur + swap_cur, 0, rd_key(dir, "memory.swap.events", "max")),
      "raw", rd_flat(dir, "memory.stat"));
  uint64_t pmax = rd(dir, "pids.max");
  json_t *pids = json_pack("{s:o,s:o}", "current", jnum(rd(dir, "pids.current")), "limit",
                           jnum(pmax == UINT64_MAX ? 0 : pmax));
  json_t *ios = NULL;
  json_t *bytes = io_stat_v2(dir, &ios);
  json_t *blkio = json_pack("{s:o,s:o}", "ioServiceBytesRecursive", bytes,
                            "ioServicedRecursive", ios);
  json_t *hugetlb = json_object();
  hugetlb_stats(hugetlb, dir, true);
  return json_pack("{s:{s:o,s:o},s:o,s:o,s:o,s:o}", "cpu", "usage", usage, "throttling",
                   throttling, "memory", memory, "pids", pids, "blkio", blkio, "hugetlb", hugetlb);
}

int brick_cgroup_stats(const char *path, json_t **out, brick_err *err) {
  const struct brick_cgroup_mounts *m = cg_mounts(err);
  if (!m)
    return -1;
  if (m->mode == BRICK_CGROUP_V2) {
    _cleanup_free_ char *dir = cg_unified_dir(m, path);
    if (!dir || access(dir, F_OK) < 0)
      return brick_error(err, ENOENT, "stats: cgroup %s does not exist", path);
    *out = stats_v2(dir);
  } else {
    pid_t *pids = NULL;
    size_t n = 0;
    if (brick_cgroup_pids(path, &pids, &n, err) < 0)
      return brick_error_prefix(err, "stats");
    free(pids);
    *out = stats_v1(m, path);
  }
  if (!*out)
    return brick_error(err, ENOMEM, "stats: cannot build the JSON object");
  return 0;
}
