#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/util.h"
#include "trust/trust.h"

static char dir[] = "/tmp/brick-gate-XXXXXX";
static int setup(void **state) {
  (void)state;
  return mkdtemp(dir) ? 0 : -1;
}
static int teardown(void **state) {
  (void)state;
  return brick_rm_rf(dir, NULL);
}

static int load(const char *json, struct brick_scan_gate *g, brick_err *err) {
  char *p = xasprintf("%s/trust.json", dir);
  assert_int_equal(brick_write_file_atomic(p, json, strlen(json), 0644, NULL), 0);
  int r = brick_scan_gate_load(p, g, err);
  free(p);
  return r;
}

static void test_gate(void **state) {
  (void)state;
  struct brick_scan_gate g;
  brick_err err = {0};
  assert_int_equal(load("{\"scanGate\":{\"maxSeverity\":\"high\"}}", &g, &err), 0);
  assert_true(g.enabled);
  assert_true(g.require_scan);
  struct brick_trust_scan_counts c = {.scanned = true};
  c.unfixed[BRICK_TRUST_SEV_MEDIUM] = 5;
  assert_int_equal(brick_scan_gate_check(&g, "img", &c, &err), 0);
  c.unfixed[BRICK_TRUST_SEV_HIGH] = 1;
  assert_int_equal(brick_scan_gate_check(&g, "img", &c, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "1 HIGH"));
  c.unfixed[BRICK_TRUST_SEV_CRITICAL] = 2;
  assert_int_equal(brick_scan_gate_check(&g, "img", &c, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "3 unfixed findings"));
  struct brick_trust_scan_counts never = {0};
  assert_int_equal(brick_scan_gate_check(&g, "img", &never, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "never been scanned"));
  /* gate off: everything passes */
  struct brick_scan_gate off = {0};
  assert_int_equal(brick_scan_gate_check(&off, "img", &c, &err), 0);
  assert_int_equal(load("{\"scanGate\":{\"maxSeverity\":\"CRITICAL\",\"requireScan\":false}}", &g,
                        &err), 0);
  assert_int_equal(brick_scan_gate_check(&g, "img", &never, &err), 0);
  brick_error_clear(&err);
}

static void test_bad_config(void **state) {
  (void)state;
  struct brick_scan_gate g;
  brick_err err = {0};
  assert_int_equal(load("{\"scanGate\":{\"maxSeverity\":\"SEVERE\"}}", &g, &err), -1);
  assert_int_equal(load("{\"scanGate\":{\"maxSeverity\":\"LOW\",\"x\":1}}", &g, &err), -1);
  assert_int_equal(load("{\"other\":1}", &g, &err), -1);
  assert_int_equal(load("{\"scanGate\":{}}", &g, &err), -1);
  brick_error_clear(&err);
  char *missing = xasprintf("%s/none.json", dir);
  assert_int_equal(brick_scan_gate_load(missing, &g, &err), -1); /* explicit path must exist */
  brick_error_clear(&err);
  setenv("BRICK_TRUST_CONFIG", missing, 1);
  assert_int_equal(brick_scan_gate_load(NULL, &g, &err), 0);
  assert_false(g.enabled);
  free(missing);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_gate),
                                     cmocka_unit_test(test_bad_config)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
