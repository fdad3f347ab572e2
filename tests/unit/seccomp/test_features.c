/* features.json "seccomp": what this kernel and libseccomp support. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"
#include "seccomp/seccomp.h"
#include "seccomp_test_util.h"

static bool has(json_t *arr, const char *s) {
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e)
    if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
      return true;
  return false;
}

static void features_shape(void **state) {
  (void)state;
  _cleanup_json_ json_t *f = brick_seccomp_features();
  assert_true(json_is_true(json_object_get(f, "enabled")));
  json_t *actions = json_object_get(f, "actions");
  /* Linux 5.0+ supports every OCI action. */
  const char *all[] = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                       "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
                       "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"};
  for (size_t i = 0; i < ARRAY_SIZE(all); i++)
    if (!has(actions, all[i]))
      fail_msg("action %s missing", all[i]);
  json_t *ops = json_object_get(f, "operators");
  assert_int_equal(json_array_size(ops), 7);
  assert_true(has(ops, "SCMP_CMP_MASKED_EQ"));
  json_t *archs = json_object_get(f, "archs");
  assert_true(has(archs, "SCMP_ARCH_X86_64"));
  assert_true(has(archs, "SCMP_ARCH_AARCH64"));
  assert_true(has(archs, "SCMP_ARCH_X86"));
  json_t *known = json_object_get(f, "knownFlags");
  json_t *supported = json_object_get(f, "supportedFlags");
  assert_int_equal(json_array_size(known), 4);
  size_t i;
  json_t *e;
  json_array_foreach(supported, i, e)
    assert_true(has(known, json_string_value(e)));
  assert_true(has(supported, "SECCOMP_FILTER_FLAG_TSYNC"));
  assert_true(has(supported, "SECCOMP_FILTER_FLAG_LOG"));
  assert_true(has(supported, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
  /* Linux 6.0+. */
  assert_true(has(supported, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
}

/* Every architecture features.json advertises is understood: it compiles, or (big-endian
 * ones next to a little-endian native arch) is refused with a message saying why. */
static void advertised_archs_compile(void **state) {
  (void)state;
  _cleanup_json_ json_t *f = brick_seccomp_features();
  size_t i, compiled = 0;
  json_t *e;
  json_array_foreach(json_object_get(f, "archs"), i, e) {
    _cleanup_json_ json_t *p = json_pack("{s:s, s:[s], s:[{s:[s], s:s}]}", "defaultAction",
                                         "SCMP_ACT_ALLOW", "architectures", json_string_value(e),
                                         "syscalls", "names", "getppid", "action",
                                         "SCMP_ACT_ERRNO");
    struct brick_seccomp *s = test_seccomp_from_json(p);
    brick_err err = {0};
    struct brick_seccomp_prog *prog = NULL;
    if (brick_seccomp_prepare(s, NULL, &prog, &err) < 0) {
      if (!strstr(brick_error_msg(&err), "cannot share a filter with the native architecture"))
        fail_msg("%s: %s", json_string_value(e), brick_error_msg(&err));
      print_message("  %s: %s\n", json_string_value(e), brick_error_msg(&err));
      brick_error_clear(&err);
    } else {
      compiled++;
    }
    brick_seccomp_prog_free(prog);
    test_seccomp_free(s);
  }
  assert_true(compiled >= 3);   /* native, and on x86_64 also x86 and x32 */
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(features_shape),
    cmocka_unit_test(advertised_archs_compile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
