/* The host floor: each rule refuses exactly the setting it names, with a message that
 * names the config path and the rule; a config above the floor, or no floor file at
 * all, is accepted; a malformed floor file is an error naming the file. Configs start
 * from brick's own defaults (brick spec), which must pass every rule at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "runtime/defaults.h"
#include "runtime/floor.h"
#include "spec/spec.h"

static char dir[64];
static char conf[128];

static int setup(void **state) {
  (void)state;
  strcpy(dir, "/tmp/brick-floor-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(conf, sizeof conf, "%s/brick.conf", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return brick_rm_rf(dir, NULL);
}

static void write_conf(const char *text) {
  assert_int_equal(brick_write_file_atomic(conf, text, strlen(text), 0644, NULL), 0);
}

/* want with its one "%s" replaced by the floor file's path. */
static void with_conf(char *out, size_t n, const char *want) {
  const char *at = strstr(want, "%s");
  if (!at) {
    snprintf(out, n, "%s", want);
    return;
  }
  snprintf(out, n, "%.*s%s%s", (int)(at - want), want, conf, at + 2);
}

static const char *ALL_RULES =
    "{\"refuse\": [\"SYS_ADMIN\", \"CAP_NET_RAW\", \"seccomp-off\", \"no-userns\", "
    "\"host-pid\", \"host-net\", \"host-ipc\", \"host-uts\", \"host-mount\", \"host-cgroup\", "
    "\"writable-sys\", \"privileged-mount\", \"all-devices\", \"new-privileges\"]}";

/* brick's default config (root, auto user namespace), with edit applied to its JSON. */
static struct brick_spec *spec_with(void (*edit)(json_t *)) {
  json_t *doc = brick_default_config(false);
  assert_non_null(doc);
  if (edit)
    edit(doc);
  brick_err err = {0};
  struct brick_spec *s = brick_spec_parse(doc, "config.json", &err);
  if (!s)
    fail_msg("spec: %s", brick_error_msg(&err));
  json_decref(doc);
  return s;
}

/* Check spec against the floor: 0 expected when want is NULL, else -1 with a message
 * equal to want. */
static void expect(void (*edit)(json_t *), const char *want) {
  struct brick_spec *s = spec_with(edit);
  brick_err err = {0};
  int r = brick_floor_check(s, conf, &err);
  if (!want) {
    if (r != 0)
      fail_msg("refused: %s", brick_error_msg(&err));
  } else {
    assert_int_equal(r, -1);
    char full[1024];
    with_conf(full, sizeof full, want);
    assert_string_equal(brick_error_msg(&err), full);
  }
  brick_error_clear(&err);
  brick_spec_free(s);
}

static json_t *linux_of(json_t *doc) { return json_object_get(doc, "linux"); }

static void add_cap(json_t *doc, const char *set, const char *cap) {
  json_t *caps = json_object_get(json_object_get(doc, "process"), "capabilities");
  json_array_append_new(json_object_get(caps, set), json_string(cap));
}

static void drop_ns(json_t *doc, const char *type) {
  json_t *ns = json_object_get(linux_of(doc), "namespaces");
  for (size_t i = 0; i < json_array_size(ns); i++)
    if (!strcmp(json_string_value(json_object_get(json_array_get(ns, i), "type")), type)) {
      json_array_remove(ns, i);
      return;
    }
  fail_msg("no %s namespace in the defaults", type);
}

static void e_sys_admin_bounding(json_t *d) { add_cap(d, "bounding", "CAP_SYS_ADMIN"); }
static void e_net_raw_ambient(json_t *d) {
  add_cap(d, "ambient", "CAP_NET_RAW");
  add_cap(d, "bounding", "CAP_NET_RAW");
  add_cap(d, "permitted", "CAP_NET_RAW");
  add_cap(d, "inheritable", "CAP_NET_RAW");
}
static void e_sys_ptrace(json_t *d) { add_cap(d, "bounding", "CAP_SYS_PTRACE"); }
static void e_no_seccomp(json_t *d) { json_object_del(linux_of(d), "seccomp"); }
static void e_seccomp_allow(json_t *d) {
  json_object_set_new(linux_of(d), "seccomp",
                      json_pack("{s:s, s:[]}", "defaultAction", "SCMP_ACT_ALLOW", "syscalls"));
}
static void e_no_userns(json_t *d) { drop_ns(d, "user"); }
static void e_root_map(json_t *d) {
  json_object_del(json_object_get(d, "annotations"), BRICK_ANNOTATION_USERNS_AUTO);
  json_object_set_new(linux_of(d), "uidMappings",
                      json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 0, "size", 65536));
  json_object_set_new(linux_of(d), "gidMappings",
                      json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 100000, "size", 65536));
}
static void e_no_pidns(json_t *d) { drop_ns(d, "pid"); }
static void e_no_netns(json_t *d) { drop_ns(d, "network"); }
static void e_no_ipcns(json_t *d) { drop_ns(d, "ipc"); }
static void e_no_utsns(json_t *d) { drop_ns(d, "uts"); }
static void e_no_cgroupns(json_t *d) { drop_ns(d, "cgroup"); }

static json_t *mount_at(json_t *doc, const char *dest, size_t *index) {
  json_t *ms = json_object_get(doc, "mounts");
  for (size_t i = 0; i < json_array_size(ms); i++)
    if (!strcmp(json_string_value(json_object_get(json_array_get(ms, i), "destination")), dest)) {
      *index = i;
      return json_array_get(ms, i);
    }
  fail_msg("no %s mount in the defaults", dest);
  return NULL;
}

static void e_sys_rw(json_t *d) {
  size_t i;
  json_object_set_new(mount_at(d, "/sys", &i), "options", json_pack("[s, s, s]", "nosuid", "noexec", "nodev"));
}
static void e_proc_sys_writable(json_t *d) {
  json_array_clear(json_object_get(linux_of(d), "readonlyPaths"));
}
static void e_bind(json_t *d, const char *src) {
  json_array_append_new(json_object_get(d, "mounts"),
                        json_pack("{s:s, s:s, s:s, s:[s, s]}", "destination", "/host", "type", "bind",
                                  "source", src, "options", "rbind", "ro"));
}
static void e_bind_root(json_t *d) { e_bind(d, "/"); }
static void e_bind_docker_sock(json_t *d) { e_bind(d, "/var/run//docker.sock"); }
static void e_bind_proc_dir(json_t *d) { e_bind(d, "/proc/1/"); }
static void e_bind_data(json_t *d) { e_bind(d, "/srv/data"); }
static void e_bind_procfoo(json_t *d) { e_bind(d, "/processes"); }
static void e_all_devices(json_t *d) {
  json_array_append_new(json_object_get(json_object_get(linux_of(d), "resources"), "devices"),
                        json_pack("{s:b, s:s}", "allow", 1, "access", "rwm"));
}
static void e_all_devices_then_deny(json_t *d) {
  json_t *devs = json_object_get(json_object_get(linux_of(d), "resources"), "devices");
  json_array_insert_new(devs, 0, json_pack("{s:b, s:s}", "allow", 1, "access", "rwm"));
}
static void e_new_privs(json_t *d) {
  json_object_set_new(json_object_get(d, "process"), "noNewPrivileges", json_false());
}

static void test_defaults_pass_every_rule(void **state) {
  (void)state;
  write_conf(ALL_RULES);
  expect(NULL, NULL);
}

static void test_no_file_no_floor(void **state) {
  (void)state;
  unlink(conf);
  expect(e_sys_admin_bounding, NULL);
  expect(e_no_seccomp, NULL);
}

static void test_empty_floor_refuses_nothing(void **state) {
  (void)state;
  write_conf("{}");
  expect(e_sys_admin_bounding, NULL);
  write_conf("{\"refuse\": []}");
  expect(e_no_userns, NULL);
  expect(e_bind_root, NULL);
}

static void test_capability_rules(void **state) {
  (void)state;
  write_conf(ALL_RULES);
  expect(e_sys_admin_bounding, "config.json: process.capabilities.bounding: CAP_SYS_ADMIN "
                               "refused by %s (rule \"SYS_ADMIN\")");
  expect(e_net_raw_ambient, "config.json: process.capabilities.bounding: CAP_NET_RAW "
                            "refused by %s (rule \"CAP_NET_RAW\")");
  /* a capability the floor does not name is the engine's business */
  expect(e_sys_ptrace, NULL);
  write_conf("{\"refuse\": [\"NET_RAW\"]}");
  expect(e_sys_admin_bounding, NULL);
}

static void test_seccomp_rule(void **state) {
  (void)state;
  write_conf("{\"refuse\": [\"seccomp-off\"]}");
  expect(e_no_seccomp, "config.json: linux.seccomp: no seccomp filter refused by %s "
                       "(rule \"seccomp-off\")");
  expect(e_seccomp_allow, "config.json: linux.seccomp.defaultAction: SCMP_ACT_ALLOW refused by "
                          "%s (rule \"seccomp-off\")");
  expect(e_no_userns, NULL);
}

static void test_userns_rule(void **state) {
  (void)state;
  write_conf("{\"refuse\": [\"no-userns\"]}");
  expect(e_no_userns, "config.json: linux.namespaces: no user namespace (container root is host "
                      "root) refused by %s (rule \"no-userns\")");
  expect(e_root_map, "config.json: linux.uidMappings[0]: container root mapped to host uid 0 "
                     "refused by %s (rule \"no-userns\")");
  expect(e_no_pidns, NULL);
}

static void test_host_namespace_rules(void **state) {
  (void)state;
  write_conf(ALL_RULES);
  expect(e_no_pidns, "config.json: linux.namespaces: no pid namespace (the host's) refused by %s "
                     "(rule \"host-pid\")");
  expect(e_no_netns, "config.json: linux.namespaces: no network namespace (the host's) refused "
                     "by %s (rule \"host-net\")");
  expect(e_no_ipcns, "config.json: linux.namespaces: no ipc namespace (the host's) refused by %s "
                     "(rule \"host-ipc\")");
  expect(e_no_utsns, "config.json: linux.namespaces: no uts namespace (the host's) refused by %s "
                     "(rule \"host-uts\")");
  expect(e_no_cgroupns, "config.json: linux.namespaces: no cgroup namespace (the host's) refused "
                        "by %s (rule \"host-cgroup\")");
  write_conf("{\"refuse\": [\"host-net\"]}");
  expect(e_no_pidns, NULL);
}

static void test_writable_sys_rule(void **state) {
  (void)state;
  write_conf("{\"refuse\": [\"writable-sys\"]}");
  expect(e_sys_rw, "config.json: mounts[5] (/sys): mounted read-write refused by %s "
                   "(rule \"writable-sys\")");
  expect(e_proc_sys_writable, "config.json: linux.readonlyPaths: /proc/sys left writable "
                              "(read-write proc mount) refused by %s (rule \"writable-sys\")");
}

static void test_privileged_mount_rule(void **state) {
  (void)state;
  write_conf("{\"refuse\": [\"privileged-mount\"]}");
  expect(e_bind_root, "config.json: mounts[8] (/host): bind mount of the host's / refused by %s "
                      "(rule \"privileged-mount\")");
  expect(e_bind_docker_sock, "config.json: mounts[8] (/host): bind mount of the host's "
                             "/var/run/docker.sock refused by %s (rule \"privileged-mount\")");
  expect(e_bind_proc_dir, "config.json: mounts[8] (/host): bind mount of the host's /proc/1 "
                          "refused by %s (rule \"privileged-mount\")");
  expect(e_bind_data, NULL);
  expect(e_bind_procfoo, NULL);
}

static void test_device_and_privilege_rules(void **state) {
  (void)state;
  write_conf(ALL_RULES);
  expect(e_all_devices, "config.json: linux.resources.devices[11]: access to every device "
                        "refused by %s (rule \"all-devices\")");
  /* allowed first, then denied again by the defaults' own "deny all": not all devices */
  expect(e_all_devices_then_deny, NULL);
  expect(e_new_privs, "config.json: process.noNewPrivileges: false (new privileges through "
                      "setuid/file caps) refused by %s (rule \"new-privileges\")");
}

static void test_process_check_for_exec(void **state) {
  (void)state;
  write_conf("{\"refuse\": [\"SYS_ADMIN\"]}");
  json_t *p = json_pack("{s:[s], s:s, s:{s:i, s:i}, s:{s:[s]}}", "args", "sh", "cwd", "/", "user",
                        "uid", 0, "gid", 0, "capabilities", "effective", "CAP_SYS_ADMIN");
  brick_err err = {0};
  struct brick_process *proc = brick_process_parse(p, "process.json", &err);
  assert_non_null(proc);
  assert_int_equal(brick_floor_check_process(proc, "process.json", conf, &err), -1);
  char want[512];
  snprintf(want, sizeof want, "process.json: capabilities.effective: CAP_SYS_ADMIN refused by "
                              "%s (rule \"SYS_ADMIN\")", conf);
  assert_string_equal(brick_error_msg(&err), want);
  brick_error_clear(&err);
  brick_process_free(proc);
  json_decref(p);
}

static void bad_conf(const char *text, const char *want) {
  write_conf(text);
  struct brick_spec *s = spec_with(NULL);
  brick_err err = {0};
  assert_int_equal(brick_floor_check(s, conf, &err), -1);
  char full[1024];
  with_conf(full, sizeof full, want);
  if (strncmp(brick_error_msg(&err), full, strlen(full)))
    fail_msg("got \"%s\", want prefix \"%s\"", brick_error_msg(&err), full);
  brick_error_clear(&err);
  brick_spec_free(s);
}

static void test_malformed_floor_is_an_error(void **state) {
  (void)state;
  bad_conf("{\"refuse\": [\"SYS_ADMN\"]}", "%s: refuse[0]: unknown rule \"SYS_ADMN\"");
  bad_conf("{\"refuse\": [\"host-pid\", 3]}", "%s: refuse[1]: expected a string");
  bad_conf("{\"refuse\": \"SYS_ADMIN\"}", "%s: refuse: expected an array");
  bad_conf("[]", "%s: expected a JSON object");
  bad_conf("{\"refuse\": [", "%s: line 1:");
}

static void test_env_overrides_default_path(void **state) {
  (void)state;
  assert_int_equal(setenv("BRICK_CONF", conf, 1), 0);
  assert_string_equal(brick_floor_path(NULL), conf);
  write_conf("{\"refuse\": [\"SYS_ADMIN\"]}");
  struct brick_spec *s = spec_with(e_sys_admin_bounding);
  brick_err err = {0};
  assert_int_equal(brick_floor_check(s, NULL, &err), -1);
  brick_error_clear(&err);
  brick_spec_free(s);
  assert_int_equal(unsetenv("BRICK_CONF"), 0);
  assert_string_equal(brick_floor_path(NULL), BRICK_FLOOR_DEFAULT_PATH);
  assert_string_equal(brick_floor_path("/x/y.conf"), "/x/y.conf");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_pass_every_rule),
      cmocka_unit_test(test_no_file_no_floor),
      cmocka_unit_test(test_empty_floor_refuses_nothing),
      cmocka_unit_test(test_capability_rules),
      cmocka_unit_test(test_seccomp_rule),
      cmocka_unit_test(test_userns_rule),
      cmocka_unit_test(test_host_namespace_rules),
      cmocka_unit_test(test_writable_sys_rule),
      cmocka_unit_test(test_privileged_mount_rule),
      cmocka_unit_test(test_device_and_privilege_rules),
      cmocka_unit_test(test_process_check_for_exec),
      cmocka_unit_test(test_malformed_floor_is_an_error),
      cmocka_unit_test(test_env_overrides_default_path),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
