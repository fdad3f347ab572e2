/* config.json "linux.resources": the cgroup settings, with absent and zero kept apart. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "spec/spec_internal.h"

static int parse_device_rules(json_t *arr, const char *path, struct brick_resources *r,
                              brick_err *err) {
  size_t n = json_array_size(arr);
  r->devices = xcalloc(n, sizeof *r->devices);
  r->n_devices = n;
  for (size_t i = 0; i < n; i++) {
    struct brick_device_rule *d = &r->devices[i];
    json_t *o;
    if (spec_array_object(arr, path, i, &o, err) < 0)
      return -1;
    _cleanup_free_ char *ipath = spec_path_index(path, i);
    bool present;
    if (spec_get_bool(o, ipath, "allow", &d->allow, &present, err) < 0)
      return -1;
    if (!present) {
      _cleanup_free_ char *apath = spec_path_key(ipath, "allow");
      return spec_error(err, apath, "required field is missing");
    }
    _cleanup_free_ char *type = NULL, *access = NULL;
    if (spec_get_string(o, ipath, "type", false, &type, err) < 0)
      return -1;
    d->type = 'a';
    if (type && type[0] != '\0') {
      if (strlen(type) != 1 || strchr("acb", type[0]) == NULL) {
        _cleanup_free_ char *tpath = spec_path_key(ipath, "type");
        return spec_error(err, tpath, "unknown device type \"%s\" (expected a, c or b)",
                          type);
      }
      d->type = type[0];
    }
    d->major = d->minor = -1;
    if (spec_get_int(o, ipath, "major", false, -1, INT64_MAX, &d->major, NULL, err) < 0 ||
        spec_get_int(o, ipath, "minor", false, -1, INT64_MAX, &d->minor, NULL, err) < 0)
      return -1;
    if (spec_get_string(o, ipath, "access", false, &access, err) < 0)
      return -1;
    if (access) {
      bool seen[3] = {false, false, false};
      size_t len = strlen(access);
      for (size_t c = 0; c < len; c++) {
        const char *pos = strchr("rwm", access[c]);
        if (access[c] == '\0' || pos == NULL || len > 3 || seen[pos - "rwm"]) {
          _cleanup_free_ char *apath = spec_path_key(ipath, "access");
          return spec_error(err, apath,
                            "invalid access \"%s\" (expected a combination of r, w and m)",
                            access);
        }
        seen[pos - "rwm"] = true;
      }
      memcpy(d->access, access, len + 1);
    }
  }
  return 0;
}

static int parse_memory(json_t *o, const char *path, struct brick_resources *r,
                        brick_err *err) {
  if (spec_get_int(o, path, "limit", false, -1, INT64_MAX, &r->memory.limit,
                   &r->memory.has_limit, err) < 0 ||
      spec_get_int(o, path, "reservation", false, -1, INT64_MAX, &r->memory.reservation,
                   &r->memory.has_reservation, err) < 0 ||
      spec_get_int(o, path, "swap", false, -1, INT64_MAX, &r->memory.swap,
                   &r->memory.has_swap, err) < 0 ||
      spec_get_int(o, path, "kernel", false, -1, INT64_MAX, &r->memory.kernel,
                   &r->memory.has_kernel, err) < 0 ||
      spec_get_int(o, path, "kernelTCP", false, -1, INT64_MAX, &r->memory.kernel_tcp,
                   &r->memory.has_kernel_tcp, err) < 0 ||
      spec_get_uint(o, path, "swappiness", false, 100, &r->memory.swappiness,
                    &r->memory.has_swappiness, err) < 0 ||
      spec_get_bool(o, path, "disableOOMKiller", &r->memory.disable_oom_killer,
                    &r->memory.has_disable_oom_killer, err) < 0 ||
      spec_get_bool(o, path, "useHierarchy", &r->memory.use_hierarchy,
                    &r->memory.has_use_hierarchy, err) < 0 ||
      spec_get_bool(o, path, "checkBeforeUpdate", &r->memory.check_before_update,
                    &r->memory.has_check_before_update, err) < 0)
    return -1;
  return 0;
}

static int parse_cpu(json_t *o, const char *path, struct brick_resources *r, brick_err *err) {
  if (spec_get_uint(o, path, "shares", false, UINT64_MAX, &r->cpu.shares, &r->cpu.has_shares,
                    err) < 0 ||
      spec_get_int(o, path, "quota", false, -1, INT64_MAX, &r->cpu.quota, &r->cpu.has_quota,
                   err) < 0 ||
      spec_get_uint(o, path, "burst", false, UINT64_MAX, &r->cpu.burst, &r->cpu.has_burst,
                    err) < 0 ||
      spec_get_uint(o, path, "period", false, UINT64_MAX, &r->cpu.period, &r->cpu.has_period,
                    err) < 0 ||
      spec_get_int(o, path, "realtimeRuntime", false, -1, INT64_MAX, &r->cpu.realtime_runtime,
                   &r->cpu.has_realtime_runtime, err) < 0 ||
      spec_get_uint(o, path, "realtimePeriod", false, UINT64_MAX, &r->cpu.realtime_period,
                    &r->cpu.has_realtime_period, err) < 0 ||
      spec_get_int(o, path, "idle", false, 0, 1, &r->cpu.idle, &r->cpu.has_idle, err) < 0 ||
      spec_get_string(o, path, "cpus", false, &r->cpu.cpus, err) < 0 ||
      spec_get_string(o, path, "mems", false, &r->cpu.mems, err) < 0)
    return -1;
  /* "" is Go's unset value; anything else must be a list cpuset will take. */
  if (r->cpu.cpus && r->cpu.cpus[0] != '\0' && !spec_cpu_list_valid(r->cpu.cpus)) {
    _cleanup_free_ char *cpath = spec_path_key(path, "cpus");
    return spec_error(err, cpath, "invalid CPU list \"%s\"", r->cpu.cpus);
  }
  if (r->cpu.mems && r->cpu.mems[0] != '\0' && !spec_cpu_list_valid(r->cpu.mems)) {
    _cleanup_free_ char *mpath = spec_path_key(path, "mems");
    return spec_error(err, mpath, "invalid memory node list \"%s\"", r->cpu.mems);
  }
  return 0;
}

static int parse_major_minor(json_t *o, const char *path, int64_t *major, int64_t *minor,
                             brick_err *err) {
  return spec_get_int(o, path, "major", true, 0, INT64_MAX, major, NULL, err) < 0 ||
                 spec_get_int(o, path, "minor", true, 0, INT64_MAX, minor, NULL, err) < 0
             ? -1
             : 0;
}

static int parse_throttle(json_t *blkio, const char *parent, const char *key,
                          struct brick_throttle_device **out, size_t *n, brick_err *err) {
  json_t *arr;
  if (spec_get_array(blkio, parent, key, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  _cleanup_free_ char *path = spec_path_key(parent, key);
  *n = json_array_size(arr);
  *out = xcalloc(*n, sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    json_t *o;
    if (spec_array_object(arr, path, i, &o, err) < 0)
      return -1;
    _cleanup_free_ char *ipath = spec_path_index(path, i);
    struct brick_throttle_device *t = &(*out)[i];
    if (parse_major_minor(o, ipath, &t->major, &t->minor, err) < 0 ||
        spec_get_uint(o, ipath, "rate", true, UINT64_MAX, &t->rate, NULL, err) < 0)
      return -1;
  }
  return 0;
}

static int parse_block_io(json_t *o, const char *path, struct brick_resources *r,
                          brick_err *err) {
  uint64_t v = 0;
  if (spec_get_uint(o, path, "weight", false, UINT16_MAX, &v, &r->block_io.has_weight, err) < 0)
    return -1;
  r->block_io.weight = (uint16_t)v;
  v = 0;
  if (spec_get_uint(o, path, "leafWeight", false, UINT16_MAX, &v, &r->block_io.has_leaf_weight,
                    err) < 0)
    return -1;
  r->block_io.leaf_weight = (uint16_t)v;

  json_t *arr;
  if (spec_get_array(o, path, "weightDevice", &arr, err) < 0)
    return -1;
  if (arr) {
    _cleanup_free_ char *wpath = spec_path_key(path, "weightDevice");
    size_t n = json_array_size(arr);
    r->block_io.weight_device = xcalloc(n, sizeof *r->block_io.weight_device);
    r->block_io.n_weight_device = n;
    for (size_t i = 0; i < n; i++) {
      json_t *w;
      if (spec_array_object(arr, wpath, i, &w, err) < 0)
        return -1;
      _cleanup_free_ char *ipath = spec_path_index(wpath, i);
      struct brick_weight_device *d = &r->block_io.weight_device[i];
      if (parse_major_minor(w, ipath, &d->major, &d->minor, err) < 0)
        return -1;
      v = 0;
      if (spec_get_uint(w, ipath, "weight", false, UINT16_MAX, &v, &d->has_weight, err) < 0)
        return -1;
      d->weight = (uint16_t)v;
      v = 0;
      if (spec_get_uint(w, ipath, "leafWeight", false, UINT16_MAX, &v, &d->has_leaf_weight,
                        err) < 0)
        return -1;
      d->leaf_weight = (uint16_t)v;
    }
  }
  if (parse_throttle(o, path, "throttleReadBpsDevice", &r->block_io.throttle_read_bps,
                     &r->block_io.n_throttle_read_bps, err) < 0 ||
      parse_throttle(o, path, "throttleWriteBpsDevice", &r->block_io.throttle_write_bps,
                     &r->block_io.n_throttle_write_bps, err) < 0 ||
      parse_throttle(o, path, "throttleReadIOPSDevice", &r->block_io.throttle_read_iops,
                     &r->block_io.n_throttle_read_iops, err) < 0 ||
      parse_throttle(o, path, "throttleWriteIOPSDevice", &r->block_io.throttle_write_iops,
                     &r->block_io.n_throttle_write_iops, err) < 0)
    return -1;
  return 0;
}

static int parse_hugepages(json_t *arr, const char *path, struct brick_resources *r,
                           brick_err *err) {
  size_t n = json_array_size(arr);
  r->hugepage_limits = xcalloc(n, sizeof *r->hugepage_limits);
  r->n_hugepage_limits = n;
  for (size_t i = 0; i < n; i++) {
    json_t *o;
    if (spec_array_object(arr, path, i, &o, err) < 0)
      return -1;
    _cleanup_free_ char *ipath = spec_path_index(path, i);
    struct brick_hugepage_limit *h = &r->hugepage_limits[i];
    if (spec_get_string(o, ipath, "pageSize", true, &h->page_size, err) < 0 ||
        spec_get_uint(o, ipath, "limit", true, UINT64_MAX, &h->limit, NULL, err) < 0)
      return -1;
    /* The value becomes part of a cgroup file name (hugetlb.<size>.limit_in_bytes). */
    if (h->page_size[0] == '\0' || strpbrk(h->page_size, "/.") != NULL) {
      _cleanup_free_ char *ppath = spec_path_key(ipath, "pageSize");
      return spec_error(err, ppath, "invalid page size \"%s\"", h->page_size);
    }
  }
  return 0;
}

static int parse_network(json_t *o, const char *path, struct brick_resources *r,
                         brick_err *err) {
  uint64_t v = 0;
  if (spec_get_uint(o, path, "classID", false, UINT32_MAX, &v, &r->network.has_class_id,
                    err) < 0)
    return -1;
  r->network.class_id = (uint32_t)v;
  json_t *arr;
  if (spec_get_array(o, path, "priorities", &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  _cleanup_free_ char *ppath = spec_path_key(path, "priorities");
  size_t n = json_array_size(arr);
  r->network.priorities = xcalloc(n, sizeof *r->network.priorities);
  r->network.n_priorities = n;
  for (size_t i = 0; i < n; i++) {
    json_t *p;
    if (spec_array_object(arr, ppath, i, &p, err) < 0)
      return -1;
    _cleanup_free_ char *ipath = spec_path_index(ppath, i);
    struct brick_net_priority *np = &r->network.priorities[i];
    v = 0;
    if (spec_get_string(p, ipath, "name", true, &np->name, err) < 0 ||
        spec_get_uint(p, ipath, "priority", true, UINT32_MAX, &v, NULL, err) < 0)
      return -1;
    np->priority = (uint32_t)v;
  }
  return 0;
}

static int parse_rdma(json_t *map, const char *path, struct brick_resources *r,
                      brick_err *err) {
  size_t n = json_object_size(map), i = 0;
  r->rdma = xcalloc(n, sizeof *r->rdma);
  r->n_rdma = n;
  const char *dev;
  json_t *v;
  json_object_foreach(map, dev, v) {
    struct brick_rdma_limit *l = &r->rdma[i++];
    l->device = xstrdup(dev);
    _cleanup_free_ char *dpath = spec_path_key(path, dev);
    if (!json_is_object(v))
      return spec_error(err, dpath, "expected an object");
    uint64_t x = 0;
    if (spec_get_uint(v, dpath, "hcaHandles", false, UINT32_MAX, &x, &l->has_hca_handles,
                      err) < 0)
      return -1;
    l->hca_handles = (uint32_t)x;
    x = 0;
    if (spec_get_uint(v, dpath, "hcaObjects", false, UINT32_MAX, &x, &l->has_hca_objects,
                      err) < 0)
      return -1;
    l->hca_objects = (uint32_t)x;
  }
  return 0;
}

int spec_parse_resources(json_t *obj, const char *path, struct brick_resources *r,
                         brick_err *err) {
  r->present = true;
  json_t *sub;

  if (spec_get_array(obj, path, "devices", &sub, err) < 0)
    return -1;
  if (sub) {
    _cleanup_free_ char *p = spec_path_key(path, "devices");
    if (parse_device_rules(sub, p, r, err) < 0)
      return -1;
  }

  static const struct {
    const char *key;
    int (*parse)(json_t *, const char *, struct brick_resources *, brick_err *);
  } sections[] = {
      {"memory", parse_memory},
      {"cpu", parse_cpu},
      {"blockIO", parse_block_io},
      {"network", parse_network},
      {"rdma", parse_rdma},
  };
  for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
    if (spec_get_object(obj, path, sections[i].key, false, &sub, err) < 0)
      return -1;
    if (sub) {
      _cleanup_free_ char *p = spec_path_key(path, sections[i].key);
      if (sections[i].parse(sub, p, r, err) < 0)
        return -1;
    }
  }

  if (spec_get_object(obj, path, "pids", false, &sub, err) < 0)
    return -1;
  if (sub) {
    _cleanup_free_ char *p = spec_path_key(path, "pids");
    if (spec_get_int(sub, p, "limit", false, -1, INT64_MAX, &r->pids.limit, &r->pids.has_limit,
                     err) < 0)
      return -1;
  }

  if (spec_get_array(obj, path, "hugepageLimits", &sub, err) < 0)
    return -1;
  if (sub) {
    _cleanup_free_ char *p = spec_path_key(path, "hugepageLimits");
    if (parse_hugepages(sub, p, r, err) < 0)
      return -1;
  }

  return spec_get_string_map(obj, path, "unified", &r->unified, &r->n_unified, err);
}

void spec_resources_clear(struct brick_resources *r) {
  free(r->devices);
  free(r->cpu.cpus);
  free(r->cpu.mems);
  free(r->block_io.weight_device);
  free(r->block_io.throttle_read_bps);
  free(r->block_io.throttle_write_bps);
  free(r->block_io.throttle_read_iops);
  free(r->block_io.throttle_write_iops);
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    free(r->hugepage_limits[i].page_size);
  free(r->hugepage_limits);
  for (size_t i = 0; i < r->network.n_priorities; i++)
    free(r->network.priorities[i].name);
  free(r->network.priorities);
  for (size_t i = 0; i < r->n_rdma; i++)
    free(r->rdma[i].device);
  free(r->rdma);
  spec_kv_free(r->unified, r->n_unified);
  memset(r, 0, sizeof *r);
}
