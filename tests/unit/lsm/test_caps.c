/* Capability sets, applied in forked children (the test process keeps its own caps) and
 * checked three ways: /proc/self/status, capget through libcap / PR_CAPBSET_READ, and a
 * privileged operation that must work before and fail after its cap is dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "lsm/lsm.h"

#define BIT(c) (1ull << (c))

static char file_path[64];

static int setup(void **state) {
  (void)state;
  if (geteuid() != 0) {
    print_message("capability tests need root\n");
    return -1;
  }
  strcpy(file_path, "/tmp/brick-caps-XXXXXX");
  int fd = mkstemp(file_path);
  if (fd < 0)
    return -1;
  close(fd);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(file_path);
  return 0;
}

static int status_mask(const char *field, uint64_t *out) {
  _cleanup_free_ char *text = NULL;
  brick_err err = {0};
  if (brick_read_file("/proc/self/status", &text, NULL, &err) < 0)
    return -1;
  _cleanup_free_ char *key = xasprintf("\n%s:\t", field);
  const char *p = strstr(text, key);
  if (!p)
    return -1;
  unsigned long long v;
  if (sscanf(p + strlen(key), "%llx", &v) != 1)
    return -1;
  *out = v;
  return 0;
}

#define FAIL(step, ...)                  \
  do {                                   \
    fprintf(stderr, "step %d: ", step);  \
    fprintf(stderr, __VA_ARGS__);        \
    fputc('\n', stderr);                 \
    return step;                         \
  } while (0)

struct sets {
  uint64_t bnd, eff, inh, prm, amb;
};

static int check_sets(const struct sets *s) {
  static const char *const names[] = {"CapBnd", "CapEff", "CapInh", "CapPrm", "CapAmb"};
  const uint64_t want[] = {s->bnd, s->eff, s->inh, s->prm, s->amb};
  for (int i = 0; i < 5; i++) {
    uint64_t got;
    if (status_mask(names[i], &got) < 0)
      FAIL(20 + i, "read %s", names[i]);
    if (got != want[i])
      FAIL(30 + i, "%s = %#llx, want %#llx", names[i], (unsigned long long)got,
           (unsigned long long)want[i]);
  }
  /* The same through the syscalls. */
  int last = brick_cap_last_cap();
  cap_t c = cap_get_proc();
  if (!c)
    FAIL(40, "cap_get_proc");
  for (int i = 0; i <= last; i++) {
    cap_flag_value_t e, p, h;
    cap_get_flag(c, i, CAP_EFFECTIVE, &e);
    cap_get_flag(c, i, CAP_PERMITTED, &p);
    cap_get_flag(c, i, CAP_INHERITABLE, &h);
    if ((e == CAP_SET) != !!(s->eff & BIT(i)) || (p == CAP_SET) != !!(s->prm & BIT(i)) ||
        (h == CAP_SET) != !!(s->inh & BIT(i))) {
      cap_free(c);
      FAIL(41, "capget disagrees on cap %d", i);
    }
    if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) != !!(s->bnd & BIT(i))) {
      cap_free(c);
      FAIL(42, "PR_CAPBSET_READ disagrees on cap %d", i);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0) != !!(s->amb & BIT(i))) {
      cap_free(c);
      FAIL(43, "PR_CAP_AMBIENT_IS_SET disagrees on cap %d", i);
    }
  }
  cap_free(c);
  return 0;
}

static const struct sets small = {
    .bnd = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW) | BIT(CAP_DAC_OVERRIDE),
    .prm = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW),
    .eff = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
    .inh = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW),
    .amb = BIT(CAP_NET_BIND_SERVICE),
};

static int apply(const struct sets *s, brick_err *err) {
  return brick_caps_apply(s->bnd, s->eff, s->inh, s->prm, s->amb, err);
}

static int run(int (*fn)(void)) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(fn());
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static int child_chown_works(void) {
  return chown(file_path, 1, 1) == 0 ? 0 : 1;
}

static int child_apply_small(void) {
  brick_err err = {0};
  if (apply(&small, &err) < 0)
    FAIL(1, "%s", brick_error_msg(&err));
  int r = check_sets(&small);
  if (r)
    return r;
  if (chown(file_path, 2, 2) == 0 || errno != EPERM)
    FAIL(2, "chown without CAP_CHOWN did not fail with EPERM");
  /* Applying the same sets again is harmless (nothing left to drop). */
  if (apply(&small, &err) < 0)
    FAIL(3, "%s", brick_error_msg(&err));
  return check_sets(&small);
}

static int child_high_bits_ignored(void) {
  brick_err err = {0};
  struct sets s = small;
  s.bnd |= BIT(63);
  s.eff |= BIT(63);
  s.prm |= BIT(63);
  if (apply(&s, &err) < 0)
    FAIL(1, "%s", brick_error_msg(&err));
  return check_sets(&small);
}

static int setuid_1000(void) {
  if (setresgid(1000, 1000, 1000) < 0 || setgroups(0, NULL) < 0 ||
      setresuid(1000, 1000, 1000) < 0)
    return -1;
  return 0;
}

static int child_keepcaps_setuid(void) {
  brick_err err = {0};
  if (brick_caps_keep(true, &err) < 0)
    FAIL(1, "%s", brick_error_msg(&err));
  if (prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 1)
    FAIL(2, "keepcaps not set");
  if (setuid_1000() < 0)
    FAIL(3, "setuid: %s", strerror(errno));
  uint64_t eff;
  if (status_mask("CapEff", &eff) < 0 || eff != 0)
    FAIL(4, "effective set should be empty right after setuid");
  if (apply(&small, &err) < 0)
    FAIL(5, "%s", brick_error_msg(&err));
  if (getuid() != 1000)
    FAIL(6, "uid changed");
  return check_sets(&small);
}

/* Without KEEPCAPS setuid clears permitted: the same call must fail, not pretend. */
static int child_setuid_without_keep(void) {
  brick_err err = {0};
  if (brick_caps_keep(false, &err) < 0)
    FAIL(1, "%s", brick_error_msg(&err));
  if (setuid_1000() < 0)
    FAIL(2, "setuid: %s", strerror(errno));
  if (apply(&small, &err) == 0)
    FAIL(3, "apply succeeded without permitted caps");
  if (!strstr(brick_error_msg(&err), "capabilities"))
    FAIL(4, "unexpected message %s", brick_error_msg(&err));
  return 0;
}

static int child_ambient_outside_inheritable_left_out(void) {
  brick_err err = {0};
  struct sets s = small;
  s.amb |= BIT(CAP_KILL); /* permitted but not inheritable: the kernel cannot raise it */
  if (apply(&s, &err) < 0)
    FAIL(1, "%s", brick_error_msg(&err));
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) != 0)
    FAIL(2, "CAP_KILL raised into the ambient set");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0) != 1)
    FAIL(3, "the raisable ambient cap was not raised");
  uint64_t left_out = brick_caps_unraisable_ambient(s.prm, s.inh, s.amb);
  if (left_out != BIT(CAP_KILL))
    FAIL(4, "unraisable set %#llx", (unsigned long long)left_out);
  return 0;
}

static int child_effective_needs_permitted(void) {
  brick_err err = {0};
  struct sets s = small;
  s.eff |= BIT(CAP_DAC_OVERRIDE); /* in bounding, not permitted */
  if (apply(&s, &err) == 0)
    FAIL(1, "effective cap outside permitted accepted");
  if (err.errnum != EPERM)
    FAIL(2, "errno %d", err.errnum);
  return 0;
}

static void test_last_cap(void **state) {
  (void)state;
  _cleanup_free_ char *text = NULL;
  brick_err err = {0};
  assert_int_equal(brick_read_file("/proc/sys/kernel/cap_last_cap", &text, NULL, &err), 0);
  assert_int_equal(brick_cap_last_cap(), atoi(text));
  assert_int_equal(brick_cap_last_cap(), atoi(text)); /* cached */
}

static void test_apply(void **state) {
  (void)state;
  assert_int_equal(run(child_chown_works), 0); /* the baseline: CAP_CHOWN works */
  assert_int_equal(run(child_apply_small), 0);
  assert_int_equal(run(child_high_bits_ignored), 0);
}

static void test_setuid(void **state) {
  (void)state;
  assert_int_equal(run(child_keepcaps_setuid), 0);
  assert_int_equal(run(child_setuid_without_keep), 0);
}

static void test_errors(void **state) {
  (void)state;
  assert_int_equal(run(child_ambient_outside_inheritable_left_out), 0);
  assert_int_equal(run(child_effective_needs_permitted), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_last_cap),
      cmocka_unit_test(test_apply),
      cmocka_unit_test(test_setuid),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
