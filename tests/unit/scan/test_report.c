/* Reports: the table names what matters and colours only on request; JSON, SARIF 2.1.0
 * and CycloneDX 1.5 carry the findings in their formats' shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "scan/scan.h"

static void make(struct brick_scan_result *r) {
  memset(r, 0, sizeof *r);
  r->target = xstrdup("demo:latest");
  r->image_id = xstrdup("abc");
  brick_os_release_parse("ID=debian\nVERSION_ID=12\nPRETTY_NAME=\"Debian 12\"\n", &r->inv.os);
  brick_inventory_add(&r->inv, BRICK_PKG_DPKG, "libssl3", "1:3.0.11-1", "amd64", "openssl", NULL);
  r->findings = xcalloc(2, sizeof *r->findings);
  r->n_findings = 2;
  struct brick_finding *f = &r->findings[0];
  f->vuln_id = brick_scan_result_strdup(r, "CVE-2024-1");
  f->severity = BRICK_SEV_CRITICAL;
  f->score = 9.8;
  f->pkg_name = brick_scan_result_strdup(r, "libssl3");
  f->pkg_source = brick_scan_result_strdup(r, "openssl");
  f->installed = brick_scan_result_strdup(r, "1:3.0.11-1");
  f->fixed = brick_scan_result_strdup(r, "1:3.0.11-2");
  f->layer = 1;
  f = &r->findings[1];
  f->vuln_id = brick_scan_result_strdup(r, "CVE-2024-2");
  f->severity = BRICK_SEV_LOW;
  f->score = -1;
  f->pkg_name = brick_scan_result_strdup(r, "libssl3");
  f->pkg_source = brick_scan_result_strdup(r, "openssl");
  f->installed = brick_scan_result_strdup(r, "1:3.0.11-1");
  f->layer = -1;
  f->ignored = true;
  f->ignore_reason = brick_scan_result_strdup(r, "accepted");
}

static void test_table(void **state) {
  (void)state;
  struct brick_scan_result r;
  make(&r);
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  struct brick_report_opts o = {.color = false};
  brick_err err = {0};
  assert_int_equal(brick_report_table(out, &r, 1, &o, &err), 0);
  fclose(out);
  assert_non_null(strstr(buf, "CVE-2024-1"));
  assert_non_null(strstr(buf, "1:3.0.11-2"));
  assert_null(strstr(buf, "CVE-2024-2"));     /* ignored: hidden by default */
  assert_non_null(strstr(buf, "Ignored: 1"));
  assert_null(strstr(buf, "\033["));          /* no colour unless asked */
  free(buf);
  out = open_memstream(&buf, &len);
  o.color = true;
  o.show_ignored = true;
  assert_int_equal(brick_report_table(out, &r, 1, &o, &err), 0);
  fclose(out);
  assert_non_null(strstr(buf, "\033[1;31mCRITICAL"));
  assert_non_null(strstr(buf, "CVE-2024-2"));
  free(buf);
  brick_scan_result_free(&r);
}

static void test_machine_formats(void **state) {
  (void)state;
  struct brick_scan_result r;
  make(&r);
  json_t *j = brick_report_json(&r, 1);
  json_t *res0 = json_array_get(json_object_get(j, "results"), 0);
  assert_string_equal(json_string_value(json_object_get(res0, "target")), "demo:latest");
  json_t *f0 = json_array_get(json_object_get(res0, "findings"), 0);
  assert_string_equal(json_string_value(json_object_get(f0, "status")), "fixed");
  json_decref(j);

  j = brick_report_sarif(&r, 1);
  assert_string_equal(json_string_value(json_object_get(j, "version")), "2.1.0");
  json_t *run = json_array_get(json_object_get(j, "runs"), 0);
  json_t *results = json_object_get(run, "results");
  assert_int_equal(json_array_size(results), 1); /* ignored finding left out */
  json_t *x = json_array_get(results, 0);
  assert_string_equal(json_string_value(json_object_get(x, "level")), "error");
  json_t *loc = json_array_get(json_object_get(x, "locations"), 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(loc, "physicalLocation"), "artifactLocation"), "uri")),
                      "var/lib/dpkg/status");
  json_t *rule = json_array_get(json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules"), 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(rule, "properties"), "security-severity")), "9.8");
  json_decref(j);

  j = brick_report_cyclonedx(&r, 1);
  assert_string_equal(json_string_value(json_object_get(j, "specVersion")), "1.5");
  json_t *comp = json_array_get(json_object_get(j, "components"), 0);
  assert_string_equal(json_string_value(json_object_get(comp, "purl")),
                      "pkg:deb/debian/libssl3@1%3A3.0.11-1?arch=amd64&distro=debian-12");
  json_t *vulns = json_object_get(j, "vulnerabilities");
  assert_int_equal(json_array_size(vulns), 2);
  json_t *v1 = json_array_get(vulns, 1);
  assert_string_equal(json_string_value(json_object_get(json_object_get(v1, "analysis"), "state")), "not_affected");
  assert_non_null(strstr(json_string_value(json_object_get(j, "serialNumber")), "urn:uuid:"));
  json_decref(j);
  brick_scan_result_free(&r);
}

static char *dump_stream(const struct brick_scan_result *r, size_t n) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  struct brick_json_stream js;
  assert_int_equal(brick_report_json_begin(&js, out), 0);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(brick_report_json_add(&js, &r[i]), 0);
  assert_int_equal(brick_report_json_end(&js), 0);
  fclose(out);
  return buf;
}

static char *dump_tree(const struct brick_scan_result *r, size_t n) {
  json_t *j = brick_report_json(r, n);
  char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
  json_decref(j);
  char *with_nl = xasprintf("%s\n", text);
  free(text);
  return with_nl;
}

/* The streamed report is the tree's document, byte for byte, for 0, 1 and 2 targets. */
static void test_json_stream(void **state) {
  (void)state;
  struct brick_scan_result r[2];
  make(&r[0]);
  make(&r[1]);
  free(r[1].target);
  r[1].target = xstrdup("other \"quoted\"\n name");
  for (size_t n = 0; n <= 2; n++) {
    char *a = dump_stream(r, n), *b = dump_tree(r, n);
    assert_string_equal(a, b);
    free(a);
    free(b);
  }
  brick_scan_result_free(&r[0]);
  brick_scan_result_free(&r[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_machine_formats),
      cmocka_unit_test(test_json_stream),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
