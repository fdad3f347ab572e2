#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/util.h"
#include "trust/internal.h"

static void expect_norm(const char *in, const char *want) {
  struct brick_dref r;
  brick_err err = {0};
  int rc = brick_dref_parse(in, true, &r, &err);
  if (rc < 0)
    fail_msg("%s: %s", in, brick_error_msg(&err));
  char *s = brick_dref_string(&r);
  assert_string_equal(s, want);
  free(s);
  brick_dref_clear(&r);
}

static void expect_bad(const char *in) {
  struct brick_dref r;
  brick_err err = {0};
  if (brick_dref_parse(in, true, &r, &err) == 0)
    fail_msg("%s parsed but is invalid", in);
  assert_non_null(err.msg);
  brick_error_clear(&err);
}

static void test_normalize(void **state) {
  (void)state;
  expect_norm("busybox", "docker.io/library/busybox");
  expect_norm("busybox:1.36", "docker.io/library/busybox:1.36");
  expect_norm("index.docker.io/foo/bar", "docker.io/foo/bar");
  expect_norm("localhost/app", "localhost/app");
  expect_norm("localhost:5000/a/b/c:v1", "localhost:5000/a/b/c:v1");
  expect_norm("registry.example.com/app@sha256:"
              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
              "registry.example.com/app@sha256:"
              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  expect_norm("quay.io/ns/my_app-x.y__z:latest", "quay.io/ns/my_app-x.y__z:latest");
  expect_norm("[::1]:5000/app", "[::1]:5000/app");
}

static void test_invalid(void **state) {
  (void)state;
  expect_bad("");
  expect_bad("Busybox");
  expect_bad("example.com/App");
  expect_bad("example.com/app:");
  expect_bad("example.com/app:-bad");
  expect_bad("example.com//app");
  expect_bad("example.com/app@sha256:abc");
  expect_bad("example.com/a..b");
  expect_bad("-ex.com/app");
  expect_bad("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  expect_bad("example.com:port/app");
}

static void test_strict_form(void **state) {
  (void)state;
  struct brick_dref r;
  brick_err err = {0};
  assert_int_equal(brick_dref_parse("busybox", false, &r, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "normalized"));
  brick_error_clear(&err);
  assert_int_equal(brick_dref_parse("docker.io/library/busybox:1", false, &r, &err), 0);
  brick_dref_clear(&r);
}

static void test_namespaces(void **state) {
  (void)state;
  struct brick_dref r;
  assert_int_equal(brick_dref_parse("a.b.example.com:8443/ns/sub/repo:1", true, &r, NULL), 0);
  char **ns = brick_dref_namespaces(&r);
  const char *want[] = {"a.b.example.com:8443/ns/sub/repo", "a.b.example.com:8443/ns/sub",
                        "a.b.example.com:8443/ns", "a.b.example.com:8443", "*.b.example.com",
                        "*.example.com", "*.com", NULL};
  for (size_t i = 0; want[i]; i++) {
    assert_non_null(ns[i]);
    assert_string_equal(ns[i], want[i]);
  }
  assert_null(ns[7]);
  brick_strv_free(ns);
  brick_dref_clear(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normalize), cmocka_unit_test(test_invalid),
      cmocka_unit_test(test_strict_form), cmocka_unit_test(test_namespaces)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
