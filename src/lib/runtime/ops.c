#include "runtime/ops.h"

#include <string.h>

#include "cgroup/cgroup.h"
#include "core/util.h"
#include "runtime/state.h"
#include "seccomp/seccomp.h"
#include "spec/spec.h"

/* Load a container that must be alive and have a cgroup. */
static int load_live(const char *root, const char *id, struct brick_state *st,
                     enum brick_status *status, brick_err *err) {
  if (brick_state_load(root, id, st, err) < 0)
    return -1;
  *status = brick_state_status(st);
  if (*status == BRICK_STOPPED) {
    brick_state_clear(st);
    return brick_error(err, 0, "container \"%s\" is not running", id);
  }
  if (!st->cgroup_path) {
    brick_state_clear(st);
    return brick_error(err, 0, "container \"%s\" has no cgroup", id);
  }
  return 0;
}

int brick_container_pause(const char *state_root, const char *id, bool pause, brick_err *err) {
  _cleanup_close_ int lock = brick_state_lock(state_root, id, err);
  if (lock < 0)
    return -1;
  struct brick_state st;
  enum brick_status s;
  if (load_live(state_root, id, &st, &s, err) < 0)
    return -1;
  int r;
  if (pause && s != BRICK_RUNNING)
    r = brick_error(err, 0, "container \"%s\" is not running", id);
  else if (!pause && s != BRICK_PAUSED)
    r = brick_error(err, 0, "container \"%s\" is not paused", id);
  else
    r = brick_cgroup_freeze(st.cgroup_path, pause, err);
  brick_state_clear(&st);
  return r;
}

int brick_container_pids(const char *state_root, const char *id, pid_t **pids, size_t *n,
                         brick_err *err) {
  struct brick_state st;
  if (brick_state_load(state_root, id, &st, err) < 0)
    return -1;
  int r = 0;
  *pids = NULL;
  *n = 0;
  if (st.cgroup_path && brick_state_status(&st) != BRICK_STOPPED) {
    r = brick_cgroup_pids(st.cgroup_path, pids, n, err);
  } else if (st.cgroup_path) {
    /* A stopped init may leave children behind when the container shares the host's
     * pid namespace: list what is still in the cgroup, if it still exists. */
    brick_err e2 = {0};
    if (brick_cgroup_pids(st.cgroup_path, pids, n, &e2) < 0) {
      free(*pids);
      *pids = NULL;
      *n = 0;
    }
    brick_error_clear(&e2);
  }
  brick_state_clear(&st);
  return r;
}

int brick_container_update(const char *state_root, const char *id, json_t *resources,
                           brick_err *err) {
  _cleanup_close_ int lock = brick_state_lock(state_root, id, err);
  if (lock < 0)
    return -1;
  struct brick_state st;
  enum brick_status s;
  if (load_live(state_root, id, &st, &s, err) < 0)
    return -1;
  /* Validate through the config parser, so update accepts exactly what create does. */
  _cleanup_json_ json_t *doc = json_pack("{s:s, s:{s:s}, s:{s:O}}", "ociVersion", "1.3.0", "root",
                                         "path", "/", "linux", "resources", resources);
  struct brick_spec *spec = brick_spec_parse(doc, "update", err);
  int r = -1;
  if (spec) {
    r = brick_cgroup_update(st.cgroup_path, st.systemd_cgroup, &spec->linux_.resources, err);
    /* Keep the stored config in step, so `events` and a later exec see the new limits. */
    if (r == 0 && st.config_path) {
      json_error_t jerr;
      _cleanup_json_ json_t *cfg = json_load_file(st.config_path, 0, &jerr);
      if (cfg) {
        json_t *l = json_object_get(cfg, "linux");
        if (json_is_object(l)) {
          json_t *cur = json_object_get(l, "resources");
          if (json_is_object(cur))
            json_object_update(cur, resources);
          else
            json_object_set(l, "resources", resources);
          json_dump_file(cfg, st.config_path, JSON_COMPACT);
        }
      }
    }
    brick_spec_free(spec);
  }
  brick_state_clear(&st);
  return r;
}

int brick_container_stats(const char *state_root, const char *id, json_t **out, brick_err *err) {
  struct brick_state st;
  enum brick_status s;
  if (load_live(state_root, id, &st, &s, err) < 0)
    return -1;
  json_t *data = NULL;
  int r = brick_cgroup_stats(st.cgroup_path, &data, err);
  if (r == 0)
    *out = json_pack("{s:s, s:s, s:o}", "type", "stats", "id", id, "data", data);
  brick_state_clear(&st);
  return r;
}

json_t *brick_runtime_features(void) {
  json_t *caps = json_array();
  for (int c = 0; c <= brick_cap_last(); c++)
    if (brick_cap_name(c))
      json_array_append_new(caps, json_string(brick_cap_name(c)));
  json_t *ns = json_array();
  for (int t = 0; t < BRICK_NS_COUNT; t++)
    json_array_append_new(ns, json_string(brick_ns_name((enum brick_ns_type)t)));
  static const char *const mount_opts[] = {
      "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap",
      "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "nolazytime",
      "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow", "private", "ratime",
      "rbind", "rdev", "rdiratime", "relatime", "remount", "rexec", "ridmap", "rnoatime",
      "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid",
      "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave",
      "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared", "silent", "slave",
      "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable"};
  json_t *mo = json_array();
  for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++)
    json_array_append_new(mo, json_string(mount_opts[i]));
  json_t *cg = brick_cgroup_features();
  return json_pack(
      "{s:s, s:s, s:[s,s,s,s,s,s], s:o, s:{s:o, s:o, s:o, s:o, s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}}, s:{s:s}}",
      "ociVersionMin", "1.0.0", "ociVersionMax", "1.3.0", "hooks", "prestart", "createRuntime",
      "createContainer", "startContainer", "poststart", "poststop", "mountOptions", mo, "linux",
      "namespaces", ns, "capabilities", caps, "cgroup", cg ? cg : json_object(), "seccomp",
      brick_seccomp_features(), "apparmor", "enabled", 0, "selinux", "enabled", 1, "intelRdt",
      "enabled", 0, "mountExtensions", "idmap", "enabled", 1, "annotations",
      "org.opencontainers.runc.version", "brick " BRICK_VERSION);
}
