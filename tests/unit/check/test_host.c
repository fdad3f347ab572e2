/* `brick check host` against hosts described as directory trees, with the syscall
 * probes replaced; and once against this machine with the real probes. */
#include "check_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

static int fake_landlock = 7;
static int fake_idmap = 1;
static int fake_context = 1;
static int fake_seccomp = 0;

static int probe_landlock(void) {
  if (fake_landlock < 0)
    errno = EPERM;
  return fake_landlock;
}
static int probe_idmap(const char *dir) {
  (void)dir;
  if (fake_idmap < 0)
    errno = EPERM;
  return fake_idmap;
}
static int probe_context(const char *ctx) {
  assert_non_null(strstr(ctx, "container_t"));
  return fake_context;
}
static int probe_seccomp(void) { return fake_seccomp; }

static const struct brick_host_probes fake_probes = {
    .landlock_abi = probe_landlock,
    .idmap_mount = probe_idmap,
    .selinux_context_valid = probe_context,
    .seccomp_mode = probe_seccomp,
};

struct host {
  char dir[64];
};

static void put(struct host *h, const char *rel, const char *content) {
  _cleanup_free_ char *p = xasprintf("%s%s", h->dir, rel);
  _cleanup_free_ char *parent = xstrdup(p);
  *strrchr(parent, '/') = 0;
  assert_int_equal(brick_mkdir_p(parent, 0755, NULL), 0);
  assert_int_equal(brick_write_file_atomic(p, content, strlen(content), 0644, NULL), 0);
}

static void del(struct host *h, const char *rel) {
  _cleanup_free_ char *p = xasprintf("%s%s", h->dir, rel);
  assert_int_equal(brick_rm_rf(p, NULL) == 0 || unlink(p) == 0, 1);
}

static const char mountinfo_v2[] =
    "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
static const char mountinfo_hybrid[] =
    "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* A host with every layer on. */
static int setup(void **state) {
  struct host *h = xcalloc(1, sizeof *h);
  strcpy(h->dir, "/tmp/brick-check-host-XXXXXX");
  if (!mkdtemp(h->dir))
    return -1;
  chmod(h->dir, 0755);
  put(h, "/proc/sys/kernel/osrelease", "6.12.0-test\n");
  put(h, "/proc/self/status", "Name:\tbrick\nUid:\t0\t0\t0\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
  put(h, "/proc/sys/kernel/seccomp/actions_avail",
      "kill_process kill_thread trap errno user_notif trace log allow\n");
  put(h, "/proc/sys/user/max_user_namespaces", "63000\n");
  static const char *const ns[] = {"mnt", "pid", "net", "ipc", "uts", "cgroup", "user"};
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
    _cleanup_free_ char *p = xasprintf("/proc/self/ns/%s", ns[i]);
    put(h, p, "");
  }
  put(h, "/proc/self/mountinfo", mountinfo_v2);
  put(h, "/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  put(h, "/sys/fs/selinux/enforce", "1");
  put(h, "/etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=targeted\n");
  put(h, "/sys/kernel/security/lsm", "lockdown,capability,landlock,yama,selinux,bpf");
  put(h, "/sys/kernel/security/lockdown", "none [integrity] confidentiality\n");
  put(h, "/etc/subuid", "alice:100000:65536\ncontainers:2147483648:2147483648\n");
  put(h, "/etc/subgid", "alice:100000:65536\ncontainers:2147483648:2147483648\n");
  put(h, "/usr/bin/brick", "#!/bin/false\n");
  _cleanup_free_ char *bin = xasprintf("%s/usr/bin/brick", h->dir);
  chmod(bin, 0755);
  fake_landlock = 7;
  fake_idmap = 1;
  fake_context = 1;
  fake_seccomp = 0;
  *state = h;
  return 0;
}

static int teardown(void **state) {
  struct host *h = *state;
  brick_rm_rf(h->dir, NULL);
  free(h);
  return 0;
}

static struct brick_check_report *run_with(struct host *h, unsigned containers) {
  _cleanup_free_ char *bin = xasprintf("%s/usr/bin/brick", h->dir);
  _cleanup_free_ char *store = xasprintf("%s/var/lib/brick", h->dir);
  struct brick_host_opts o = {.root_dir = h->dir, .probes = &fake_probes,
                              .runtime_path = bin, .store_dir = store,
                              .containers = containers};
  brick_err err = {0};
  struct brick_check_report *r = brick_check_host(&o, &err);
  if (!r)
    fprintf(stderr, "%s\n", brick_error_msg(&err));
  assert_non_null(r);
  return r;
}

static struct brick_check_report *run(struct host *h) { return run_with(h, 0); }

static void test_good_host(void **state) {
  struct host *h = *state;
  struct brick_check_report *r = run(h);
  dump_report(r, BRICK_CHECK_INFO);
  assert_true(brick_check_report_worst(r) <= BRICK_CHECK_INFO);
  must_find(r, "selinux.enforcing", NULL);
  must_find(r, "selinux.container-policy", NULL);
  assert_non_null(strstr(must_find(r, "landlock.abi", NULL)->title, "ABI 7"));
  must_find(r, "cgroup.v2", NULL);
  must_find(r, "idpool.ok.subuid", NULL);
  must_find(r, "idmap.supported", NULL);
  must_find(r, "lockdown.on", NULL);
  must_find(r, "kernel.version", NULL);
  must_find(r, "namespaces.all", NULL);
  if (geteuid() == 0)
    must_find(r, "runtime.protected", NULL);
  assert_int_equal(must_find(r, "layers", NULL)->level, BRICK_CHECK_OK);
  json_t *layers = json_object_get(r->facts, "layers");
  assert_true(json_is_true(json_object_get(layers, "selinux")));
  assert_true(json_is_true(json_object_get(layers, "userns")));
  assert_int_equal(json_integer_value(json_object_get(r->facts, "landlock_abi")), 7);
  brick_check_report_free(r);
}

static void test_selinux_disabled(void **state) {
  struct host *h = *state;
  del(h, "/sys/fs/selinux");
  put(h, "/etc/selinux/config", "SELINUX=disabled\n");
  struct brick_check_report *r = run(h);
  const struct brick_check_finding *f = must_find(r, "selinux.disabled", NULL);
  assert_int_equal(f->level, BRICK_CHECK_HIGH);
  assert_non_null(strstr(f->why, "Stop disabling SELinux"));
  assert_non_null(strstr(f->why, "labeling system"));
  assert_non_null(strstr(f->fix, "it says disabled"));
  must_not_find(r, "selinux.enforcing");
  /* Landlock still stands in as the MAC layer. */
  must_not_find(r, "mac.none");
  assert_true(json_is_true(json_object_get(json_object_get(r->facts, "layers"), "landlock")));
  brick_check_report_free(r);
  put(h, "/sys/fs/selinux/enforce", "1");
  r = run(h);
  must_not_find(r, "selinux.disabled");
  brick_check_report_free(r);
}

static void test_selinux_permissive(void **state) {
  struct host *h = *state;
  put(h, "/sys/fs/selinux/enforce", "0");
  struct brick_check_report *r = run(h);
  const struct brick_check_finding *f = must_find(r, "selinux.permissive", NULL);
  assert_int_equal(f->level, BRICK_CHECK_HIGH);
  assert_non_null(strstr(f->title, "setenforce 0"));
  brick_check_report_free(r);
  put(h, "/sys/fs/selinux/enforce", "1");
  r = run(h);
  must_not_find(r, "selinux.permissive");
  brick_check_report_free(r);
}

static void test_selinux_without_container_policy(void **state) {
  struct host *h = *state;
  fake_context = 0;
  struct brick_check_report *r = run(h);
  assert_int_equal(must_find(r, "selinux.no-container-policy", NULL)->level, BRICK_CHECK_WARN);
  assert_false(json_is_true(json_object_get(json_object_get(r->facts, "layers"), "selinux")));
  brick_check_report_free(r);
  /* When the policy cannot be queried, container-selinux's lxc_contexts decides. */
  fake_context = -1;
  put(h, "/etc/selinux/targeted/contexts/lxc_contexts",
      "process = \"system_u:system_r:container_t:s0\"\n");
  r = run(h);
  must_not_find(r, "selinux.no-container-policy");
  must_find(r, "selinux.container-policy", NULL);
  brick_check_report_free(r);
}

static void test_no_mac_at_all(void **state) {
  struct host *h = *state;
  del(h, "/sys/fs/selinux");
  fake_landlock = 0;
  struct brick_check_report *r = run(h);
  assert_int_equal(must_find(r, "landlock.unavailable", NULL)->level, BRICK_CHECK_WARN);
  assert_int_equal(must_find(r, "mac.none", NULL)->level, BRICK_CHECK_CRITICAL);
  assert_int_equal(must_find(r, "layers", NULL)->level, BRICK_CHECK_WARN);
  brick_check_report_free(r);
  /* AppArmor alone removes the critical finding. */
  put(h, "/sys/module/apparmor/parameters/enabled", "Y\n");
  r = run(h);
  must_find(r, "apparmor.enabled", NULL);
  must_not_find(r, "mac.none");
  brick_check_report_free(r);
}

static void test_landlock_old_abi(void **state) {
  struct host *h = *state;
  fake_landlock = 3;
  struct brick_check_report *r = run(h);
  assert_non_null(strstr(must_find(r, "landlock.old-abi", NULL)->title, "TCP"));
  brick_check_report_free(r);
}

static void test_userns_disabled(void **state) {
  struct host *h = *state;
  put(h, "/proc/sys/user/max_user_namespaces", "0\n");
  struct brick_check_report *r = run(h);
  assert_int_equal(must_find(r, "userns.disabled", NULL)->level, BRICK_CHECK_HIGH);
  brick_check_report_free(r);
  put(h, "/proc/sys/user/max_user_namespaces", "100\n");
  put(h, "/proc/sys/kernel/unprivileged_userns_clone", "0\n");
  r = run(h);
  must_not_find(r, "userns.disabled");
  must_find(r, "userns.unprivileged-off", NULL);
  brick_check_report_free(r);
}

static void test_cgroup_modes(void **state) {
  struct host *h = *state;
  put(h, "/proc/self/mountinfo", mountinfo_hybrid);
  put(h, "/sys/fs/cgroup/unified/cgroup.controllers", "");
  struct brick_check_report *r = run(h);
  const struct brick_check_finding *f = must_find(r, "cgroup.hybrid", NULL);
  assert_int_equal(f->level, BRICK_CHECK_WARN);
  assert_non_null(strstr(f->title, "/sys/fs/cgroup/unified"));
  assert_non_null(strstr(f->title, "memory"));
  must_not_find(r, "cgroup.controllers-missing");
  json_t *cg = json_object_get(r->facts, "cgroup");
  assert_string_equal(json_string_value(json_object_get(cg, "mode")), "hybrid");
  brick_check_report_free(r);

  put(h, "/proc/self/mountinfo",
      "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "31 22 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
  r = run(h);
  must_find(r, "cgroup.v1", NULL);
  must_find(r, "cgroup.controllers-missing", NULL);
  brick_check_report_free(r);

  put(h, "/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
  r = run(h);
  assert_int_equal(must_find(r, "cgroup.none", NULL)->level, BRICK_CHECK_HIGH);
  brick_check_report_free(r);

  put(h, "/proc/self/mountinfo", mountinfo_v2);
  put(h, "/sys/fs/cgroup/cgroup.controllers", "cpu io\n");
  r = run(h);
  must_find(r, "cgroup.v2", NULL);
  assert_non_null(strstr(must_find(r, "cgroup.controllers-missing", NULL)->title, "memory pids"));
  must_not_find(r, "cgroup.systemd-driver");
  assert_true(json_is_false(json_object_get(json_object_get(r->facts, "cgroup"), "systemd")));
  brick_check_report_free(r);

  /* Where systemd runs, the advice to use its driver appears. */
  put(h, "/run/systemd/system/.present", "");
  r = run(h);
  const struct brick_check_finding *sd = must_find(r, "cgroup.systemd-driver", NULL);
  assert_int_equal(sd->level, BRICK_CHECK_INFO);
  assert_non_null(strstr(sd->fix, "--systemd-cgroup"));
  assert_true(json_is_true(json_object_get(json_object_get(r->facts, "cgroup"), "systemd")));
  brick_check_report_free(r);
  del(h, "/run/systemd");
}

static void test_id_pool(void **state) {
  struct host *h = *state;
  put(h, "/etc/subuid", "alice:100000:65536\n");
  struct brick_check_report *r = run(h);
  must_find(r, "idpool.missing.subuid", "/etc/subuid");
  must_not_find(r, "idpool.missing.subgid");
  brick_check_report_free(r);

  put(h, "/etc/subuid", "containers:1000000:131072\n");
  r = run_with(h, 2);
  must_find(r, "idpool.ok.subuid", NULL);
  brick_check_report_free(r);
  r = run_with(h, 3);
  assert_non_null(strstr(must_find(r, "idpool.small.subuid", NULL)->title, "3 containers"));
  brick_check_report_free(r);

  put(h, "/etc/subuid", "containers:1000:65536\n");
  r = run(h);
  must_find(r, "idpool.overlap.subuid", NULL);
  brick_check_report_free(r);
}

static void test_seccomp_support(void **state) {
  struct host *h = *state;
  put(h, "/proc/sys/kernel/seccomp/actions_avail", "kill_thread trap allow\n");
  struct brick_check_report *r = run(h);
  assert_int_equal(must_find(r, "seccomp.no-filter", NULL)->level, BRICK_CHECK_HIGH);
  brick_check_report_free(r);

  put(h, "/proc/sys/kernel/seccomp/actions_avail", "kill_process kill_thread errno allow\n");
  fake_seccomp = 2;
  r = run(h);
  must_find(r, "seccomp.filter", NULL);
  must_find(r, "seccomp.no-user-notif", NULL);
  must_find(r, "seccomp.nested", NULL);
  brick_check_report_free(r);

  del(h, "/proc/sys/kernel/seccomp");
  put(h, "/proc/self/status", "Name:\tbrick\n");
  fake_seccomp = -1;
  r = run(h);
  assert_int_equal(must_find(r, "seccomp.unsupported", NULL)->level, BRICK_CHECK_CRITICAL);
  brick_check_report_free(r);
}

static void test_idmap_probe(void **state) {
  struct host *h = *state;
  fake_idmap = 0;
  struct brick_check_report *r = run(h);
  const struct brick_check_finding *f = must_find(r, "idmap.unsupported", NULL);
  assert_int_equal(f->level, BRICK_CHECK_WARN);
  assert_non_null(strstr(f->title, "6.12.0-test"));
  brick_check_report_free(r);
  fake_idmap = -1;
  r = run(h);
  assert_int_equal(must_find(r, "idmap.unknown", NULL)->level, BRICK_CHECK_INFO);
  brick_check_report_free(r);
}

static void test_kernel_and_lockdown(void **state) {
  struct host *h = *state;
  put(h, "/proc/sys/kernel/osrelease", "5.4.0-old\n");
  put(h, "/sys/kernel/security/lockdown", "[none] integrity confidentiality\n");
  struct brick_check_report *r = run(h);
  must_find(r, "kernel.old", NULL);
  must_find(r, "lockdown.none", NULL);
  brick_check_report_free(r);
  del(h, "/sys/kernel/security/lockdown");
  r = run(h);
  must_find(r, "lockdown.unknown", NULL);
  brick_check_report_free(r);
}

static void test_missing_namespace_kind(void **state) {
  struct host *h = *state;
  del(h, "/proc/self/ns/cgroup");
  struct brick_check_report *r = run(h);
  assert_non_null(strstr(must_find(r, "namespaces.missing", NULL)->title, "cgroup"));
  brick_check_report_free(r);
}

static void test_runtime_binary(void **state) {
  struct host *h = *state;
  if (geteuid() != 0)
    skip(); /* ownership checks need root-owned files */
  _cleanup_free_ char *bin = xasprintf("%s/usr/bin/brick", h->dir);
  _cleanup_free_ char *dir = xasprintf("%s/usr/bin", h->dir);
  assert_int_equal(chmod(bin, 0777), 0);
  struct brick_check_report *r = run(h);
  assert_int_equal(must_find(r, "runtime.writable", NULL)->level, BRICK_CHECK_CRITICAL);
  must_not_find(r, "runtime.protected");
  brick_check_report_free(r);
  assert_int_equal(chmod(bin, 0755), 0);
  assert_int_equal(chmod(dir, 0777), 0);
  r = run(h);
  must_find(r, "runtime.dir-writable", dir);
  brick_check_report_free(r);
  /* Sticky like /tmp: others cannot replace root's file. */
  assert_int_equal(chmod(dir, 01777), 0);
  r = run(h);
  must_not_find(r, "runtime.dir-writable");
  must_find(r, "runtime.protected", NULL);
  brick_check_report_free(r);
  assert_int_equal(chmod(dir, 0755), 0);
}

static void test_runtime_in_store(void **state) {
  struct host *h = *state;
  if (geteuid() != 0)
    skip();
  put(h, "/var/lib/brick/bin/brick", "x");
  _cleanup_free_ char *bin = xasprintf("%s/var/lib/brick/bin/brick", h->dir);
  _cleanup_free_ char *store = xasprintf("%s/var/lib/brick", h->dir);
  struct brick_host_opts o = {.root_dir = h->dir, .probes = &fake_probes,
                              .runtime_path = bin, .store_dir = store};
  struct brick_check_report *r = brick_check_host(&o, NULL);
  assert_non_null(r);
  must_find(r, "runtime.in-shared-dir", NULL);
  brick_check_report_free(r);
}

static void test_bad_root_dir(void **state) {
  (void)state;
  struct brick_host_opts o = {.root_dir = "/nonexistent/host", .probes = &fake_probes};
  brick_err err = {0};
  assert_null(brick_check_host(&o, &err));
  assert_non_null(strstr(brick_error_msg(&err), "/nonexistent/host"));
  brick_error_clear(&err);
}

/* This machine, with the real probes. Expectations are derived independently from
 * the live files so the test holds on any host, and pins SELinux-off on this one. */
static void test_real_host(void **state) {
  (void)state;
  brick_err err = {0};
  struct brick_check_report *r = brick_check_host(NULL, &err);
  if (!r)
    fprintf(stderr, "%s\n", brick_error_msg(&err));
  assert_non_null(r);
  if (access("/sys/fs/selinux/enforce", F_OK) != 0) {
    const struct brick_check_finding *f = must_find(r, "selinux.disabled", NULL);
    assert_int_equal(f->level, BRICK_CHECK_HIGH);
  }
  long abi = brick_host_probes_kernel.landlock_abi();
  assert_int_equal(json_integer_value(json_object_get(r->facts, "landlock_abi")), abi);
  if (abi >= 1)
    must_find(r, "landlock.abi", NULL);
  char *mi = NULL;
  assert_int_equal(brick_read_file("/proc/self/mountinfo", &mi, NULL, NULL), 0);
  bool v1 = strstr(mi, " - cgroup ") != NULL, v2 = strstr(mi, " - cgroup2 ") != NULL;
  free(mi);
  const char *mode = json_string_value(json_object_get(json_object_get(r->facts, "cgroup"), "mode"));
  assert_string_equal(mode, v1 && v2 ? "hybrid" : v1 ? "v1" : v2 ? "v2" : "none");
  brick_check_report_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_good_host, setup, teardown),
      cmocka_unit_test_setup_teardown(test_selinux_disabled, setup, teardown),
      cmocka_unit_test_setup_teardown(test_selinux_permissive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_selinux_without_container_policy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_mac_at_all, setup, teardown),
      cmocka_unit_test_setup_teardown(test_landlock_old_abi, setup, teardown),
      cmocka_unit_test_setup_teardown(test_userns_disabled, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cgroup_modes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_id_pool, setup, teardown),
      cmocka_unit_test_setup_teardown(test_seccomp_support, setup, teardown),
      cmocka_unit_test_setup_teardown(test_idmap_probe, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kernel_and_lockdown, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_namespace_kind, setup, teardown),
      cmocka_unit_test_setup_teardown(test_runtime_binary, setup, teardown),
      cmocka_unit_test_setup_teardown(test_runtime_in_store, setup, teardown),
      cmocka_unit_test(test_bad_root_dir),
      cmocka_unit_test(test_real_host),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
