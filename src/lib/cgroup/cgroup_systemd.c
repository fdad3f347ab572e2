/* The systemd cgroup driver: with --systemd-cgroup, cgroupsPath is "slice:prefix:name"
 * and the container must live in a transient scope that systemd creates over D-Bus
 * (StartTransientUnit), since systemd owns the tree and would otherwise fight over it.
 * brick talks to systemd through sd-bus only; without it (or without a running systemd)
 * the driver is refused with a message, never silently replaced by cgroupfs writes. */
#include "cgroup/cgroup_internal.h"

#include <string.h>
#include <sys/stat.h>

#include "core/util.h"

static bool valid_unit_part(const char *s) {
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr(":-_.\\@", *s)))
      return false;
  return true;
}

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice" (systemd nests dashed slices). */
static int expand_slice(const char *slice, char **out, brick_err *err) {
  size_t len = strlen(slice);
  if (len < 7 || strcmp(slice + len - 6, ".slice") || !valid_unit_part(slice) ||
      strchr(slice, '/'))
    return brick_error(err, 0, "linux.cgroupsPath: \"%s\" is not a slice name "
                                    "(\"<name>.slice\")", slice);
  if (!strcmp(slice, "-.slice")) {
    *out = xstrdup("");
    return 0;
  }
  size_t base_len = len - 6;
  if (slice[0] == '-' || slice[base_len - 1] == '-' || strstr(slice, "--"))
    return brick_error(err, 0, "linux.cgroupsPath: \"%s\": bad dashes in slice name",
                       slice);
  char *path = xstrdup("");
  for (size_t i = 0; i <= base_len; i++) {
    if (i != base_len && slice[i] != '-')
      continue;
    char *next = xasprintf("%s/%.*s.slice", path, (int)i, slice);
    free(path);
    path = next;
  }
  *out = path;
  return 0;
}

char *brick_cgroup_systemd_path(const char *spec, const char *id, brick_err *err) {
  _cleanup_free_ char *def = NULL;
  if (!spec || !*spec)
    spec = def = xasprintf("system.slice:brick:%s", id);
  const char *c1 = strchr(spec, ':');
  const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (!c2 || strchr(c2 + 1, ':')) {
    brick_error(err, 0, "linux.cgroupsPath: \"%s\": expected \"slice:prefix:name\" with "
                             "--systemd-cgroup", spec);
    return NULL;
  }
  _cleanup_free_ char *slice = c1 == spec ? xstrdup("system.slice")
                                          : xasprintf("%.*s", (int)(c1 - spec), spec);
  _cleanup_free_ char *prefix = xasprintf("%.*s", (int)(c2 - c1 - 1), c1 + 1);
  const char *name = c2 + 1;
  if (!*name || !valid_unit_part(name) || !valid_unit_part(prefix)) {
    brick_error(err, 0, "linux.cgroupsPath: \"%s\": bad unit name", spec);
    return NULL;
  }
  _cleanup_free_ char *slice_path = NULL;
  if (expand_slice(slice, &slice_path, err) < 0)
    return NULL;
  /* A name that is already a unit ("x.slice") is used as is, as runc does. */
  size_t nl = strlen(name);
  if (nl > 6 && !strcmp(name + nl - 6, ".slice")) {
    _cleanup_free_ char *sub = NULL;
    if (expand_slice(name, &sub, err) < 0)
      return NULL;
    return xasprintf("%s/%s", slice_path, strrchr(sub, '/') + 1);
  }
  if (*prefix)
    return xasprintf("%s/%s-%s.scope", slice_path, prefix, name);
  return xasprintf("%s/%s.scope", slice_path, name);
}

int cg_systemd_available(brick_err *err) {
  struct stat st;
  if (stat("/run/systemd/system", &st) < 0 || !S_ISDIR(st.st_mode))
    return brick_error(err, 0, "--systemd-cgroup: systemd is not running on this host "
                                     "(no /run/systemd/system); use the default cgroupfs "
                                     "driver");
  return brick_error(err, 0, "--systemd-cgroup: this brick was built without sd-bus "
                                   "(libsystemd), which the systemd cgroup driver needs");
}
