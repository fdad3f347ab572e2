#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/util.h"
#include "trust/internal.h"

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
static char dir[] = "/tmp/brick-storage-XXXXXX";

static int setup(void **state) {
  (void)state;
  return mkdtemp(dir) ? 0 : -1;
}
static int teardown(void **state) {
  (void)state;
  return brick_rm_rf(dir, NULL);
}

static void write_file(const char *path, const char *s) {
  assert_int_equal(brick_write_file_atomic(path, s, strlen(s), 0644, NULL), 0);
}

static void test_lookaside_dir(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(brick_lookaside_dir("/srv/sigs/", "busybox:1", D, &out, NULL), 0);
  assert_string_equal(out, "/srv/sigs/library/busybox@sha256=0123456789abcdef0123456789abcdef"
                           "0123456789abcdef0123456789abcdef");
  free(out);
  brick_err err = {0};
  assert_int_equal(brick_lookaside_dir("/srv", "a.com/x", "sha256:../../etc", &out, &err), -1);
  brick_error_clear(&err);
}

static void test_read_write(void **state) {
  (void)state;
  char *sd = xasprintf("%s/sigs/deep", dir);
  char *p1 = NULL, *p2 = NULL;
  assert_int_equal(brick_sigs_write_next(sd, (const unsigned char *)"one", 3, &p1, NULL), 0);
  assert_int_equal(brick_sigs_write_next(sd, (const unsigned char *)"two", 3, &p2, NULL), 0);
  assert_true(strstr(p1, "/signature-1") != NULL);
  assert_true(strstr(p2, "/signature-2") != NULL);
  struct brick_sig_blob *sigs;
  size_t n;
  assert_int_equal(brick_sigs_read_dir(sd, &sigs, &n, NULL), 0);
  assert_int_equal(n, 2);
  assert_memory_equal(sigs[1].data, "two", 3);
  brick_sig_blobs_free(sigs, n);
  char *ref = xasprintf("dir:%s", sd);
  assert_int_equal(brick_sigstore_load(NULL, ref, D, &sigs, &n, NULL), 0);
  assert_int_equal(n, 2);
  brick_sig_blobs_free(sigs, n);
  free(sd); free(p1); free(p2); free(ref);
}

static void test_registries_d(void **state) {
  (void)state;
  char *rd = xasprintf("%s/registries.d", dir);
  assert_int_equal(brick_mkdir_p(rd, 0755, NULL), 0);
  char *f1 = xasprintf("%s/default.yaml", rd), *f2 = xasprintf("%s/example.yaml", rd);
  write_file(f1, "# comment\ndefault-docker:\n  lookaside: file:///srv/default\n");
  write_file(f2, "docker:\n"
                 "  example.com:\n"
                 "    lookaside: file:///srv/example\n"
                 "    lookaside-staging: file:///srv/staging\n"
                 "  example.com/team/app:\n"
                 "    sigstore: file:///srv/team-app\n"
                 "  '*.corp.com':\n"
                 "    lookaside: file:///srv/corp\n"
                 "  quay.io:\n"
                 "    use-sigstore-attachments: true\n"
                 "  remote.io:\n"
                 "    lookaside: https://remote.io/sigs\n");
  struct {
    const char *ref;
    bool write;
    const char *want;
  } cases[] = {
      {"example.com/team/app:1", false, "/srv/team-app"},
      {"example.com/team/other", false, "/srv/example"},
      {"example.com/x", true, "/srv/staging"},
      {"a.b.corp.com/x", false, "/srv/corp"},
      {"quay.io/x", false, "/srv/default"},
      {"busybox", false, "/srv/default"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    char *out = NULL;
    brick_err err = {0};
    if (brick_registries_d_lookaside(rd, cases[i].ref, cases[i].write, &out, &err) < 0)
      fail_msg("%s: %s", cases[i].ref, brick_error_msg(&err));
    assert_non_null(out);
    assert_string_equal(out, cases[i].want);
    free(out);
  }
  char *out = NULL;
  brick_err err = {0};
  assert_int_equal(brick_registries_d_lookaside(rd, "remote.io/x", false, &out, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "file://"));
  brick_error_clear(&err);
  /* the same namespace in two files is an error naming both */
  char *f3 = xasprintf("%s/zz.yaml", rd);
  write_file(f3, "docker:\n  example.com:\n    lookaside: file:///elsewhere\n");
  assert_int_equal(brick_registries_d_lookaside(rd, "example.com/x", false, &out, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "also configured"));
  brick_error_clear(&err);
  write_file(f3, "docker: [1, 2\n");
  assert_int_equal(brick_registries_d_lookaside(rd, "example.com/x", false, &out, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "zz.yaml"));
  brick_error_clear(&err);
  unlink(f3);
  /* nothing configured */
  unlink(f1);
  assert_int_equal(brick_registries_d_lookaside(rd, "quay.io/x", false, &out, NULL), 0);
  assert_null(out);
  free(rd); free(f1); free(f2); free(f3);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_lookaside_dir),
                                     cmocka_unit_test(test_read_write),
                                     cmocka_unit_test(test_registries_d)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
