/* Version order: apk against apk-tools' documented rules (the reference tool is not
 * installable here), plus dpkg and rpm cases worth naming (the generated comparison with
 * the real tools is vercmp_reference.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scan/scan.h"

struct vec {
  const char *a, *b;
  int want;
};

static int sign(int x) { return x < 0 ? -1 : x > 0; }

static void check(enum brick_pkg_kind kind, const struct vec *v, size_t n) {
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    int got = sign(brick_vercmp(kind, v[i].a, v[i].b));
    int back = sign(brick_vercmp(kind, v[i].b, v[i].a));
    if (got != v[i].want || back != -v[i].want) {
      print_error("%s: %s vs %s: got %d (reverse %d), want %d\n", brick_pkg_kind_name(kind),
                  v[i].a, v[i].b, got, back, v[i].want);
      failures++;
    }
  }
  assert_int_equal(failures, 0);
}

static void test_apk(void **state) {
  (void)state;
  static const struct vec v[] = {
      {"1.0", "1.0", 0},           {"1.0", "1.1", -1},          {"1.10", "1.9", 1},
      {"1.0", "1.0.1", -1},        {"2.0", "1.99.99", 1},       {"1.0a", "1.0", 1},
      {"1.0a", "1.0b", -1},        {"1.0z", "1.1", -1},         {"1.0_alpha", "1.0", -1},
      {"1.0_beta", "1.0_alpha", 1}, {"1.0_pre", "1.0_beta", 1}, {"1.0_rc", "1.0_pre", 1},
      {"1.0_rc1", "1.0", -1},      {"1.0_rc1", "1.0_rc2", -1},  {"1.0_rc10", "1.0_rc9", 1},
      {"1.0_alpha1", "1.0_beta", -1}, {"1.0_cvs", "1.0", 1},    {"1.0_svn", "1.0_cvs", 1},
      {"1.0_git", "1.0_svn", 1},   {"1.0_hg", "1.0_git", 1},    {"1.0_p", "1.0_hg", 1},
      {"1.0_p1", "1.0", 1},        {"1.0_p1", "1.0_p2", -1},    {"1.0_p1", "1.0.1", -1},
      {"1.0-r0", "1.0", 1},        {"1.0-r1", "1.0-r0", 1},     {"1.0-r10", "1.0-r9", 1},
      {"1.0-r1", "1.0.1", -1},     {"1.0-r1", "1.0_p1", -1},    {"1.0_rc1-r5", "1.0", -1},
      {"1.0_rc1-r5", "1.0_rc1-r4", 1}, {"1.2.3-r0", "1.2.3-r0", 0}, {"3.1.4-r5", "3.1.4-r6", -1},
      {"3.0.12-r0", "3.0.8-r0", 1}, {"1.36.1-r15", "1.36.1-r2", 1}, {"2.38-r0", "2.38.1-r0", -1},
      {"1.2.13-r0", "1.2.13-r1", -1}, {"1.0_alpha_beta", "1.0_alpha", -1},
      {"1.01", "1.1", -1},         {"1.001", "1.01", -1},       {"0.1", "0.01", 1},
      {"20230101", "20221231", 1}, {"1.0a-r1", "1.0a", 1},      {"1.0_p1-r1", "1.0_p1", 1},
      {"6.4_p20231125-r0", "6.4_p20230506-r0", 1}, {"1.0_rc1_p1", "1.0_rc1", 1},
  };
  check(BRICK_PKG_APK, v, sizeof v / sizeof *v);
}

static void test_dpkg_named(void **state) {
  (void)state;
  static const struct vec v[] = {
      {"1.0~rc1", "1.0", -1},      {"1.0~~", "1.0~", -1},       {"1.0", "1.0+deb12u1", -1},
      {"1:0.9", "2.0", 1},         {"3.0.11-1~deb12u2", "3.0.11-1", -1},
      {"1.2.13.dfsg-1", "1:1.2.13.dfsg-1", -1}, {"1.0-1", "1.0-1+b1", -1},
      {"1.0", "1.0-0", 0},         {"1.0a", "1.0+", -1},        {"7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1},
      {"2.36-9+deb12u4", "2.36-9+deb12u10", -1}, {"01.0", "1.0", 0},
  };
  check(BRICK_PKG_DPKG, v, sizeof v / sizeof *v);
}

static void test_rpm_named(void **state) {
  (void)state;
  static const struct vec v[] = {
      {"1.0~rc1-1", "1.0-1", -1},  {"1.0^git1-1", "1.0-1", 1},  {"1.0^git1", "1.0.1", -1},
      {"1:1.0-1", "2.0-1", 1},     {"3.0.7-24.el9", "3.0.7-25.el9", -1},
      {"1.0a", "1.0", 1},          {"1.0", "1.0a", -1},         {"1.0a", "1.0.1", -1},
      {"1.el9_2", "1.el9", 1},     {"0:1.0-1", "1.0-1", 0},     {"1.0-1", "1.0", 1},
      {"2.1", "2.01", 0},          {"1.0_1", "1.0.1", 0},
  };
  check(BRICK_PKG_RPM, v, sizeof v / sizeof *v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_apk),
      cmocka_unit_test(test_dpkg_named),
      cmocka_unit_test(test_rpm_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
