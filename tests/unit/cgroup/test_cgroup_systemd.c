/* The systemd cgroup driver's bus-free part: unit and slice names from a cgroup path,
 * cpuset lists as AllowedCPUs bitmasks, device rules as DevicePolicy + DeviceAllow, and
 * the resources as unit properties (v2 names and legacy names). No bus, no cgroupfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "cgroup/cgroup_internal.h"
#include "core/util.h"

/* ---- helpers ---- */

static const struct cg_sd_prop *need(const struct cg_sd_props *p, const char *name,
                                     const char *sig) {
  const struct cg_sd_prop *x = cg_sd_props_find(p, name);
  if (!x)
    fail_msg("property %s missing", name);
  assert_string_equal(x->sig, sig);
  return x;
}

static void need_u64(const struct cg_sd_props *p, const char *name, uint64_t v) {
  assert_int_equal(need(p, name, "t")->u64, v);
}

static void need_str(const struct cg_sd_props *p, const char *name, const char *v) {
  assert_string_equal(need(p, name, "s")->str, v);
}

static void need_absent(const struct cg_sd_props *p, const char *name) {
  if (cg_sd_props_find(p, name))
    fail_msg("property %s should be absent", name);
}

/* pairs must be exactly the NULL-terminated list want (path, access, ...). */
static void need_pairs(char **pairs, const char *const *want) {
  size_t n = 0;
  for (; want[n]; n++) {
    assert_non_null(pairs);
    assert_non_null(pairs[n]);
    assert_string_equal(pairs[n], want[n]);
  }
  assert_int_equal(n % 2, 0);
  if (n)
    assert_null(pairs[n]);
  else
    assert_null(pairs);
}

/* Every prop has one of the signatures the bus code knows, and the payload that goes
 * with it. */
static void check_sigs(const struct cg_sd_props *p) {
  for (size_t i = 0; i < p->n; i++) {
    const struct cg_sd_prop *x = &p->v[i];
    assert_non_null(x->name);
    assert_non_null(x->sig);
    if (!strcmp(x->sig, "s"))
      assert_non_null(x->str);
    else if (!strcmp(x->sig, "ay"))
      assert_true(x->n_bytes > 0 && x->bytes);
    else if (!strcmp(x->sig, "a(ss)"))
      assert_int_equal(x->pairs ? brick_strv_len(x->pairs) % 2 : 0, 0);
    else if (strcmp(x->sig, "t") && strcmp(x->sig, "b") && strcmp(x->sig, "au"))
      fail_msg("%s: unexpected signature %s", x->name, x->sig);
    for (size_t j = 0; j < i; j++)
      if (!strcmp(p->v[j].name, x->name))
        fail_msg("property %s given twice", x->name);
  }
}

static struct brick_resources res0(void) {
  return (struct brick_resources){.present = true};
}

static int props(const struct brick_resources *r, bool v2,
                 struct cg_sd_props *out, brick_err *err) {
  *out = (struct cg_sd_props){0};
  int ret = cg_sd_resource_props(r, v2, out, err);
  check_sigs(out);
  return ret;
}

/* ---- unit and slice names ---- */

static void unit_of_ok(const char *path, const char *unit, const char *slice) {
  char *u = NULL, *s = NULL;
  assert_int_equal(cg_sd_unit_of(path, &u, &s), 0);
  assert_string_equal(u, unit);
  assert_string_equal(s, slice);
  free(u);
  free(s);
}

static void test_unit_of(void **state) {
  (void)state;
  unit_of_ok("/system.slice/brick-x.scope", "brick-x.scope", "system.slice");
  unit_of_ok("/machine.slice/machine-a.slice/x.scope", "x.scope", "machine-a.slice");
  unit_of_ok("/x.scope", "x.scope", "-.slice");
  unit_of_ok("/a.slice/a-b.slice/a-b-c.slice", "a-b-c.slice", "a-b.slice");
  char *u = NULL, *s = NULL;
  assert_int_equal(cg_sd_unit_of("", &u, &s), -1);
  assert_int_equal(cg_sd_unit_of("/", &u, &s), -1);
  assert_int_equal(cg_sd_unit_of("/system.slice/", &u, &s), -1);
  assert_null(u);
  assert_null(s);
}

/* ---- cpuset masks ---- */

static void mask_ok(const char *list, const uint8_t *want, size_t n_want) {
  uint8_t *b = (uint8_t *)"sentinel";
  size_t n = 99;
  brick_err err = {0};
  assert_int_equal(cg_sd_cpuset_mask(list, "x", &b, &n, &err), 0);
  assert_null(err.msg);
  assert_int_equal(n, n_want);
  assert_non_null(b);
  assert_memory_equal(b, want, n_want);
  free(b);
}

static void test_cpuset_mask_ok(void **state) {
  (void)state;
  mask_ok("0-3,7", (const uint8_t[]){0x8f}, 1);
  mask_ok("8", (const uint8_t[]){0x00, 0x01}, 2);
  mask_ok("0,0", (const uint8_t[]){0x01}, 1);
  mask_ok("0-1\n", (const uint8_t[]){0x03}, 1);
  mask_ok("7,0", (const uint8_t[]){0x81}, 1);
  mask_ok("15,1", (const uint8_t[]){0x02, 0x80}, 2);     /* grows after a smaller byte */
  mask_ok("1,15", (const uint8_t[]){0x02, 0x80}, 2);     /* grows, new byte zeroed */
  mask_ok("3-3", (const uint8_t[]){0x08}, 1);
  mask_ok("6-9", (const uint8_t[]){0xc0, 0x03}, 2);
  uint8_t top[1024] = {0};
  top[1023] = 0x80;
  mask_ok("8191", top, sizeof top);                      /* the highest accepted */
}

static void test_cpuset_mask_errors(void **state) {
  (void)state;
  static const char *const bad[] = {
    "", "a", "3-1", "1,", "1-", "99999", "8192", "0-8192", "1,,2", "1;2", "1\n2", "\n",
    ",1", "-1", "1-2-3", "0-3,x",
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    uint8_t *b = (uint8_t *)"sentinel";
    size_t n = 99;
    brick_err err = {0};
    assert_int_equal(cg_sd_cpuset_mask(bad[i], "linux.resources.cpu.mems", &b, &n, &err), -1);
    /* Nothing left allocated (ASan's leak check runs this too) and the outputs reset. */
    assert_null(b);
    assert_int_equal(n, 0);
    const char *msg = brick_error_msg(&err);
    if (strncmp(msg, "linux.resources.cpu.mems: ", 26))
      fail_msg("\"%s\": message does not name the field: %s", bad[i], msg);
    assert_non_null(strstr(msg, "CPU/node list"));
    brick_error_clear(&err);
  }
  /* The list itself is quoted (after bytes were already allocated for "0-3"). */
  uint8_t *b = NULL;
  size_t n = 0;
  brick_err err = {0};
  assert_int_equal(cg_sd_cpuset_mask("0-3,99999", "what", &b, &n, &err), -1);
  assert_string_equal(brick_error_msg(&err),
                      "what: \"0-3,99999\" is not a CPU/node list (\"0-3,7\")");
  assert_null(b);
  brick_error_clear(&err);
  /* NULL err is allowed */
  assert_int_equal(cg_sd_cpuset_mask("zz", "what", &b, &n, NULL), -1);
  assert_null(b);
}

/* ---- devices ---- */

#define RULE(al, ty, ma, mi, ac) {.allow = (al), .type = (ty), .major = (ma), .minor = (mi), \
                                  .access = ac}
#define DENY_ALL RULE(false, 'a', -1, -1, "rwm")

static void test_device_allow_typical(void **state) {
  (void)state;
  const struct brick_device_rule rules[] = {
    DENY_ALL,
    RULE(true, 'c', 1, 3, "rwm"),
    RULE(true, 'c', 136, -1, "rwm"),
    RULE(true, 'c', -1, -1, "m"),
    RULE(true, 'b', 8, 0, "r"),
    RULE(true, 'a', 1, 5, "rw"),
  };
  char **pairs = NULL;
  assert_true(cg_sd_device_allow(rules, ARRAY_SIZE(rules), &pairs));
  need_pairs(pairs, (const char *const[]){
    "/dev/char/1:3", "rwm",
    "char-136", "rwm",
    "char-*", "m",
    "/dev/block/8:0", "r",
    "/dev/char/1:5", "rw",
    "/dev/block/1:5", "rw",
    NULL});
  brick_strv_free(pairs);
}

static void test_device_allow_forms(void **state) {
  (void)state;
  char **pairs = (char **)"sentinel";
  /* Deny-all alone: expressible, with an empty allow list. */
  const struct brick_device_rule only_deny[] = {DENY_ALL};
  assert_true(cg_sd_device_allow(only_deny, 1, &pairs));
  assert_null(pairs);
  /* An empty access string means "rwm"; the first rule's own access does not matter
   * (brick starts from deny-all whatever it says). */
  const struct brick_device_rule empty_access[] = {
    RULE(false, 'a', -1, -1, ""),
    RULE(true, 'c', 1, 3, ""),
    RULE(true, 'b', 8, -1, ""),
    RULE(true, 'a', -1, -1, "r"),
    RULE(true, 'a', 1, -1, "w"),     /* major 1 is not a block major: not expressible */
  };
  assert_true(cg_sd_device_allow(empty_access, 4, &pairs));
  need_pairs(pairs, (const char *const[]){
    "/dev/char/1:3", "rwm",
    "block-8", "rwm",
    "char-*", "r",
    "block-*", "r",
    NULL});
  brick_strv_free(pairs);
  assert_true(cg_sd_device_allow(empty_access, 5, &pairs));
  need_pairs(pairs, (const char *const[]){
    "/dev/char/1:3", "rwm", "block-8", "rwm", "char-*", "r", "block-*", "r",
    "char-1", "w", "block-1", "w", NULL});
  brick_strv_free(pairs);
  /* 'a' with a whole major gives both kinds. */
  const struct brick_device_rule a_major[] = {DENY_ALL, RULE(true, 'a', 4, -1, "m")};
  assert_true(cg_sd_device_allow(a_major, 2, &pairs));
  need_pairs(pairs, (const char *const[]){"char-4", "m", "block-4", "m", NULL});
  brick_strv_free(pairs);
  /* A whole major goes by number: a name would also cover every other major registered
   * under it ("sd" is 8, 65-71, 128-135). */
  const struct brick_device_rule c8[] = {DENY_ALL, RULE(true, 'c', 8, -1, "r")};
  assert_true(cg_sd_device_allow(c8, 2, &pairs));
  need_pairs(pairs, (const char *const[]){"char-8", "r", NULL});
  brick_strv_free(pairs);
}

static void test_device_allow_not_expressible(void **state) {
  (void)state;
  char **pairs = (char **)"sentinel";
  const struct brick_device_rule typical[] = {
    DENY_ALL,
    RULE(true, 'c', 1, 3, "rwm"),
    RULE(true, 'c', 136, -1, "rwm"),
  };
  /* empty list */
  assert_false(cg_sd_device_allow(typical, 0, &pairs));
  assert_null(pairs);
  /* first rule is not deny-all */
  const struct brick_device_rule first_allow[] = {RULE(true, 'a', -1, -1, "rwm")};
  assert_false(cg_sd_device_allow(first_allow, 1, &pairs));
  assert_null(pairs);
  const struct brick_device_rule first_c[] = {RULE(false, 'c', -1, -1, "rwm")};
  assert_false(cg_sd_device_allow(first_c, 1, &pairs));
  const struct brick_device_rule first_major[] = {RULE(false, 'a', 1, -1, "rwm")};
  assert_false(cg_sd_device_allow(first_major, 1, &pairs));
  const struct brick_device_rule first_minor[] = {RULE(false, 'a', -1, 3, "rwm")};
  assert_false(cg_sd_device_allow(first_minor, 1, &pairs));
  assert_null(pairs);
  /* a deny after allows (pairs already built are freed: ASan checks) */
  const struct brick_device_rule late_deny[] = {
    DENY_ALL,
    RULE(true, 'c', 1, 3, "rwm"),
    RULE(true, 'c', 136, -1, "rwm"),
    RULE(false, 'c', 1, 3, "w"),
  };
  assert_false(cg_sd_device_allow(late_deny, ARRAY_SIZE(late_deny), &pairs));
  assert_null(pairs);
  /* "*:N": systemd's "char-*" would allow every minor, far more than asked */
  const struct brick_device_rule any_major[] = {
    DENY_ALL,
    RULE(true, 'c', 1, 3, "rwm"),
    RULE(true, 'c', -1, 5, "rw"),
  };
  assert_false(cg_sd_device_allow(any_major, 3, &pairs));
  assert_null(pairs);
}

/* ---- the props list itself ---- */

static void test_props_add_find_free(void **state) {
  (void)state;
  struct cg_sd_props p = {0};
  assert_null(cg_sd_props_find(&p, "X"));
  cg_sd_add_u64(&p, "A", 42);
  cg_sd_add_bool(&p, "B", true);
  char s[] = "hello";
  cg_sd_add_str(&p, "C", s);
  s[0] = 'j';    /* copied */
  const uint32_t pids[] = {7, 9};
  cg_sd_add_u32s(&p, "D", pids, 2);
  cg_sd_add_u32s(&p, "E", pids, 0);   /* empty "au" */
  check_sigs(&p);
  cg_sd_add_u64(&p, "A", 43);  /* find returns the first */
  assert_int_equal(p.n, 6);
  need_u64(&p, "A", 42);
  const struct cg_sd_prop *b = need(&p, "B", "b");
  assert_true(b->b);
  need_str(&p, "C", "hello");
  const struct cg_sd_prop *d = need(&p, "D", "au");
  assert_int_equal(d->n_u32, 2);
  assert_int_equal(d->u32[0], 7);
  assert_int_equal(d->u32[1], 9);
  const struct cg_sd_prop *e = need(&p, "E", "au");
  assert_int_equal(e->n_u32, 0);
  assert_string_equal(p.v[5].name, "A");
  assert_int_equal(p.v[5].u64, 43);
  assert_null(cg_sd_props_find(&p, "a"));
  cg_sd_props_free(&p);
  assert_null(p.v);
  assert_int_equal(p.n, 0);
  cg_sd_props_free(&p);  /* twice is harmless */
}

/* ---- resources as properties ---- */

static void test_props_none(void **state) {
  (void)state;
  struct cg_sd_props p;
  for (int v2 = 0; v2 <= 1; v2++) {
    assert_int_equal(props(NULL, v2, &p, NULL), 0);
    assert_int_equal(p.n, 0);
    struct brick_resources r = res0();
    r.present = false;
    r.memory.has_limit = true;
    r.memory.limit = 1 << 20;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 0);
    /* present with nothing set */
    r = res0();
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 0);
    /* zeros mean "not set" */
    r.memory.has_limit = r.memory.has_reservation = r.pids.has_limit = true;
    r.cpu.has_shares = r.block_io.has_weight = true;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 0);
    cg_sd_props_free(&p);
  }
  /* appends to what is already there */
  struct cg_sd_props q = {0};
  cg_sd_add_str(&q, "Description", "d");
  struct brick_resources r = res0();
  r.pids.has_limit = true;
  r.pids.limit = 5;
  assert_int_equal(cg_sd_resource_props(&r, true, &q, NULL), 0);
  assert_int_equal(q.n, 2);
  need_str(&q, "Description", "d");
  need_u64(&q, "TasksMax", 5);
  cg_sd_props_free(&q);
}

static void test_props_memory(void **state) {
  (void)state;
  struct cg_sd_props p;
  brick_err err = {0};
  struct brick_resources r = res0();
  r.memory.has_limit = r.memory.has_reservation = true;
  r.memory.limit = 256 << 20;
  r.memory.reservation = 128 << 20;

  assert_int_equal(props(&r, false, &p, &err), 0);
  assert_int_equal(p.n, 1);
  need_u64(&p, "MemoryMax", 256 << 20);
  need_absent(&p, "MemoryLow");       /* v2 only */
  need_absent(&p, "MemorySwapMax");
  cg_sd_props_free(&p);

  assert_int_equal(props(&r, true, &p, &err), 0);
  assert_int_equal(p.n, 2);
  need_u64(&p, "MemoryMax", 256 << 20);
  need_u64(&p, "MemoryLow", 128 << 20);
  need_absent(&p, "MemorySwapMax");   /* no swap given, limit set */
  cg_sd_props_free(&p);

  /* -1 is unlimited; on v2 "limit -1, no swap" also means unlimited swap, as in runc */
  r.memory.limit = -1;
  r.memory.reservation = -1;
  assert_int_equal(props(&r, true, &p, &err), 0);
  assert_int_equal(p.n, 3);
  need_u64(&p, "MemoryMax", UINT64_MAX);
  need_u64(&p, "MemoryLow", UINT64_MAX);
  need_u64(&p, "MemorySwapMax", UINT64_MAX);
  cg_sd_props_free(&p);
  assert_int_equal(props(&r, false, &p, &err), 0);
  assert_int_equal(p.n, 1);
  need_u64(&p, "MemoryMax", UINT64_MAX);
  cg_sd_props_free(&p);

  /* swap is memory+swap in the spec, swap alone for systemd */
  r = res0();
  r.memory.has_limit = r.memory.has_swap = true;
  r.memory.limit = 100 << 20;
  r.memory.swap = 300 << 20;
  assert_int_equal(props(&r, true, &p, &err), 0);
  assert_int_equal(p.n, 2);
  need_u64(&p, "MemoryMax", 100 << 20);
  need_u64(&p, "MemorySwapMax", 200 << 20);
  cg_sd_props_free(&p);
  r.memory.swap = r.memory.limit;     /* no swap at all */
  assert_int_equal(props(&r, true, &p, &err), 0);
  need_u64(&p, "MemorySwapMax", 0);
  cg_sd_props_free(&p);
  r.memory.swap = -1;
  assert_int_equal(props(&r, true, &p, &err), 0);
  need_u64(&p, "MemorySwapMax", UINT64_MAX);
  cg_sd_props_free(&p);
  r.memory.swap = 0;                  /* 0 = not set */
  assert_int_equal(props(&r, true, &p, &err), 0);
  need_absent(&p, "MemorySwapMax");
  cg_sd_props_free(&p);
  assert_null(err.msg);

  /* bad combinations, named by the config path */
  r.memory.swap = 50 << 20;           /* below the limit */
  assert_int_equal(props(&r, true, &p, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources.memory.swap"));
  assert_non_null(strstr(brick_error_msg(&err), "must be >= memory.limit"));
  brick_error_clear(&err);
  cg_sd_props_free(&p);
  r.memory.has_limit = false;         /* swap without a limit */
  assert_int_equal(props(&r, true, &p, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources.memory.swap"));
  brick_error_clear(&err);
  cg_sd_props_free(&p);
  r.memory.has_limit = true;          /* unlimited memory, limited memory+swap */
  r.memory.limit = -1;
  assert_int_equal(props(&r, true, &p, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources.memory.swap"));
  brick_error_clear(&err);
  cg_sd_props_free(&p);
  /* v1: swap is not a systemd property there, the cgroupfs writer judges it */
  assert_int_equal(props(&r, false, &p, &err), 0);
  assert_int_equal(p.n, 1);
  need_u64(&p, "MemoryMax", UINT64_MAX);
  cg_sd_props_free(&p);
}

static void test_props_pids(void **state) {
  (void)state;
  struct cg_sd_props p;
  for (int v2 = 0; v2 <= 1; v2++) {
    struct brick_resources r = res0();
    r.pids.has_limit = true;
    r.pids.limit = 100;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 1);
    need_u64(&p, "TasksMax", 100);
    cg_sd_props_free(&p);
    r.pids.limit = -1;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 1);
    need_u64(&p, "TasksMax", UINT64_MAX);
    cg_sd_props_free(&p);
    r.pids.limit = 0;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 0);
    cg_sd_props_free(&p);
  }
}

static void test_props_cpu(void **state) {
  (void)state;
  struct cg_sd_props p;
  struct brick_resources r = res0();
  r.cpu.has_shares = true;
  r.cpu.shares = 1024;
  assert_int_equal(props(&r, false, &p, NULL), 0);
  assert_int_equal(p.n, 1);
  need_u64(&p, "CPUShares", 1024);
  need_absent(&p, "CPUWeight");
  cg_sd_props_free(&p);
  assert_int_equal(props(&r, true, &p, NULL), 0);
  assert_int_equal(p.n, 1);
  need_u64(&p, "CPUWeight", 39);
  need_absent(&p, "CPUShares");
  cg_sd_props_free(&p);
  assert_int_equal(cg_v2_cpu_weight(1024), 39);
  r.cpu.shares = 2;
  assert_int_equal(props(&r, true, &p, NULL), 0);
  need_u64(&p, "CPUWeight", 1);
  cg_sd_props_free(&p);
  r.cpu.shares = 262144;
  assert_int_equal(props(&r, true, &p, NULL), 0);
  need_u64(&p, "CPUWeight", 10000);
  cg_sd_props_free(&p);

  for (int v2 = 0; v2 <= 1; v2++) {
    r = res0();
    r.cpu.has_quota = r.cpu.has_period = true;
    r.cpu.quota = 50000;
    r.cpu.period = 100000;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 2);
    need_u64(&p, "CPUQuotaPerSecUSec", 500000);
    need_u64(&p, "CPUQuotaPeriodUSec", 100000);
    cg_sd_props_free(&p);
    /* 10 ms granularity, rounded up: never less than asked */
    r.cpu.quota = 12345;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    need_u64(&p, "CPUQuotaPerSecUSec", 130000);
    need_u64(&p, "CPUQuotaPeriodUSec", 100000);
    cg_sd_props_free(&p);
    r.cpu.quota = 20000;                /* exact multiple stays */
    r.cpu.period = 10000;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    need_u64(&p, "CPUQuotaPerSecUSec", 2000000);
    need_u64(&p, "CPUQuotaPeriodUSec", 10000);
    cg_sd_props_free(&p);
    r.cpu.quota = -1;
    r.cpu.period = 100000;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 2);
    need_u64(&p, "CPUQuotaPerSecUSec", UINT64_MAX);
    need_u64(&p, "CPUQuotaPeriodUSec", 100000);
    cg_sd_props_free(&p);
    /* quota alone: per second against the default 100 ms period, no period prop */
    r.cpu.has_period = false;
    r.cpu.quota = 25000;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 1);
    need_u64(&p, "CPUQuotaPerSecUSec", 250000);
    need_absent(&p, "CPUQuotaPeriodUSec");
    cg_sd_props_free(&p);
    /* period alone */
    r.cpu.has_quota = false;
    r.cpu.has_period = true;
    r.cpu.period = 50000;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 2);
    need_u64(&p, "CPUQuotaPerSecUSec", UINT64_MAX);
    need_u64(&p, "CPUQuotaPeriodUSec", 50000);
    cg_sd_props_free(&p);
  }
}

static void test_props_blkio(void **state) {
  (void)state;
  struct cg_sd_props p;
  struct brick_resources r = res0();
  r.block_io.has_weight = true;
  r.block_io.weight = 500;
  assert_int_equal(props(&r, false, &p, NULL), 0);
  assert_int_equal(p.n, 1);
  need_u64(&p, "BlockIOWeight", 500);
  need_absent(&p, "IOWeight");
  cg_sd_props_free(&p);
  assert_int_equal(props(&r, true, &p, NULL), 0);
  assert_int_equal(p.n, 1);
  need_u64(&p, "IOWeight", 4950);    /* 1 + (500 - 10) * 9999 / 990 */
  need_absent(&p, "BlockIOWeight");
  cg_sd_props_free(&p);
  r.block_io.weight = 10;
  assert_int_equal(props(&r, true, &p, NULL), 0);
  need_u64(&p, "IOWeight", 1);
  cg_sd_props_free(&p);
  r.block_io.weight = 1000;
  assert_int_equal(props(&r, true, &p, NULL), 0);
  need_u64(&p, "IOWeight", 10000);
  cg_sd_props_free(&p);
}

static void test_props_cpuset(void **state) {
  (void)state;
  struct cg_sd_props p;
  brick_err err = {0};
  struct brick_resources r = res0();
  r.cpu.cpus = (char *)"0-1";
  r.cpu.mems = (char *)"0,9";
  assert_int_equal(props(&r, false, &p, &err), 0);
  assert_int_equal(p.n, 0);                 /* systemd drives cpuset only on v2 */
  cg_sd_props_free(&p);
  assert_int_equal(props(&r, true, &p, &err), 0);
  assert_int_equal(p.n, 2);
  const struct cg_sd_prop *c = need(&p, "AllowedCPUs", "ay");
  assert_int_equal(c->n_bytes, 1);
  assert_int_equal(c->bytes[0], 0x03);
  const struct cg_sd_prop *m = need(&p, "AllowedMemoryNodes", "ay");
  assert_int_equal(m->n_bytes, 2);
  assert_int_equal(m->bytes[0], 0x01);
  assert_int_equal(m->bytes[1], 0x02);
  cg_sd_props_free(&p);
  /* empty strings are "not set" */
  r.cpu.cpus = (char *)"";
  r.cpu.mems = (char *)"";
  assert_int_equal(props(&r, true, &p, &err), 0);
  assert_int_equal(p.n, 0);
  cg_sd_props_free(&p);
  assert_null(err.msg);
  /* a bad list fails naming its field; the caller frees what was appended */
  r.cpu.cpus = (char *)"0-";
  p = (struct cg_sd_props){0};
  assert_int_equal(cg_sd_resource_props(&r, true, &p, &err), -1);
  assert_string_equal(brick_error_msg(&err),
                      "linux.resources.cpu.cpus: \"0-\" is not a CPU/node list (\"0-3,7\")");
  brick_error_clear(&err);
  cg_sd_props_free(&p);
  r.cpu.cpus = (char *)"1";
  r.cpu.mems = (char *)"x";
  p = (struct cg_sd_props){0};
  assert_int_equal(cg_sd_resource_props(&r, true, &p, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources.cpu.mems: \"x\""));
  brick_error_clear(&err);
  cg_sd_props_free(&p);
}

static void test_props_devices(void **state) {
  (void)state;
  struct cg_sd_props p;
  const struct brick_device_rule rules[] = {
    DENY_ALL,
    RULE(true, 'c', 1, 3, "rwm"),
    RULE(true, 'c', 136, -1, ""),
  };
  struct brick_resources r = res0();
  r.devices = (struct brick_device_rule *)rules;
  r.n_devices = ARRAY_SIZE(rules);
  for (int v2 = 0; v2 <= 1; v2++) {
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    assert_int_equal(p.n, 2);
    need_str(&p, "DevicePolicy", "strict");
    need_pairs(need(&p, "DeviceAllow", "a(ss)")->pairs, (const char *const[]){
      "/dev/char/1:3", "rwm", "char-136", "rwm", NULL});
    cg_sd_props_free(&p);
  }
  /* deny-all only: strict with an empty allow list */
  r.n_devices = 1;
  assert_int_equal(props(&r, true, &p, NULL), 0);
  assert_int_equal(p.n, 2);
  need_str(&p, "DevicePolicy", "strict");
  assert_null(need(&p, "DeviceAllow", "a(ss)")->pairs);
  cg_sd_props_free(&p);
  /* no rules at all: systemd's device policy is not touched */
  r.n_devices = 0;
  assert_int_equal(props(&r, true, &p, NULL), 0);
  assert_int_equal(p.n, 0);
  cg_sd_props_free(&p);
}

/* Everything at once: the exact list, in order, with each signature. */
static void test_props_all(void **state) {
  (void)state;
  const struct brick_device_rule rules[] = {DENY_ALL, RULE(true, 'b', 8, 0, "r")};
  struct brick_resources r = res0();
  r.devices = (struct brick_device_rule *)rules;
  r.n_devices = 2;
  r.memory.has_limit = r.memory.has_reservation = r.memory.has_swap = true;
  r.memory.limit = 1000;
  r.memory.reservation = 500;
  r.memory.swap = 3000;
  r.pids.has_limit = true;
  r.pids.limit = 64;
  r.cpu.has_shares = r.cpu.has_quota = r.cpu.has_period = true;
  r.cpu.shares = 1024;
  r.cpu.quota = 50000;
  r.cpu.period = 100000;
  r.cpu.cpus = (char *)"0-1";
  r.cpu.mems = (char *)"0";
  r.block_io.has_weight = true;
  r.block_io.weight = 500;

  static const struct { const char *name, *sig; uint64_t u64; } v2_want[] = {
    {"MemoryMax", "t", 1000}, {"MemoryLow", "t", 500}, {"MemorySwapMax", "t", 2000},
    {"TasksMax", "t", 64}, {"CPUWeight", "t", 39}, {"CPUQuotaPerSecUSec", "t", 500000},
    {"CPUQuotaPeriodUSec", "t", 100000}, {"IOWeight", "t", 4950},
    {"AllowedCPUs", "ay", 0}, {"AllowedMemoryNodes", "ay", 0},
    {"DevicePolicy", "s", 0}, {"DeviceAllow", "a(ss)", 0},
  }, v1_want[] = {
    {"MemoryMax", "t", 1000}, {"TasksMax", "t", 64}, {"CPUShares", "t", 1024},
    {"CPUQuotaPerSecUSec", "t", 500000}, {"CPUQuotaPeriodUSec", "t", 100000},
    {"BlockIOWeight", "t", 500}, {"DevicePolicy", "s", 0}, {"DeviceAllow", "a(ss)", 0},
  };
  for (int v2 = 0; v2 <= 1; v2++) {
    struct cg_sd_props p;
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    size_t n = v2 ? ARRAY_SIZE(v2_want) : ARRAY_SIZE(v1_want);
    assert_int_equal(p.n, n);
    for (size_t i = 0; i < n; i++) {
      const char *name = v2 ? v2_want[i].name : v1_want[i].name;
      const char *sig = v2 ? v2_want[i].sig : v1_want[i].sig;
      assert_string_equal(p.v[i].name, name);
      assert_string_equal(p.v[i].sig, sig);
      if (!strcmp(sig, "t"))
        assert_int_equal(p.v[i].u64, v2 ? v2_want[i].u64 : v1_want[i].u64);
    }
    need_str(&p, "DevicePolicy", "strict");
    need_pairs(need(&p, "DeviceAllow", "a(ss)")->pairs,
               (const char *const[]){"/dev/block/8:0", "r", NULL});
    if (v2) {
      assert_int_equal(need(&p, "AllowedCPUs", "ay")->bytes[0], 0x03);
      assert_int_equal(need(&p, "AllowedMemoryNodes", "ay")->bytes[0], 0x01);
    }
    cg_sd_props_free(&p);
  }
}

/* ---- org.systemd.property.* annotations ---- */

static int annotate(const char *key, const char *value, struct cg_sd_props *out,
                    brick_err *err) {
  struct brick_kv kv[] = {{.key = (char *)"io.other.annotation", .value = (char *)"x"},
                          {.key = (char *)key, .value = (char *)value}};
  return cg_sd_annotation_props(kv, 2, out, err);
}

static void test_props_devices_unexpressible(void **state) {
  (void)state;
  struct cg_sd_props p;
  struct brick_resources r = res0();
  /* A deny after allows: the denied access and device never reach DeviceAllow. */
  const struct brick_device_rule later_deny[] = {
    DENY_ALL,
    RULE(true, 'c', 1, 3, "rwm"),
    RULE(true, 'c', 1, 5, "rwm"),
    RULE(false, 'c', 1, 5, "w"),
    RULE(true, 'a', 10, 200, "r"),
    RULE(true, 'c', -1, 5, "m"),        /* any major, one minor: left out */
    RULE(false, 'c', 1, 3, "rwm"),
  };
  r.devices = (struct brick_device_rule *)later_deny;
  r.n_devices = ARRAY_SIZE(later_deny);
  assert_int_equal(props(&r, false, &p, NULL), 0);
  need_str(&p, "DevicePolicy", "strict");
  need_pairs(need(&p, "DeviceAllow", "a(ss)")->pairs, (const char *const[]){
    "/dev/char/1:5", "rm", "/dev/char/10:200", "r", "/dev/block/10:200", "r", NULL});
  cg_sd_props_free(&p);
  /* On v2 systemd's program would be ANDed with brick's from the start: systemd gets no
   * device program (auto, empty list) and brick's own enforces the list. */
  assert_int_equal(props(&r, true, &p, NULL), 0);
  need_str(&p, "DevicePolicy", "auto");
  assert_null(need(&p, "DeviceAllow", "a(ss)")->pairs);
  cg_sd_props_free(&p);
  /* Every pair of the subset is allowed by the list itself (the model brick enforces). */
  char **pairs = NULL;
  cg_sd_device_allow_subset(later_deny, ARRAY_SIZE(later_deny), &pairs);
  for (size_t i = 0; pairs && pairs[i]; i += 2) {
    char type = strstr(pairs[i], "/char/") ? 'c' : 'b';
    long maj, min;
    assert_int_equal(sscanf(strrchr(pairs[i], '/') + 1, "%ld:%ld", &maj, &min), 2);
    assert_true(brick_cgroup_device_allowed(later_deny, ARRAY_SIZE(later_deny), type, maj, min,
                                            pairs[i + 1]));
  }
  brick_strv_free(pairs);
  /* A privileged container (everything allowed), v1 and v2: systemd's policy is open
   * (auto with an empty list, which also clears an earlier list on update). */
  const struct brick_device_rule all[] = {RULE(true, 'a', -1, -1, "rwm")};
  r.devices = (struct brick_device_rule *)all;
  r.n_devices = ARRAY_SIZE(all);
  for (int v2 = 0; v2 <= 1; v2++) {
    assert_int_equal(props(&r, v2, &p, NULL), 0);
    need_str(&p, "DevicePolicy", "auto");
    assert_null(need(&p, "DeviceAllow", "a(ss)")->pairs);
    cg_sd_props_free(&p);
  }
  /* ...but not when a deny follows the allow-all. */
  const struct brick_device_rule all_but[] = {RULE(true, 'a', -1, -1, ""), RULE(false, 'c', 1, 1, "rwm")};
  r.devices = (struct brick_device_rule *)all_but;
  r.n_devices = ARRAY_SIZE(all_but);
  assert_int_equal(props(&r, false, &p, NULL), 0);
  need_str(&p, "DevicePolicy", "strict");
  assert_null(need(&p, "DeviceAllow", "a(ss)")->pairs);
  cg_sd_props_free(&p);
}

static void test_props_unified(void **state) {
  (void)state;
  struct cg_sd_props p;
  brick_err err = {0};
  struct brick_resources r = res0();
  struct brick_kv kv[] = {
    {.key = (char *)"memory.high", .value = (char *)"1048576"},
    {.key = (char *)"memory.min", .value = (char *)"max"},
    {.key = (char *)"pids.max", .value = (char *)"max"},
    {.key = (char *)"cpu.weight", .value = (char *)"300"},
    {.key = (char *)"cpu.max", .value = (char *)"12345 100000"},
    {.key = (char *)"io.max", .value = (char *)"8:0 rbps=1"},   /* not one systemd owns */
  };
  r.unified = kv;
  r.n_unified = ARRAY_SIZE(kv);
  assert_int_equal(props(&r, true, &p, &err), 0);
  need_u64(&p, "MemoryHigh", 1048576);
  need_u64(&p, "MemoryMin", UINT64_MAX);
  need_u64(&p, "TasksMax", UINT64_MAX);
  need_u64(&p, "CPUWeight", 300);
  need_u64(&p, "CPUQuotaPerSecUSec", 130000);
  need_u64(&p, "CPUQuotaPeriodUSec", 100000);
  assert_int_equal(p.n, 6);
  cg_sd_props_free(&p);
  /* on v1 (hybrid) systemd drives v1 controllers: the cgroup2 keys are brick's alone */
  assert_int_equal(props(&r, false, &p, &err), 0);
  assert_int_equal(p.n, 0);
  cg_sd_props_free(&p);
  struct brick_kv bad[] = {{.key = (char *)"memory.high", .value = (char *)"lots"}};
  r.unified = bad;
  r.n_unified = 1;
  assert_int_equal(props(&r, true, &p, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources.unified.memory.high"));
  brick_error_clear(&err);
  cg_sd_props_free(&p);
  struct brick_kv bad_cpu[] = {{.key = (char *)"cpu.max", .value = (char *)"50000 0"}};
  r.unified = bad_cpu;
  assert_int_equal(props(&r, true, &p, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources.unified.cpu.max"));
  brick_error_clear(&err);
  cg_sd_props_free(&p);
}

static void test_annotation_values(void **state) {
  (void)state;
  struct cg_sd_props p = {0};
  brick_err err = {0};
  /* What CRI-O sets, and the forms runc reads. */
  assert_int_equal(annotate("org.systemd.property.CollectMode", "'inactive-or-failed'", &p, &err), 0);
  assert_int_equal(annotate("org.systemd.property.DefaultDependencies", "true", &p, &err), 0);
  assert_int_equal(annotate("org.systemd.property.After", "['crio.service', \"x.socket\"]", &p, &err), 0);
  assert_int_equal(annotate("org.systemd.property.TimeoutStopUSec", "uint64 5000000", &p, &err), 0);
  assert_int_equal(annotate("org.systemd.property.CPUWeight", "42", &p, &err), 0);
  assert_int_equal(annotate("org.systemd.property.Nice", "int32 -5", &p, &err), 0);
  assert_int_equal(annotate("org.systemd.property.OOMScoreAdjust", "int64 -1000", &p, &err), 0);
  assert_int_equal(annotate("org.systemd.property.Wants", "[]", &p, &err), 0);
  assert_int_equal(annotate("org.systemd.property.Quoted", "'it\\'s'", &p, &err), 0);
  /* ...Sec is seconds, renamed ...USec, as runc and crun do */
  assert_int_equal(annotate("org.systemd.property.JobTimeoutSec", "30", &p, &err), 0);
  assert_int_equal(annotate("org.systemd.property.RuntimeMaxSec", "1.5", &p, &err), 0);
  assert_int_equal(annotate("org.systemd.property.Escaped", "'a\\nb\\tc'", &p, &err), 0);
  assert_int_equal(p.n, 12);   /* the unrelated annotation adds nothing */
  need_u64(&p, "JobTimeoutUSec", 30000000);
  need_u64(&p, "RuntimeMaxUSec", 1500000);
  need_str(&p, "Escaped", "a\nb\tc");
  need_str(&p, "CollectMode", "inactive-or-failed");
  assert_true(need(&p, "DefaultDependencies", "b")->b);
  const struct cg_sd_prop *after = need(&p, "After", "as");
  assert_int_equal(brick_strv_len(after->pairs), 2);
  assert_string_equal(after->pairs[0], "crio.service");
  assert_string_equal(after->pairs[1], "x.socket");
  need_u64(&p, "TimeoutStopUSec", 5000000);
  need_u64(&p, "CPUWeight", 42);
  assert_int_equal((int32_t)need(&p, "Nice", "i")->u64, -5);
  assert_int_equal((int64_t)need(&p, "OOMScoreAdjust", "x")->u64, -1000);
  assert_int_equal(brick_strv_len(need(&p, "Wants", "as")->pairs), 0);
  need_str(&p, "Quoted", "it's");
  cg_sd_props_free(&p);
}

static void test_annotation_errors(void **state) {
  (void)state;
  static const struct { const char *key, *value, *msg; } bad[] = {
      {"org.systemd.property.PIDs", "[]", "brick sets PIDs"},
      {"org.systemd.property.DeviceAllow", "'x'", "brick sets DeviceAllow"},
      {"org.systemd.property.Delegate", "false", "brick sets Delegate"},
      {"org.systemd.property.Slice", "'x.slice'", "brick sets Slice"},
      {"org.systemd.property.", "true", "not a systemd property name"},
      {"org.systemd.property.A.B", "true", "not a systemd property name"},
      {"org.systemd.property.X", "'unterminated", "is not a value"},
      {"org.systemd.property.X", "['a' 'b']", "is not a value"},
      {"org.systemd.property.X", "['a',", "is not a value"},
      {"org.systemd.property.X", "uint64 -1", "is not a value"},
      {"org.systemd.property.X", "uint32 4294967296", "is not a value"},
      {"org.systemd.property.X", "int32 -2147483649", "is not a value"},
      {"org.systemd.property.X", "12abc", "is not a value"},
      {"org.systemd.property.X", "yes", "is not a value"},
      {"org.systemd.property.X", "['a',]", "is not a value"},
      {"org.systemd.property.X", "uint64 +5", "is not a value"},
      {"org.systemd.property.X", "'a\\qb'", "is not a value"},
      {"org.systemd.property.TimeoutStopSec", "soon", "is not a number of seconds"},
      {"org.systemd.property.TimeoutStopSec", "-1", "is not a number of seconds"},
      {"org.systemd.property.X", "", "is not a value"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct cg_sd_props p = {0};
    brick_err err = {0};
    assert_int_equal(annotate(bad[i].key, bad[i].value, &p, &err), -1);
    const char *msg = brick_error_msg(&err);
    if (!strstr(msg, bad[i].msg) || !strstr(msg, "annotations.org.systemd.property."))
      fail_msg("%s=%s: message \"%s\"", bad[i].key, bad[i].value, msg);
    brick_error_clear(&err);
    cg_sd_props_free(&p);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_unit_of),
    cmocka_unit_test(test_cpuset_mask_ok),
    cmocka_unit_test(test_cpuset_mask_errors),
    cmocka_unit_test(test_device_allow_typical),
    cmocka_unit_test(test_device_allow_forms),
    cmocka_unit_test(test_device_allow_not_expressible),
    cmocka_unit_test(test_props_add_find_free),
    cmocka_unit_test(test_props_none),
    cmocka_unit_test(test_props_memory),
    cmocka_unit_test(test_props_pids),
    cmocka_unit_test(test_props_cpu),
    cmocka_unit_test(test_props_blkio),
    cmocka_unit_test(test_props_cpuset),
    cmocka_unit_test(test_props_devices),
    cmocka_unit_test(test_props_devices_unexpressible),
    cmocka_unit_test(test_props_unified),
    cmocka_unit_test(test_props_all),
    cmocka_unit_test(test_annotation_values),
    cmocka_unit_test(test_annotation_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
