/* Compiling OCI profiles and brick's default profile; what the default profile says. */
#include <errno.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <linux/seccomp.h>

#include "core/util.h"
#include "seccomp/seccomp.h"
#include "seccomp_test_util.h"

#define CAPBIT(c) (UINT64_C(1) << (c))

/* The rule of `profile` whose names include `name` and whose action is `action`, or NULL. */
static json_t *find_rule(json_t *profile, const char *name, const char *action) {
  size_t i, j;
  json_t *r, *n;
  json_array_foreach(json_object_get(profile, "syscalls"), i, r) {
    if (strcmp(json_string_value(json_object_get(r, "action")), action) != 0)
      continue;
    json_array_foreach(json_object_get(r, "names"), j, n)
      if (strcmp(json_string_value(n), name) == 0)
        return r;
  }
  return NULL;
}

static void default_profile_shape(void **state) {
  (void)state;
  _cleanup_json_ json_t *p = brick_seccomp_default_profile(0);
  assert_string_equal(json_string_value(json_object_get(p, "defaultAction")), "SCMP_ACT_ERRNO");
  assert_int_equal(json_integer_value(json_object_get(p, "defaultErrnoRet")), ENOSYS);
  json_t *arches = json_object_get(p, "architectures");
  assert_int_equal(json_array_size(arches), 1);
#if defined(__x86_64__)
  assert_string_equal(json_string_value(json_array_get(arches, 0)), "SCMP_ARCH_X86_64");
#elif defined(__aarch64__)
  assert_string_equal(json_string_value(json_array_get(arches, 0)), "SCMP_ARCH_AARCH64");
#endif

  /* Without capabilities the dangerous ones are explicit EPERM rules, never allowed. */
  const char *denied[] = {"kexec_load", "open_by_handle_at", "init_module", "ptrace", "mount",
                          "umount2", "pivot_root", "unshare", "setns", "bpf", "keyctl",
                          "io_uring_setup", "userfaultfd", "perf_event_open", "reboot",
                          "fsopen", "move_mount", "process_vm_readv", "acct", "syslog"};
  for (size_t i = 0; i < ARRAY_SIZE(denied); i++) {
    json_t *r = find_rule(p, denied[i], "SCMP_ACT_ERRNO");
    if (!r)
      fail_msg("%s is not denied", denied[i]);
    assert_int_equal(json_integer_value(json_object_get(r, "errnoRet")), EPERM);
    if (find_rule(p, denied[i], "SCMP_ACT_ALLOW"))
      fail_msg("%s is allowed without capabilities", denied[i]);
  }
  assert_non_null(find_rule(p, "read", "SCMP_ACT_ALLOW"));
  assert_non_null(find_rule(p, "execve", "SCMP_ACT_ALLOW"));
  json_t *c3 = find_rule(p, "clone3", "SCMP_ACT_ERRNO");
  assert_non_null(c3);
  assert_int_equal(json_integer_value(json_object_get(c3, "errnoRet")), ENOSYS);

  /* socket: allowed families as EQ comparisons, AF_PACKET not among them. */
  json_t *sock = find_rule(p, "socket", "SCMP_ACT_ALLOW");
  assert_non_null(sock);
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(sock, "args"), i, a)
    assert_int_not_equal(json_integer_value(json_object_get(a, "value")), AF_PACKET);
  json_t *sdeny = find_rule(p, "socket", "SCMP_ACT_ERRNO");
  assert_int_equal(json_integer_value(json_object_get(sdeny, "errnoRet")), EAFNOSUPPORT);
}

static void default_profile_caps(void **state) {
  (void)state;
  _cleanup_json_ json_t *p = brick_seccomp_default_profile(
      CAPBIT(CAP_SYS_ADMIN) | CAPBIT(CAP_SYS_PTRACE) | CAPBIT(CAP_NET_RAW) | CAPBIT(CAP_SYS_BOOT));
  const char *allowed[] = {"mount", "unshare", "setns", "clone3", "ptrace", "process_vm_readv",
                           "reboot", "bpf", "perf_event_open"};
  for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
    if (!find_rule(p, allowed[i], "SCMP_ACT_ALLOW"))
      fail_msg("%s not allowed with its capability", allowed[i]);
    if (find_rule(p, allowed[i], "SCMP_ACT_ERRNO"))
      fail_msg("%s still denied with its capability", allowed[i]);
  }
  /* No capability unlocks these. */
  assert_non_null(find_rule(p, "kexec_load", "SCMP_ACT_ERRNO"));
  assert_non_null(find_rule(p, "keyctl", "SCMP_ACT_ERRNO"));
  assert_non_null(find_rule(p, "init_module", "SCMP_ACT_ERRNO"));
  json_t *sock = find_rule(p, "socket", "SCMP_ACT_ALLOW");
  bool packet = false;
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(sock, "args"), i, a)
    packet |= json_integer_value(json_object_get(a, "value")) == AF_PACKET;
  assert_true(packet);
}

static void default_profile_compiles(void **state) {
  (void)state;
  uint64_t sets[] = {0, CAPBIT(CAP_NET_RAW), ~UINT64_C(0)};
  for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
    _cleanup_json_ json_t *p = brick_seccomp_default_profile(sets[i]);
    struct brick_seccomp *s = test_seccomp_from_json(p);
    struct brick_seccomp_prog *prog = test_prepare(s);
    assert_true(brick_seccomp_prog_len(prog) > 50);
    assert_true(brick_seccomp_prog_len(prog) <= 4096);
    assert_false(brick_seccomp_uses_notify(prog));
    assert_int_equal(brick_seccomp_prog_flags(prog), 0);
    assert_false(brick_seccomp_prog_from_cache(prog));
    brick_seccomp_prog_free(prog);
    test_seccomp_free(s);
  }
}

/* Every operator, same-index comparisons, an unknown syscall, extra architectures. */
static void oci_profile_all_features(void **state) {
  (void)state;
  struct brick_seccomp *s = test_seccomp_from_string(
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
      " \"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
      " \"flags\":[\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
      " \"syscalls\":["
      "  {\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
      "   \"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_NE\"}]},"
      "  {\"names\":[\"sched_get_priority_max\"],\"action\":\"SCMP_ACT_ERRNO\","
      "   \"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_LT\"}]},"
      "  {\"names\":[\"sched_get_priority_min\"],\"action\":\"SCMP_ACT_ERRNO\","
      "   \"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_LE\"}]},"
      "  {\"names\":[\"getsid\"],\"action\":\"SCMP_ACT_ERRNO\","
      "   \"args\":[{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_GE\"}]},"
      "  {\"names\":[\"umask\"],\"action\":\"SCMP_ACT_ERRNO\","
      "   \"args\":[{\"index\":0,\"value\":511,\"op\":\"SCMP_CMP_GT\"}]},"
      "  {\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\","
      "   \"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
      "             {\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]},"
      "  {\"names\":[\"ioprio_get\"],\"action\":\"SCMP_ACT_ERRNO\","
      "   \"args\":[{\"index\":0,\"value\":1,\"valueTwo\":1,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
      "  {\"names\":[\"no_such_syscall_brick\",\"getitimer\"],\"action\":\"SCMP_ACT_ERRNO\","
      "   \"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},"
      "             {\"index\":1,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
      "  {\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_LOG\"},"
      "  {\"names\":[\"sethostname\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
      "  {\"names\":[\"setdomainname\"],\"action\":\"SCMP_ACT_KILL_THREAD\"},"
      "  {\"names\":[\"acct\"],\"action\":\"SCMP_ACT_KILL\"},"
      "  {\"names\":[\"vhangup\"],\"action\":\"SCMP_ACT_TRAP\"},"
      "  {\"names\":[\"syslog\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":5},"
      "  {\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}"
      " ]}");
  struct brick_seccomp_prog *prog = test_prepare(s);
  assert_true(brick_seccomp_prog_len(prog) > 0);
  assert_false(brick_seccomp_uses_notify(prog));
  assert_int_equal(brick_seccomp_prog_flags(prog),
                   SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  brick_seccomp_prog_free(prog);
  test_seccomp_free(s);
}

static void notify_sets_listener_flag(void **state) {
  (void)state;
  struct brick_seccomp *s = test_seccomp_from_string(
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/x.sock\","
      " \"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
      " \"syscalls\":[{\"names\":[\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
  struct brick_seccomp_prog *prog = test_prepare(s);
  assert_true(brick_seccomp_uses_notify(prog));
  unsigned f = brick_seccomp_prog_flags(prog);
  assert_true(f & SECCOMP_FILTER_FLAG_NEW_LISTENER);
  assert_true(f & SECCOMP_FILTER_FLAG_TSYNC);
  assert_true(f & SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
  assert_true(f & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  brick_seccomp_prog_free(prog);
  test_seccomp_free(s);

  /* A NOTIFY rule whose only syscall is unknown never fires: no listener. */
  s = test_seccomp_from_string(
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
      " \"syscalls\":[{\"names\":[\"no_such_syscall_brick\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
  prog = test_prepare(s);
  assert_false(brick_seccomp_uses_notify(prog));
  assert_int_equal(brick_seccomp_prog_flags(prog), 0);
  brick_seccomp_prog_free(prog);
  test_seccomp_free(s);
}

static void expect_error(const char *json, const char *needle) {
  struct brick_seccomp *s = test_seccomp_from_string(json);
  brick_err err = {0};
  struct brick_seccomp_prog *prog = (void *)1;
  assert_int_equal(brick_seccomp_prepare(s, NULL, &prog, &err), -1);
  assert_null(prog);
  if (!strstr(brick_error_msg(&err), needle))
    fail_msg("error \"%s\" does not mention \"%s\"", brick_error_msg(&err), needle);
  brick_error_clear(&err);
  test_seccomp_free(s);
}

static void bad_profiles_are_errors(void **state) {
  (void)state;
  expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
               "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_VAX\"");
  expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_NOPE\"]}",
               "linux.seccomp.flags[0]: unknown flag");
  expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
               "\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}",
               "needs a SCMP_ACT_NOTIFY rule");
  expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
               "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,"
               "\"op\":\"SCMP_CMP_EQ\"}]}]}",
               "linux.seccomp.syscalls[0].args[0].index: 6 is out of range");
  expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
               "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":5000}]}",
               "linux.seccomp.syscalls[0]: errnoRet 5000 is out of range");
  expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":70000}",
               "linux.seccomp.defaultAction: errnoRet 70000");
}

/* A rule with the default's action is dropped, as libseccomp would refuse it. */
static void rule_same_as_default_is_skipped(void **state) {
  (void)state;
  struct brick_seccomp *s = test_seccomp_from_string(
      "{\"defaultAction\":\"SCMP_ACT_ERRNO\","
      " \"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},"
      "              {\"names\":[\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
  struct brick_seccomp_prog *prog = test_prepare(s);
  brick_seccomp_prog_free(prog);
  test_seccomp_free(s);
}

static void canonical_json_roundtrip(void **state) {
  (void)state;
  _cleanup_json_ json_t *p = brick_seccomp_default_profile(0);
  struct brick_seccomp *s = test_seccomp_from_json(p);
  _cleanup_json_ json_t *c = brick_seccomp_to_json(s);
  assert_string_equal(json_string_value(json_object_get(c, "defaultAction")), "SCMP_ACT_ERRNO");
  assert_int_equal(json_integer_value(json_object_get(c, "defaultErrnoRet")), ENOSYS);
  assert_int_equal(json_array_size(json_object_get(c, "syscalls")),
                   json_array_size(json_object_get(p, "syscalls")));
  /* Parsing the canonical form again gives the same canonical form. */
  struct brick_seccomp *s2 = test_seccomp_from_json(c);
  _cleanup_json_ json_t *c2 = brick_seccomp_to_json(s2);
  assert_true(json_equal(c, c2));
  test_seccomp_free(s2);
  test_seccomp_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(default_profile_shape),
    cmocka_unit_test(default_profile_caps),
    cmocka_unit_test(default_profile_compiles),
    cmocka_unit_test(oci_profile_all_features),
    cmocka_unit_test(notify_sets_listener_flag),
    cmocka_unit_test(bad_profiles_are_errors),
    cmocka_unit_test(rule_same_as_default_is_skipped),
    cmocka_unit_test(canonical_json_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
