/* cgroup logic that needs no privileges: mountinfo parsing, path resolution, the v2
 * conversions, the device eBPF generator (run through an interpreter of the emitted
 * instructions and compared with the rule model), and the resource writers against a
 * fake cgroup directory made of regular files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup/cgroup.h"
#include "cgroup/cgroup_internal.h"
#include "core/util.h"

/* ---- mountinfo ---- */

static const char hybrid_text[] =
    "22 1 0:21 / / rw,relatime - ext4 /dev/vda rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
    "41 22 0:31 / /mnt/mem\\040copy rw,relatime - cgroup cgroup rw,memory\n";

static void test_mountinfo_hybrid(void **state) {
  (void)state;
  struct brick_cgroup_mounts m;
  brick_err err = {0};
  assert_int_equal(cg_parse_mountinfo(hybrid_text, &m, &err), 0);
  assert_int_equal(m.mode, BRICK_CGROUP_HYBRID);
  assert_string_equal(m.unified, "/sys/fs/cgroup/unified");
  assert_int_equal(m.n_v1, 6);  /* the bind mount of memory is not a new hierarchy */
  const struct cg_v1_hierarchy *mem = cg_v1_find(&m, CG_MEMORY);
  assert_non_null(mem);
  assert_string_equal(mem->mountpoint, "/sys/fs/cgroup/memory");
  assert_non_null(cg_v1_find(&m, CG_NAME_SYSTEMD));
  assert_null(cg_v1_find(&m, CG_PIDS));
  char *dir = cg_dir_for(&m, CG_CPUSET, "/brick/x", NULL);
  assert_string_equal(dir, "/sys/fs/cgroup/cpuset/brick/x");
  free(dir);
  assert_null(cg_dir_for(&m, CG_PIDS, "/brick/x", NULL));
  cg_mounts_free(&m);
}

static void test_mountinfo_v2_v1_none(void **state) {
  (void)state;
  struct brick_cgroup_mounts m;
  assert_int_equal(cg_parse_mountinfo(
      "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n", &m, NULL), 0);
  assert_int_equal(m.mode, BRICK_CGROUP_V2);
  assert_int_equal(m.n_v1, 0);
  cg_mounts_free(&m);

  /* v2 plus only the named systemd hierarchy is still v2 */
  assert_int_equal(cg_parse_mountinfo(
      "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
      "26 1 0:23 / /run/sd rw - cgroup cgroup rw,name=systemd\n", &m, NULL), 0);
  assert_int_equal(m.mode, BRICK_CGROUP_V2);
  cg_mounts_free(&m);

  assert_int_equal(cg_parse_mountinfo(
      "31 30 0:28 / /cg/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "32 30 0:29 / /cg/my\\040pids rw - cgroup cgroup rw,pids\n", &m, NULL), 0);
  assert_int_equal(m.mode, BRICK_CGROUP_V1);
  assert_null(m.unified);
  assert_ptr_equal(cg_v1_find(&m, CG_CPU), cg_v1_find(&m, CG_CPUACCT));
  assert_string_equal(cg_v1_find(&m, CG_PIDS)->mountpoint, "/cg/my pids");
  cg_mounts_free(&m);

  assert_int_equal(cg_parse_mountinfo("22 1 0:21 / / rw - ext4 /dev/vda rw\n", &m, NULL), 0);
  assert_int_equal(m.mode, BRICK_CGROUP_V2);
  assert_null(m.unified);
  cg_mounts_free(&m);
}

static void test_mountinfo_malformed(void **state) {
  (void)state;
  struct brick_cgroup_mounts m;
  brick_err err = {0};
  assert_int_equal(cg_parse_mountinfo("22 1 0:21 / / rw - ext4 /dev/vda rw\n"
                                      "31 30 0:28 - cgroup cgroup rw,cpu\n", &m, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "line 2"));
  brick_error_clear(&err);
}

static void test_host_detect(void **state) {
  (void)state;
  /* Whatever the host has, detection is stable and agrees with the parse. */
  enum brick_cgroup_mode a = brick_cgroup_detect(), b = brick_cgroup_detect();
  assert_int_equal(a, b);
  json_t *f = brick_cgroup_features();
  assert_non_null(f);
  assert_string_equal(json_string_value(json_object_get(f, "mode")), brick_cgroup_mode_name(a));
  assert_true(json_is_boolean(json_object_get(f, "systemd")));
  json_decref(f);
}

/* ---- paths ---- */

static void test_resolve_path(void **state) {
  (void)state;
  brick_err err = {0};
  char *p = brick_cgroup_resolve_path(NULL, "c1", false, &err);
  assert_string_equal(p, "/brick/c1");
  free(p);
  p = brick_cgroup_resolve_path("", "c1", false, &err);
  assert_string_equal(p, "/brick/c1");
  free(p);
  p = brick_cgroup_resolve_path("/machine//pods/./x/", "c1", false, &err);
  assert_string_equal(p, "/machine/pods/x");
  free(p);
  assert_null(brick_cgroup_resolve_path("/a/../../etc", "c1", false, &err));
  assert_non_null(strstr(brick_error_msg(&err), "\"..\""));
  brick_error_clear(&err);
  assert_null(brick_cgroup_resolve_path("/", "c1", false, &err));
  assert_non_null(strstr(brick_error_msg(&err), "root cgroup"));
  brick_error_clear(&err);
  assert_null(brick_cgroup_resolve_path(NULL, "../x", false, &err));
  brick_error_clear(&err);
  assert_null(brick_cgroup_resolve_path(NULL, "", false, &err));
  brick_error_clear(&err);

  /* relative: under the caller's own cgroup */
  struct brick_cgroup_mounts m;
  assert_int_equal(cg_parse_mountinfo(
      "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", &m, NULL), 0);
  cg_mounts_override(&m);
  char *self = cg_proc_cgroup(0, "", &err);
  assert_non_null(self);
  p = brick_cgroup_resolve_path("sub/c1", "c1", false, &err);
  assert_non_null(p);
  char *want = !strcmp(self, "/") ? xstrdup("/sub/c1") : xasprintf("%s/sub/c1", self);
  assert_string_equal(p, want);
  free(want);
  free(p);
  free(self);
  cg_mounts_override(NULL);
  cg_mounts_free(&m);
}

static void test_systemd_paths(void **state) {
  (void)state;
  brick_err err = {0};
  char *p = brick_cgroup_systemd_path("machine-pods.slice:brick:abc", "abc", &err);
  assert_string_equal(p, "/machine.slice/machine-pods.slice/brick-abc.scope");
  free(p);
  p = brick_cgroup_systemd_path(":libpod:x", "x", &err);
  assert_string_equal(p, "/system.slice/libpod-x.scope");
  free(p);
  p = brick_cgroup_systemd_path(NULL, "id9", &err);
  assert_string_equal(p, "/system.slice/brick-id9.scope");
  free(p);
  p = brick_cgroup_systemd_path("user.slice::user-foo.slice", "x", &err);
  assert_string_equal(p, "/user.slice/user-foo.slice");
  free(p);
  /* systemd places a slice by its name: foo-bar.slice would land in foo.slice */
  assert_null(brick_cgroup_systemd_path("user.slice::foo-bar.slice", "x", &err));
  assert_non_null(strstr(brick_error_msg(&err), "does not belong in user.slice"));
  brick_error_clear(&err);
  p = brick_cgroup_systemd_path("-.slice::foo.slice", "x", &err);
  assert_string_equal(p, "/foo.slice");
  free(p);
  assert_null(brick_cgroup_systemd_path("/brick/x", "x", &err));
  assert_non_null(strstr(brick_error_msg(&err), "slice:prefix:name"));
  brick_error_clear(&err);
  assert_null(brick_cgroup_systemd_path("bad:p:n", "x", &err));
  assert_non_null(strstr(brick_error_msg(&err), "not a slice name"));
  brick_error_clear(&err);
  assert_null(brick_cgroup_systemd_path("a--b.slice:p:n", "x", &err));
  brick_error_clear(&err);
  assert_null(brick_cgroup_systemd_path("system.slice:p:../x", "x", &err));
  brick_error_clear(&err);

  /* The driver is refused with a reason (no systemd here, or no sd-bus). */
  struct stat st;
  bool systemd_up = stat("/run/systemd/system", &st) == 0;
  assert_null(brick_cgroup_resolve_path("system.slice:brick:x", "x", true, &err));
  assert_non_null(strstr(brick_error_msg(&err), "--systemd-cgroup"));
  if (!systemd_up)
    assert_non_null(strstr(brick_error_msg(&err), "systemd is not running"));
  brick_error_clear(&err);
}

/* ---- v2 conversions ---- */

static void test_v2_conversions(void **state) {
  (void)state;
  assert_int_equal(cg_v2_cpu_weight(0), 0);
  assert_int_equal(cg_v2_cpu_weight(2), 1);
  assert_int_equal(cg_v2_cpu_weight(1024), 39);       /* runc: 1 + 1022*9999/262142 */
  assert_int_equal(cg_v2_cpu_weight(262144), 10000);
  assert_int_equal(cg_v2_cpu_weight(1), 1);           /* clamped */
  assert_int_equal(cg_v2_cpu_weight(1000000), 10000);
  assert_int_equal(cg_v2_io_weight(10), 1);
  assert_int_equal(cg_v2_io_weight(1000), 10000);
  assert_int_equal(cg_v2_io_weight(500), 1 + 490 * 9999 / 990);

  struct brick_resources r = {.present = true};
  char buf[64];
  brick_err err = {0};
  assert_int_equal(cg_v2_swap(&r, buf, sizeof(buf), &err), 1);   /* nothing given */
  r.memory.has_limit = true;
  r.memory.limit = -1;
  assert_int_equal(cg_v2_swap(&r, buf, sizeof(buf), &err), 0);
  assert_string_equal(buf, "max");
  r.memory.limit = 100 << 20;
  assert_int_equal(cg_v2_swap(&r, buf, sizeof(buf), &err), 1);
  r.memory.has_swap = true;
  r.memory.swap = 300 << 20;
  assert_int_equal(cg_v2_swap(&r, buf, sizeof(buf), &err), 0);
  assert_string_equal(buf, "209715200");
  r.memory.swap = -1;
  assert_int_equal(cg_v2_swap(&r, buf, sizeof(buf), &err), 0);
  assert_string_equal(buf, "max");
  r.memory.swap = 50 << 20;
  assert_int_equal(cg_v2_swap(&r, buf, sizeof(buf), &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "memory.swap"));
  brick_error_clear(&err);
  r.memory.has_limit = false;
  r.memory.swap = 300 << 20;
  assert_int_equal(cg_v2_swap(&r, buf, sizeof(buf), &err), -1);
  brick_error_clear(&err);

  struct brick_resources c = {.present = true};
  assert_false(cg_v2_cpu_max(&c, buf, sizeof(buf)));
  c.cpu.has_quota = true;
  c.cpu.quota = 50000;
  assert_true(cg_v2_cpu_max(&c, buf, sizeof(buf)));
  assert_string_equal(buf, "50000");
  c.cpu.has_period = true;
  c.cpu.period = 100000;
  assert_true(cg_v2_cpu_max(&c, buf, sizeof(buf)));
  assert_string_equal(buf, "50000 100000");
  c.cpu.quota = -1;
  assert_true(cg_v2_cpu_max(&c, buf, sizeof(buf)));
  assert_string_equal(buf, "max 100000");
}

static void test_v2_check_rejects_v1_only(void **state) {
  (void)state;
  brick_err err = {0};
  struct brick_resources r = {.present = true};
  assert_int_equal(cg_v2_check(&r, &err), 0);
  r.network.has_class_id = true;
  assert_int_equal(cg_v2_check(&r, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources.network"));
  brick_error_clear(&err);
  r.network.has_class_id = false;
  r.memory.has_swappiness = true;
  assert_int_equal(cg_v2_check(&r, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "swappiness"));
  brick_error_clear(&err);
  r.memory.has_swappiness = false;
  r.cpu.has_realtime_runtime = true;
  r.cpu.realtime_runtime = 1000;
  assert_int_equal(cg_v2_check(&r, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "realtime"));
  brick_error_clear(&err);
  r.cpu.has_realtime_runtime = false;
  r.memory.has_disable_oom_killer = true;
  r.memory.disable_oom_killer = true;
  assert_int_equal(cg_v2_check(&r, &err), -1);
  brick_error_clear(&err);
  r.memory.disable_oom_killer = false;
  assert_int_equal(cg_v2_check(&r, &err), 0);
}

/* ---- device eBPF: interpreter of what the generator emits ---- */

static int run_program(const struct bpf_insn *p, size_t n, uint32_t access_type, uint32_t major,
                       uint32_t minor) {
  uint64_t reg[11] = {0};
  struct bpf_cgroup_dev_ctx ctx = {.access_type = access_type, .major = major, .minor = minor};
  size_t steps = 0;
  for (size_t pc = 0; pc < n; pc++) {
    assert_true(++steps < 100000);
    const struct bpf_insn *i = &p[pc];
    uint8_t cls = BPF_CLASS(i->code);
    switch (i->code) {
    case BPF_LDX | BPF_MEM | BPF_W:
      assert_int_equal(i->src_reg, BPF_REG_1);
      assert_true(i->off >= 0 && (size_t)i->off + 4 <= sizeof(ctx));
      uint32_t v;
      memcpy(&v, (const char *)&ctx + i->off, 4);
      reg[i->dst_reg] = v;
      continue;
    case BPF_ALU | BPF_MOV | BPF_X:
      reg[i->dst_reg] = (uint32_t)reg[i->src_reg];
      continue;
    case BPF_ALU | BPF_AND | BPF_K:
      reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] & (uint32_t)i->imm;
      continue;
    case BPF_ALU | BPF_RSH | BPF_K:
      reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] >> i->imm;
      continue;
    case BPF_ALU64 | BPF_MOV | BPF_K:
      reg[i->dst_reg] = (uint64_t)(int64_t)i->imm;
      continue;
    case BPF_JMP | BPF_EXIT:
      return (int)reg[0];
    case BPF_JMP | BPF_JA:
      assert_true(i->off >= 0);
      pc += (size_t)i->off;
      continue;
    default:
      break;
    }
    assert_int_equal(cls, BPF_JMP32);
    bool eq = (uint32_t)reg[i->dst_reg] == (uint32_t)i->imm;
    bool take = false;
    if (BPF_OP(i->code) == BPF_JEQ)
      take = eq;
    else if (BPF_OP(i->code) == BPF_JNE)
      take = !eq;
    else
      fail_msg("unexpected opcode 0x%x", i->code);
    assert_int_equal(BPF_SRC(i->code), BPF_K);
    if (take) {
      assert_true(i->off >= 0);
      pc += (size_t)i->off;
      assert_true(pc + 1 < n);
    }
  }
  fail_msg("fell off the end of the program");
  return -1;
}

static uint32_t access_type(char type, const char *acc) {
  uint32_t a = 0;
  for (; *acc; acc++)
    a |= *acc == 'r' ? BPF_DEVCG_ACC_READ : *acc == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  return (a << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
}

/* The kernel's verifier refuses programs with unreachable instructions or jumps out of
 * range; check the same here so the generator cannot regress without a kernel. */
static void assert_all_reachable(const struct bpf_insn *p, size_t n) {
  bool *seen = xcalloc(n, 1);
  size_t *stack = xcalloc(2 * n + 2, sizeof(size_t)), sp = 0;
  stack[sp++] = 0;
  while (sp) {
    size_t pc = stack[--sp];
    assert_true(pc < n);
    if (seen[pc])
      continue;
    seen[pc] = true;
    uint8_t code = p[pc].code;
    if (code == (BPF_JMP | BPF_EXIT))
      continue;
    if (code == (BPF_JMP | BPF_JA)) {
      stack[sp++] = pc + 1 + (size_t)p[pc].off;
      continue;
    }
    if (BPF_CLASS(code) == BPF_JMP32)
      stack[sp++] = pc + 1 + (size_t)p[pc].off;
    stack[sp++] = pc + 1;
  }
  for (size_t i = 0; i < n; i++)
    if (!seen[i])
      fail_msg("instruction %zu of %zu is unreachable", i, n);
  free(seen);
  free(stack);
}

static bool prog_allows(const struct brick_device_rule *rules, size_t n, char type, int major,
                        int minor, const char *acc) {
  struct bpf_insn *p = NULL;
  size_t np = 0;
  brick_err err = {0};
  assert_int_equal(cg_bpf_devices_program(rules, n, &p, &np, &err), 0);
  assert_all_reachable(p, np);
  int r = run_program(p, np, access_type(type, acc), (uint32_t)major, (uint32_t)minor);
  free(p);
  return r == 1;
}

#define RULE(al, t, ma, mi, acc) {.allow = (al), .type = (t), .major = (ma), .minor = (mi), .access = acc}

static void test_bpf_decision_table(void **state) {
  (void)state;
  /* runc's default set, shortened: deny all, allow null/zero rwm, allow mknod of any c. */
  struct brick_device_rule rules[] = {
    RULE(false, 'a', -1, -1, "rwm"),
    RULE(true, 'c', 1, 3, "rwm"),
    RULE(true, 'c', 1, 5, "rw"),
    RULE(true, 'c', -1, -1, "m"),
    RULE(false, 'c', 1, 5, "w"),        /* later deny of one bit wins for that bit only */
    RULE(true, 'b', 8, -1, "r"),
  };
  size_t n = ARRAY_SIZE(rules);
  struct { char type; int maj, min; const char *acc; bool want; } cases[] = {
    {'c', 1, 3, "rw", true},  {'c', 1, 3, "m", true},   {'c', 1, 5, "r", true},
    {'c', 1, 5, "w", false},  {'c', 1, 5, "rw", false}, {'c', 1, 5, "m", true},
    {'c', 1, 7, "r", false},  {'c', 4, 1, "m", true},   {'c', 4, 1, "rm", false},
    {'b', 8, 0, "r", true},   {'b', 8, 0, "rw", false}, {'b', 8, 16, "r", true},
    {'b', 1, 3, "r", false},  {'b', 9, 0, "m", false},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    bool model = brick_cgroup_device_allowed(rules, n, cases[i].type, cases[i].maj,
                                             cases[i].min, cases[i].acc);
    bool prog = prog_allows(rules, n, cases[i].type, cases[i].maj, cases[i].min, cases[i].acc);
    if (model != cases[i].want || prog != cases[i].want)
      fail_msg("case %zu (%c %d:%d %s): want %d model %d program %d", i, cases[i].type,
               cases[i].maj, cases[i].min, cases[i].acc, cases[i].want, model, prog);
  }
  /* no rules at all: everything denied */
  assert_false(prog_allows(NULL, 0, 'c', 1, 3, "r"));
  assert_false(brick_cgroup_device_allowed(NULL, 0, 'c', 1, 3, "r"));
  /* "a" allow-all */
  struct brick_device_rule all[] = {RULE(true, 'a', -1, -1, "")};
  assert_true(prog_allows(all, 1, 'b', 259, 7, "rwm"));
}

static void test_bpf_random_against_model(void **state) {
  (void)state;
  srand(12345);
  static const char *const accs[] = {"r", "w", "m", "rw", "rm", "wm", "rwm", ""};
  for (int round = 0; round < 300; round++) {
    struct brick_device_rule rules[8];
    size_t n = (size_t)(rand() % 8);
    for (size_t i = 0; i < n; i++) {
      rules[i] = (struct brick_device_rule){
        .allow = rand() % 3 != 0, .type = "abc"[rand() % 3],
        .major = rand() % 3 == 0 ? -1 : rand() % 3, .minor = rand() % 3 == 0 ? -1 : rand() % 3,
      };
      strcpy(rules[i].access, accs[rand() % 8]);
    }
    for (int q = 0; q < 20; q++) {
      char type = rand() % 2 ? 'b' : 'c';
      int maj = rand() % 3, min = rand() % 3;
      const char *acc = accs[rand() % 7];
      bool model = brick_cgroup_device_allowed(rules, n, type, maj, min, acc);
      bool prog = prog_allows(rules, n, type, maj, min, acc);
      if (model != prog)
        fail_msg("round %d query %c %d:%d %s: model %d program %d", round, type, maj, min, acc,
                 model, prog);
    }
  }
}

static void test_bpf_rejects_bad_rules(void **state) {
  (void)state;
  struct bpf_insn *p = NULL;
  size_t n;
  brick_err err = {0};
  struct brick_device_rule bad[] = {RULE(true, 'u', 1, 3, "r")};
  assert_int_equal(cg_bpf_devices_program(bad, 1, &p, &n, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "devices[0].type"));
  brick_error_clear(&err);
  struct brick_device_rule bad2[] = {RULE(true, 'c', 1, 3, "rx")};
  assert_int_equal(cg_bpf_devices_program(bad2, 1, &p, &n, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "access"));
  brick_error_clear(&err);
}

/* ---- writers against a fake cgroup directory ---- */

static char *fake_dir(const char *const *files) {
  char tmpl[] = "/tmp/brick-cgfake-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  for (size_t i = 0; files[i]; i++) {
    char *p = xasprintf("%s/%s", tmpl, files[i]);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
    free(p);
  }
  return xstrdup(tmpl);
}

static char *slurp(const char *dir, const char *file) {
  char *out = NULL;
  brick_err err = {0};
  if (cg_read(dir, file, &out, &err) < 0) {
    brick_error_clear(&err);
    return NULL;
  }
  return out;
}

static void assert_file(const char *dir, const char *file, const char *want) {
  char *got = slurp(dir, file);
  if (!got || strcmp(got, want))
    fail_msg("%s: want \"%s\", got \"%s\"", file, want, got ? got : "(missing)");
  free(got);
}

static void test_v2_writers_fake(void **state) {
  (void)state;
  static const char *const files[] = {
    "cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems",
    "memory.max", "memory.swap.max", "memory.low", "memory.oom.group", "pids.max",
    "io.weight", "io.max", "hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "memory.high", NULL};
  char *dir = fake_dir(files);
  struct brick_kv unified[] = {{.key = "memory.high", .value = "1000000"}};
  struct brick_hugepage_limit huge[] = {{.page_size = "2MB", .limit = 4194304}};
  struct brick_throttle_device rbps[] = {{.major = 8, .minor = 0, .rate = 1048576}};
  struct brick_resources r = {.present = true};
  r.cpu.has_shares = true; r.cpu.shares = 1024;
  r.cpu.has_quota = true; r.cpu.quota = 20000;
  r.cpu.has_period = true; r.cpu.period = 100000;
  r.cpu.has_burst = true; r.cpu.burst = 1000;
  r.cpu.has_idle = true; r.cpu.idle = 1;
  r.cpu.cpus = "0"; r.cpu.mems = "0";
  r.memory.has_limit = true; r.memory.limit = 64 << 20;
  r.memory.has_swap = true; r.memory.swap = 96 << 20;
  r.memory.has_reservation = true; r.memory.reservation = 32 << 20;
  r.pids.has_limit = true; r.pids.limit = -1;
  r.block_io.has_weight = true; r.block_io.weight = 1000;
  r.block_io.throttle_read_bps = rbps; r.block_io.n_throttle_read_bps = 1;
  r.hugepage_limits = huge; r.n_hugepage_limits = 1;
  r.unified = unified; r.n_unified = 1;
  brick_err err = {0};
  if (cg_v2_apply(dir, &r, false, &err) < 0)
    fail_msg("%s", brick_error_msg(&err));
  assert_file(dir, "cpu.weight", "39");
  assert_file(dir, "cpu.max", "20000 100000");
  assert_file(dir, "cpu.max.burst", "1000");
  assert_file(dir, "cpu.idle", "1");
  assert_file(dir, "cpuset.cpus", "0");
  assert_file(dir, "memory.max", "67108864");
  assert_file(dir, "memory.swap.max", "33554432");
  assert_file(dir, "memory.low", "33554432");
  assert_file(dir, "memory.oom.group", "1");
  assert_file(dir, "pids.max", "max");
  assert_file(dir, "io.weight", "10000");
  assert_file(dir, "io.max", "8:0 rbps=1048576");
  assert_file(dir, "hugetlb.2MB.max", "4194304");
  assert_file(dir, "hugetlb.2MB.rsvd.max", "4194304");
  assert_file(dir, "memory.high", "1000000");

  /* checkBeforeUpdate: refuse a limit below memory.current */
  char *cur = xasprintf("%s/memory.current", dir);
  int fd = open(cur, O_WRONLY | O_CREAT, 0644);
  free(cur);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "50000000\n", 9), 9);
  close(fd);
  struct brick_resources u = {.present = true};
  u.memory.has_limit = true; u.memory.limit = 40000000;
  u.memory.has_check_before_update = true; u.memory.check_before_update = true;
  assert_int_equal(cg_v2_apply(dir, &u, true, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "below the current usage"));
  brick_error_clear(&err);
  assert_file(dir, "memory.max", "67108864");   /* untouched */
  u.memory.check_before_update = false;
  assert_int_equal(cg_v2_apply(dir, &u, true, &err), 0);
  assert_file(dir, "memory.max", "40000000");

  /* a controller that is not there is named */
  struct brick_resources rd = {.present = true};
  struct brick_rdma_limit rl[] = {{.device = "mlx5_0", .has_hca_handles = true, .hca_handles = 3}};
  rd.rdma = rl; rd.n_rdma = 1;
  assert_int_equal(cg_v2_apply(dir, &rd, false, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources.rdma"));
  brick_error_clear(&err);
  struct brick_hugepage_limit huge1g[] = {{.page_size = "1GB", .limit = 1}};
  struct brick_resources h = {.present = true, .hugepage_limits = huge1g, .n_hugepage_limits = 1};
  assert_int_equal(cg_v2_apply(dir, &h, false, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "hugepageLimits[0]"));
  brick_error_clear(&err);
  struct brick_hugepage_limit hbad[] = {{.page_size = "2XB", .limit = 1}};
  h.hugepage_limits = hbad;
  assert_int_equal(cg_v2_apply(dir, &h, false, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "pageSize"));
  brick_error_clear(&err);

  /* unified keys: no paths, no runtime-owned files, must exist */
  static const char *const badkeys[] = {"../memory.max", "a/b.c", "cgroup.procs", "nodot",
                                        "memory.nonexistent"};
  for (size_t i = 0; i < ARRAY_SIZE(badkeys); i++) {
    struct brick_kv kv[] = {{.key = (char *)badkeys[i], .value = "1"}};
    struct brick_resources k = {.present = true, .unified = kv, .n_unified = 1};
    assert_int_equal(cg_v2_apply(dir, &k, false, &err), -1);
    assert_non_null(strstr(brick_error_msg(&err), "linux.resources.unified"));
    brick_error_clear(&err);
  }
  brick_rm_rf(dir, NULL);
  free(dir);
}

static void test_v1_writers_fake(void **state) {
  (void)state;
  static const char *const files[] = {
    "cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us",
    "cpu.rt_period_us", "cpu.rt_runtime_us", "memory.limit_in_bytes",
    "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.swappiness",
    "memory.oom_control", "memory.kmem.tcp.limit_in_bytes", "pids.max", "net_cls.classid",
    "net_prio.ifpriomap", "blkio.weight", "blkio.throttle.write_iops_device", "cpuset.cpus",
    "cpuset.mems", NULL};
  char *dir = fake_dir(files);
  struct cg_v1_dirs d = {0};
  for (int c = 0; c < CG_CTRL_COUNT; c++)
    if (c != CG_HUGETLB && c != CG_RDMA)
      d.dir[c] = xstrdup(dir);
  struct brick_net_priority prio[] = {{.name = "eth0", .priority = 5}};
  struct brick_throttle_device wiops[] = {{.major = 253, .minor = 1, .rate = 300}};
  struct brick_resources r = {.present = true};
  r.cpu.has_shares = true; r.cpu.shares = 512;
  r.cpu.has_quota = true; r.cpu.quota = -1;
  r.cpu.has_period = true; r.cpu.period = 50000;
  r.cpu.has_realtime_period = true; r.cpu.realtime_period = 1000000;
  r.cpu.has_realtime_runtime = true; r.cpu.realtime_runtime = 0;
  r.cpu.cpus = "0-1";
  r.memory.has_limit = true; r.memory.limit = 1 << 26;
  r.memory.has_swap = true; r.memory.swap = -1;
  r.memory.has_reservation = true; r.memory.reservation = 1 << 25;
  r.memory.has_swappiness = true; r.memory.swappiness = 10;
  r.memory.has_disable_oom_killer = true; r.memory.disable_oom_killer = true;
  r.memory.has_kernel_tcp = true; r.memory.kernel_tcp = 1 << 20;
  r.pids.has_limit = true; r.pids.limit = 42;
  r.network.has_class_id = true; r.network.class_id = 0x100001;
  r.network.priorities = prio; r.network.n_priorities = 1;
  r.block_io.has_weight = true; r.block_io.weight = 300;
  r.block_io.throttle_write_iops = wiops; r.block_io.n_throttle_write_iops = 1;
  brick_err err = {0};
  if (cg_v1_apply(&d, &r, false, &err) < 0)
    fail_msg("%s", brick_error_msg(&err));
  assert_file(dir, "cpu.shares", "512");
  assert_file(dir, "cpu.cfs_period_us", "50000");
  assert_file(dir, "cpu.cfs_quota_us", "-1");
  assert_file(dir, "cpu.rt_period_us", "1000000");
  assert_file(dir, "cpu.rt_runtime_us", "0");
  assert_file(dir, "cpuset.cpus", "0-1");
  assert_file(dir, "memory.limit_in_bytes", "67108864");
  assert_file(dir, "memory.memsw.limit_in_bytes", "-1");
  assert_file(dir, "memory.soft_limit_in_bytes", "33554432");
  assert_file(dir, "memory.swappiness", "10");
  assert_file(dir, "memory.oom_control", "1");
  assert_file(dir, "memory.kmem.tcp.limit_in_bytes", "1048576");
  assert_file(dir, "pids.max", "42");
  assert_file(dir, "net_cls.classid", "1048577");
  assert_file(dir, "net_prio.ifpriomap", "eth0 5");
  assert_file(dir, "blkio.weight", "300");
  assert_file(dir, "blkio.throttle.write_iops_device", "253:1 300");

  /* missing controllers are named before anything is written */
  struct brick_hugepage_limit huge[] = {{.page_size = "2MB", .limit = 1}};
  struct brick_resources h = {.present = true, .hugepage_limits = huge, .n_hugepage_limits = 1};
  assert_int_equal(cg_v1_apply(&d, &h, false, &err), -1);
  assert_string_equal(brick_error_msg(&err),
                      "linux.resources.hugepageLimits: hugetlb controller not available");
  brick_error_clear(&err);
  free(d.dir[CG_PIDS]);
  d.dir[CG_PIDS] = NULL;
  struct brick_resources p = {.present = true};
  p.pids.has_limit = true;
  p.pids.limit = 0;
  assert_int_equal(cg_v1_apply(&d, &p, false, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources.pids: pids controller"));
  brick_error_clear(&err);
  cg_v1_dirs_free(&d);
  brick_rm_rf(dir, NULL);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mountinfo_hybrid),
    cmocka_unit_test(test_mountinfo_v2_v1_none),
    cmocka_unit_test(test_mountinfo_malformed),
    cmocka_unit_test(test_host_detect),
    cmocka_unit_test(test_resolve_path),
    cmocka_unit_test(test_systemd_paths),
    cmocka_unit_test(test_v2_conversions),
    cmocka_unit_test(test_v2_check_rejects_v1_only),
    cmocka_unit_test(test_bpf_decision_table),
    cmocka_unit_test(test_bpf_random_against_model),
    cmocka_unit_test(test_bpf_rejects_bad_rules),
    cmocka_unit_test(test_v2_writers_fake),
    cmocka_unit_test(test_v1_writers_fake),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
