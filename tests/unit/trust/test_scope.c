#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "trust/internal.h"

static void expect(const char *transport, const char *ref, const char *const *want,
                   const char *want_docker) {
  char **c = NULL, *d = NULL;
  brick_err err = {0};
  if (brick_policy_scope_candidates(transport, ref, &c, &d, &err) < 0)
    fail_msg("%s:%s: %s", transport, ref, brick_error_msg(&err));
  size_t i;
  for (i = 0; want[i]; i++) {
    if (!c[i])
      fail_msg("%s:%s: missing candidate %s", transport, ref, want[i]);
    assert_string_equal(c[i], want[i]);
  }
  if (c[i])
    fail_msg("%s:%s: unexpected candidate %s", transport, ref, c[i]);
  if (want_docker)
    assert_string_equal(d, want_docker);
  else
    assert_null(d);
  brick_strv_free(c);
  free(d);
}

static void test_docker(void **state) {
  (void)state;
  const char *w1[] = {"docker.io/library/busybox:latest", "docker.io/library/busybox",
                      "docker.io/library", "docker.io", "*.io", NULL};
  expect("docker", "busybox", w1, "docker.io/library/busybox:latest");
  const char *w2[] = {"reg.example.com:5000/ns/app:1", "reg.example.com:5000/ns/app",
                      "reg.example.com:5000/ns", "reg.example.com:5000", "*.example.com",
                      "*.com", NULL};
  expect("docker", "//reg.example.com:5000/ns/app:1", w2, "reg.example.com:5000/ns/app:1");
  const char *w3[] = {"localhost/app:latest", "localhost/app", "localhost", NULL};
  expect("atomic", "localhost/app", w3, "localhost/app:latest");
}

static void test_paths(void **state) {
  (void)state;
  char tmpl[] = "/tmp/brick-scope-XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  char *img = xasprintf("%s/img", tmpl);
  const char *w1[] = {img, tmpl, "/tmp", NULL};
  expect("dir", img, w1, NULL);
  char *dotted = xasprintf("%s/./x/../img", tmpl);
  expect("dir", dotted, w1, NULL);
  char *oci = xasprintf("%s:v1", img);
  const char *w2[] = {oci, img, tmpl, "/tmp", NULL};
  expect("oci", oci, w2, NULL);
  /* a symlinked directory resolves to its target */
  char *lnk = xasprintf("%s/lnk", tmpl);
  char *via = xasprintf("%s/lnk/img", tmpl);
  assert_int_equal(symlink(tmpl, lnk), 0);
  expect("dir", via, w1, NULL);
  unlink(lnk);
  rmdir(tmpl);
  free(img);
  free(dotted);
  free(oci);
  free(lnk);
  free(via);
}

static void test_storage(void **state) {
  (void)state;
  const char *w[] = {"[overlay@/var/lib/containers/storage]docker.io/library/busybox:latest",
                     "[overlay@/var/lib/containers/storage]docker.io/library/busybox",
                     "[overlay@/var/lib/containers/storage]docker.io/library",
                     "[overlay@/var/lib/containers/storage]docker.io",
                     "[overlay@/var/lib/containers/storage]",
                     "[/var/lib/containers/storage]", NULL};
  expect("containers-storage",
         "[overlay@/var/lib/containers/storage+/run/containers/storage]busybox", w,
         "docker.io/library/busybox:latest");
}

static void valid(const char *t, const char *s, bool ok) {
  brick_err err = {0};
  int r = brick_policy_validate_scope(t, s, &err);
  if ((r == 0) != ok)
    fail_msg("%s scope \"%s\": expected %s (%s)", t, s, ok ? "valid" : "invalid",
             brick_error_msg(&err));
  brick_error_clear(&err);
}

static void test_validate(void **state) {
  (void)state;
  valid("docker", "example.com", true);
  valid("docker", "example.com:5000/ns/app:tag", true);
  valid("docker", "*.example.com", true);
  valid("docker", "*.example.com/ns", false);
  valid("docker", "foo.*.com", false);
  valid("docker", "example.com/", false);
  valid("dir", "/srv/images", true);
  valid("dir", "/srv/images/", false);
  valid("dir", "relative/path", false);
  valid("dir", "/", false);
  valid("dir", "/srv/../etc", false);
  valid("oci", "/srv/layout:tag", true);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_docker), cmocka_unit_test(test_paths),
                                     cmocka_unit_test(test_storage),
                                     cmocka_unit_test(test_validate)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
