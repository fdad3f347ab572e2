/* Foreign ABIs (i386, x32) against the compiled default profile.
 *
 * This test kernel runs 64-bit code only (IA-32 emulation and x32 are off), so the
 * kernel cannot show what the filter does with an i386 or x32 syscall. The program is
 * run here on a small classic-BPF evaluator over hand-made seccomp_data instead — the
 * same input the kernel gives it — and compared with a profile that does list the
 * foreign architecture, where the same call must come out allowed. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "core/util.h"
#include "seccomp/seccomp.h"
#include "seccomp/seccomp_internal.h"
#include "seccomp_test_util.h"

/* Evaluate a seccomp BPF program on one seccomp_data. */
static uint32_t bpf_run(const struct sock_fprog *prog, const struct seccomp_data *d) {
  uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0};
  const unsigned char *data = (const unsigned char *)d;
  for (size_t pc = 0; pc < prog->len; pc++) {
    const struct sock_filter *f = &prog->filter[pc];
    uint32_t src = BPF_SRC(f->code) == BPF_X ? X : f->k;
    switch (BPF_CLASS(f->code)) {
    case BPF_LD:
      if (f->code == (BPF_LD | BPF_W | BPF_ABS)) {
        assert_true(f->k + 4 <= sizeof *d && f->k % 4 == 0);
        memcpy(&A, data + f->k, 4);
      } else if (f->code == (BPF_LD | BPF_IMM)) {
        A = f->k;
      } else if (f->code == (BPF_LD | BPF_MEM)) {
        A = M[f->k];
      } else {
        fail_msg("unsupported load %#x", f->code);
      }
      break;
    case BPF_LDX:
      X = BPF_MODE(f->code) == BPF_MEM ? M[f->k] : f->k;
      break;
    case BPF_ST: M[f->k] = A; break;
    case BPF_STX: M[f->k] = X; break;
    case BPF_ALU:
      switch (BPF_OP(f->code)) {
      case BPF_ADD: A += src; break;
      case BPF_SUB: A -= src; break;
      case BPF_AND: A &= src; break;
      case BPF_OR: A |= src; break;
      case BPF_LSH: A <<= src; break;
      case BPF_RSH: A >>= src; break;
      case BPF_NEG: A = -A; break;
      default: fail_msg("unsupported alu %#x", f->code);
      }
      break;
    case BPF_JMP: {
      bool t;
      switch (BPF_OP(f->code)) {
      case BPF_JA: pc += f->k; continue;
      case BPF_JEQ: t = A == src; break;
      case BPF_JGT: t = A > src; break;
      case BPF_JGE: t = A >= src; break;
      case BPF_JSET: t = (A & src) != 0; break;
      default: fail_msg("unsupported jump %#x", f->code); return 0;
      }
      pc += t ? f->jt : f->jf;
      break;
    }
    case BPF_RET: return BPF_RVAL(f->code) == BPF_A ? A : f->k;
    case BPF_MISC: if (BPF_MISCOP(f->code) == BPF_TAX) X = A; else A = X; break;
    default: fail_msg("unsupported class %#x", f->code);
    }
  }
  fail_msg("program fell off its end");
  return 0;
}

static uint32_t eval(const struct brick_seccomp_prog *p, uint32_t arch, int nr, uint64_t a0) {
  struct seccomp_data d = {.nr = nr, .arch = arch};
  d.args[0] = a0;
  return bpf_run(&p->fprog, &d);
}

#define RET_ENOSYS (SECCOMP_RET_ERRNO | ENOSYS)

static struct brick_seccomp *default_cfg(json_t *extra_arches) {
  _cleanup_json_ json_t *p = brick_seccomp_default_profile(0);
  if (extra_arches) {
    json_array_extend(json_object_get(p, "architectures"), extra_arches);
    /* On i386 libseccomp folds socket() rules into socketcall(), where the allow and the
     * deny rule collide; they play no part in these checks. */
    json_t *rules = json_object_get(p, "syscalls");
    for (size_t i = json_array_size(rules); i-- > 0;) {
      const char *n = json_string_value(json_array_get(json_object_get(json_array_get(rules, i), "names"), 0));
      if (strcmp(n, "socket") == 0 || strcmp(n, "socketpair") == 0)
        json_array_remove(rules, i);
    }
  }
  return test_seccomp_from_json(p);
}

static void evaluator_agrees_with_kernel(void **state) {
  (void)state;
  /* Results the enforcement test sees from the kernel, reproduced by the evaluator. */
  struct brick_seccomp *cfg = default_cfg(NULL);
  struct brick_seccomp_prog *p = test_prepare(cfg);
  assert_int_equal(eval(p, AUDIT_ARCH_X86_64, SYS_getpid, 0), SECCOMP_RET_ALLOW);
  assert_int_equal(eval(p, AUDIT_ARCH_X86_64, SYS_kexec_load, 0), SECCOMP_RET_ERRNO | EPERM);
  assert_int_equal(eval(p, AUDIT_ARCH_X86_64, SYS_socket, 17), SECCOMP_RET_ERRNO | EAFNOSUPPORT);
  assert_int_equal(eval(p, AUDIT_ARCH_X86_64, SYS_socket, 2), SECCOMP_RET_ALLOW);
  assert_int_equal(eval(p, AUDIT_ARCH_X86_64, 1000, 0), RET_ENOSYS);
  assert_int_equal(eval(p, AUDIT_ARCH_X86_64, SYS_clone, 0x20000000 | 17), SECCOMP_RET_ERRNO | EPERM);
  assert_int_equal(eval(p, AUDIT_ARCH_X86_64, SYS_clone, 0x11 | 0x00f00), SECCOMP_RET_ALLOW);
  brick_seccomp_prog_free(p);
  test_seccomp_free(cfg);
}

static void i386_blocked(void **state) {
  (void)state;
  struct brick_seccomp *cfg = default_cfg(NULL);
  struct brick_seccomp_prog *p = test_prepare(cfg);
  /* i386 numbers: getpid 20, socketcall 102, socket 359. */
  assert_int_equal(eval(p, AUDIT_ARCH_I386, 20, 0), RET_ENOSYS);
  assert_int_equal(eval(p, AUDIT_ARCH_I386, 102, 1), RET_ENOSYS);
  assert_int_equal(eval(p, AUDIT_ARCH_I386, 359, 2), RET_ENOSYS);

  /* With the arch restriction off (x86 listed) the same calls go through. */
  _cleanup_json_ json_t *x86 = json_pack("[s]", "SCMP_ARCH_X86");
  struct brick_seccomp *open_cfg = default_cfg(x86);
  struct brick_seccomp_prog *q = test_prepare(open_cfg);
  assert_int_equal(eval(q, AUDIT_ARCH_I386, 20, 0), SECCOMP_RET_ALLOW);
  assert_int_equal(eval(q, AUDIT_ARCH_I386, 102, 1), RET_ENOSYS);   /* not listed */
  brick_seccomp_prog_free(q);
  test_seccomp_free(open_cfg);
  brick_seccomp_prog_free(p);
  test_seccomp_free(cfg);
}

static void x32_blocked(void **state) {
  (void)state;
  struct brick_seccomp *cfg = default_cfg(NULL);
  struct brick_seccomp_prog *p = test_prepare(cfg);
  const int x32_getpid = 0x40000000 | 39;
  assert_int_equal(eval(p, AUDIT_ARCH_X86_64, x32_getpid, 0), RET_ENOSYS);

  _cleanup_json_ json_t *x32 = json_pack("[s]", "SCMP_ARCH_X32");
  struct brick_seccomp *open_cfg = default_cfg(x32);
  struct brick_seccomp_prog *q = test_prepare(open_cfg);
  assert_int_equal(eval(q, AUDIT_ARCH_X86_64, x32_getpid, 0), SECCOMP_RET_ALLOW);
  brick_seccomp_prog_free(q);
  test_seccomp_free(open_cfg);
  brick_seccomp_prog_free(p);
  test_seccomp_free(cfg);
}

int main(void) {
#if defined(__x86_64__)
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(evaluator_agrees_with_kernel),
    cmocka_unit_test(i386_blocked),
    cmocka_unit_test(x32_blocked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
#else
  return 77;   /* meson: skipped */
#endif
}
