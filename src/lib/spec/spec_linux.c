/* config.json "linux": namespaces, id mappings, devices, sysctls, propagation, paths
 * to mask, personality. Resources and seccomp have their own files. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "spec/spec_internal.h"

static int parse_namespaces(json_t *arr, const char *path, struct brick_linux *l,
                            brick_err *err) {
  size_t n = json_array_size(arr);
  for (size_t i = 0; i < n; i++) {
    json_t *o;
    if (spec_array_object(arr, path, i, &o, err) < 0)
      return -1;
    _cleanup_free_ char *ipath = spec_path_index(path, i);
    _cleanup_free_ char *type = NULL, *nspath = NULL;
    if (spec_get_string(o, ipath, "type", true, &type, err) < 0 ||
        spec_get_string(o, ipath, "path", false, &nspath, err) < 0)
      return -1;
    int t = spec_ns_from_name(type);
    _cleanup_free_ char *tpath = spec_path_key(ipath, "type");
    if (t < 0)
      return spec_error(err, tpath, "unknown namespace \"%s\"", type);
    if (l->namespaces[t].present)
      return spec_error(err, tpath, "duplicate namespace \"%s\"", type);
    /* An empty path means "create one", as in runc. */
    if (nspath && nspath[0] != '\0' && !spec_path_is_absolute(nspath)) {
      _cleanup_free_ char *ppath = spec_path_key(ipath, "path");
      return spec_error(err, ppath, "\"%s\" is not an absolute path", nspath);
    }
    l->namespaces[t].present = true;
    if (nspath && nspath[0] != '\0')
      l->namespaces[t].path = TAKE_PTR(nspath);
  }
  return 0;
}

static int parse_time_offsets(json_t *obj, const char *path, struct brick_linux *l,
                              brick_err *err) {
  static const char *const clocks[] = {"monotonic", "boottime"};
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    _cleanup_free_ char *kpath = spec_path_key(path, key);
    size_t c;
    for (c = 0; c < ARRAY_SIZE(clocks); c++)
      if (strcmp(clocks[c], key) == 0)
        break;
    if (c == ARRAY_SIZE(clocks))
      return spec_error(err, kpath, "unknown clock \"%s\" (expected monotonic or boottime)",
                        key);
    if (json_is_null(v))
      continue;
    if (!json_is_object(v))
      return spec_error(err, kpath, "expected an object");
    int64_t secs = 0;
    uint64_t nsecs = 0;
    if (spec_get_int(v, kpath, "secs", false, INT64_MIN, INT64_MAX, &secs, NULL, err) < 0 ||
        spec_get_uint(v, kpath, "nanosecs", false, 999999999, &nsecs, NULL, err) < 0)
      return -1;
    l->time_offsets[c] = (struct brick_time_offset){true, secs, (uint32_t)nsecs};
  }
  return 0;
}

static int parse_device(json_t *o, const char *path, struct brick_device *d, brick_err *err) {
  if (spec_get_string(o, path, "path", true, &d->path, err) < 0)
    return -1;
  if (!spec_path_is_absolute(d->path)) {
    _cleanup_free_ char *ppath = spec_path_key(path, "path");
    return spec_error(err, ppath, "\"%s\" is not an absolute path", d->path);
  }
  _cleanup_free_ char *type = NULL;
  if (spec_get_string(o, path, "type", true, &type, err) < 0)
    return -1;
  if (strlen(type) != 1 || strchr("cbup", type[0]) == NULL) {
    _cleanup_free_ char *tpath = spec_path_key(path, "type");
    return spec_error(err, tpath, "unknown device type \"%s\" (expected c, b, u or p)", type);
  }
  d->type = type[0];
  bool numbered = d->type != 'p';
  d->major = d->minor = 0;
  /* Linux device numbers are 12-bit major, 20-bit minor. */
  if (spec_get_int(o, path, "major", numbered, 0, 0xfff, &d->major, NULL, err) < 0 ||
      spec_get_int(o, path, "minor", numbered, 0, 0xfffff, &d->minor, NULL, err) < 0)
    return -1;
  uint64_t v = 0;
  if (spec_get_uint(o, path, "fileMode", false, 07777, &v, &d->has_file_mode, err) < 0)
    return -1;
  d->file_mode = (mode_t)v;
  v = 0;
  if (spec_get_uint(o, path, "uid", false, UINT32_MAX, &v, &d->has_uid, err) < 0)
    return -1;
  d->uid = (uid_t)v;
  v = 0;
  if (spec_get_uint(o, path, "gid", false, UINT32_MAX, &v, &d->has_gid, err) < 0)
    return -1;
  d->gid = (gid_t)v;
  return 0;
}

static int parse_devices(json_t *arr, const char *path, struct brick_linux *l,
                         brick_err *err) {
  size_t n = json_array_size(arr);
  l->devices = xcalloc(n, sizeof *l->devices);
  l->n_devices = n;
  for (size_t i = 0; i < n; i++) {
    json_t *o;
    if (spec_array_object(arr, path, i, &o, err) < 0)
      return -1;
    _cleanup_free_ char *ipath = spec_path_index(path, i);
    if (parse_device(o, ipath, &l->devices[i], err) < 0)
      return -1;
  }
  return 0;
}

static int parse_abs_paths(json_t *obj, const char *parent, const char *key, char ***out,
                           brick_err *err) {
  if (spec_get_strv(obj, parent, key, out, err) < 0)
    return -1;
  for (size_t i = 0; *out && (*out)[i]; i++) {
    if (!spec_path_is_absolute((*out)[i])) {
      _cleanup_free_ char *kpath = spec_path_key(parent, key);
      _cleanup_free_ char *ipath = spec_path_index(kpath, i);
      return spec_error(err, ipath, "\"%s\" is not an absolute path", (*out)[i]);
    }
  }
  return 0;
}

static int parse_personality(json_t *obj, const char *path, struct brick_personality *p,
                             brick_err *err) {
  p->present = true;
  if (spec_get_string(obj, path, "domain", true, &p->domain, err) < 0)
    return -1;
  if (!spec_lookup(spec_personality_domain_names, p->domain, NULL)) {
    _cleanup_free_ char *dpath = spec_path_key(path, "domain");
    return spec_error(err, dpath, "unknown domain \"%s\" (expected LINUX or LINUX32)",
                      p->domain);
  }
  return spec_get_strv(obj, path, "flags", &p->flags, err);
}

int spec_parse_linux(json_t *obj, struct brick_linux *l, brick_err *err) {
  const char *path = "linux";
  json_t *sub;

  if (spec_get_array(obj, path, "namespaces", &sub, err) < 0)
    return -1;
  if (sub && parse_namespaces(sub, "linux.namespaces", l, err) < 0)
    return -1;

  if (spec_get_id_mappings(obj, path, "uidMappings", &l->uid_mappings, &l->n_uid_mappings,
                           err) < 0 ||
      spec_get_id_mappings(obj, path, "gidMappings", &l->gid_mappings, &l->n_gid_mappings,
                           err) < 0)
    return -1;

  if (spec_get_object(obj, path, "timeOffsets", false, &sub, err) < 0)
    return -1;
  if (sub && parse_time_offsets(sub, "linux.timeOffsets", l, err) < 0)
    return -1;

  if (spec_get_array(obj, path, "devices", &sub, err) < 0)
    return -1;
  if (sub && parse_devices(sub, "linux.devices", l, err) < 0)
    return -1;

  if (spec_get_string(obj, path, "cgroupsPath", false, &l->cgroups_path, err) < 0)
    return -1;

  if (spec_get_object(obj, path, "resources", false, &sub, err) < 0)
    return -1;
  if (sub && spec_parse_resources(sub, "linux.resources", &l->resources, err) < 0)
    return -1;

  if (spec_get_string_map(obj, path, "sysctl", &l->sysctl, &l->n_sysctl, err) < 0)
    return -1;

  if (spec_get_object(obj, path, "seccomp", false, &sub, err) < 0)
    return -1;
  if (sub && spec_parse_seccomp(sub, "linux.seccomp", &l->seccomp, err) < 0)
    return -1;

  _cleanup_free_ char *propagation = NULL;
  if (spec_get_string(obj, path, "rootfsPropagation", false, &propagation, err) < 0)
    return -1;
  /* "" is what Go writes for an unset field. */
  if (propagation && propagation[0] != '\0') {
    long flags;
    if (!spec_lookup(spec_propagation_names, propagation, &flags))
      return spec_error(err, "linux.rootfsPropagation", "unknown propagation \"%s\"",
                        propagation);
    l->rootfs_propagation = (unsigned long)flags;
  }

  if (parse_abs_paths(obj, path, "maskedPaths", &l->masked_paths, err) < 0 ||
      parse_abs_paths(obj, path, "readonlyPaths", &l->readonly_paths, err) < 0)
    return -1;
  if (spec_get_string(obj, path, "mountLabel", false, &l->mount_label, err) < 0)
    return -1;

  if (spec_get_object(obj, path, "personality", false, &sub, err) < 0)
    return -1;
  if (sub && parse_personality(sub, "linux.personality", &l->personality, err) < 0)
    return -1;

  if (spec_get_object(obj, path, "intelRdt", false, &sub, err) < 0)
    return -1;
  l->has_intel_rdt = sub != NULL;
  return 0;
}

void spec_linux_clear(struct brick_linux *l) {
  for (int i = 0; i < BRICK_NS_COUNT; i++)
    free(l->namespaces[i].path);
  free(l->uid_mappings);
  free(l->gid_mappings);
  for (size_t i = 0; i < l->n_devices; i++)
    free(l->devices[i].path);
  free(l->devices);
  free(l->cgroups_path);
  spec_resources_clear(&l->resources);
  spec_kv_free(l->sysctl, l->n_sysctl);
  spec_seccomp_clear(&l->seccomp);
  brick_strv_free(l->masked_paths);
  brick_strv_free(l->readonly_paths);
  free(l->mount_label);
  free(l->personality.domain);
  brick_strv_free(l->personality.flags);
  memset(l, 0, sizeof *l);
}
