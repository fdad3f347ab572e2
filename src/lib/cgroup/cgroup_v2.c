/* cgroup v2: one tree, controllers enabled top-down through cgroup.subtree_control,
 * and the v1-era spec fields converted the way runc and crun convert them so that a
 * config means the same thing under every runtime. */
#include "cgroup/cgroup_internal.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

uint64_t cg_v2_cpu_weight(uint64_t shares) {
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cg_v2_io_weight(uint64_t w) {
  if (w == 0)
    return 0;
  if (w < 10)
    w = 10;
  if (w > 1000)
    w = 1000;
  return 1 + (w - 10) * 9999 / 990;
}

int cg_v2_swap(const struct brick_resources *r, char *out, size_t len, brick_err *err) {
  /* The spec's swap is memory+swap (v1); v2's memory.swap.max is swap alone. */
  if (!r->memory.has_swap || r->memory.swap == 0) {
    /* As in runc: an unlimited memory with no swap given means "unlimited both". */
    if (r->memory.has_limit && r->memory.limit < 0) {
      snprintf(out, len, "max");
      return 0;
    }
    return 1;
  }
  if (r->memory.swap < 0) {
    snprintf(out, len, "max");
    return 0;
  }
  if (!r->memory.has_limit || r->memory.limit == 0)
    return brick_error(err, 0, "linux.resources.memory.swap: a swap limit needs "
                                    "memory.limit (swap is memory+swap)");
  if (r->memory.limit < 0)
    return brick_error(err, 0, "linux.resources.memory.swap: memory.limit is "
                                    "unlimited but memory+swap is limited");
  if (r->memory.swap < r->memory.limit)
    return brick_error(err, 0, "linux.resources.memory.swap: memory+swap (%" PRId64
                                    ") must be >= memory.limit (%" PRId64 ")",
                       r->memory.swap, r->memory.limit);
  snprintf(out, len, "%" PRId64, r->memory.swap - r->memory.limit);
  return 0;
}

bool cg_v2_cpu_max(const struct brick_resources *r, char *out, size_t len) {
  if (!r->cpu.has_quota && !r->cpu.has_period)
    return false;
  int n;
  if (r->cpu.has_quota && r->cpu.quota > 0)
    n = snprintf(out, len, "%" PRId64, r->cpu.quota);
  else
    n = snprintf(out, len, "max");
  if (r->cpu.has_period && r->cpu.period != 0)
    snprintf(out + n, len - (size_t)n, " %" PRIu64, r->cpu.period);
  return true;
}

static bool word_in(const char *list, const char *word) {
  size_t wl = strlen(word);
  for (const char *p = list; (p = strstr(p, word)); p += wl)
    if ((p == list || p[-1] == ' ' || p[-1] == '\n') && (p[wl] == '\0' || p[wl] == ' ' ||
                                                          p[wl] == '\n'))
      return true;
  return false;
}

int cg_v2_enable_controllers(const char *root, const char *path, brick_err *err) {
  _cleanup_free_ char *level = xstrdup(root);
  _cleanup_free_ char *rel = xstrdup(path);
  char *save = NULL;
  char *comp = strtok_r(rel, "/", &save);
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    _cleanup_free_ char *avail = NULL, *enabled = NULL;
    if (cg_read(level, "cgroup.controllers", &avail, err) < 0 ||
        cg_read(level, "cgroup.subtree_control", &enabled, err) < 0)
      return -1;
    char *s2 = NULL;
    for (char *c = strtok_r(avail, " \n", &s2); c; c = strtok_r(NULL, " \n", &s2)) {
      if (word_in(enabled, c))
        continue;
      _cleanup_free_ char *plus = xasprintf("+%s", c);
      brick_err ignored = {0};
      /* One at a time: a controller that cannot be enabled here (e.g. cpu with
       * realtime tasks, or a parent that holds processes) must not block the others. */
      if (cg_write(level, "cgroup.subtree_control", plus, NULL, &ignored) < 0)
        brick_debug("cgroup: %s", brick_error_msg(&ignored));
      brick_error_clear(&ignored);
    }
    char *deeper = xasprintf("%s/%s", level, comp);
    free(level);
    level = deeper;
    comp = next;
  }
  return 0;
}

int cg_v2_check(const struct brick_resources *r, brick_err *err) {
  if (!r || !r->present)
    return 0;
  if (r->network.has_class_id || r->network.n_priorities)
    return brick_error(err, 0, "linux.resources.network: net_cls/net_prio are cgroup "
                                     "v1 controllers; cgroup v2 has no equivalent (use an "
                                     "eBPF or nftables cgroup match instead)");
  if (r->memory.has_swappiness)
    return brick_error(err, 0, "linux.resources.memory.swappiness: not supported on "
                                     "cgroup v2 (leave it unset)");
  if (r->memory.has_disable_oom_killer && r->memory.disable_oom_killer)
    return brick_error(err, 0, "linux.resources.memory.disableOOMKiller: cgroup v2 "
                                     "cannot disable the OOM killer");
  if (r->memory.has_use_hierarchy && !r->memory.use_hierarchy)
    return brick_error(err, 0, "linux.resources.memory.useHierarchy: cgroup v2 is "
                                     "always hierarchical");
  if ((r->cpu.has_realtime_runtime && r->cpu.realtime_runtime != 0) ||
      (r->cpu.has_realtime_period && r->cpu.realtime_period != 0))
    return brick_error(err, 0, "linux.resources.cpu.realtimeRuntime/realtimePeriod: "
                                     "not supported on cgroup v2");
  if (r->block_io.has_leaf_weight)
    return brick_error(err, 0, "linux.resources.blockIO.leafWeight: not supported on "
                                     "cgroup v2");
  for (size_t i = 0; i < r->block_io.n_weight_device; i++)
    if (r->block_io.weight_device[i].has_leaf_weight)
      return brick_error(err, 0, "linux.resources.blockIO.weightDevice[%zu].leafWeight: "
                                       "not supported on cgroup v2", i);
  return 0;
}

/* Write a v2 file, naming the controller when its file is absent (not enabled). */
static int v2_write(const char *dir, const char *file, const char *value, const char *what,
                    brick_err *err) {
  if (!cg_file_exists(dir, file)) {
    size_t ctl = strcspn(file, ".");
    return brick_error(err, 0, "%s: %.*s controller not available in %s (no %s)", what,
                       (int)ctl, file, dir, file);
  }
  return cg_write(dir, file, value, what, err);
}

static int v2_write_u64(const char *dir, const char *file, uint64_t v, const char *what,
                        brick_err *err) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%" PRIu64, v);
  return v2_write(dir, file, buf, what, err);
}

static void fmt_limit(char *buf, size_t len, int64_t v) {
  if (v < 0)
    snprintf(buf, len, "max");
  else
    snprintf(buf, len, "%" PRId64, v);
}

static int apply_io(const char *dir, const struct brick_resources *r, brick_err *err) {
  bool bfq = cg_file_exists(dir, "io.bfq.weight");
  const char *wfile = bfq ? "io.bfq.weight" : "io.weight";
  if (r->block_io.has_weight) {
    uint64_t w = bfq ? r->block_io.weight : cg_v2_io_weight(r->block_io.weight);
    if (v2_write_u64(dir, wfile, w, "linux.resources.blockIO.weight", err) < 0)
      return -1;
  }
  for (size_t i = 0; i < r->block_io.n_weight_device; i++) {
    const struct brick_weight_device *d = &r->block_io.weight_device[i];
    if (!d->has_weight)
      continue;
    _cleanup_free_ char *what = xasprintf("linux.resources.blockIO.weightDevice[%zu]", i);
    _cleanup_free_ char *line = xasprintf("%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                                          bfq ? (uint64_t)d->weight : cg_v2_io_weight(d->weight));
    if (v2_write(dir, wfile, line, what, err) < 0)
      return -1;
  }
  static const struct {
    const char *key, *what;
    size_t off_list, off_n;
  } lists[] = {
    {"rbps", "linux.resources.blockIO.throttleReadBpsDevice",
     offsetof(struct brick_resources, block_io.throttle_read_bps),
     offsetof(struct brick_resources, block_io.n_throttle_read_bps)},
    {"wbps", "linux.resources.blockIO.throttleWriteBpsDevice",
     offsetof(struct brick_resources, block_io.throttle_write_bps),
     offsetof(struct brick_resources, block_io.n_throttle_write_bps)},
    {"riops", "linux.resources.blockIO.throttleReadIOPSDevice",
     offsetof(struct brick_resources, block_io.throttle_read_iops),
     offsetof(struct brick_resources, block_io.n_throttle_read_iops)},
    {"wiops", "linux.resources.blockIO.throttleWriteIOPSDevice",
     offsetof(struct brick_resources, block_io.throttle_write_iops),
     offsetof(struct brick_resources, block_io.n_throttle_write_iops)},
  };
  for (size_t k = 0; k < ARRAY_SIZE(lists); k++) {
    const struct brick_throttle_device *list =
        *(struct brick_throttle_device *const *)((const char *)r + lists[k].off_list);
    size_t n = *(const size_t *)((const char *)r + lists[k].off_n);
    for (size_t i = 0; i < n; i++) {
      _cleanup_free_ char *what = xasprintf("%s[%zu]", lists[k].what, i);
      /* 0 means "no limit" in the v1 files; v2 spells it "max". */
      _cleanup_free_ char *line =
          list[i].rate ? xasprintf("%" PRId64 ":%" PRId64 " %s=%" PRIu64, list[i].major,
                                   list[i].minor, lists[k].key, list[i].rate)
                       : xasprintf("%" PRId64 ":%" PRId64 " %s=max", list[i].major,
                                   list[i].minor, lists[k].key);
      if (v2_write(dir, "io.max", line, what, err) < 0)
        return -1;
    }
  }
  return 0;
}

int cg_v2_apply_unified(const char *dir, const struct brick_resources *r, brick_err *err) {
  static const char *const forbidden[] = {"cgroup.procs", "cgroup.threads", "cgroup.kill",
                                          "cgroup.subtree_control", "cgroup.type"};
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *key = r->unified[i].key;
    _cleanup_free_ char *what = xasprintf("linux.resources.unified[\"%s\"]", key);
    if (!*key || strchr(key, '/') || strstr(key, "..") || !strchr(key, '.'))
      return brick_error(err, 0, "%s: not a cgroup file name", what);
    for (size_t f = 0; f < ARRAY_SIZE(forbidden); f++)
      if (!strcmp(key, forbidden[f]))
        return brick_error(err, 0, "%s: the runtime manages this file itself", what);
    if (v2_write(dir, key, r->unified[i].value, what, err) < 0)
      return -1;
  }
  return 0;
}

static int apply_memory(const char *dir, const struct brick_resources *r, bool update,
                        brick_err *err) {
  char v[32];
  if (cg_check_memory_before_update(dir, "memory.current", r, update, err) < 0)
    return -1;
  char swap[32];
  int swap_r = cg_v2_swap(r, swap, sizeof(swap), err);
  if (swap_r < 0)
    return -1;
  if (r->memory.has_limit) {
    fmt_limit(v, sizeof(v), r->memory.limit);
    if (v2_write(dir, "memory.max", v, "linux.resources.memory.limit", err) < 0)
      return -1;
    /* A container is one unit: on OOM kill it whole rather than leave it half-alive
     * (what Kubernetes does on v2); resources.unified may still override this. */
    if (!update && r->memory.limit > 0 && cg_file_exists(dir, "memory.oom.group") &&
        cg_write(dir, "memory.oom.group", "1", "linux.resources.memory.limit", err) < 0)
      return -1;
  }
  if (swap_r == 0) {
    if (!cg_file_exists(dir, "memory.swap.max")) {
      if (strcmp(swap, "max") != 0)
        return brick_error(err, 0, "linux.resources.memory.swap: swap accounting is "
                                        "not available (no memory.swap.max)");
    } else if (cg_write(dir, "memory.swap.max", swap, "linux.resources.memory.swap", err) < 0) {
      return -1;
    }
  }
  if (r->memory.has_reservation) {
    fmt_limit(v, sizeof(v), r->memory.reservation);
    if (v2_write(dir, "memory.low", v, "linux.resources.memory.reservation", err) < 0)
      return -1;
  }
  if (r->memory.has_kernel || r->memory.has_kernel_tcp)
    brick_warn("linux.resources.memory.kernel/kernelTCP: no cgroup v2 equivalent; ignored");
  return 0;
}

int cg_v2_apply(const char *dir, const struct brick_resources *r, bool update, brick_err *err) {
  if (!r || !r->present)
    return 0;
  if (cg_v2_check(r, err) < 0)
    return -1;
  char v[64];
  if (r->cpu.cpus && *r->cpu.cpus &&
      v2_write(dir, "cpuset.cpus", r->cpu.cpus, "linux.resources.cpu.cpus", err) < 0)
    return -1;
  if (r->cpu.mems && *r->cpu.mems &&
      v2_write(dir, "cpuset.mems", r->cpu.mems, "linux.resources.cpu.mems", err) < 0)
    return -1;
  if (r->cpu.has_shares && r->cpu.shares &&
      v2_write_u64(dir, "cpu.weight", cg_v2_cpu_weight(r->cpu.shares),
                   "linux.resources.cpu.shares", err) < 0)
    return -1;
  if (cg_v2_cpu_max(r, v, sizeof(v)) &&
      v2_write(dir, "cpu.max", v, "linux.resources.cpu.quota", err) < 0)
    return -1;
  if (r->cpu.has_burst &&
      v2_write_u64(dir, "cpu.max.burst", r->cpu.burst, "linux.resources.cpu.burst", err) < 0)
    return -1;
  if (r->cpu.has_idle) {
    snprintf(v, sizeof(v), "%" PRId64, r->cpu.idle);
    if (v2_write(dir, "cpu.idle", v, "linux.resources.cpu.idle", err) < 0)
      return -1;
  }
  if (apply_memory(dir, r, update, err) < 0)
    return -1;
  if (r->pids.has_limit) {
    fmt_limit(v, sizeof(v), r->pids.limit > 0 ? r->pids.limit : -1);
    if (v2_write(dir, "pids.max", v, "linux.resources.pids.limit", err) < 0)
      return -1;
  }
  if (apply_io(dir, r, err) < 0)
    return -1;
  if (r->n_hugepage_limits) {
    if (!cg_dir_has_prefix(dir, "hugetlb."))
      return brick_error(err, 0, "linux.resources.hugepageLimits: hugetlb controller "
                                      "not available in %s", dir);
    if (cg_hugetlb_apply(dir, true, r, err) < 0)
      return -1;
  }
  if (r->n_rdma) {
    if (!cg_file_exists(dir, "rdma.max"))
      return brick_error(err, 0, "linux.resources.rdma: rdma controller not available");
    if (cg_rdma_apply(dir, r, err) < 0)
      return -1;
  }
  return cg_v2_apply_unified(dir, r, err);
}
