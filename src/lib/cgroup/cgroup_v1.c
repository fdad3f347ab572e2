/* cgroup v1: one directory per controller hierarchy, each resource in its own file.
 * Also used on hybrid hosts, where hugetlb/rdma may be offered only by the cgroup2
 * mount: those writers then use the v2 file names in the cgroup2 directory. */
#include "cgroup/cgroup_internal.h"

#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

void cg_v1_dirs_free(struct cg_v1_dirs *d) {
  for (int c = 0; c < CG_CTRL_COUNT; c++) {
    free(d->dir[c]);
    d->dir[c] = NULL;
  }
}

int cg_v1_dirs_for(const struct brick_cgroup_mounts *m, const char *path, struct cg_v1_dirs *d) {
  memset(d, 0, sizeof(*d));
  for (int c = 0; c < CG_CTRL_COUNT; c++) {
    bool v2 = false;
    d->dir[c] = cg_dir_for(m, (enum cg_ctrl)c, path, &v2);
    if (c == CG_HUGETLB)
      d->hugetlb_v2 = v2;
    if (c == CG_RDMA)
      d->rdma_v2 = v2;
  }
  return 0;
}

static bool memory_used(const struct brick_resources *r) {
  return r->memory.has_limit || r->memory.has_reservation || r->memory.has_swap ||
         r->memory.has_swappiness || (r->memory.has_disable_oom_killer &&
                                      r->memory.disable_oom_killer) ||
         r->memory.has_use_hierarchy || r->memory.has_kernel_tcp;
}

static bool cpu_used(const struct brick_resources *r) {
  return r->cpu.has_shares || r->cpu.has_quota || r->cpu.has_period || r->cpu.has_burst ||
         r->cpu.has_realtime_runtime || r->cpu.has_realtime_period || r->cpu.has_idle;
}

static bool blkio_used(const struct brick_resources *r) {
  return r->block_io.has_weight || r->block_io.has_leaf_weight ||
         r->block_io.n_weight_device || r->block_io.n_throttle_read_bps ||
         r->block_io.n_throttle_write_bps || r->block_io.n_throttle_read_iops ||
         r->block_io.n_throttle_write_iops;
}

int cg_v1_check(const struct cg_v1_dirs *d, const struct brick_resources *res, brick_err *err) {
  if (!res || !res->present)
    return 0;
  static const struct {
    enum cg_ctrl c;
    const char *what;
  } need[] = {
    {CG_MEMORY, "linux.resources.memory"}, {CG_CPU, "linux.resources.cpu"},
    {CG_CPUSET, "linux.resources.cpu.cpus/mems"}, {CG_PIDS, "linux.resources.pids"},
    {CG_BLKIO, "linux.resources.blockIO"}, {CG_HUGETLB, "linux.resources.hugepageLimits"},
    {CG_NET_CLS, "linux.resources.network.classID"},
    {CG_NET_PRIO, "linux.resources.network.priorities"}, {CG_RDMA, "linux.resources.rdma"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
    bool used = false;
    switch (need[i].c) {
    case CG_MEMORY: used = memory_used(res); break;
    case CG_CPU: used = cpu_used(res); break;
    case CG_CPUSET: used = (res->cpu.cpus && *res->cpu.cpus) || (res->cpu.mems && *res->cpu.mems); break;
    case CG_PIDS: used = res->pids.has_limit; break;
    case CG_BLKIO: used = blkio_used(res); break;
    case CG_HUGETLB: used = res->n_hugepage_limits > 0; break;
    case CG_NET_CLS: used = res->network.has_class_id; break;
    case CG_NET_PRIO: used = res->network.n_priorities > 0; break;
    case CG_RDMA: used = res->n_rdma > 0; break;
    default: break;
    }
    if (used && !d->dir[need[i].c])
      return brick_error(err, 0, "%s: %s controller not available", need[i].what,
                         cg_ctrl_name(need[i].c));
  }
  return 0;
}

static bool blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\n' && *s != '\t')
      return false;
  return true;
}

int cg_v1_cpuset_init(const char *dir, brick_err *err) {
  _cleanup_free_ char *copy = xstrdup(dir);
  const char *parent = dirname(copy);
  static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    _cleanup_free_ char *cur = NULL, *from = NULL;
    if (cg_read(dir, files[i], &cur, err) < 0)
      return -1;
    if (!blank(cur))
      continue;
    if (cg_read(parent, files[i], &from, err) < 0)
      return -1;
    if (blank(from))
      continue;
    from[strcspn(from, "\n")] = '\0';
    if (cg_write(dir, files[i], from, "cpuset", err) < 0)
      return -1;
  }
  return 0;
}

static void fmt_i64(char *buf, size_t len, int64_t v) {
  snprintf(buf, len, "%" PRId64, v < 0 ? (int64_t)-1 : v);
}

static int apply_cpu(const struct cg_v1_dirs *d, const struct brick_resources *r, brick_err *err) {
  const char *cpuset = d->dir[CG_CPUSET], *cpu = d->dir[CG_CPU];
  if (r->cpu.cpus && *r->cpu.cpus &&
      cg_write(cpuset, "cpuset.cpus", r->cpu.cpus, "linux.resources.cpu.cpus", err) < 0)
    return -1;
  if (r->cpu.mems && *r->cpu.mems &&
      cg_write(cpuset, "cpuset.mems", r->cpu.mems, "linux.resources.cpu.mems", err) < 0)
    return -1;
  if (r->cpu.has_shares &&
      cg_write_u64(cpu, "cpu.shares", r->cpu.shares, "linux.resources.cpu.shares", err) < 0)
    return -1;
  if (r->cpu.has_period || r->cpu.has_quota) {
    char quota[32];
    fmt_i64(quota, sizeof(quota), r->cpu.quota);
    /* The kernel checks quota/period against the parent as each is written, so one
     * order can fail where the other succeeds (e.g. raising both after lowering). */
    brick_err first = {0};
    int ok = 0;
    if (r->cpu.has_period)
      ok = cg_write_u64(cpu, "cpu.cfs_period_us", r->cpu.period, "linux.resources.cpu.period", &first);
    if (ok == 0 && r->cpu.has_quota)
      ok = cg_write(cpu, "cpu.cfs_quota_us", quota, "linux.resources.cpu.quota", &first);
    if (ok < 0) {
      brick_error_clear(&first);
      if (r->cpu.has_quota &&
          cg_write(cpu, "cpu.cfs_quota_us", quota, "linux.resources.cpu.quota", err) < 0)
        return -1;
      if (r->cpu.has_period && cg_write_u64(cpu, "cpu.cfs_period_us", r->cpu.period,
                                            "linux.resources.cpu.period", err) < 0)
        return -1;
    }
  }
  if (r->cpu.has_burst &&
      cg_write_u64(cpu, "cpu.cfs_burst_us", r->cpu.burst, "linux.resources.cpu.burst", err) < 0)
    return -1;
  if (r->cpu.has_realtime_period &&
      cg_write_u64(cpu, "cpu.rt_period_us", r->cpu.realtime_period,
                   "linux.resources.cpu.realtimePeriod", err) < 0)
    return -1;
  if (r->cpu.has_realtime_runtime) {
    char v[32];
    fmt_i64(v, sizeof(v), r->cpu.realtime_runtime);
    if (cg_write(cpu, "cpu.rt_runtime_us", v, "linux.resources.cpu.realtimeRuntime", err) < 0)
      return -1;
  }
  if (r->cpu.has_idle) {
    char v[32];
    snprintf(v, sizeof(v), "%" PRId64, r->cpu.idle);
    if (cg_write(cpu, "cpu.idle", v, "linux.resources.cpu.idle", err) < 0)
      return -1;
  }
  return 0;
}

static int apply_memory(const struct cg_v1_dirs *d, const struct brick_resources *r, bool update,
                        brick_err *err) {
  const char *mem = d->dir[CG_MEMORY];
  char v[32];
  if (cg_check_memory_before_update(mem, "memory.usage_in_bytes", r, update, err) < 0)
    return -1;
  bool swap_file = cg_file_exists(mem, "memory.memsw.limit_in_bytes");
  bool swap_wanted = r->memory.has_swap && r->memory.swap != 0;
  if (swap_wanted && !swap_file && r->memory.swap >= 0)
    return brick_error(err, 0, "linux.resources.memory.swap: swap accounting is not "
                                    "available (no memory.memsw.limit_in_bytes)");
  bool swap_done = !(swap_wanted && swap_file);
  char swap[32];
  fmt_i64(swap, sizeof(swap), r->memory.swap);
  if (r->memory.has_limit) {
    fmt_i64(v, sizeof(v), r->memory.limit);
    brick_err first = {0};
    if (cg_write(mem, "memory.limit_in_bytes", v, "linux.resources.memory.limit", &first) < 0) {
      /* memory+swap must stay >= memory: raising both needs memsw first. */
      if (first.errnum != EINVAL || swap_done) {
        if (err) {
          brick_error_clear(err);
          *err = first;
        } else {
          brick_error_clear(&first);
        }
        return -1;
      }
      brick_error_clear(&first);
      if (cg_write(mem, "memory.memsw.limit_in_bytes", swap, "linux.resources.memory.swap", err) < 0 ||
          cg_write(mem, "memory.limit_in_bytes", v, "linux.resources.memory.limit", err) < 0)
        return -1;
      swap_done = true;
    }
  }
  if (!swap_done &&
      cg_write(mem, "memory.memsw.limit_in_bytes", swap, "linux.resources.memory.swap", err) < 0)
    return -1;
  if (r->memory.has_reservation) {
    fmt_i64(v, sizeof(v), r->memory.reservation);
    if (cg_write(mem, "memory.soft_limit_in_bytes", v, "linux.resources.memory.reservation", err) < 0)
      return -1;
  }
  if (r->memory.has_kernel) {
    /* Kernel memory limits are deprecated in the spec and gone from Linux >= 6.1. */
    fmt_i64(v, sizeof(v), r->memory.kernel);
    brick_err ignored = {0};
    if (!mem || cg_write(mem, "memory.kmem.limit_in_bytes", v, "linux.resources.memory.kernel",
                         &ignored) < 0)
      brick_warn("linux.resources.memory.kernel is deprecated and not supported by this "
                 "kernel; ignored");
    brick_error_clear(&ignored);
  }
  if (r->memory.has_kernel_tcp) {
    fmt_i64(v, sizeof(v), r->memory.kernel_tcp);
    if (cg_write(mem, "memory.kmem.tcp.limit_in_bytes", v, "linux.resources.memory.kernelTCP", err) < 0)
      return -1;
  }
  if (r->memory.has_swappiness &&
      cg_write_u64(mem, "memory.swappiness", r->memory.swappiness,
                   "linux.resources.memory.swappiness", err) < 0)
    return -1;
  if (r->memory.has_disable_oom_killer && (r->memory.disable_oom_killer || update) &&
      cg_write(mem, "memory.oom_control", r->memory.disable_oom_killer ? "1" : "0",
               "linux.resources.memory.disableOOMKiller", err) < 0)
    return -1;
  if (r->memory.has_use_hierarchy &&
      cg_write(mem, "memory.use_hierarchy", r->memory.use_hierarchy ? "1" : "0",
               "linux.resources.memory.useHierarchy", err) < 0)
    return -1;
  return 0;
}

static int write_devices_list(const char *dir, const char *file, const char *what,
                              const void *list, size_t n, bool throttle, bool leaf,
                              brick_err *err) {
  for (size_t i = 0; i < n; i++) {
    char line[96];
    if (throttle) {
      const struct brick_throttle_device *t = (const struct brick_throttle_device *)list + i;
      snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %" PRIu64, t->major, t->minor,
               t->rate);
    } else {
      const struct brick_weight_device *w = (const struct brick_weight_device *)list + i;
      if (leaf ? !w->has_leaf_weight : !w->has_weight)
        continue;
      snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %u", w->major, w->minor,
               (unsigned)(leaf ? w->leaf_weight : w->weight));
    }
    _cleanup_free_ char *w_what = xasprintf("%s[%zu]", what, i);
    if (cg_write(dir, file, line, w_what, err) < 0)
      return -1;
  }
  return 0;
}

static int apply_blkio(const struct cg_v1_dirs *d, const struct brick_resources *r, brick_err *err) {
  const char *b = d->dir[CG_BLKIO];
  /* blkio.weight is CFQ's; with BFQ the kernel offers blkio.bfq.weight instead. */
  const char *weight = cg_file_exists(b, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
  const char *weight_dev = cg_file_exists(b, "blkio.weight_device") ? "blkio.weight_device"
                                                                    : "blkio.bfq.weight_device";
  if ((r->block_io.has_weight || r->block_io.n_weight_device) && !cg_file_exists(b, weight))
    return brick_error(err, 0, "linux.resources.blockIO.weight: no blkio.weight or "
                                    "blkio.bfq.weight (the block device scheduler has no "
                                    "weight support)");
  if (r->block_io.has_weight &&
      cg_write_u64(b, weight, r->block_io.weight, "linux.resources.blockIO.weight", err) < 0)
    return -1;
  if (r->block_io.has_leaf_weight &&
      cg_write_u64(b, "blkio.leaf_weight", r->block_io.leaf_weight,
                   "linux.resources.blockIO.leafWeight", err) < 0)
    return -1;
  if (write_devices_list(b, weight_dev, "linux.resources.blockIO.weightDevice",
                         r->block_io.weight_device, r->block_io.n_weight_device, false, false,
                         err) < 0 ||
      write_devices_list(b, "blkio.leaf_weight_device", "linux.resources.blockIO.weightDevice",
                         r->block_io.weight_device, r->block_io.n_weight_device, false, true,
                         err) < 0 ||
      write_devices_list(b, "blkio.throttle.read_bps_device",
                         "linux.resources.blockIO.throttleReadBpsDevice",
                         r->block_io.throttle_read_bps, r->block_io.n_throttle_read_bps, true,
                         false, err) < 0 ||
      write_devices_list(b, "blkio.throttle.write_bps_device",
                         "linux.resources.blockIO.throttleWriteBpsDevice",
                         r->block_io.throttle_write_bps, r->block_io.n_throttle_write_bps, true,
                         false, err) < 0 ||
      write_devices_list(b, "blkio.throttle.read_iops_device",
                         "linux.resources.blockIO.throttleReadIOPSDevice",
                         r->block_io.throttle_read_iops, r->block_io.n_throttle_read_iops, true,
                         false, err) < 0 ||
      write_devices_list(b, "blkio.throttle.write_iops_device",
                         "linux.resources.blockIO.throttleWriteIOPSDevice",
                         r->block_io.throttle_write_iops, r->block_io.n_throttle_write_iops,
                         true, false, err) < 0)
    return -1;
  return 0;
}

/* "2MB", "64KB", "1GB": the kernel's own spelling of hugetlb page sizes. */
static bool valid_page_size(const char *s) {
  size_t i = 0;
  while (s[i] >= '0' && s[i] <= '9')
    i++;
  return i > 0 && (!strcmp(s + i, "KB") || !strcmp(s + i, "MB") || !strcmp(s + i, "GB"));
}

int cg_hugetlb_apply(const char *dir, bool v2, const struct brick_resources *r, brick_err *err) {
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    const struct brick_hugepage_limit *h = &r->hugepage_limits[i];
    _cleanup_free_ char *what = xasprintf("linux.resources.hugepageLimits[%zu]", i);
    if (!h->page_size || !valid_page_size(h->page_size))
      return brick_error(err, 0, "%s.pageSize: \"%s\" is not a page size like \"2MB\"",
                         what, h->page_size ? h->page_size : "");
    _cleanup_free_ char *file = xasprintf(v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes",
                                          h->page_size);
    _cleanup_free_ char *rsvd = xasprintf(v2 ? "hugetlb.%s.rsvd.max"
                                             : "hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
    if (!cg_file_exists(dir, file))
      return brick_error(err, 0, "%s: page size %s is not supported by the hugetlb "
                                      "controller (no %s)", what, h->page_size, file);
    if (cg_write_u64(dir, file, h->limit, what, err) < 0)
      return -1;
    /* Reservations are charged separately; limit them alike so that mmap(MAP_NORESERVE)
     * cannot get around the limit. */
    if (cg_file_exists(dir, rsvd) && cg_write_u64(dir, rsvd, h->limit, what, err) < 0)
      return -1;
  }
  return 0;
}

int cg_rdma_apply(const char *dir, const struct brick_resources *r, brick_err *err) {
  for (size_t i = 0; i < r->n_rdma; i++) {
    const struct brick_rdma_limit *l = &r->rdma[i];
    if (!l->has_hca_handles && !l->has_hca_objects)
      continue;
    char line[256];
    int len = snprintf(line, sizeof(line), "%s", l->device);
    if (l->has_hca_handles)
      len += snprintf(line + len, sizeof(line) - (size_t)len, " hca_handle=%u", l->hca_handles);
    if (l->has_hca_objects)
      snprintf(line + len, sizeof(line) - (size_t)len, " hca_object=%u", l->hca_objects);
    _cleanup_free_ char *what = xasprintf("linux.resources.rdma[\"%s\"]", l->device);
    if (cg_write(dir, "rdma.max", line, what, err) < 0)
      return -1;
  }
  return 0;
}

int cg_v1_apply(const struct cg_v1_dirs *d, const struct brick_resources *r, bool update,
                brick_err *err) {
  if (!r || !r->present)
    return 0;
  if (cg_v1_check(d, r, err) < 0)
    return -1;
  if (apply_cpu(d, r, err) < 0)
    return -1;
  if (d->dir[CG_MEMORY] && apply_memory(d, r, update, err) < 0)
    return -1;
  if (r->pids.has_limit) {
    char v[32] = "max";
    if (r->pids.limit > 0)
      snprintf(v, sizeof(v), "%" PRId64, r->pids.limit);
    if (cg_write(d->dir[CG_PIDS], "pids.max", v, "linux.resources.pids.limit", err) < 0)
      return -1;
  }
  if (blkio_used(r) && apply_blkio(d, r, err) < 0)
    return -1;
  if (r->n_hugepage_limits && cg_hugetlb_apply(d->dir[CG_HUGETLB], d->hugetlb_v2, r, err) < 0)
    return -1;
  if (r->network.has_class_id &&
      cg_write_u64(d->dir[CG_NET_CLS], "net_cls.classid", r->network.class_id,
                   "linux.resources.network.classID", err) < 0)
    return -1;
  for (size_t i = 0; i < r->network.n_priorities; i++) {
    _cleanup_free_ char *line = xasprintf("%s %u", r->network.priorities[i].name,
                                          r->network.priorities[i].priority);
    _cleanup_free_ char *what = xasprintf("linux.resources.network.priorities[%zu]", i);
    if (cg_write(d->dir[CG_NET_PRIO], "net_prio.ifpriomap", line, what, err) < 0)
      return -1;
  }
  if (r->n_rdma && cg_rdma_apply(d->dir[CG_RDMA], r, err) < 0)
    return -1;
  return 0;
}

static void v1_rule_line(char *buf, size_t len, char type, const struct brick_device_rule *r) {
  char maj[24] = "*", min[24] = "*";
  if (r->major >= 0)
    snprintf(maj, sizeof(maj), "%" PRId64, r->major);
  if (r->minor >= 0)
    snprintf(min, sizeof(min), "%" PRId64, r->minor);
  snprintf(buf, len, "%c %s:%s %s", type, maj, min, r->access[0] ? r->access : "rwm");
}

int cg_v1_devices(const char *dir, const struct brick_device_rule *rules, size_t n,
                  brick_err *err) {
  if (cg_write(dir, "devices.deny", "a", "linux.resources.devices", err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    const struct brick_device_rule *r = &rules[i];
    const char *file = r->allow ? "devices.allow" : "devices.deny";
    _cleanup_free_ char *what = xasprintf("linux.resources.devices[%zu]", i);
    const char *acc = r->access[0] ? r->access : "rwm";
    bool all_access = strchr(acc, 'r') && strchr(acc, 'w') && strchr(acc, 'm');
    char line[96];
    if (r->type == 'a' && r->major < 0 && r->minor < 0 && all_access) {
      if (cg_write(dir, file, "a", what, err) < 0)
        return -1;
      continue;
    }
    /* The kernel reads any "a ..." line as "everything", so a narrower rule for all
     * device types is written once per type. */
    const char *types = r->type == 'a' ? "cb" : (r->type == 'b' ? "b" : "c");
    for (const char *t = types; *t; t++) {
      v1_rule_line(line, sizeof(line), *t, r);
      if (cg_write(dir, file, line, what, err) < 0)
        return -1;
    }
  }
  return 0;
}
