#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/util.h"
#include "trust/internal.h"

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct brick_signed_identity parse(const char *json) {
  json_error_t je;
  json_t *j = json_loads(json, 0, &je);
  assert_non_null(j);
  struct brick_signed_identity id;
  brick_err err = {0};
  if (brick_identity_parse(j, &id, &err) < 0)
    fail_msg("%s: %s", json, brick_error_msg(&err));
  json_decref(j);
  return id;
}

static void bad(const char *json) {
  json_t *j = json_loads(json, 0, NULL);
  assert_non_null(j);
  struct brick_signed_identity id;
  brick_err err = {0};
  if (brick_identity_parse(j, &id, &err) == 0)
    fail_msg("%s accepted", json);
  brick_error_clear(&err);
  json_decref(j);
}

static bool m(const char *json, const char *image, const char *sig) {
  struct brick_signed_identity id = parse(json);
  bool r = brick_identity_matches(&id, image, sig);
  brick_identity_clear(&id);
  return r;
}

static void test_match_exact(void **state) {
  (void)state;
  const char *j = "{\"type\":\"matchExact\"}";
  assert_true(m(j, "example.com/app:1", "example.com/app:1"));
  assert_true(m(j, "docker.io/library/busybox:1", "busybox:1"));
  assert_false(m(j, "example.com/app:1", "example.com/app:2"));
  assert_false(m(j, "example.com/app:1", "example.com/app"));
  assert_false(m(j, "example.com/app", "example.com/app"));
  assert_false(m(j, "example.com/app@" D, "example.com/app:1"));
  assert_true(m(j, "example.com/app@" D, "example.com/app@" D));
  assert_false(m(j, NULL, "example.com/app:1"));
}

static void test_repo_digest_or_exact(void **state) {
  (void)state;
  const char *j = "{\"type\":\"matchRepoDigestOrExact\"}";
  assert_true(m(j, "example.com/app:1", "example.com/app:1"));
  assert_false(m(j, "example.com/app:1", "example.com/app:2"));
  assert_false(m(j, "example.com/app:1", "example.com/other:1"));
  /* digest-pinned image: any tag of the same repository */
  assert_true(m(j, "example.com/app@" D, "example.com/app:7"));
  assert_false(m(j, "example.com/app@" D, "example.com/other:7"));
  /* the signature must name a tag or digest */
  assert_false(m(j, "example.com/app@" D, "example.com/app"));
}

static void test_match_repository(void **state) {
  (void)state;
  const char *j = "{\"type\":\"matchRepository\"}";
  assert_true(m(j, "example.com/app:1", "example.com/app:2"));
  assert_true(m(j, "example.com/app:1", "example.com/app"));
  assert_false(m(j, "example.com/app:1", "example.com/app2:1"));
  assert_false(m(j, "example.com/app:1", "other.com/app:1"));
}

static void test_exact_reference(void **state) {
  (void)state;
  const char *j = "{\"type\":\"exactReference\",\"dockerReference\":\"example.com/app:1\"}";
  assert_true(m(j, NULL, "example.com/app:1"));
  assert_true(m(j, "whatever.com/x:9", "example.com/app:1"));
  assert_false(m(j, NULL, "example.com/app:2"));
  assert_false(m(j, NULL, "example.com/app"));
  bad("{\"type\":\"exactReference\",\"dockerReference\":\"example.com/app\"}");
  bad("{\"type\":\"exactReference\"}");
  bad("{\"type\":\"exactReference\",\"dockerReference\":\"example.com/app:1\",\"x\":1}");
}

static void test_exact_repository(void **state) {
  (void)state;
  const char *j = "{\"type\":\"exactRepository\",\"dockerRepository\":\"example.com/app\"}";
  assert_true(m(j, NULL, "example.com/app:1"));
  assert_true(m(j, NULL, "example.com/app"));
  assert_false(m(j, NULL, "example.com/app/sub:1"));
  assert_false(m(j, NULL, "example.com/ap:1"));
  bad("{\"type\":\"exactRepository\"}");
}

static void test_remap(void **state) {
  (void)state;
  const char *j = "{\"type\":\"remapIdentity\",\"prefix\":\"mirror.local/upstream\","
                  "\"signedPrefix\":\"example.com/ns\"}";
  assert_true(m(j, "mirror.local/upstream/app:1", "example.com/ns/app:1"));
  assert_false(m(j, "mirror.local/upstream/app:1", "mirror.local/upstream/app:1"));
  assert_false(m(j, "mirror.local/upstream/app:1", "example.com/ns/app:2"));
  /* not a component boundary: no remap, so the signature must match as is */
  assert_false(m(j, "mirror.local/upstreamx/app:1", "example.com/nsx/app:1"));
  assert_true(m(j, "other.com/app:1", "other.com/app:1"));
  assert_true(m(j, "mirror.local/upstream/app@" D, "example.com/ns/app:3"));
  bad("{\"type\":\"remapIdentity\",\"prefix\":\"*.example.com\",\"signedPrefix\":\"a.com\"}");
  bad("{\"type\":\"remapIdentity\",\"prefix\":\"a.com/x:1\",\"signedPrefix\":\"a.com\"}");
  bad("{\"type\":\"remapIdentity\",\"prefix\":\"a.com\"}");
}

static void test_unknown(void **state) {
  (void)state;
  bad("{\"type\":\"matchEverything\"}");
  bad("{\"type\":\"matchExact\",\"dockerReference\":\"a.com/x:1\"}");
  bad("{}");
  bad("[]");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_match_exact),     cmocka_unit_test(test_repo_digest_or_exact),
      cmocka_unit_test(test_match_repository), cmocka_unit_test(test_exact_reference),
      cmocka_unit_test(test_exact_repository), cmocka_unit_test(test_remap),
      cmocka_unit_test(test_unknown)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
