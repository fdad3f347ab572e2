/* Findings, levels and the two output forms. */
#include "check_test.h"

#include <unistd.h>

static void test_level_names_round_trip(void **state) {
  (void)state;
  for (int l = BRICK_CHECK_OK; l <= BRICK_CHECK_CRITICAL; l++) {
    enum brick_check_level back;
    assert_int_equal(brick_check_level_from_name(brick_check_level_name(l), &back), 0);
    assert_int_equal(back, l);
  }
  enum brick_check_level l;
  assert_int_equal(brick_check_level_from_name("WARNING", &l), 0);
  assert_int_equal(l, BRICK_CHECK_WARN);
  assert_int_equal(brick_check_level_from_name("HIGH", &l), 0);
  assert_int_equal(l, BRICK_CHECK_HIGH);
  assert_int_equal(brick_check_level_from_name("severe", &l), -1);
  assert_int_equal(brick_check_level_from_name(NULL, &l), -1);
}

static void test_worst_and_counts(void **state) {
  (void)state;
  struct brick_check_report *r = brick_check_report_new("config", "x.json");
  assert_int_equal(brick_check_report_worst(r), BRICK_CHECK_OK);
  brick_check_report_add(r, BRICK_CHECK_INFO, "a", NULL, NULL, NULL, "a");
  brick_check_report_add(r, BRICK_CHECK_HIGH, "b", "linux.seccomp", "why", "fix", "b %d", 2);
  brick_check_report_add(r, BRICK_CHECK_WARN, "c", NULL, NULL, NULL, "c");
  brick_check_report_add(r, BRICK_CHECK_HIGH, "b", "process.user", NULL, NULL, "b again");
  assert_int_equal(brick_check_report_worst(r), BRICK_CHECK_HIGH);
  assert_int_equal(brick_check_report_count(r, BRICK_CHECK_HIGH), 2);
  assert_int_equal(brick_check_report_count(r, BRICK_CHECK_CRITICAL), 0);
  assert_string_equal(must_find(r, "b", NULL)->title, "b 2");
  assert_string_equal(must_find(r, "b", "process.user")->title, "b again");
  assert_null(brick_check_report_find(r, "b", "nowhere"));
  assert_null(brick_check_report_find(r, "zzz", NULL));
  brick_check_report_free(r);
}

static void test_json_shape(void **state) {
  (void)state;
  struct brick_check_report *r = brick_check_report_new("host", "/");
  brick_check_report_add(r, BRICK_CHECK_CRITICAL, "mac.none", NULL, "why it matters",
                         "how to fix", "no MAC");
  brick_check_report_add(r, BRICK_CHECK_OK, "kernel.version", "/proc/sys/kernel/osrelease",
                         NULL, NULL, "kernel 6.18");
  json_object_set_new(r->facts, "landlock_abi", json_integer(7));
  json_t *doc = brick_check_report_to_json(r);
  assert_string_equal(json_string_value(json_object_get(doc, "kind")), "host");
  assert_string_equal(json_string_value(json_object_get(doc, "worst")), "critical");
  json_t *findings = json_object_get(doc, "findings");
  assert_int_equal(json_array_size(findings), 2);
  json_t *f0 = json_array_get(findings, 0);
  assert_string_equal(json_string_value(json_object_get(f0, "id")), "mac.none");
  assert_string_equal(json_string_value(json_object_get(f0, "level")), "critical");
  assert_string_equal(json_string_value(json_object_get(f0, "why")), "why it matters");
  assert_string_equal(json_string_value(json_object_get(f0, "fix")), "how to fix");
  assert_null(json_object_get(f0, "where"));
  json_t *summary = json_object_get(doc, "summary");
  assert_int_equal(json_integer_value(json_object_get(summary, "critical")), 1);
  assert_int_equal(json_integer_value(json_object_get(summary, "ok")), 1);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "facts"), "landlock_abi")), 7);
  json_decref(doc);
  brick_check_report_free(r);
}

static char *print_to_string(const struct brick_check_report *r, bool color,
                             enum brick_check_level min) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  brick_check_report_print(r, f, color, min);
  fclose(f);
  return buf;
}

static void test_text_output(void **state) {
  (void)state;
  struct brick_check_report *r = brick_check_report_new("config", "config.json");
  brick_check_report_add(r, BRICK_CHECK_OK, "seccomp.on", NULL, NULL, NULL, "seccomp on");
  brick_check_report_add(r, BRICK_CHECK_CRITICAL, "caps.sys_admin",
                         "process.capabilities.bounding[3]", "new root", "drop it",
                         "capability CAP_SYS_ADMIN granted");
  char *plain = print_to_string(r, false, BRICK_CHECK_OK);
  assert_non_null(strstr(plain, "CRITICAL"));
  assert_non_null(strstr(plain, "process.capabilities.bounding[3]"));
  assert_non_null(strstr(plain, "fix: drop it"));
  assert_non_null(strstr(plain, "seccomp on"));
  assert_null(strchr(plain, '\033'));
  /* Worst first. */
  assert_true(strstr(plain, "CRITICAL") < strstr(plain, "seccomp on"));
  free(plain);

  char *colored = print_to_string(r, true, BRICK_CHECK_OK);
  assert_non_null(strchr(colored, '\033'));
  free(colored);

  char *filtered = print_to_string(r, false, BRICK_CHECK_HIGH);
  assert_null(strstr(filtered, "seccomp on"));
  assert_non_null(strstr(filtered, "CAP_SYS_ADMIN"));
  assert_non_null(strstr(filtered, "1 critical"));
  free(filtered);
  brick_check_report_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_level_names_round_trip),
      cmocka_unit_test(test_worst_and_counts),
      cmocka_unit_test(test_json_shape),
      cmocka_unit_test(test_text_output),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
