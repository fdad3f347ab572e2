/* The host floor: see floor.h. The file is read on every create, so an administrator's
 * change applies to the next container without restarting anything. */
#include "runtime/floor.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>

#include "core/util.h"

enum floor_rule {
  R_SECCOMP_OFF, R_NO_USERNS, R_HOST_PID, R_HOST_NET, R_HOST_IPC, R_HOST_UTS, R_HOST_MOUNT,
  R_HOST_CGROUP, R_WRITABLE_SYS, R_PRIVILEGED_MOUNT, R_ALL_DEVICES, R_NEW_PRIVILEGES, R_COUNT
};

static const char *const rule_names[R_COUNT] = {
    [R_SECCOMP_OFF] = "seccomp-off",   [R_NO_USERNS] = "no-userns",
    [R_HOST_PID] = "host-pid",         [R_HOST_NET] = "host-net",
    [R_HOST_IPC] = "host-ipc",         [R_HOST_UTS] = "host-uts",
    [R_HOST_MOUNT] = "host-mount",     [R_HOST_CGROUP] = "host-cgroup",
    [R_WRITABLE_SYS] = "writable-sys", [R_PRIVILEGED_MOUNT] = "privileged-mount",
    [R_ALL_DEVICES] = "all-devices",   [R_NEW_PRIVILEGES] = "new-privileges"};

/* The floor as loaded: which rules are on, and each as written (for messages). */
struct floor {
  const char *path;
  bool on[R_COUNT];
  uint64_t caps;
  char *cap_rule[64];
};

static void floor_free(struct floor *f) {
  for (size_t i = 0; i < ARRAY_SIZE(f->cap_rule); i++)
    free(f->cap_rule[i]);
}

const char *brick_floor_path(const char *conf_path) {
  if (conf_path && *conf_path)
    return conf_path;
  const char *env = getenv("BRICK_CONF");
  return env && *env ? env : BRICK_FLOOR_DEFAULT_PATH;
}

/* 0 with *present = false when there is no file: no floor. */
static int floor_load(const char *conf_path, struct floor *f, bool *present, brick_err *err) {
  memset(f, 0, sizeof *f);
  f->path = brick_floor_path(conf_path);
  *present = false;
  _cleanup_close_ int fd = open(f->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    return brick_errno(err, "%s", f->path);
  }
  _cleanup_free_ char *text = NULL;
  size_t len;
  if (brick_read_fd(fd, &text, &len, 1 << 20, err) < 0)
    return brick_error_prefix(err, "%s", f->path);
  json_error_t je;
  _cleanup_json_ json_t *doc = json_loadb(text, len, 0, &je);
  if (!doc)
    return brick_error(err, 0, "%s: line %d: %s", f->path, je.line, je.text);
  if (!json_is_object(doc))
    return brick_error(err, 0, "%s: expected a JSON object", f->path);
  json_t *refuse = json_object_get(doc, "refuse");
  if (refuse && !json_is_null(refuse) && !json_is_array(refuse))
    return brick_error(err, 0, "%s: refuse: expected an array of rule names", f->path);
  size_t i;
  json_t *v;
  json_array_foreach(refuse, i, v) {
    const char *name = json_string_value(v);
    if (!name)
      return brick_error(err, 0, "%s: refuse[%zu]: expected a string", f->path, i);
    bool known = false;
    for (int r = 0; r < R_COUNT; r++)
      if (!strcmp(name, rule_names[r]))
        f->on[r] = known = true;
    if (!known) {
      _cleanup_free_ char *cap = brick_str_has_prefix(name, "CAP_") ? xstrdup(name)
                                                                    : xasprintf("CAP_%s", name);
      int c = brick_cap_from_name(cap);
      if (c < 0 || c >= 64)
        return brick_error(err, 0, "%s: refuse[%zu]: unknown rule \"%s\" (a capability such as "
                                   "\"SYS_ADMIN\" or one of seccomp-off, no-userns, host-pid, "
                                   "host-net, host-ipc, host-uts, host-mount, host-cgroup, "
                                   "writable-sys, privileged-mount, all-devices, new-privileges)",
                           f->path, i, name);
      f->caps |= UINT64_C(1) << c;
      if (!f->cap_rule[c])
        f->cap_rule[c] = xstrdup(name);
    }
  }
  *present = true;
  return 0;
}

static int refused(const struct floor *f, brick_err *err, const char *doc, const char *where,
                   const char *what, const char *rule) {
  return brick_error(err, 0, "%s: %s: %s refused by %s (rule \"%s\")", doc, where, what, f->path,
                     rule);
}

static int check_process(const struct floor *f, const struct brick_process *p, const char *doc,
                         const char *prefix, brick_err *err) {
  if (f->caps && p->caps.present) {
    const struct { const char *name; uint64_t set; } sets[] = {
        {"bounding", p->caps.bounding},       {"effective", p->caps.effective},
        {"permitted", p->caps.permitted},     {"inheritable", p->caps.inheritable},
        {"ambient", p->caps.ambient}};
    for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
      uint64_t bad = sets[s].set & f->caps;
      if (!bad)
        continue;
      int c = __builtin_ctzll(bad);
      _cleanup_free_ char *where = xasprintf("%scapabilities.%s", prefix, sets[s].name);
      return refused(f, err, doc, where, brick_cap_name(c), f->cap_rule[c]);
    }
  }
  if (f->on[R_NEW_PRIVILEGES] && !p->no_new_privileges) {
    _cleanup_free_ char *where = xasprintf("%snoNewPrivileges", prefix);
    return refused(f, err, doc, where, "false (new privileges through setuid/file caps)",
                   rule_names[R_NEW_PRIVILEGES]);
  }
  return 0;
}

static bool under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  if (!strcmp(dir, "/"))
    return path[0] == '/';
  return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* Strip trailing slashes and repeated ones, so "/proc/" and "//proc" compare as /proc. */
static char *clean_path(const char *p) {
  char *out = xmalloc(strlen(p) + 2);
  size_t n = 0;
  for (const char *s = p; *s; s++)
    if (!(*s == '/' && n && out[n - 1] == '/'))
      out[n++] = *s;
  while (n > 1 && out[n - 1] == '/')
    n--;
  out[n] = '\0';
  return out;
}

static bool mount_is_ro(const struct brick_mount *m) {
  return (m->flags & MS_RDONLY) || (m->rec_attr_set & MOUNT_ATTR_RDONLY);
}

static bool privileged_source(const char *src) {
  static const char *const trees[] = {"/proc", "/sys", "/dev", "/boot", "/lib/modules",
                                      "/usr/lib/modules"};
  static const char *const sockets[] = {
      "/run/docker.sock", "/var/run/docker.sock", "/run/containerd/containerd.sock",
      "/var/run/containerd/containerd.sock", "/run/podman/podman.sock",
      "/var/run/podman/podman.sock", "/run/crio/crio.sock", "/var/run/crio/crio.sock"};
  if (!strcmp(src, "/"))
    return true;
  for (size_t i = 0; i < ARRAY_SIZE(trees); i++)
    if (under(src, trees[i]))
      return true;
  for (size_t i = 0; i < ARRAY_SIZE(sockets); i++)
    if (!strcmp(src, sockets[i]))
      return true;
  return false;
}

static int check_mounts(const struct floor *f, const struct brick_spec *spec, brick_err *err) {
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct brick_mount *m = &spec->mounts[i];
    _cleanup_free_ char *where = xasprintf("mounts[%zu] (%s)", i, m->destination);
    _cleanup_free_ char *dest = clean_path(m->destination ? m->destination : "");
    if (f->on[R_WRITABLE_SYS] && (under(dest, "/sys") || under(dest, "/proc/sys")) &&
        !mount_is_ro(m))
      return refused(f, err, "config.json", where, "mounted read-write",
                     rule_names[R_WRITABLE_SYS]);
    if (f->on[R_PRIVILEGED_MOUNT] && m->bind && m->source) {
      _cleanup_free_ char *src = clean_path(m->source);
      if (privileged_source(src)) {
        _cleanup_free_ char *what = xasprintf("bind mount of the host's %s", src);
        return refused(f, err, "config.json", where, what, rule_names[R_PRIVILEGED_MOUNT]);
      }
    }
  }
  /* A read-write procfs leaves /proc/sys writable unless readonlyPaths covers it. */
  if (f->on[R_WRITABLE_SYS]) {
    bool proc_rw = false, covered = false;
    for (size_t i = 0; i < spec->n_mounts; i++)
      if (spec->mounts[i].type && !strcmp(spec->mounts[i].type, "proc") &&
          !mount_is_ro(&spec->mounts[i]))
        proc_rw = true;
    for (char **p = spec->linux_.readonly_paths; p && *p; p++) {
      _cleanup_free_ char *c = clean_path(*p);
      covered = covered || !strcmp(c, "/proc/sys") || !strcmp(c, "/proc");
    }
    for (char **p = spec->linux_.masked_paths; p && *p; p++) {
      _cleanup_free_ char *c = clean_path(*p);
      covered = covered || !strcmp(c, "/proc/sys") || !strcmp(c, "/proc");
    }
    if (proc_rw && !covered)
      return refused(f, err, "config.json", "linux.readonlyPaths",
                     "/proc/sys left writable (read-write proc mount)", rule_names[R_WRITABLE_SYS]);
  }
  return 0;
}

static int check_namespaces(const struct floor *f, const struct brick_spec *spec, brick_err *err) {
  static const struct { enum floor_rule rule; enum brick_ns_type ns; } host_rules[] = {
      {R_HOST_PID, BRICK_NS_PID},     {R_HOST_NET, BRICK_NS_NETWORK},
      {R_HOST_IPC, BRICK_NS_IPC},     {R_HOST_UTS, BRICK_NS_UTS},
      {R_HOST_MOUNT, BRICK_NS_MOUNT}, {R_HOST_CGROUP, BRICK_NS_CGROUP}};
  const struct brick_linux *l = &spec->linux_;
  for (size_t i = 0; i < ARRAY_SIZE(host_rules); i++) {
    if (!f->on[host_rules[i].rule] || l->namespaces[host_rules[i].ns].present)
      continue;
    _cleanup_free_ char *what =
        xasprintf("no %s namespace (the host's)", brick_ns_name(host_rules[i].ns));
    return refused(f, err, "config.json", "linux.namespaces", what, rule_names[host_rules[i].rule]);
  }
  if (f->on[R_NO_USERNS]) {
    if (!l->namespaces[BRICK_NS_USER].present)
      return refused(f, err, "config.json", "linux.namespaces",
                     "no user namespace (container root is host root)", rule_names[R_NO_USERNS]);
    for (size_t i = 0; i < l->n_uid_mappings; i++) {
      const struct brick_id_mapping *m = &l->uid_mappings[i];
      if (m->container_id == 0 && m->host_id == 0 && m->size > 0) {
        _cleanup_free_ char *where = xasprintf("linux.uidMappings[%zu]", i);
        return refused(f, err, "config.json", where, "container root mapped to host uid 0",
                       rule_names[R_NO_USERNS]);
      }
    }
  }
  return 0;
}

static int check_seccomp(const struct floor *f, const struct brick_spec *spec, brick_err *err) {
  if (!f->on[R_SECCOMP_OFF])
    return 0;
  const struct brick_seccomp *s = &spec->linux_.seccomp;
  if (!s->present)
    return refused(f, err, "config.json", "linux.seccomp", "no seccomp filter",
                   rule_names[R_SECCOMP_OFF]);
  if (s->default_action == BRICK_SCMP_ALLOW || s->default_action == BRICK_SCMP_LOG)
    return refused(f, err, "config.json", "linux.seccomp.defaultAction",
                   s->default_action == BRICK_SCMP_ALLOW ? "SCMP_ACT_ALLOW" : "SCMP_ACT_LOG",
                   rule_names[R_SECCOMP_OFF]);
  return 0;
}

static int check_devices(const struct floor *f, const struct brick_spec *spec, brick_err *err) {
  if (!f->on[R_ALL_DEVICES])
    return 0;
  const struct brick_resources *r = &spec->linux_.resources;
  /* The last rule that matches every device decides, as the cgroup applies them. */
  for (size_t i = r->n_devices; i-- > 0;) {
    const struct brick_device_rule *d = &r->devices[i];
    if (d->type != 'a' || d->major != -1 || d->minor != -1)
      continue;
    if (d->allow) {
      _cleanup_free_ char *where = xasprintf("linux.resources.devices[%zu]", i);
      return refused(f, err, "config.json", where, "access to every device",
                     rule_names[R_ALL_DEVICES]);
    }
    break;
  }
  return 0;
}

int brick_floor_check(const struct brick_spec *spec, const char *conf_path, brick_err *err) {
  struct floor f;
  bool present;
  int r = floor_load(conf_path, &f, &present, err);
  if (r < 0 || !present) {
    floor_free(&f);
    return r;
  }
  if (spec->process)
    r = check_process(&f, spec->process, "config.json", "process.", err);
  if (r == 0)
    r = check_namespaces(&f, spec, err);
  if (r == 0)
    r = check_seccomp(&f, spec, err);
  if (r == 0)
    r = check_mounts(&f, spec, err);
  if (r == 0)
    r = check_devices(&f, spec, err);
  floor_free(&f);
  return r;
}

int brick_floor_check_process(const struct brick_process *proc, const char *name_for_errors,
                              const char *conf_path, brick_err *err) {
  struct floor f;
  bool present;
  int r = floor_load(conf_path, &f, &present, err);
  if (r < 0 || !present) {
    floor_free(&f);
    return r;
  }
  r = check_process(&f, proc, name_for_errors, "", err);
  floor_free(&f);
  return r;
}
