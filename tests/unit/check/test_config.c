/* `brick check config`: every finding appears when the setting is bad and disappears
 * when it is fixed. The baseline is a config with every layer on. */
#include "check_test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

static const char good_config[] =
    "{\"ociVersion\": \"1.3.0\","
    " \"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000}, \"args\": [\"sh\"], \"cwd\": \"/\","
    "   \"noNewPrivileges\": true,"
    "   \"selinuxLabel\": \"system_u:system_r:container_t:s0:c1,c2\","
    "   \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
    "                      \"effective\": [\"CAP_CHOWN\", \"CAP_KILL\"],"
    "                      \"permitted\": [\"CAP_CHOWN\", \"CAP_KILL\"]},"
    "   \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}]},"
    " \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
    " \"annotations\": {\"run.oci.brick.landlock\": \"true\"},"
    " \"mounts\": ["
    "   {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
    "   {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
    "    \"options\": [\"nosuid\", \"strictatime\", \"mode=755\"]},"
    "   {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
    "    \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
    "   {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
    "    \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"
    "   {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv/data\","
    "    \"options\": [\"rbind\", \"nosuid\", \"nodev\"]}],"
    " \"linux\": {"
    "   \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
    "                    {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"},"
    "                    {\"type\": \"user\"}],"
    "   \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
    "   \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
    "   \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
    "                                 {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rwm\"}],"
    "                   \"memory\": {\"limit\": 536870912}, \"pids\": {\"limit\": 1024}},"
    "   \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\"],"
    "     \"syscalls\": [{\"names\": [\"read\", \"write\", \"exit_group\", \"openat\", \"close\"],"
    "                     \"action\": \"SCMP_ACT_ALLOW\"},"
    "                    {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
    "                     \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]},"
    "   \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\","
    "     \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\","
    "     \"/sys/firmware\", \"/proc/scsi\"],"
    "   \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\","
    "     \"/proc/sysrq-trigger\"]}}";

static json_t *good(void) {
  json_error_t e;
  json_t *doc = json_loads(good_config, 0, &e);
  if (!doc)
    fprintf(stderr, "good_config: %d:%d: %s\n", e.line, e.column, e.text);
  assert_non_null(doc);
  return doc;
}

/* Member at a dotted path of objects, e.g. "linux.resources.memory". */
static json_t *at(json_t *doc, const char *path) {
  _cleanup_free_ char *copy = xstrdup(path);
  char *save = NULL;
  json_t *cur = doc;
  for (char *k = strtok_r(copy, ".", &save); k && cur; k = strtok_r(NULL, ".", &save))
    cur = json_object_get(cur, k);
  return cur;
}

static struct brick_check_report *lint(json_t *doc) {
  brick_err err = {0};
  struct brick_check_report *r = brick_check_config_json(doc, "test", &err);
  if (!r)
    fprintf(stderr, "lint: %s\n", brick_error_msg(&err));
  assert_non_null(r);
  return r;
}

/* Lint doc, expect finding id at where with level; then apply fix and expect it gone. */
typedef void (*mutate_fn)(json_t *doc);

static void pair(mutate_fn breaker, mutate_fn fixer, const char *id, const char *where,
                 enum brick_check_level level) {
  json_t *doc = good();
  struct brick_check_report *r = lint(doc);
  must_not_find(r, id);
  brick_check_report_free(r);

  breaker(doc);
  r = lint(doc);
  const struct brick_check_finding *f = must_find(r, id, where);
  if (f->level != level)
    fprintf(stderr, "%s: level %s, expected %s\n", id, brick_check_level_name(f->level),
            brick_check_level_name(level));
  assert_int_equal(f->level, level);
  assert_non_null(f->why);
  if (level > BRICK_CHECK_INFO)
    assert_non_null(f->fix);
  brick_check_report_free(r);

  if (fixer) {
    fixer(doc);
    r = lint(doc);
    must_not_find(r, id);
    brick_check_report_free(r);
  }
  json_decref(doc);
}

/* ---- baseline ---- */

static void test_good_config_is_clean(void **state) {
  (void)state;
  json_t *doc = good();
  struct brick_check_report *r = lint(doc);
  dump_report(r, BRICK_CHECK_INFO);
  assert_true(brick_check_report_worst(r) <= BRICK_CHECK_INFO);
  must_find(r, "seccomp.on", NULL);
  must_find(r, "userns.enabled", NULL);
  must_find(r, "caps.default", NULL);
  must_find(r, "mac.selinux", NULL);
  brick_check_report_free(r);
  json_decref(doc);
}

/* ---- capabilities ---- */

static void add_sys_admin(json_t *doc) {
  json_array_append_new(at(doc, "process.capabilities.bounding"), json_string("CAP_SYS_ADMIN"));
  json_array_append_new(at(doc, "process.capabilities.effective"), json_string("CAP_SYS_ADMIN"));
}
static void drop_last_caps(json_t *doc) {
  json_array_remove(at(doc, "process.capabilities.bounding"), 3);
  json_array_remove(at(doc, "process.capabilities.effective"), 2);
}
static void test_cap_sys_admin_critical(void **state) {
  (void)state;
  pair(add_sys_admin, drop_last_caps, "caps.sys_admin", "process.capabilities.bounding[3]",
       BRICK_CHECK_CRITICAL);
  /* Title names every set the capability is in. */
  json_t *doc = good();
  add_sys_admin(doc);
  struct brick_check_report *r = lint(doc);
  assert_non_null(strstr(must_find(r, "caps.sys_admin", NULL)->title, "bounding, effective"));
  brick_check_report_free(r);
  json_decref(doc);
}

static void add_net_raw(json_t *doc) {
  json_array_append_new(at(doc, "process.capabilities.permitted"), json_string("CAP_NET_RAW"));
}
static void drop_net_raw(json_t *doc) {
  json_array_remove(at(doc, "process.capabilities.permitted"), 2);
}
static void test_cap_net_raw_warn(void **state) {
  (void)state;
  pair(add_net_raw, drop_net_raw, "caps.net_raw", "process.capabilities.permitted[2]",
       BRICK_CHECK_WARN);
}

static void test_podman_default_caps_are_baseline(void **state) {
  (void)state;
  static const char *const caps[] = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
                                     "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                                     "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
                                     "CAP_SYS_CHROOT"};
  json_t *doc = good();
  json_t *b = at(doc, "process.capabilities.bounding");
  json_array_clear(b);
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
    assert_true(brick_check_cap_is_default(caps[i]));
    json_array_append_new(b, json_string(caps[i]));
  }
  assert_false(brick_check_cap_is_default("CAP_NET_RAW"));
  struct brick_check_report *r = lint(doc);
  must_find(r, "caps.default", NULL);
  brick_check_report_free(r);
  json_decref(doc);
}

/* ---- seccomp ---- */

static void drop_seccomp(json_t *doc) { json_object_del(at(doc, "linux"), "seccomp"); }
static void restore_seccomp(json_t *doc) {
  json_t *g = good();
  json_object_set(at(doc, "linux"), "seccomp", at(g, "linux.seccomp"));
  json_decref(g);
}
static void test_seccomp_off(void **state) {
  (void)state;
  pair(drop_seccomp, restore_seccomp, "seccomp.off", "linux.seccomp", BRICK_CHECK_HIGH);
}

static void allow_default(json_t *doc) {
  json_t *s = at(doc, "linux.seccomp");
  json_object_set_new(s, "defaultAction", json_string("SCMP_ACT_ALLOW"));
  json_object_set_new(s, "syscalls", json_pack("[{s:[s],s:s}]", "names", "kexec_load", "action",
                                               "SCMP_ACT_ERRNO"));
}
static void test_seccomp_permissive(void **state) {
  (void)state;
  pair(allow_default, restore_seccomp, "seccomp.permissive", "linux.seccomp.defaultAction",
       BRICK_CHECK_HIGH);
  json_t *doc = good();
  allow_default(doc);
  struct brick_check_report *r = lint(doc);
  /* Blocked syscalls are not reported; everything else dangerous is. */
  must_not_find(r, "seccomp.allow.kexec_load");
  assert_int_equal(must_find(r, "seccomp.allow.bpf", "linux.seccomp.defaultAction")->level,
                   BRICK_CHECK_HIGH);
  must_find(r, "seccomp.allow.keyctl", NULL);
  brick_check_report_free(r);
  json_decref(doc);
}

static void test_seccomp_denylist(void **state) {
  (void)state;
  json_t *doc = good();
  json_t *s = at(doc, "linux.seccomp");
  json_object_set_new(s, "defaultAction", json_string("SCMP_ACT_ALLOW"));
  json_t *names = json_pack("[s,s,s,s,s,s,s,s,s,s,s,s]", "bpf", "keyctl", "add_key",
                            "request_key", "mount", "umount2", "unshare", "setns", "ptrace",
                            "kexec_load", "init_module", "finit_module");
  json_object_set_new(s, "syscalls",
                      json_pack("[{s:o,s:s}]", "names", names, "action", "SCMP_ACT_ERRNO"));
  struct brick_check_report *r = lint(doc);
  assert_int_equal(must_find(r, "seccomp.denylist", NULL)->level, BRICK_CHECK_WARN);
  must_not_find(r, "seccomp.permissive");
  must_not_find(r, "seccomp.allow.bpf");
  must_not_find(r, "seccomp.allow.mount");
  must_find(r, "seccomp.allow.userfaultfd", NULL);
  brick_check_report_free(r);
  json_decref(doc);
}

static void allow_keyctl(json_t *doc) {
  json_array_append_new(json_object_get(json_array_get(at(doc, "linux.seccomp.syscalls"), 0), "names"),
                        json_string("keyctl"));
}
static void drop_keyctl(json_t *doc) {
  json_array_remove(json_object_get(json_array_get(at(doc, "linux.seccomp.syscalls"), 0), "names"), 5);
}
static void test_seccomp_allows_keyctl(void **state) {
  (void)state;
  pair(allow_keyctl, drop_keyctl, "seccomp.allow.keyctl", "linux.seccomp.syscalls[0].names[5]",
       BRICK_CHECK_WARN);
}

static void test_seccomp_mount_level_follows_cap(void **state) {
  (void)state;
  json_t *doc = good();
  json_array_append_new(json_object_get(json_array_get(at(doc, "linux.seccomp.syscalls"), 0), "names"),
                        json_string("mount"));
  struct brick_check_report *r = lint(doc);
  assert_int_equal(must_find(r, "seccomp.allow.mount", NULL)->level, BRICK_CHECK_INFO);
  brick_check_report_free(r);
  add_sys_admin(doc);
  r = lint(doc);
  assert_int_equal(must_find(r, "seccomp.allow.mount", NULL)->level, BRICK_CHECK_HIGH);
  brick_check_report_free(r);
  json_decref(doc);
}

static void test_seccomp_conditional_rule_ignored(void **state) {
  (void)state;
  json_t *doc = good();
  json_array_append_new(at(doc, "linux.seccomp.syscalls"),
                        json_pack("{s:[s],s:s,s:[{s:i,s:i,s:s}]}", "names", "bpf", "action",
                                  "SCMP_ACT_ALLOW", "args", "index", 0, "value", 0, "op",
                                  "SCMP_CMP_EQ"));
  struct brick_check_report *r = lint(doc);
  must_not_find(r, "seccomp.allow.bpf");
  brick_check_report_free(r);
  /* The same rule without the condition is a finding. */
  json_object_del(json_array_get(at(doc, "linux.seccomp.syscalls"), 2), "args");
  r = lint(doc);
  must_find(r, "seccomp.allow.bpf", "linux.seccomp.syscalls[2].names[0]");
  brick_check_report_free(r);
  json_decref(doc);
}

/* ---- namespaces ---- */

static json_t *ns_index(json_t *doc, const char *type, size_t *idx) {
  size_t i;
  json_t *ns;
  json_array_foreach(at(doc, "linux.namespaces"), i, ns) {
    if (!strcmp(json_string_value(json_object_get(ns, "type")), type)) {
      *idx = i;
      return ns;
    }
  }
  return NULL;
}
static void drop_ns(json_t *doc, const char *type) {
  size_t i;
  if (ns_index(doc, type, &i))
    json_array_remove(at(doc, "linux.namespaces"), i);
}
static void add_ns(json_t *doc, const char *type) {
  json_array_append_new(at(doc, "linux.namespaces"), json_pack("{s:s}", "type", type));
}
static void drop_pid(json_t *doc) { drop_ns(doc, "pid"); }
static void add_pid(json_t *doc) { add_ns(doc, "pid"); }
static void drop_mnt(json_t *doc) { drop_ns(doc, "mount"); }
static void add_mnt(json_t *doc) { add_ns(doc, "mount"); }
static void drop_user(json_t *doc) { drop_ns(doc, "user"); }
static void add_user(json_t *doc) { add_ns(doc, "user"); }

static void test_host_pid_namespace(void **state) {
  (void)state;
  pair(drop_pid, add_pid, "namespace.pid.host", "linux.namespaces", BRICK_CHECK_HIGH);
}
static void test_host_mount_namespace(void **state) {
  (void)state;
  pair(drop_mnt, add_mnt, "namespace.mount.host", "linux.namespaces", BRICK_CHECK_CRITICAL);
}

static void net_path_host(json_t *doc) {
  size_t i;
  json_object_set_new(ns_index(doc, "network", &i), "path", json_string("/proc/1/ns/net"));
}
static void net_path_drop(json_t *doc) {
  size_t i;
  json_object_del(ns_index(doc, "network", &i), "path");
}
static void test_namespace_path_to_host(void **state) {
  (void)state;
  pair(net_path_host, net_path_drop, "namespace.network.host", "linux.namespaces[1].path",
       BRICK_CHECK_HIGH);
}

static void net_path_pod(json_t *doc) {
  size_t i;
  json_object_set_new(ns_index(doc, "network", &i), "path", json_string("/run/netns/pod1"));
}
static void test_namespace_path_joined(void **state) {
  (void)state;
  pair(net_path_pod, net_path_drop, "namespace.network.joined", "linux.namespaces[1].path",
       BRICK_CHECK_INFO);
}

static void test_no_user_namespace(void **state) {
  (void)state;
  pair(drop_user, add_user, "userns.none", "linux.namespaces", BRICK_CHECK_HIGH);
}

static void uid_root_to_root(json_t *doc) {
  json_t *m = json_array_get(at(doc, "linux.uidMappings"), 0);
  json_object_set_new(m, "hostID", json_integer(0));
}
static void uid_subordinate(json_t *doc) {
  json_t *m = json_array_get(at(doc, "linux.uidMappings"), 0);
  json_object_set_new(m, "hostID", json_integer(100000));
}
static void test_root_mapped_to_root(void **state) {
  (void)state;
  pair(uid_root_to_root, uid_subordinate, "userns.uid-root-mapped", "linux.uidMappings[0]",
       BRICK_CHECK_CRITICAL);
}

static void gid_range_covers_root(json_t *doc) {
  json_array_append_new(at(doc, "linux.gidMappings"),
                        json_pack("{s:i,s:i,s:i}", "containerID", 70000, "hostID", 0, "size", 10));
}
static void gid_range_drop(json_t *doc) { json_array_remove(at(doc, "linux.gidMappings"), 1); }
static void test_host_root_in_mapping_range(void **state) {
  (void)state;
  pair(gid_range_covers_root, gid_range_drop, "userns.gid-root-mapped", "linux.gidMappings[1]",
       BRICK_CHECK_HIGH);
}

/* ---- paths and mounts ---- */

static void sys_rw(json_t *doc) {
  json_array_remove(json_object_get(json_array_get(at(doc, "mounts"), 3), "options"), 3);
}
static void sys_ro(json_t *doc) {
  json_array_append_new(json_object_get(json_array_get(at(doc, "mounts"), 3), "options"),
                        json_string("ro"));
}
static void test_sys_writable(void **state) {
  (void)state;
  pair(sys_rw, sys_ro, "mounts.sys-writable", "mounts[3]", BRICK_CHECK_HIGH);
}

static void ro_drop_procsys(json_t *doc) { json_array_remove(at(doc, "linux.readonlyPaths"), 3); }
static void ro_add_procsys(json_t *doc) {
  json_array_append_new(at(doc, "linux.readonlyPaths"), json_string("/proc/sys"));
}
static void test_proc_sys_not_readonly(void **state) {
  (void)state;
  pair(ro_drop_procsys, ro_add_procsys, "paths.not-readonly:/proc/sys", "linux.readonlyPaths",
       BRICK_CHECK_HIGH);
}

static void ro_drop_all(json_t *doc) { json_object_del(at(doc, "linux"), "readonlyPaths"); }
static void ro_restore(json_t *doc) {
  json_t *g = good();
  json_object_set(at(doc, "linux"), "readonlyPaths", at(g, "linux.readonlyPaths"));
  json_decref(g);
}
static void test_readonly_paths_missing(void **state) {
  (void)state;
  pair(ro_drop_all, ro_restore, "paths.readonly-missing", "linux.readonlyPaths",
       BRICK_CHECK_HIGH);
}

static void masked_drop_kcore(json_t *doc) { json_array_remove(at(doc, "linux.maskedPaths"), 2); }
static void masked_add_kcore(json_t *doc) {
  json_array_append_new(at(doc, "linux.maskedPaths"), json_string("/proc/kcore"));
}
static void test_kcore_not_masked(void **state) {
  (void)state;
  pair(masked_drop_kcore, masked_add_kcore, "paths.not-masked:/proc/kcore", "linux.maskedPaths",
       BRICK_CHECK_HIGH);
}

static void masked_drop_all(json_t *doc) { json_object_del(at(doc, "linux"), "maskedPaths"); }
static void masked_restore(json_t *doc) {
  json_t *g = good();
  json_object_set(at(doc, "linux"), "maskedPaths", at(g, "linux.maskedPaths"));
  json_decref(g);
}
static void test_masked_paths_missing(void **state) {
  (void)state;
  pair(masked_drop_all, masked_restore, "paths.masked-missing", "linux.maskedPaths",
       BRICK_CHECK_HIGH);
}

/* Bind mount sources: (source, expected id, level). */
static void test_dangerous_bind_sources(void **state) {
  (void)state;
  static const struct {
    const char *source;
    const char *id;
    enum brick_check_level level;
  } cases[] = {
      {"/", "mounts.host-root", BRICK_CHECK_CRITICAL},
      {"//", "mounts.host-root", BRICK_CHECK_CRITICAL},
      {"/var/run/docker.sock", "mounts.engine-socket", BRICK_CHECK_CRITICAL},
      {"/run/containerd/containerd.sock", "mounts.engine-socket", BRICK_CHECK_CRITICAL},
      {"/run/crio/crio.sock", "mounts.engine-socket", BRICK_CHECK_CRITICAL},
      {"/run/podman/podman.sock", "mounts.engine-socket", BRICK_CHECK_CRITICAL},
      {"/proc", "mounts.host-proc", BRICK_CHECK_CRITICAL},
      {"/proc/1/root", "mounts.host-proc", BRICK_CHECK_CRITICAL},
      {"/sys", "mounts.host-sys", BRICK_CHECK_HIGH},
      {"/sys/kernel/debug", "mounts.host-sys", BRICK_CHECK_HIGH},
      {"/run", "mounts.host-run", BRICK_CHECK_HIGH},
      {"/var/run/", "mounts.host-run", BRICK_CHECK_HIGH},
      {"/var/lib/docker", "mounts.engine-storage", BRICK_CHECK_HIGH},
      {"/var/lib/containers/storage", "mounts.engine-storage", BRICK_CHECK_HIGH},
      {"/dev", "mounts.host-dev", BRICK_CHECK_HIGH},
      {"/etc", "mounts.host-etc", BRICK_CHECK_HIGH},
      {"/boot", "mounts.host-boot", BRICK_CHECK_HIGH},
      {"/lib/modules", "mounts.host-modules", BRICK_CHECK_HIGH},
      {"/usr/lib/modules/6.1.0", "mounts.host-modules", BRICK_CHECK_HIGH},
  };
  static const char *const harmless[] = {
      "/srv/data", "/etc/resolv.conf", "/run/containers/storage/overlay-containers/x/userdata/hosts",
      "/var/lib/containers/storage/overlay-containers/x/userdata/shm",
      "/var/lib/docker/containers/abc/hostname", "/devices", "/etcetera", "/proceedings"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *doc = good();
    json_object_set_new(json_array_get(at(doc, "mounts"), 4), "source",
                        json_string(cases[i].source));
    struct brick_check_report *r = lint(doc);
    const struct brick_check_finding *f = must_find(r, cases[i].id, "mounts[4]");
    assert_int_equal(f->level, cases[i].level);
    brick_check_report_free(r);
    json_decref(doc);
  }
  for (size_t i = 0; i < sizeof harmless / sizeof harmless[0]; i++) {
    json_t *doc = good();
    json_object_set_new(json_array_get(at(doc, "mounts"), 4), "source", json_string(harmless[i]));
    struct brick_check_report *r = lint(doc);
    if (brick_check_report_worst(r) > BRICK_CHECK_INFO) {
      fprintf(stderr, "harmless source %s flagged:\n", harmless[i]);
      dump_report(r, BRICK_CHECK_WARN);
    }
    assert_true(brick_check_report_worst(r) <= BRICK_CHECK_INFO);
    brick_check_report_free(r);
    json_decref(doc);
  }
}

static void bind_not_bind(json_t *doc) {
  /* The same source in a non-bind mount (e.g. a tmpfs named "/") is not a host path. */
  json_t *m = json_array_get(at(doc, "mounts"), 4);
  json_object_set_new(m, "source", json_string("/"));
}
static void bind_to_tmpfs(json_t *doc) {
  json_t *m = json_array_get(at(doc, "mounts"), 4);
  json_object_set_new(m, "type", json_string("tmpfs"));
  json_array_remove(json_object_get(m, "options"), 0);
}
static void test_host_root_only_for_bind(void **state) {
  (void)state;
  pair(bind_not_bind, bind_to_tmpfs, "mounts.host-root", "mounts[4]", BRICK_CHECK_CRITICAL);
}

static void drop_nosuid(json_t *doc) {
  json_array_remove(json_object_get(json_array_get(at(doc, "mounts"), 4), "options"), 1);
}
static void add_nosuid(json_t *doc) {
  json_array_append_new(json_object_get(json_array_get(at(doc, "mounts"), 4), "options"),
                        json_string("nosuid"));
}
static void test_mount_without_nosuid(void **state) {
  (void)state;
  pair(drop_nosuid, add_nosuid, "mounts.suid", "mounts[4]", BRICK_CHECK_WARN);
}

static void drop_nodev(json_t *doc) {
  json_array_remove(json_object_get(json_array_get(at(doc, "mounts"), 2), "options"), 2);
}
static void add_nodev(json_t *doc) {
  json_array_append_new(json_object_get(json_array_get(at(doc, "mounts"), 2), "options"),
                        json_string("nodev"));
}
static void test_mount_without_nodev(void **state) {
  (void)state;
  pair(drop_nodev, add_nodev, "mounts.dev", "mounts[2]", BRICK_CHECK_WARN);
}

/* ---- devices ---- */

static void allow_all_devices(json_t *doc) {
  json_t *rule = json_array_get(at(doc, "linux.resources.devices"), 0);
  json_object_set_new(rule, "allow", json_true());
}
static void deny_all_devices(json_t *doc) {
  json_t *rule = json_array_get(at(doc, "linux.resources.devices"), 0);
  json_object_set_new(rule, "allow", json_false());
}
static void test_device_rule_allow_all(void **state) {
  (void)state;
  pair(allow_all_devices, deny_all_devices, "devices.allow-all", "linux.resources.devices[0]",
       BRICK_CHECK_CRITICAL);
}

static void allow_mem_rule(json_t *doc) {
  json_t *rule = json_array_get(at(doc, "linux.resources.devices"), 1);
  json_object_set_new(rule, "minor", json_integer(1));
}
static void allow_null_rule(json_t *doc) {
  json_t *rule = json_array_get(at(doc, "linux.resources.devices"), 1);
  json_object_set_new(rule, "minor", json_integer(3));
}
static void test_device_rule_memory(void **state) {
  (void)state;
  pair(allow_mem_rule, allow_null_rule, "devices.allow-memory", "linux.resources.devices[1]",
       BRICK_CHECK_CRITICAL);
}

static void allow_block_rule(json_t *doc) {
  json_t *rule = json_array_get(at(doc, "linux.resources.devices"), 1);
  json_object_set_new(rule, "type", json_string("b"));
  json_object_set_new(rule, "major", json_integer(8));
}
static void char_rule(json_t *doc) {
  json_t *rule = json_array_get(at(doc, "linux.resources.devices"), 1);
  json_object_set_new(rule, "type", json_string("c"));
  json_object_set_new(rule, "major", json_integer(1));
}
static void test_device_rule_block(void **state) {
  (void)state;
  pair(allow_block_rule, char_rule, "devices.allow-block", "linux.resources.devices[1]",
       BRICK_CHECK_HIGH);
}

static void add_dev_mem(json_t *doc) {
  json_object_set_new(at(doc, "linux"), "devices",
                      json_pack("[{s:s,s:s,s:i,s:i}]", "path", "/dev/mem", "type", "c", "major", 1,
                                "minor", 1));
}
static void add_dev_null(json_t *doc) {
  json_object_set_new(at(doc, "linux"), "devices",
                      json_pack("[{s:s,s:s,s:i,s:i}]", "path", "/dev/null", "type", "c", "major",
                                1, "minor", 3));
}
static void test_device_dev_mem(void **state) {
  (void)state;
  pair(add_dev_mem, add_dev_null, "devices.memory", "linux.devices[0]", BRICK_CHECK_CRITICAL);
}

static void add_dev_sda(json_t *doc) {
  json_object_set_new(at(doc, "linux"), "devices",
                      json_pack("[{s:s,s:s,s:i,s:i}]", "path", "/dev/sda", "type", "b", "major", 8,
                                "minor", 0));
}
static void test_device_block(void **state) {
  (void)state;
  pair(add_dev_sda, add_dev_null, "devices.block", "linux.devices[0]", BRICK_CHECK_HIGH);
}

/* ---- process, limits, MAC ---- */

static void nnp_off(json_t *doc) {
  json_object_set_new(at(doc, "process"), "noNewPrivileges", json_false());
}
static void nnp_on(json_t *doc) {
  json_object_set_new(at(doc, "process"), "noNewPrivileges", json_true());
}
static void test_no_new_privileges(void **state) {
  (void)state;
  pair(nnp_off, nnp_on, "process.new-privileges", "process.noNewPrivileges", BRICK_CHECK_WARN);
}

static void uid_zero(json_t *doc) {
  json_object_set_new(at(doc, "process.user"), "uid", json_integer(0));
  drop_user(doc);
}
static void uid_nonzero(json_t *doc) {
  json_object_set_new(at(doc, "process.user"), "uid", json_integer(1000));
}
static void test_runs_as_root(void **state) {
  (void)state;
  pair(uid_zero, uid_nonzero, "process.root", "process.user.uid", BRICK_CHECK_WARN);
  /* In a user namespace, root in the container is only information. */
  json_t *doc = good();
  json_object_set_new(at(doc, "process.user"), "uid", json_integer(0));
  struct brick_check_report *r = lint(doc);
  assert_int_equal(must_find(r, "process.root", NULL)->level, BRICK_CHECK_INFO);
  brick_check_report_free(r);
  json_decref(doc);
}

static void drop_memory(json_t *doc) { json_object_del(at(doc, "linux.resources"), "memory"); }
static void add_memory(json_t *doc) {
  json_object_set_new(at(doc, "linux.resources"), "memory", json_pack("{s:I}", "limit",
                                                                       (json_int_t)1 << 30));
}
static void test_no_memory_limit(void **state) {
  (void)state;
  pair(drop_memory, add_memory, "limits.memory", "linux.resources.memory.limit",
       BRICK_CHECK_WARN);
}

static void zero_pids(json_t *doc) {
  json_object_set_new(at(doc, "linux.resources.pids"), "limit", json_integer(0));
}
static void some_pids(json_t *doc) {
  json_object_set_new(at(doc, "linux.resources.pids"), "limit", json_integer(512));
}
static void test_no_pids_limit(void **state) {
  (void)state;
  pair(zero_pids, some_pids, "limits.pids", "linux.resources.pids.limit", BRICK_CHECK_WARN);
}

static void aa_unconfined(json_t *doc) {
  json_object_set_new(at(doc, "process"), "apparmorProfile", json_string("unconfined"));
}
static void aa_default(json_t *doc) {
  json_object_set_new(at(doc, "process"), "apparmorProfile", json_string("containers-default"));
}
static void no_mac(json_t *doc) {
  json_object_del(at(doc, "process"), "selinuxLabel");
  json_object_set_new(at(doc, "annotations"), "run.oci.brick.landlock", json_string("false"));
}
static void landlock_on(json_t *doc) {
  json_object_set_new(at(doc, "annotations"), "run.oci.brick.landlock", json_string("true"));
}
static void test_no_selinux_no_landlock(void **state) {
  (void)state;
  pair(no_mac, landlock_on, "mac.none", "annotations[\"run.oci.brick.landlock\"]",
       BRICK_CHECK_WARN);
  /* A confining AppArmor profile is MAC as well. */
  json_t *doc = good();
  no_mac(doc);
  aa_default(doc);
  struct brick_check_report *r = lint(doc);
  must_not_find(r, "mac.none");
  must_find(r, "mac.apparmor", "process.apparmorProfile");
  brick_check_report_free(r);
  json_decref(doc);
}

static void label_spc(json_t *doc) {
  json_object_set_new(at(doc, "process"), "selinuxLabel",
                      json_string("system_u:system_r:spc_t:s0"));
}
static void label_container(json_t *doc) {
  json_object_set_new(at(doc, "process"), "selinuxLabel",
                      json_string("system_u:system_r:container_t:s0:c5,c9"));
}
static void test_selinux_label_unconfined(void **state) {
  (void)state;
  pair(label_spc, label_container, "mac.selinux-unconfined", "process.selinuxLabel",
       BRICK_CHECK_HIGH);
}

static void test_apparmor_unconfined(void **state) {
  (void)state;
  pair(aa_unconfined, aa_default, "mac.apparmor-unconfined", "process.apparmorProfile",
       BRICK_CHECK_WARN);
}

static void nofile_huge(json_t *doc) {
  json_object_set_new(json_array_get(at(doc, "process.rlimits"), 0), "hard",
                      json_integer(1 << 24));
}
static void nofile_small(json_t *doc) {
  json_object_set_new(json_array_get(at(doc, "process.rlimits"), 0), "hard", json_integer(4096));
}
static void test_rlimit_huge(void **state) {
  (void)state;
  pair(nofile_huge, nofile_small, "rlimits.huge", "process.rlimits[0].hard", BRICK_CHECK_WARN);
}

static void sysctl_core_pattern(json_t *doc) {
  json_object_set_new(at(doc, "linux"), "sysctl",
                      json_pack("{s:s,s:s,s:s}", "kernel.core_pattern", "|/tmp/x",
                                "net.ipv4.ip_forward", "1", "kernel.shmmax", "1000"));
}
static void sysctl_namespaced(json_t *doc) {
  json_object_del(at(doc, "linux.sysctl"), "kernel.core_pattern");
}
static void test_sysctl_not_namespaced(void **state) {
  (void)state;
  pair(sysctl_core_pattern, sysctl_namespaced, "sysctl.host",
       "linux.sysctl[\"kernel.core_pattern\"]", BRICK_CHECK_HIGH);
}

static void linux32(json_t *doc) {
  json_object_set_new(at(doc, "linux"), "personality", json_pack("{s:s}", "domain", "LINUX32"));
}
static void linux64(json_t *doc) {
  json_object_set_new(at(doc, "linux"), "personality", json_pack("{s:s}", "domain", "LINUX"));
}
static void test_personality_linux32(void **state) {
  (void)state;
  pair(linux32, linux64, "personality.linux32", "linux.personality.domain", BRICK_CHECK_WARN);
}

static void namespaces_wrong_type(json_t *doc) {
  json_object_set_new(at(doc, "linux"), "namespaces", json_pack("{s:s}", "type", "pid"));
}
static void test_wrong_type_is_a_finding(void **state) {
  (void)state;
  pair(namespaces_wrong_type, NULL, "config.type", "linux.namespaces", BRICK_CHECK_WARN);
}

/* ---- files, ids, fixtures ---- */

static char *write_temp(const char *content) {
  char tmpl[] = "/tmp/brick-check-test-XXXXXX";
  int fd = mkstemp(tmpl);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
  close(fd);
  return xstrdup(tmpl);
}

static void test_non_object_and_bad_json(void **state) {
  (void)state;
  brick_err err = {0};
  json_t *arr = json_array();
  assert_null(brick_check_config_json(arr, "arr.json", &err));
  assert_non_null(strstr(brick_error_msg(&err), "arr.json"));
  brick_error_clear(&err);
  json_decref(arr);

  char *path = write_temp("{\"process\": {\n  \"user\": }");
  assert_null(brick_check_config_file(path, &err));
  assert_non_null(strstr(brick_error_msg(&err), path));
  assert_non_null(strstr(brick_error_msg(&err), ":2:"));
  brick_error_clear(&err);
  unlink(path);
  free(path);

  assert_null(brick_check_config_file("/nonexistent/config.json", &err));
  assert_non_null(strstr(brick_error_msg(&err), "/nonexistent/config.json"));
  brick_error_clear(&err);
}

static void test_unlimited_rlimit_from_file(void **state) {
  (void)state;
  /* RLIM_INFINITY does not fit in int64: the file must still load and be audited. */
  char *path = write_temp("{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_MEMLOCK\","
                          " \"hard\": 18446744073709551615, \"soft\": 18446744073709551615}]}}");
  brick_err err = {0};
  struct brick_check_report *r = brick_check_config_file(path, &err);
  assert_non_null(r);
  assert_non_null(strstr(must_find(r, "rlimits.huge", "process.rlimits[0].hard")->title,
                         "unlimited"));
  must_find(r, "seccomp.off", NULL);
  must_find(r, "userns.none", NULL);
  brick_check_report_free(r);
  unlink(path);
  free(path);
}

static void test_config_path_for_id(void **state) {
  (void)state;
  char dir[] = "/tmp/brick-check-state-XXXXXX";
  assert_non_null(mkdtemp(dir));
  _cleanup_free_ char *cdir = xasprintf("%s/c1", dir);
  assert_int_equal(mkdir(cdir, 0700), 0);
  _cleanup_free_ char *state_path = xasprintf("%s/state.json", cdir);
  FILE *f = fopen(state_path, "w");
  assert_non_null(f);
  fputs("{\"ociVersion\":\"1.3.0\",\"id\":\"c1\",\"status\":\"created\",\"bundle\":\"/srv/b1\"}", f);
  fclose(f);
  brick_err err = {0};
  char *p = brick_check_config_path_for_id(dir, "c1", &err);
  assert_non_null(p);
  assert_string_equal(p, "/srv/b1/config.json");
  free(p);
  assert_null(brick_check_config_path_for_id(dir, "nope", &err));
  assert_non_null(strstr(brick_error_msg(&err), "nope"));
  brick_error_clear(&err);
  assert_null(brick_check_config_path_for_id(dir, "../c1", &err));
  assert_non_null(strstr(brick_error_msg(&err), "invalid container id"));
  brick_error_clear(&err);
  unlink(state_path);
  rmdir(cdir);
  rmdir(dir);
}

static void test_podman_fixture(void **state) {
  (void)state;
  const char *dir = getenv("CHECK_FIXTURES");
  if (!dir)
    skip();
  _cleanup_free_ char *path = xasprintf("%s/podman-config.json", dir);
  brick_err err = {0};
  struct brick_check_report *r = brick_check_config_file(path, &err);
  if (!r)
    fprintf(stderr, "%s\n", brick_error_msg(&err));
  assert_non_null(r);
  /* podman's 11 capabilities are the baseline, its profile is an allow list. */
  must_find(r, "caps.default", NULL);
  must_find(r, "seccomp.on", NULL);
  /* What podman leaves open by default is reported as such. */
  must_find(r, "userns.none", "linux.namespaces");
  must_find(r, "namespace.network.joined", "linux.namespaces[1].path");
  assert_int_equal(must_find(r, "seccomp.allow.keyctl", NULL)->level, BRICK_CHECK_WARN);
  assert_int_equal(must_find(r, "seccomp.allow.mount", NULL)->level, BRICK_CHECK_INFO);
  must_find(r, "limits.memory", NULL);
  must_not_find(r, "limits.pids");
  must_find(r, "paths.not-masked:/proc/asound", NULL);
  /* Its per-container binds (resolv.conf, shm) are not host paths. */
  must_not_find(r, "mounts.engine-storage");
  must_not_find(r, "mounts.host-run");
  must_not_find(r, "mounts.suid");
  must_not_find(r, "seccomp.allow.bpf");
  must_not_find(r, "devices.allow-all");
  assert_true(brick_check_report_count(r, BRICK_CHECK_CRITICAL) == 0);
  brick_check_report_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_config_is_clean),
      cmocka_unit_test(test_cap_sys_admin_critical),
      cmocka_unit_test(test_cap_net_raw_warn),
      cmocka_unit_test(test_podman_default_caps_are_baseline),
      cmocka_unit_test(test_seccomp_off),
      cmocka_unit_test(test_seccomp_permissive),
      cmocka_unit_test(test_seccomp_denylist),
      cmocka_unit_test(test_seccomp_allows_keyctl),
      cmocka_unit_test(test_seccomp_mount_level_follows_cap),
      cmocka_unit_test(test_seccomp_conditional_rule_ignored),
      cmocka_unit_test(test_host_pid_namespace),
      cmocka_unit_test(test_host_mount_namespace),
      cmocka_unit_test(test_namespace_path_to_host),
      cmocka_unit_test(test_namespace_path_joined),
      cmocka_unit_test(test_no_user_namespace),
      cmocka_unit_test(test_root_mapped_to_root),
      cmocka_unit_test(test_host_root_in_mapping_range),
      cmocka_unit_test(test_sys_writable),
      cmocka_unit_test(test_proc_sys_not_readonly),
      cmocka_unit_test(test_readonly_paths_missing),
      cmocka_unit_test(test_kcore_not_masked),
      cmocka_unit_test(test_masked_paths_missing),
      cmocka_unit_test(test_dangerous_bind_sources),
      cmocka_unit_test(test_host_root_only_for_bind),
      cmocka_unit_test(test_mount_without_nosuid),
      cmocka_unit_test(test_mount_without_nodev),
      cmocka_unit_test(test_device_rule_allow_all),
      cmocka_unit_test(test_device_rule_memory),
      cmocka_unit_test(test_device_rule_block),
      cmocka_unit_test(test_device_dev_mem),
      cmocka_unit_test(test_device_block),
      cmocka_unit_test(test_no_new_privileges),
      cmocka_unit_test(test_runs_as_root),
      cmocka_unit_test(test_no_memory_limit),
      cmocka_unit_test(test_no_pids_limit),
      cmocka_unit_test(test_no_selinux_no_landlock),
      cmocka_unit_test(test_selinux_label_unconfined),
      cmocka_unit_test(test_apparmor_unconfined),
      cmocka_unit_test(test_rlimit_huge),
      cmocka_unit_test(test_sysctl_not_namespaced),
      cmocka_unit_test(test_personality_linux32),
      cmocka_unit_test(test_wrong_type_is_a_finding),
      cmocka_unit_test(test_non_object_and_bad_json),
      cmocka_unit_test(test_unlimited_rlimit_from_file),
      cmocka_unit_test(test_config_path_for_id),
      cmocka_unit_test(test_podman_fixture),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
