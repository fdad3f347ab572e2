/* Valid documents: every section of a full config lands in the right struct fields,
 * and the configs runc and crun generate parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "core/util.h"
#include "spec/spec.h"

#ifndef FIXTURE_DIR
#error FIXTURE_DIR must be defined by the build
#endif

#define CAPBIT(n) (UINT64_C(1) << (n))

static struct brick_spec *load_fixture(const char *name) {
  _cleanup_free_ char *path = xasprintf("%s/%s", FIXTURE_DIR, name);
  brick_err err = {0};
  struct brick_spec *spec = brick_spec_load(path, &err);
  if (spec == NULL)
    fail_msg("%s: %s", name, brick_error_msg(&err));
  brick_error_clear(&err);
  return spec;
}

static void test_full_top_level(void **state) {
  (void)state;
  struct brick_spec *s = load_fixture("full.json");
  assert_string_equal(s->oci_version, "1.3.0");
  assert_string_equal(s->root.path, "rootfs");
  assert_true(s->root.readonly);
  assert_string_equal(s->hostname, "box");
  assert_string_equal(s->domainname, "example.org");
  assert_non_null(s->json);
  assert_true(json_is_object(json_object_get(s->json, "unknownTopLevel")));
  assert_int_equal(s->n_annotations, 2);
  assert_string_equal(brick_annotation(s, "org.example.key"), "value");
  assert_string_equal(brick_annotation(s, "io.brick.x"), "y");
  assert_null(brick_annotation(s, "missing"));
  assert_true(s->has_linux);
  brick_spec_free(s);
}

static void test_full_process(void **state) {
  (void)state;
  struct brick_spec *s = load_fixture("full.json");
  struct brick_process *p = s->process;
  assert_non_null(p);
  assert_true(p->terminal);
  assert_true(p->console_size.present);
  assert_int_equal(p->console_size.height, 24);
  assert_int_equal(p->console_size.width, 80);
  assert_int_equal(p->user.uid, 1000);
  assert_int_equal(p->user.gid, 1001);
  assert_true(p->user.has_umask);
  assert_int_equal(p->user.umask, 022);
  assert_int_equal(p->user.n_additional_gids, 3);
  assert_int_equal(p->user.additional_gids[0], 5);
  assert_int_equal(p->user.additional_gids[2], 4294967295u);
  assert_string_equal(p->user.username, "alice");
  assert_int_equal(brick_strv_len(p->args), 3);
  assert_string_equal(p->args[2], "echo hi");
  assert_string_equal(p->command_line, "sh.exe");
  assert_int_equal(brick_strv_len(p->env), 3);
  assert_string_equal(p->env[2], "EMPTY=");
  assert_string_equal(p->cwd, "/work");
  assert_true(p->caps.present);
  assert_int_equal(p->caps.bounding, CAPBIT(0) | CAPBIT(21) | CAPBIT(40));
  assert_int_equal(p->caps.effective, CAPBIT(5));
  assert_int_equal(p->caps.inheritable, 0);
  assert_int_equal(p->caps.permitted, CAPBIT(5) | CAPBIT(10));
  assert_int_equal(p->caps.ambient, CAPBIT(39));
  assert_int_equal(p->n_rlimits, 2);
  assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
  assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
  assert_int_equal(p->rlimits[0].soft, 1024);
  assert_int_equal(p->rlimits[0].hard, 4096);
  assert_int_equal(p->rlimits[1].resource, RLIMIT_CORE);
  assert_true(p->no_new_privileges);
  assert_true(p->has_oom_score_adj);
  assert_int_equal(p->oom_score_adj, -500);
  assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0:c1,c2");
  assert_string_equal(p->apparmor_profile, "brick-default");
  assert_true(p->io_priority.present);
  assert_int_equal(p->io_priority.class_, 2);
  assert_int_equal(p->io_priority.priority, 4);
  assert_true(p->scheduler.present);
  assert_int_equal(p->scheduler.policy, 6);
  assert_int_equal(p->scheduler.nice, -5);
  assert_int_equal(p->scheduler.priority, 3);
  assert_int_equal(p->scheduler.flags, 0x41);
  assert_int_equal(p->scheduler.runtime, 1000000);
  assert_int_equal(p->scheduler.deadline, 2000000);
  assert_int_equal(p->scheduler.period, 3000000);
  assert_string_equal(p->exec_cpu_affinity.initial, "0-3,7");
  assert_string_equal(p->exec_cpu_affinity.final, "1");
  brick_spec_free(s);
}

static void test_full_mounts(void **state) {
  (void)state;
  struct brick_spec *s = load_fixture("full.json");
  assert_int_equal(s->n_mounts, 5);
  struct brick_mount *m = &s->mounts[1];
  assert_string_equal(m->destination, "/dev");
  assert_string_equal(m->type, "tmpfs");
  assert_int_equal(m->flags, MS_NOSUID | MS_STRICTATIME);
  assert_string_equal(m->data, "mode=755,size=65536k");
  assert_int_equal(brick_strv_len(m->options), 4);

  m = &s->mounts[2];
  assert_int_equal(m->flags, MS_NOSUID | MS_NOEXEC);
  assert_string_equal(m->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");

  m = &s->mounts[3];
  assert_string_equal(m->destination, "/data"); /* relative, made absolute */
  assert_true(m->bind);
  assert_true(m->recursive_bind);
  assert_int_equal(m->flags, MS_BIND | MS_REC | MS_NODEV);
  assert_int_equal(m->propagation, MS_PRIVATE | MS_REC);
  assert_int_equal(m->rec_attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME);
  assert_int_equal(m->rec_attr_clr, MOUNT_ATTR__ATIME);
  assert_null(m->data);
  assert_int_equal(m->n_uid_mappings, 1);
  assert_int_equal(m->uid_mappings[0].host_id, 100000);
  assert_int_equal(m->uid_mappings[0].size, 65536);
  assert_int_equal(m->n_gid_mappings, 1);
  assert_int_equal(m->gid_mappings[0].host_id, 200000);

  m = &s->mounts[4];
  assert_null(m->type);
  assert_true(m->bind);
  assert_false(m->recursive_bind);
  assert_int_equal(m->flags, MS_BIND);
  assert_int_equal(m->clear_flags, MS_RDONLY); /* "ro" then "rw": the later wins */
  assert_true(m->idmap);
  assert_false(m->recursive_idmap);
  assert_true(m->copy_up);
  assert_string_equal(m->data, "nouuid");
  brick_spec_free(s);
}

static void test_full_hooks(void **state) {
  (void)state;
  struct brick_spec *s = load_fixture("full.json");
  const struct brick_hooks *h = &s->hooks;
  assert_int_equal(h->n[BRICK_HOOK_PRESTART], 1);
  assert_string_equal(h->list[BRICK_HOOK_PRESTART][0].path, "/usr/bin/pre");
  assert_string_equal(h->list[BRICK_HOOK_PRESTART][0].args[1], "a");
  assert_string_equal(h->list[BRICK_HOOK_PRESTART][0].env[0], "A=1");
  assert_true(h->list[BRICK_HOOK_PRESTART][0].has_timeout);
  assert_int_equal(h->list[BRICK_HOOK_PRESTART][0].timeout, 5);
  assert_int_equal(h->n[BRICK_HOOK_CREATE_RUNTIME], 2);
  assert_string_equal(h->list[BRICK_HOOK_CREATE_RUNTIME][1].path, "/bin/cr2");
  assert_false(h->list[BRICK_HOOK_CREATE_RUNTIME][1].has_timeout);
  assert_int_equal(h->n[BRICK_HOOK_CREATE_CONTAINER], 1);
  assert_int_equal(h->n[BRICK_HOOK_START_CONTAINER], 1);
  assert_int_equal(h->n[BRICK_HOOK_POSTSTART], 1);
  assert_int_equal(h->n[BRICK_HOOK_POSTSTOP], 1);
  assert_int_equal(h->list[BRICK_HOOK_POSTSTOP][0].timeout, 30);
  brick_spec_free(s);
}

static void test_full_linux(void **state) {
  (void)state;
  struct brick_spec *s = load_fixture("full.json");
  struct brick_linux *l = &s->linux_;
  for (int i = 0; i < BRICK_NS_COUNT; i++)
    assert_true(l->namespaces[i].present);
  assert_string_equal(l->namespaces[BRICK_NS_NETWORK].path, "/proc/1/ns/net");
  assert_null(l->namespaces[BRICK_NS_PID].path);
  assert_null(l->namespaces[BRICK_NS_TIME].path); /* "" means create */
  assert_int_equal(l->n_uid_mappings, 2);
  assert_int_equal(l->uid_mappings[1].container_id, 1);
  assert_int_equal(l->uid_mappings[1].host_id, 100000);
  assert_int_equal(l->uid_mappings[1].size, 65535);
  assert_int_equal(l->n_gid_mappings, 1);
  assert_true(l->time_offsets[0].present);
  assert_int_equal(l->time_offsets[0].secs, -3600);
  assert_int_equal(l->time_offsets[0].nanosecs, 500);
  assert_true(l->time_offsets[1].present);
  assert_int_equal(l->time_offsets[1].secs, 86400);
  assert_int_equal(l->n_devices, 2);
  assert_string_equal(l->devices[0].path, "/dev/fuse");
  assert_int_equal(l->devices[0].type, 'c');
  assert_int_equal(l->devices[0].major, 10);
  assert_int_equal(l->devices[0].minor, 229);
  assert_true(l->devices[0].has_file_mode);
  assert_int_equal(l->devices[0].file_mode, 0666);
  assert_true(l->devices[0].has_uid);
  assert_int_equal(l->devices[1].type, 'p');
  assert_false(l->devices[1].has_file_mode);
  assert_string_equal(l->cgroups_path, "/brick/box");
  assert_int_equal(l->n_sysctl, 2);
  assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
  assert_string_equal(l->sysctl[0].value, "1");
  assert_int_equal(l->rootfs_propagation, MS_SLAVE | MS_REC);
  assert_int_equal(brick_strv_len(l->masked_paths), 2);
  assert_string_equal(l->readonly_paths[0], "/proc/sys");
  assert_string_equal(l->mount_label, "system_u:object_r:container_file_t:s0");
  assert_true(l->personality.present);
  assert_string_equal(l->personality.domain, "LINUX32");
  assert_int_equal(brick_strv_len(l->personality.flags), 0);
  assert_true(l->has_intel_rdt);
  brick_spec_free(s);
}

static void test_full_resources(void **state) {
  (void)state;
  struct brick_spec *s = load_fixture("full.json");
  struct brick_resources *r = &s->linux_.resources;
  assert_true(r->present);
  assert_int_equal(r->n_devices, 3);
  assert_false(r->devices[0].allow);
  assert_int_equal(r->devices[0].type, 'a');
  assert_int_equal(r->devices[0].major, -1);
  assert_int_equal(r->devices[0].minor, -1);
  assert_string_equal(r->devices[0].access, "rwm");
  assert_true(r->devices[1].allow);
  assert_int_equal(r->devices[1].type, 'c');
  assert_int_equal(r->devices[1].major, 1);
  assert_int_equal(r->devices[1].minor, 3);
  assert_string_equal(r->devices[1].access, "rw");
  assert_int_equal(r->devices[2].type, 'b');
  assert_int_equal(r->devices[2].minor, -1);
  assert_string_equal(r->devices[2].access, "");

  assert_true(r->memory.has_limit);
  assert_int_equal(r->memory.limit, 536870912);
  assert_true(r->memory.has_reservation);
  assert_int_equal(r->memory.reservation, -1);
  assert_int_equal(r->memory.swap, -1);
  assert_true(r->memory.has_kernel);
  assert_int_equal(r->memory.kernel, 0);
  assert_int_equal(r->memory.kernel_tcp, 1024);
  assert_int_equal(r->memory.swappiness, 60);
  assert_true(r->memory.has_disable_oom_killer);
  assert_true(r->memory.disable_oom_killer);
  assert_true(r->memory.has_use_hierarchy);
  assert_false(r->memory.use_hierarchy);
  assert_true(r->memory.check_before_update);

  assert_int_equal(r->cpu.shares, 1024);
  assert_int_equal(r->cpu.quota, 50000);
  assert_int_equal(r->cpu.burst, 1000);
  assert_int_equal(r->cpu.period, 100000);
  assert_true(r->cpu.has_realtime_runtime);
  assert_int_equal(r->cpu.realtime_runtime, -1);
  assert_int_equal(r->cpu.realtime_period, 1000000);
  assert_string_equal(r->cpu.cpus, "0-1");
  assert_string_equal(r->cpu.mems, "0");
  assert_true(r->cpu.has_idle);
  assert_int_equal(r->cpu.idle, 1);

  assert_true(r->pids.has_limit);
  assert_int_equal(r->pids.limit, 100);

  assert_int_equal(r->block_io.weight, 500);
  assert_int_equal(r->block_io.leaf_weight, 300);
  assert_int_equal(r->block_io.n_weight_device, 1);
  assert_true(r->block_io.weight_device[0].has_weight);
  assert_false(r->block_io.weight_device[0].has_leaf_weight);
  assert_int_equal(r->block_io.weight_device[0].weight, 600);
  assert_int_equal(r->block_io.throttle_read_bps[0].rate, 1048576);
  assert_int_equal(r->block_io.throttle_write_bps[0].minor, 16);
  assert_int_equal(r->block_io.n_throttle_read_iops, 1);
  assert_int_equal(r->block_io.n_throttle_write_iops, 2);
  assert_int_equal(r->block_io.throttle_write_iops[1].rate, 300);

  assert_int_equal(r->n_hugepage_limits, 1);
  assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
  assert_int_equal(r->hugepage_limits[0].limit, 209715200);
  assert_true(r->network.has_class_id);
  assert_int_equal(r->network.class_id, 1048577);
  assert_string_equal(r->network.priorities[0].name, "eth0");
  assert_int_equal(r->network.priorities[0].priority, 500);
  assert_int_equal(r->n_rdma, 1);
  assert_string_equal(r->rdma[0].device, "mlx5_1");
  assert_int_equal(r->rdma[0].hca_handles, 3);
  assert_int_equal(r->rdma[0].hca_objects, 10000);
  assert_int_equal(r->n_unified, 2);
  assert_string_equal(r->unified[1].key, "io.weight");
  assert_string_equal(r->unified[1].value, "default 100");
  brick_spec_free(s);
}

static void test_full_seccomp(void **state) {
  (void)state;
  struct brick_spec *s = load_fixture("full.json");
  struct brick_seccomp *sc = &s->linux_.seccomp;
  assert_true(sc->present);
  assert_int_equal(sc->default_action, BRICK_SCMP_ERRNO);
  assert_true(sc->has_default_errno_ret);
  assert_int_equal(sc->default_errno_ret, 38);
  assert_int_equal(brick_strv_len(sc->architectures), 3);
  assert_string_equal(sc->architectures[1], "SCMP_ARCH_X86");
  assert_string_equal(sc->flags[1], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
  assert_string_equal(sc->listener_path, "/run/seccomp-agent.sock");
  assert_string_equal(sc->listener_metadata, "meta");
  assert_int_equal(sc->n_syscalls, 4);
  assert_string_equal(sc->syscalls[0].names[1], "write");
  assert_int_equal(sc->syscalls[0].action, BRICK_SCMP_ALLOW);
  assert_int_equal(sc->syscalls[1].n_args, 2);
  assert_int_equal(sc->syscalls[1].args[0].op, BRICK_SCMP_CMP_EQ);
  assert_int_equal(sc->syscalls[1].args[0].value, 8);
  assert_int_equal(sc->syscalls[1].args[1].index, 1);
  assert_int_equal(sc->syscalls[1].args[1].value_two, 4);
  assert_int_equal(sc->syscalls[1].args[1].op, BRICK_SCMP_CMP_MASKED_EQ);
  assert_int_equal(sc->syscalls[2].action, BRICK_SCMP_NOTIFY);
  assert_false(sc->syscalls[2].has_errno_ret);
  assert_true(sc->syscalls[3].has_errno_ret);
  assert_int_equal(sc->syscalls[3].errno_ret, 1);
  /* raw is the very object inside the document */
  assert_ptr_equal(sc->raw, json_object_get(json_object_get(s->json, "linux"), "seccomp"));
  brick_spec_free(s);
}

/* The configs `runc spec` and `crun spec` write (with and without --rootless). */
static void check_generated(const char *name, bool rootless, size_t n_uid_mappings) {
  struct brick_spec *s = load_fixture(name);
  assert_non_null(s->process);
  assert_string_equal(s->process->args[0], "sh");
  assert_string_equal(s->process->cwd, "/");
  assert_true(s->process->no_new_privileges);
  uint64_t want = CAPBIT(29) | CAPBIT(5) | CAPBIT(10);
  assert_int_equal(s->process->caps.bounding, want);
  assert_int_equal(s->process->caps.effective, want);
  assert_int_equal(s->process->n_rlimits, 1);
  assert_int_equal(s->process->rlimits[0].resource, RLIMIT_NOFILE);
  assert_string_equal(s->root.path, "rootfs");
  assert_true(s->n_mounts >= 6);
  assert_string_equal(s->mounts[0].destination, "/proc");
  assert_true(s->linux_.namespaces[BRICK_NS_PID].present);
  assert_true(s->linux_.namespaces[BRICK_NS_MOUNT].present);
  assert_int_equal(s->linux_.namespaces[BRICK_NS_USER].present, rootless);
  /* crun leaves the mappings for the runtime to fill in from the invoking user. */
  assert_int_equal(s->linux_.n_uid_mappings, n_uid_mappings);
  if (n_uid_mappings)
    assert_int_equal(s->linux_.uid_mappings[0].size, 1);
  assert_true(brick_strv_len(s->linux_.masked_paths) > 3);
  assert_true(brick_strv_len(s->linux_.readonly_paths) > 3);
  for (size_t i = 0; i < s->n_mounts; i++)
    if (strcmp(s->mounts[i].destination, "/sys") == 0)
      assert_true(s->mounts[i].flags & MS_RDONLY || s->mounts[i].bind);
  brick_spec_free(s);
}

static void test_runc_spec(void **state) {
  (void)state;
  check_generated("runc-spec.json", false, 0);
}
static void test_runc_spec_rootless(void **state) {
  (void)state;
  check_generated("runc-spec-rootless.json", true, 1);
}
static void test_crun_spec(void **state) {
  (void)state;
  check_generated("crun-spec.json", false, 0);
}
static void test_crun_spec_rootless(void **state) {
  (void)state;
  check_generated("crun-spec-rootless.json", true, 0);
}

static void test_minimal_no_process(void **state) {
  (void)state;
  brick_err err = {0};
  json_error_t jerr;
  _cleanup_json_ json_t *doc =
      json_loads("{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"/r\"}}", 0, &jerr);
  struct brick_spec *s = brick_spec_parse(doc, "config.json", &err);
  assert_non_null(s);
  assert_null(s->process);
  assert_false(s->has_linux);
  assert_false(s->linux_.resources.present);
  assert_false(s->linux_.seccomp.present);
  assert_int_equal(s->linux_.rootfs_propagation, 0);
  /* the spec holds its own reference */
  assert_int_equal(doc->refcount, 2);
  brick_spec_free(s);
  assert_int_equal(doc->refcount, 1);
}

static void test_nulls_are_absent(void **state) {
  (void)state;
  brick_err err = {0};
  json_error_t jerr;
  _cleanup_json_ json_t *doc = json_loads(
      "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\",\"readonly\":null},\"hostname\":null,"
      "\"mounts\":null,\"process\":{\"args\":[\"a\"],\"cwd\":\"/\",\"env\":null,"
      "\"rlimits\":null,\"oomScoreAdj\":null},\"linux\":{\"namespaces\":null,"
      "\"resources\":{\"memory\":{\"limit\":null}}}}",
      0, &jerr);
  assert_non_null(doc);
  struct brick_spec *s = brick_spec_parse(doc, "config.json", &err);
  if (!s)
    fail_msg("%s", brick_error_msg(&err));
  assert_null(s->hostname);
  assert_false(s->process->has_oom_score_adj);
  assert_false(s->linux_.resources.memory.has_limit);
  brick_spec_free(s);
}

static void test_process_parse(void **state) {
  (void)state;
  brick_err err = {0};
  json_error_t jerr;
  _cleanup_json_ json_t *obj = json_loads(
      "{\"args\":[\"ls\",\"-l\"],\"cwd\":\"/tmp\",\"env\":[\"A=B\"],"
      "\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\"]},\"user\":{\"uid\":7,\"gid\":8}}",
      0, &jerr);
  struct brick_process *p = brick_process_parse(obj, "process.json", &err);
  assert_non_null(p);
  assert_string_equal(p->args[1], "-l");
  assert_int_equal(p->user.uid, 7);
  assert_int_equal(p->caps.bounding, CAPBIT(21));
  brick_process_free(p);
}

static void test_mount_option_table(void **state) {
  (void)state;
  static const struct {
    const char *opt;
    unsigned long flags, clear, prop;
    uint64_t aset, aclr;
  } cases[] = {
      {"defaults", 0, 0, 0, 0, 0},
      {"ro", MS_RDONLY, 0, 0, 0, 0},
      {"rw", 0, MS_RDONLY, 0, 0, 0},
      {"suid", 0, MS_NOSUID, 0, 0, 0},
      {"nodev", MS_NODEV, 0, 0, 0, 0},
      {"dev", 0, MS_NODEV, 0, 0, 0},
      {"noexec", MS_NOEXEC, 0, 0, 0, 0},
      {"exec", 0, MS_NOEXEC, 0, 0, 0},
      {"sync", MS_SYNCHRONOUS, 0, 0, 0, 0},
      {"async", 0, MS_SYNCHRONOUS, 0, 0, 0},
      {"dirsync", MS_DIRSYNC, 0, 0, 0, 0},
      {"remount", MS_REMOUNT, 0, 0, 0, 0},
      {"mand", MS_MANDLOCK, 0, 0, 0, 0},
      {"nomand", 0, MS_MANDLOCK, 0, 0, 0},
      {"noatime", MS_NOATIME, 0, 0, 0, 0},
      {"atime", 0, MS_NOATIME, 0, 0, 0},
      {"nodiratime", MS_NODIRATIME, 0, 0, 0, 0},
      {"diratime", 0, MS_NODIRATIME, 0, 0, 0},
      {"relatime", MS_RELATIME, 0, 0, 0, 0},
      {"norelatime", 0, MS_RELATIME, 0, 0, 0},
      {"strictatime", MS_STRICTATIME, 0, 0, 0, 0},
      {"nostrictatime", 0, MS_STRICTATIME, 0, 0, 0},
      {"lazytime", MS_LAZYTIME, 0, 0, 0, 0},
      {"nolazytime", 0, MS_LAZYTIME, 0, 0, 0},
      {"silent", MS_SILENT, 0, 0, 0, 0},
      {"loud", 0, MS_SILENT, 0, 0, 0},
      {"nosymfollow", MS_NOSYMFOLLOW, 0, 0, 0, 0},
      {"symfollow", 0, MS_NOSYMFOLLOW, 0, 0, 0},
      {"bind", MS_BIND, 0, 0, 0, 0},
      {"rbind", MS_BIND | MS_REC, 0, 0, 0, 0},
      {"shared", 0, 0, MS_SHARED, 0, 0},
      {"rshared", 0, 0, MS_SHARED | MS_REC, 0, 0},
      {"slave", 0, 0, MS_SLAVE, 0, 0},
      {"rslave", 0, 0, MS_SLAVE | MS_REC, 0, 0},
      {"private", 0, 0, MS_PRIVATE, 0, 0},
      {"rprivate", 0, 0, MS_PRIVATE | MS_REC, 0, 0},
      {"unbindable", 0, 0, MS_UNBINDABLE, 0, 0},
      {"runbindable", 0, 0, MS_UNBINDABLE | MS_REC, 0, 0},
      {"rro", 0, 0, 0, MOUNT_ATTR_RDONLY, 0},
      {"rrw", 0, 0, 0, 0, MOUNT_ATTR_RDONLY},
      {"rnosuid", 0, 0, 0, MOUNT_ATTR_NOSUID, 0},
      {"rsuid", 0, 0, 0, 0, MOUNT_ATTR_NOSUID},
      {"rnodev", 0, 0, 0, MOUNT_ATTR_NODEV, 0},
      {"rdev", 0, 0, 0, 0, MOUNT_ATTR_NODEV},
      {"rnoexec", 0, 0, 0, MOUNT_ATTR_NOEXEC, 0},
      {"rexec", 0, 0, 0, 0, MOUNT_ATTR_NOEXEC},
      {"rnodiratime", 0, 0, 0, MOUNT_ATTR_NODIRATIME, 0},
      {"rdiratime", 0, 0, 0, 0, MOUNT_ATTR_NODIRATIME},
      {"rrelatime", 0, 0, 0, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
      {"rnorelatime", 0, 0, 0, 0, MOUNT_ATTR__ATIME},
      {"rnoatime", 0, 0, 0, MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
      {"ratime", 0, 0, 0, 0, MOUNT_ATTR__ATIME},
      {"rstrictatime", 0, 0, 0, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
      {"rnostrictatime", 0, 0, 0, 0, MOUNT_ATTR__ATIME},
      {"rnosymfollow", 0, 0, 0, MOUNT_ATTR_NOSYMFOLLOW, 0},
      {"rsymfollow", 0, 0, 0, 0, MOUNT_ATTR_NOSYMFOLLOW},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    _cleanup_free_ char *text = xasprintf(
        "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/m\","
        "\"type\":\"tmpfs\",\"options\":[\"%s\"]}]}",
        cases[i].opt);
    json_error_t jerr;
    _cleanup_json_ json_t *doc = json_loads(text, 0, &jerr);
    brick_err err = {0};
    struct brick_spec *s = brick_spec_parse(doc, "config.json", &err);
    if (!s)
      fail_msg("%s: %s", cases[i].opt, brick_error_msg(&err));
    const struct brick_mount *m = &s->mounts[0];
    if (m->flags != cases[i].flags || m->clear_flags != cases[i].clear ||
        m->propagation != cases[i].prop || m->rec_attr_set != cases[i].aset ||
        m->rec_attr_clr != cases[i].aclr || m->data != NULL)
      fail_msg("option %s resolved to flags=%#lx clear=%#lx prop=%#lx set=%#llx clr=%#llx",
               cases[i].opt, m->flags, m->clear_flags, m->propagation,
               (unsigned long long)m->rec_attr_set, (unsigned long long)m->rec_attr_clr);
    brick_spec_free(s);
  }
}

static void test_mount_option_order(void **state) {
  (void)state;
  json_error_t jerr;
  _cleanup_json_ json_t *doc = json_loads(
      "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"mounts\":["
      "{\"destination\":\"/a\",\"type\":\"tmpfs\",\"options\":[\"rw\",\"ro\",\"rrw\",\"rro\","
      "\"rnoatime\",\"rstrictatime\",\"shared\",\"rslave\"]},"
      "{\"destination\":\"/b\",\"type\":\"overlay\",\"options\":[\"lowerdir=/l\",\"upperdir=/u\","
      "\"context=\\\"system_u:object_r:x:s0\\\"\"]},"
      "{\"destination\":\"/c\",\"source\":\"/s\",\"options\":[\"ridmap\",\"copy-symlink\"]}]}",
      0, &jerr);
  assert_non_null(doc);
  brick_err err = {0};
  struct brick_spec *s = brick_spec_parse(doc, "config.json", &err);
  if (!s)
    fail_msg("%s", brick_error_msg(&err));
  assert_int_equal(s->mounts[0].flags, MS_RDONLY);
  assert_int_equal(s->mounts[0].clear_flags, 0);
  assert_int_equal(s->mounts[0].rec_attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_STRICTATIME);
  assert_int_equal(s->mounts[0].rec_attr_clr, MOUNT_ATTR__ATIME);
  assert_int_equal(s->mounts[0].propagation, MS_SLAVE | MS_REC);
  assert_string_equal(s->mounts[1].data,
                      "lowerdir=/l,upperdir=/u,context=\"system_u:object_r:x:s0\"");
  assert_int_equal(s->mounts[1].flags, 0);
  assert_true(s->mounts[2].idmap);
  assert_true(s->mounts[2].recursive_idmap);
  assert_true(s->mounts[2].copy_up);
  assert_false(s->mounts[2].bind);
  brick_spec_free(s);
}

/* The typo check ("nosuidd") must not catch real filesystem options that happen to
 * look like flags; everything here goes through to the kernel as data. */
static void test_fs_options_pass_through(void **state) {
  (void)state;
  static const char *const fs_opts[] = {
      "nouuid", "discard", "nodiscard", "noacl", "acl", "user_xattr", "nouser_xattr",
      "nobarrier", "inode64", "noswap", "newinstance", "userxattr", "volatile",
      "metacopy=on", "redirect_dir=on", "index=off", "xino=auto", "huge=always", "size=1g",
      "norecovery", "errors=remount-ro", "commit=5", "data=ordered", "noload", "nodelalloc",
      "journal_checksum", "grpid", "nogrpid", "bsdgroups", "sysvgroups", "quota", "noquota",
      "usrquota", "grpquota", "prjquota", "dax", "compress=zstd", "ssd", "nossd",
      "space_cache=v2", "subvol=@", "autodefrag", "noautodefrag", "flush", "utf8",
      "hidepid=2", "subset=pid", "nr_inodes=0", "nsdelegate", "memory_recursiveprot",
      "soft", "hard", "nolock", "noac", "actimeo=0", "sloppy", "nosharecache", "cto",
      "nocto", "fsc", "nofsc", "context=\"system_u:object_r:svirt_sandbox_file_t:s0\"",
  };
  for (size_t i = 0; i < ARRAY_SIZE(fs_opts); i++) {
    _cleanup_json_ json_t *doc =
        json_pack("{s:s, s:{s:s}, s:[{s:s, s:s, s:[s]}]}", "ociVersion", "1.0.0", "root", "path", "r",
                  "mounts", "destination", "/m", "type", "x", "options", fs_opts[i]);
    assert_non_null(doc);
    brick_err err = {0};
    struct brick_spec *s = brick_spec_parse(doc, "config.json", &err);
    if (!s)
      fail_msg("%s: %s", fs_opts[i], brick_error_msg(&err));
    assert_string_equal(s->mounts[0].data, fs_opts[i]);
    assert_int_equal(s->mounts[0].flags, 0);
    brick_spec_free(s);
  }
}

static void test_bind_type_means_bind(void **state) {
  (void)state;
  json_error_t jerr;
  _cleanup_json_ json_t *doc = json_loads(
      "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"mounts\":["
      "{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/s\",\"options\":[\"ro\"]},"
      "{\"destination\":\"/b\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]}",
      0, &jerr);
  brick_err err = {0};
  struct brick_spec *s = brick_spec_parse(doc, "config.json", &err);
  assert_non_null(s);
  assert_true(s->mounts[0].bind);
  assert_false(s->mounts[0].recursive_bind);
  assert_int_equal(s->mounts[0].flags, MS_BIND | MS_RDONLY);
  assert_false(s->mounts[1].bind);
  assert_int_equal(s->mounts[1].flags, 0);
  assert_null(s->mounts[1].options);
  brick_spec_free(s);
}

static void test_name_tables(void **state) {
  (void)state;
  assert_int_equal(brick_cap_from_name("CAP_CHOWN"), 0);
  assert_int_equal(brick_cap_from_name("CAP_SYS_ADMIN"), 21);
  assert_int_equal(brick_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
  assert_int_equal(brick_cap_from_name("CAP_NOPE"), -1);
  assert_int_equal(brick_cap_from_name("cap_sys_admin"), -1);
  assert_int_equal(brick_cap_from_name("CAP_"), -1);
  assert_int_equal(brick_cap_from_name("21"), -1);
  assert_int_equal(brick_cap_from_name(NULL), -1);
  assert_int_equal(brick_cap_last(), 40);
  for (int c = 0; c <= brick_cap_last(); c++)
    assert_int_equal(brick_cap_from_name(brick_cap_name(c)), c);
  assert_null(brick_cap_name(-1));
  assert_null(brick_cap_name(41));
  assert_string_equal(brick_cap_name(39), "CAP_BPF");

  static const char *const ns[] = {"pid", "network", "mount", "ipc",
                                   "uts", "user",    "cgroup", "time"};
  static const int flags[] = {0x20000000, 0x40000000, 0x00020000, 0x08000000,
                              0x04000000, 0x10000000, 0x02000000, 0x00000080};
  for (int i = 0; i < BRICK_NS_COUNT; i++) {
    assert_string_equal(brick_ns_name((enum brick_ns_type)i), ns[i]);
    assert_int_equal(brick_ns_clone_flag((enum brick_ns_type)i), flags[i]);
  }
  assert_null(brick_ns_name(BRICK_NS_COUNT));
  assert_int_equal(brick_ns_clone_flag(BRICK_NS_COUNT), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_top_level),    cmocka_unit_test(test_full_process),
      cmocka_unit_test(test_full_mounts),       cmocka_unit_test(test_full_hooks),
      cmocka_unit_test(test_full_linux),        cmocka_unit_test(test_full_resources),
      cmocka_unit_test(test_full_seccomp),      cmocka_unit_test(test_runc_spec),
      cmocka_unit_test(test_runc_spec_rootless), cmocka_unit_test(test_crun_spec),
      cmocka_unit_test(test_crun_spec_rootless), cmocka_unit_test(test_minimal_no_process),
      cmocka_unit_test(test_nulls_are_absent),  cmocka_unit_test(test_process_parse),
      cmocka_unit_test(test_mount_option_table), cmocka_unit_test(test_mount_option_order),
      cmocka_unit_test(test_fs_options_pass_through),
      cmocka_unit_test(test_bind_type_means_bind),
      cmocka_unit_test(test_name_tables),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
