/* OSV records as a user writes them, matched as a user expects: epochs, '~', backported
 * +debNuM fixes, last_affected, limit, versions lists, the binary-vs-source name trap,
 * record updates by `modified`, ignore rules with expiry, CVSS v3 scores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/util.h"
#include "scan/scan.h"

static char tmpdir[64];

static void test_cvss(void **state) {
  (void)state;
  struct { const char *v; double s; } c[] = {
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
      {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5},
      {"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5},
      {"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0},
      {"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N/E:P", 6.4},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", -1},
      {"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", -1},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", -1},
  };
  for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
    double got = brick_cvss3_base_score(c[i].v);
    if (got != c[i].s)
      print_error("%s: got %.1f want %.1f\n", c[i].v, got, c[i].s);
    assert_true(got == c[i].s);
  }
  assert_int_equal(brick_severity_from_score(9.8), BRICK_SEV_CRITICAL);
  assert_int_equal(brick_severity_from_score(3.1), BRICK_SEV_LOW);
  assert_int_equal(brick_severity_parse("Moderate"), BRICK_SEV_MEDIUM);
  assert_int_equal(brick_severity_parse("unimportant"), BRICK_SEV_LOW);
}

static json_t *parse(const char *s) {
  json_error_t e;
  json_t *j = json_loads(s, 0, &e);
  if (!j)
    fail_msg("bad test JSON: %s", e.text);
  return j;
}

static void test_osv_ranges(void **state) {
  (void)state;
  _cleanup_json_ json_t *r = parse(
      "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1:2.0-1\"}]}]");
  char *fixed = NULL;
  assert_true(brick_osv_affected(BRICK_PKG_DPKG, "1:1.9-3", r, NULL, &fixed));
  assert_string_equal(fixed, "1:2.0-1");
  free(fixed);
  /* no epoch = epoch 0, far below 1: */
  assert_true(brick_osv_affected(BRICK_PKG_DPKG, "3.0-1", r, NULL, NULL));
  assert_false(brick_osv_affected(BRICK_PKG_DPKG, "1:2.0-1", r, NULL, NULL));
  assert_true(brick_osv_affected(BRICK_PKG_DPKG, "1:2.0~rc1-1", r, NULL, NULL));

  _cleanup_json_ json_t *la = parse(
      "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"1.2\"},{\"last_affected\":\"1.4\"}]}]");
  assert_false(brick_osv_affected(BRICK_PKG_APK, "1.1-r0", la, NULL, NULL));
  assert_true(brick_osv_affected(BRICK_PKG_APK, "1.4", la, NULL, &fixed));
  assert_null(fixed);
  assert_false(brick_osv_affected(BRICK_PKG_APK, "1.4-r1", la, NULL, NULL));

  _cleanup_json_ json_t *lim = parse(
      "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"limit\":\"2.0\"}]}]");
  assert_true(brick_osv_affected(BRICK_PKG_RPM, "1.9-1", lim, NULL, NULL));
  assert_false(brick_osv_affected(BRICK_PKG_RPM, "2.1-1", lim, NULL, NULL));

  /* two introduced/fixed pairs (a regression and its fix) */
  _cleanup_json_ json_t *two = parse(
      "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.5\"},"
      "{\"introduced\":\"2.0\"},{\"fixed\":\"2.3\"}]}]");
  assert_false(brick_osv_affected(BRICK_PKG_RPM, "1.7", two, NULL, NULL));
  assert_true(brick_osv_affected(BRICK_PKG_RPM, "2.1", two, NULL, &fixed));
  assert_string_equal(fixed, "2.3");
  free(fixed);

  _cleanup_json_ json_t *vers = parse("[\"1.0-1\", \"1.0-2\"]");
  assert_true(brick_osv_affected(BRICK_PKG_DPKG, "1.0-2", NULL, vers, NULL));
  assert_false(brick_osv_affected(BRICK_PKG_DPKG, "1.0-3", NULL, vers, NULL));
  /* non-ECOSYSTEM ranges (GIT) are not version ranges */
  _cleanup_json_ json_t *git = parse(
      "[{\"type\":\"GIT\",\"repo\":\"x\",\"events\":[{\"introduced\":\"0\"}]}]");
  assert_false(brick_osv_affected(BRICK_PKG_DPKG, "1.0", git, NULL, NULL));
}

static const char records[] =
    /* Debian advisory for source openssl, fixed by a backport */
    "{\"id\":\"DSA-5532-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":[\"CVE-2023-5678\"],"
    "\"summary\":\"openssl: DoS\",\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H\"}],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"openssl\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"3.0.11-1~deb12u2\"}]}]}]}\n"
    /* unfixed, severity from urgency only */
    "{\"id\":\"CVE-2024-0001\",\"modified\":\"2024-02-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"zlib\"},"
    "\"ecosystem_specific\":{\"urgency\":\"low\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]}\n"
    /* the trap: source package 'libssl-compat' whose advisory names the same string as
     * a binary we have ('libssl3') must not match through the binary name */
    "{\"id\":\"CVE-2024-0002\",\"modified\":\"2024-02-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"libssl3\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]}\n"
    /* other distribution release: not for Debian 12 */
    "{\"id\":\"CVE-2024-0003\",\"modified\":\"2024-02-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:11\",\"name\":\"openssl\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]}\n"
    /* fixed long ago with an epoch: installed 1:1.2.13 is newer than 1.2.14 without epoch? no:
     * epoch 1 wins, so not affected */
    "{\"id\":\"CVE-2019-0004\",\"modified\":\"2024-02-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"zlib\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.2.14-1\"}]}]}]}\n"
    /* a PyPI record: no supported ecosystem, skipped */
    "{\"id\":\"PYSEC-1\",\"modified\":\"2024-02-01T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"x\"}}]}\n";

static const char status[] =
    "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\n\n"
    "Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u1\n\n"
    "Package: zlib1g\nStatus: install ok installed\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n";

static struct brick_vulndb *import_records(const char *name, const char *text) {
  _cleanup_free_ char *src = xasprintf("%s/%s.jsonl", tmpdir, name);
  _cleanup_free_ char *dbp = xasprintf("%s/%s.sqlite", tmpdir, name);
  brick_err err = {0};
  assert_int_equal(brick_write_file_atomic(src, text, strlen(text), 0644, &err), 0);
  struct brick_vulndb *db = NULL;
  assert_int_equal(brick_vulndb_open(dbp, true, &db, &err), 0);
  struct brick_import_stats st;
  char *srcs[] = {src};
  if (brick_vulndb_import(db, srcs, 1, NULL, NULL, &st, &err) < 0)
    fail_msg("%s", brick_error_msg(&err));
  return db;
}

static const struct brick_finding *finding(const struct brick_scan_result *r, const char *pkg,
                                           const char *id) {
  for (size_t i = 0; i < r->n_findings; i++)
    if (!strcmp(r->findings[i].pkg_name, pkg) && !strcmp(r->findings[i].vuln_id, id))
      return &r->findings[i];
  return NULL;
}

static const struct brick_finding *must(const struct brick_scan_result *r, const char *pkg,
                                        const char *id) {
  const struct brick_finding *f = finding(r, pkg, id);
  if (!f) {
    print_error("no finding %s for %s\n", id, pkg);
    abort();
  }
  return f;
}

static void scan(struct brick_vulndb *db, struct brick_scan_result *res,
                 const struct brick_match_opts *o) {
  brick_err err = {0};
  memset(res, 0, sizeof *res);
  res->target = xstrdup("test");
  assert_int_equal(brick_dpkg_parse_status(status, strlen(status), "status", &res->inv, &err), 0);
  brick_os_release_parse("ID=debian\nVERSION_ID=12\n", &res->inv.os);
  assert_int_equal(brick_scan_match(db, res, o, &err), 0);
}

static void test_match_debian(void **state) {
  (void)state;
  struct brick_vulndb *db = import_records("deb", records);
  assert_int_equal(brick_vulndb_count(db), 5);
  struct brick_scan_result res;
  struct brick_match_opts o = {0};
  scan(db, &res, &o);
  /* the source advisory reaches both binaries built from openssl */
  const struct brick_finding *f = must(&res, "libssl3", "DSA-5532-1");
  assert_string_equal(f->fixed, "3.0.11-1~deb12u2");
  assert_int_equal(f->severity, BRICK_SEV_HIGH);
  assert_true(f->score == 7.5);
  assert_non_null(finding(&res, "openssl", "DSA-5532-1"));
  /* zlib: unfixed, urgency low */
  f = must(&res, "zlib1g", "CVE-2024-0001");
  assert_null(f->fixed);
  assert_int_equal(f->severity, BRICK_SEV_LOW);
  /* not matched: binary-name trap, other release, epoch-fixed */
  assert_null(finding(&res, "libssl3", "CVE-2024-0002"));
  assert_null(finding(&res, "openssl", "CVE-2024-0003"));
  assert_null(finding(&res, "zlib1g", "CVE-2019-0004"));
  assert_int_equal(res.n_findings, 3);
  struct brick_scan_summary sum;
  brick_scan_summarize(&res, &sum);
  assert_int_equal(sum.counts[BRICK_SEV_LOW], 1);
  assert_int_equal(sum.fixable, 2);
  assert_int_equal(sum.highest, BRICK_SEV_LOW);
  brick_scan_result_free(&res);

  o.ignore_unfixed = true;
  scan(db, &res, &o);
  assert_int_equal(res.n_findings, 2);
  brick_scan_result_free(&res);
  brick_vulndb_close(db);
}

static void test_update_by_modified(void **state) {
  (void)state;
  struct brick_vulndb *db = import_records("upd", records);
  /* an older copy does not replace; a newer one (now fixed) does */
  const char older[] =
      "{\"id\":\"CVE-2024-0001\",\"modified\":\"2023-01-01T00:00:00Z\",\"affected\":[]}\n";
  const char newer[] =
      "{\"id\":\"CVE-2024-0001\",\"modified\":\"2024-03-01T00:00:00.5Z\","
      "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"zlib\"},"
      "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1:1.2.13.dfsg-2\"}]}]}]}\n";
  brick_err err = {0};
  struct brick_import_stats st;
  _cleanup_free_ char *p1 = xasprintf("%s/older.json", tmpdir), *p2 = xasprintf("%s/newer.json", tmpdir);
  assert_int_equal(brick_write_file_atomic(p1, older, strlen(older), 0644, &err), 0);
  assert_int_equal(brick_write_file_atomic(p2, newer, strlen(newer), 0644, &err), 0);
  char *s1[] = {p1};
  assert_int_equal(brick_vulndb_import(db, s1, 1, NULL, NULL, &st, &err), 0);
  assert_int_equal(st.skipped, 1);
  struct brick_scan_result res;
  struct brick_match_opts o = {0};
  scan(db, &res, &o);
  assert_null(must(&res, "zlib1g", "CVE-2024-0001")->fixed);
  brick_scan_result_free(&res);
  char *s2[] = {p2};
  assert_int_equal(brick_vulndb_import(db, s2, 1, NULL, NULL, &st, &err), 0);
  assert_int_equal(st.stored, 1);
  scan(db, &res, &o);
  assert_string_equal(must(&res, "zlib1g", "CVE-2024-0001")->fixed, "1:1.2.13.dfsg-2");
  brick_scan_result_free(&res);
  /* a malformed record names its source and rolls back */
  const char bad[] = "{\"id\":\"X-1\",\"modified\":\"yesterday\"}";
  _cleanup_free_ char *p3 = xasprintf("%s/bad.json", tmpdir);
  assert_int_equal(brick_write_file_atomic(p3, bad, strlen(bad), 0644, &err), 0);
  char *s3[] = {p3};
  assert_int_equal(brick_vulndb_import(db, s3, 1, NULL, NULL, &st, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "bad.json"));
  assert_non_null(strstr(brick_error_msg(&err), "modified"));
  brick_error_clear(&err);
  brick_vulndb_close(db);
}

static void test_ignore(void **state) {
  (void)state;
  struct brick_ignore ig = {0};
  brick_err err = {0};
  const char lines[] = "# accepted risks\n"
                       "CVE-2023-5678 libssl3 until=2999-01-01 # not reachable here\n"
                       "CVE-2024-0001 until=2020-01-01 # expired\n";
  assert_int_equal(brick_ignore_parse(lines, "ignore.txt", &ig, &err), 0);
  assert_int_equal(ig.n, 2);
  struct brick_vulndb *db = import_records("ign", records);
  struct brick_scan_result res;
  struct brick_match_opts o = {.ignore = &ig};
  scan(db, &res, &o);
  /* matched through the alias, only for the named package */
  const struct brick_finding *f = must(&res, "libssl3", "DSA-5532-1");
  assert_true(f->ignored);
  assert_string_equal(f->ignore_reason, "not reachable here");
  assert_false(must(&res, "openssl", "DSA-5532-1")->ignored);
  /* expired: no longer ignores */
  assert_false(must(&res, "zlib1g", "CVE-2024-0001")->ignored);
  brick_scan_result_free(&res);
  brick_ignore_free(&ig);

  const char json[] = "{\"ignore\":[{\"id\":\"CVE-2024-0001\",\"reason\":\"r\"}]}";
  assert_int_equal(brick_ignore_parse(json, "i.json", &ig, &err), 0);
  scan(db, &res, &o);
  assert_true(must(&res, "zlib1g", "CVE-2024-0001")->ignored);
  brick_scan_result_free(&res);
  brick_ignore_free(&ig);

  assert_int_equal(brick_ignore_parse("CVE-1 until=tomorrow\n", "bad.txt", &ig, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "bad.txt:1"));
  brick_error_clear(&err);
  brick_vulndb_close(db);
}

static void test_alpine_and_rpm(void **state) {
  (void)state;
  const char recs[] =
      "{\"id\":\"ALPINE-1\",\"modified\":\"2024-01-01T00:00:00Z\","
      "\"affected\":[{\"package\":{\"ecosystem\":\"Alpine:v3.19\",\"name\":\"openssl\"},"
      "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"3.1.4-r6\"}]}]}]}\n"
      "{\"id\":\"ALSA-2024:1\",\"modified\":\"2024-01-01T00:00:00Z\","
      "\"database_specific\":{\"severity\":\"Important\"},"
      "\"affected\":[{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"openssl-libs\"},"
      "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1:3.0.7-25.el9\"}]}]},"
      "{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"openssl\"},"
      "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1:3.0.7-25.el9\"}]}]}]}\n";
  struct brick_vulndb *db = import_records("alp", recs);
  brick_err err = {0};
  struct brick_scan_result res = {0};
  res.target = xstrdup("alpine");
  const char apk[] = "P:libcrypto3\nV:3.1.4-r5\no:openssl\n\nP:openssl-extra\nV:1.0-r0\no:other\n";
  assert_int_equal(brick_apk_parse_installed(apk, strlen(apk), "i", &res.inv, &err), 0);
  brick_os_release_parse("ID=alpine\nVERSION_ID=3.19.1\n", &res.inv.os);
  assert_int_equal(brick_scan_match(db, &res, NULL, &err), 0);
  assert_int_equal(res.n_findings, 1);
  assert_string_equal(res.findings[0].pkg_name, "libcrypto3");
  assert_string_equal(res.findings[0].fixed, "3.1.4-r6");
  brick_scan_result_free(&res);

  res.target = xstrdup("alma");
  /* rpm advisories name binaries: openssl-libs matches by its own name, and a binary whose
   * source is openssl but which the advisory does not list (openssl-devel) does not */
  brick_inventory_add(&res.inv, BRICK_PKG_RPM, "openssl-libs", "1:3.0.7-24.el9", "x86_64", "openssl", NULL);
  brick_inventory_add(&res.inv, BRICK_PKG_RPM, "openssl-devel", "1:3.0.7-24.el9", "x86_64", "openssl", NULL);
  brick_os_release_parse("ID=almalinux\nVERSION_ID=9.3\n", &res.inv.os);
  assert_int_equal(brick_scan_match(db, &res, NULL, &err), 0);
  assert_int_equal(res.n_findings, 1);
  assert_string_equal(res.findings[0].pkg_name, "openssl-libs");
  assert_int_equal(res.findings[0].severity, BRICK_SEV_HIGH);
  brick_scan_result_free(&res);
  brick_vulndb_close(db);
}

static void test_summary_store(void **state) {
  (void)state;
  struct brick_vulndb *db = import_records("sum", records);
  struct brick_scan_result res;
  struct brick_match_opts o = {0};
  scan(db, &res, &o);
  struct brick_scan_summary sum, back;
  brick_scan_summarize(&res, &sum);
  brick_err err = {0};
  _cleanup_free_ char *store = xasprintf("%s/store", tmpdir);
  assert_int_equal(brick_scan_last_summary(store, "abc123", &back, &err), -1);
  brick_error_clear(&err);
  assert_int_equal(brick_scan_cache_save(store, "abc123", &res.inv, &sum, &err), 0);
  assert_int_equal(brick_scan_last_summary(store, "abc123", &back, &err), 0);
  assert_int_equal(back.counts[BRICK_SEV_LOW], 1);
  assert_int_equal(back.highest, BRICK_SEV_LOW);
  assert_int_equal(back.fixable, 2);
  assert_int_equal(back.scanned_at, sum.scanned_at);
  struct brick_inventory inv = {0};
  assert_int_equal(brick_scan_cache_load(store, "sha256:abc123", &inv, &err), 0);
  assert_int_equal(inv.n_pkgs, 3);
  brick_inventory_free(&inv);
  /* a store written by an older brick kept the summary inside the inventory cache */
  _cleanup_free_ char *legacy = xasprintf("%s/scan/old1.json", store);
  const char legacy_doc[] = "{\"image_id\":\"old1\",\"summary\":{\"unfixed\":{\"HIGH\":2},"
                            "\"fixable\":1,\"highest_unfixed\":\"HIGH\",\"scanned_at\":5}}";
  assert_int_equal(brick_write_file_atomic(legacy, legacy_doc, strlen(legacy_doc), 0600, &err), 0);
  assert_int_equal(brick_scan_last_summary(store, "old1", &back, &err), 0);
  assert_int_equal(back.counts[BRICK_SEV_HIGH], 2);
  assert_int_equal(back.scanned_at, 5);
  /* a newer scan's summary wins over it */
  assert_int_equal(brick_scan_cache_save(store, "old1", NULL, &sum, &err), 0);
  assert_int_equal(brick_scan_last_summary(store, "old1", &back, &err), 0);
  assert_int_equal(back.counts[BRICK_SEV_HIGH], 0);
  assert_int_equal(back.counts[BRICK_SEV_LOW], 1);
  assert_int_equal(brick_scan_last_summary(store, "../etc", &back, &err), -1);
  brick_error_clear(&err);
  brick_scan_result_free(&res);
  brick_vulndb_close(db);
}

/* One handle scanning several targets (the look-up memo) answers as fresh handles do,
 * and a record naming one package in two entries yields one finding: the first entry
 * that matches. */
static void test_memo_and_repeats(void **state) {
  (void)state;
  char both[sizeof records + 512];
  snprintf(both, sizeof both, "%s%s", records,
           "{\"id\":\"CVE-2024-0009\",\"modified\":\"2024-02-01T00:00:00Z\",\"affected\":["
           "{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"openssl\"},"
           "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.0-1\"}]}]},"
           "{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"openssl\"},"
           "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"3.0\"},{\"fixed\":\"3.0.12-1\"}]}]},"
           "{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"openssl\"},"
           "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"9.9-1\"}]}]}]}\n");
  struct brick_vulndb *db = import_records("memo", both);
  struct brick_match_opts o = {0};
  struct brick_scan_result a, b;
  scan(db, &a, &o);
  scan(db, &b, &o);
  assert_int_equal(a.n_findings, 5);
  assert_int_equal(b.n_findings, a.n_findings);
  for (size_t i = 0; i < a.n_findings; i++) {
    assert_string_equal(a.findings[i].vuln_id, b.findings[i].vuln_id);
    assert_string_equal(a.findings[i].pkg_name, b.findings[i].pkg_name);
    if (a.findings[i].summary) /* each result has its own copy */
      assert_true(a.findings[i].summary != b.findings[i].summary);
  }
  /* the second entry matches first: fixed 3.0.12-1, not 9.9-1 */
  assert_string_equal(must(&a, "libssl3", "CVE-2024-0009")->fixed, "3.0.12-1");
  assert_string_equal(must(&b, "openssl", "CVE-2024-0009")->fixed, "3.0.12-1");
  /* findings keep their strings after the handle is gone */
  brick_vulndb_close(db);
  assert_string_equal(must(&a, "libssl3", "DSA-5532-1")->aliases[0], "CVE-2023-5678");
  assert_string_equal(must(&b, "libssl3", "DSA-5532-1")->summary, "openssl: DoS");
  brick_scan_result_free(&a);
  brick_scan_result_free(&b);
}

/* An index written by an older brick (rowid tables, a separate (ecosystem, package)
 * index, no record copies on the affected rows) is still read, and written to. */
static void test_older_index_layout(void **state) {
  (void)state;
  _cleanup_free_ char *path = xasprintf("%s/old.sqlite", tmpdir);
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
  const char *old_schema =
      "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
      "CREATE TABLE vulns(id TEXT PRIMARY KEY, modified REAL NOT NULL, modified_text TEXT,"
      " summary TEXT, aliases TEXT);"
      "CREATE TABLE affected(vuln_id TEXT NOT NULL, ecosystem TEXT NOT NULL, package TEXT NOT NULL,"
      " ranges TEXT, versions TEXT, severity INTEGER NOT NULL, score REAL NOT NULL,"
      " introduced TEXT, fixed TEXT, last_affected TEXT);"
      "CREATE INDEX affected_pkg ON affected(ecosystem, package);"
      "CREATE INDEX affected_vuln ON affected(vuln_id);"
      "INSERT INTO vulns VALUES('DSA-1', 1, 'x', 'old summary', '[\"CVE-2020-1\"]');"
      "INSERT INTO affected VALUES('DSA-1', 'Debian:12', 'openssl', NULL, NULL, 4, 7.5, '0',"
      " '3.0.11-1~deb12u2', NULL);"
      "INSERT INTO affected VALUES('DSA-1', 'Debian:12', 'zlib', '[{\"type\":\"ECOSYSTEM\","
      "\"events\":[{\"introduced\":\"0\"}]}]', NULL, 2, -1, NULL, NULL, NULL);";
  assert_int_equal(sqlite3_exec(h, old_schema, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(h);

  brick_err err = {0};
  struct brick_vulndb *db = NULL;
  assert_int_equal(brick_vulndb_open(path, false, &db, &err), 0);
  struct brick_scan_result res;
  struct brick_match_opts o = {0};
  scan(db, &res, &o);
  assert_int_equal(res.n_findings, 3);
  const struct brick_finding *f = must(&res, "libssl3", "DSA-1");
  assert_string_equal(f->summary, "old summary");
  assert_string_equal(f->aliases[0], "CVE-2020-1");
  assert_string_equal(f->fixed, "3.0.11-1~deb12u2");
  assert_null(must(&res, "zlib1g", "DSA-1")->fixed);
  brick_scan_result_free(&res);
  brick_vulndb_close(db);

  /* an import into it adds the columns it needs and keeps answering */
  assert_int_equal(brick_vulndb_open(path, true, &db, &err), 0);
  _cleanup_free_ char *src = xasprintf("%s/old-add.jsonl", tmpdir);
  assert_int_equal(brick_write_file_atomic(src, records, strlen(records), 0644, &err), 0);
  struct brick_import_stats st;
  char *srcs[] = {src};
  if (brick_vulndb_import(db, srcs, 1, NULL, NULL, &st, &err) < 0)
    fail_msg("%s", brick_error_msg(&err));
  scan(db, &res, &o);
  assert_non_null(finding(&res, "libssl3", "DSA-1"));
  assert_string_equal(must(&res, "libssl3", "DSA-5532-1")->summary, "openssl: DoS");
  brick_scan_result_free(&res);
  brick_vulndb_close(db);
}

static int setup(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/brick-scan-match-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  brick_err err = {0};
  brick_rm_rf(tmpdir, &err);
  brick_error_clear(&err);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cvss),
      cmocka_unit_test(test_osv_ranges),
      cmocka_unit_test(test_match_debian),
      cmocka_unit_test(test_update_by_modified),
      cmocka_unit_test(test_ignore),
      cmocka_unit_test(test_alpine_and_rpm),
      cmocka_unit_test(test_summary_store),
      cmocka_unit_test(test_memo_and_repeats),
      cmocka_unit_test(test_older_index_layout),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
