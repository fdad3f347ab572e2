#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/util.h"
#include "trust/policy_types.h"

static struct brick_policy *load(const char *text) {
  struct brick_policy *p = NULL;
  brick_err err = {0};
  if (brick_policy_parse(text, strlen(text), "test.json", &p, &err) < 0)
    fail_msg("%s", brick_error_msg(&err));
  return p;
}

static void bad(const char *text, const char *needle) {
  struct brick_policy *p = NULL;
  brick_err err = {0};
  if (brick_policy_parse(text, strlen(text), "test.json", &p, &err) == 0)
    fail_msg("accepted: %s", text);
  if (!strstr(brick_error_msg(&err), needle))
    fail_msg("error \"%s\" lacks \"%s\"", brick_error_msg(&err), needle);
  brick_error_clear(&err);
}

static const char *const POLICY =
    "{\"default\":[{\"type\":\"reject\"}],"
    " \"transports\":{\"docker\":{"
    "   \"\":[{\"type\":\"insecureAcceptAnything\"}],"
    "   \"example.com\":[{\"type\":\"reject\"}],"
    "   \"example.com/ns\":[{\"type\":\"insecureAcceptAnything\"}],"
    "   \"example.com/ns/app:1\":[{\"type\":\"reject\"}],"
    "   \"*.corp.com\":[{\"type\":\"reject\"}],"
    "   \"a.corp.com/open\":[{\"type\":\"insecureAcceptAnything\"}]},"
    "  \"dir\":{\"/srv/trusted\":[{\"type\":\"insecureAcceptAnything\"}]}}}";

static char *entry_for(struct brick_policy *p, const char *t, const char *ref) {
  struct brick_policy_match m;
  brick_err err = {0};
  if (brick_policy_lookup(p, t, ref, &m, &err) < 0)
    fail_msg("%s", brick_error_msg(&err));
  char *e = xstrdup(m.entry);
  brick_policy_match_clear(&m);
  return e;
}

static void expect_entry(struct brick_policy *p, const char *t, const char *ref, const char *w) {
  char *e = entry_for(p, t, ref);
  if (strcmp(e, w))
    fail_msg("%s:%s -> %s, expected %s", t, ref, e, w);
  free(e);
}

static int check(struct brick_policy *p, const char *t, const char *ref) {
  static const char manifest[] = "{\"schemaVersion\":2}";
  brick_err err = {0};
  int r = brick_policy_check(p, t, ref, (const unsigned char *)manifest, strlen(manifest), NULL, 0,
                             &err);
  brick_error_clear(&err);
  return r;
}

static void test_precedence(void **state) {
  (void)state;
  struct brick_policy *p = load(POLICY);
  expect_entry(p, "docker", "example.com/ns/app:1", "transports[\"docker\"][\"example.com/ns/app:1\"]");
  expect_entry(p, "docker", "example.com/ns/app:2", "transports[\"docker\"][\"example.com/ns\"]");
  expect_entry(p, "docker", "example.com/other:2", "transports[\"docker\"][\"example.com\"]");
  expect_entry(p, "docker", "b.a.corp.com/x", "transports[\"docker\"][\"*.corp.com\"]");
  expect_entry(p, "docker", "a.corp.com/open/x", "transports[\"docker\"][\"a.corp.com/open\"]");
  expect_entry(p, "docker", "quay.io/x", "transports[\"docker\"][\"\"]");
  expect_entry(p, "dir", "/srv/trusted/img", "transports[\"dir\"][\"/srv/trusted\"]");
  expect_entry(p, "dir", "/srv/trustedx/img", "default");
  expect_entry(p, "oci", "/srv/trusted/img", "default");

  assert_int_equal(check(p, "docker", "example.com/ns/app:2"), 0);
  assert_int_equal(check(p, "docker", "example.com/ns/app:1"), -1);
  assert_int_equal(check(p, "docker", "example.com/other"), -1);
  assert_int_equal(check(p, "docker", "x.corp.com/y"), -1);
  assert_int_equal(check(p, "docker", "quay.io/x"), 0);
  assert_int_equal(check(p, "dir", "/srv/trusted/img"), 0);
  assert_int_equal(check(p, "oci", "/srv/trusted/img"), -1);
  brick_policy_free(p);
}

static void test_reject_message(void **state) {
  (void)state;
  struct brick_policy *p = load(POLICY);
  static const char manifest[] = "{\"schemaVersion\":2}";
  brick_err err = {0};
  assert_int_equal(brick_policy_check(p, "docker", "example.com/other:1",
                                      (const unsigned char *)manifest, strlen(manifest), NULL, 0,
                                      &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "transports[\"docker\"][\"example.com\"]"));
  assert_non_null(strstr(brick_error_msg(&err), "reject"));
  brick_error_clear(&err);
  brick_policy_free(p);
}

static void test_signed_by_without_signatures(void **state) {
  (void)state;
  struct brick_policy *p = load(
      "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyData\":\"AAAA\"}]}");
  static const char manifest[] = "{\"schemaVersion\":2}";
  brick_err err = {0};
  assert_int_equal(brick_policy_check(p, "docker", "example.com/a:1",
                                      (const unsigned char *)manifest, strlen(manifest), NULL, 0,
                                      &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "has none"));
  brick_error_clear(&err);
  brick_policy_free(p);
}

static void test_fulcio_unsupported(void **state) {
  (void)state;
  struct brick_policy *p = load(
      "{\"default\":[{\"type\":\"sigstoreSigned\",\"fulcio\":{\"caPath\":\"/x\","
      "\"oidcIssuer\":\"https://x\",\"subjectEmail\":\"a@b\"},\"rekorPublicKeyPath\":\"/r\"}]}");
  static const char manifest[] = "{\"schemaVersion\":2}";
  struct brick_sig_blob sig = {(const unsigned char *)"\0sigstore-json\n{}", 17};
  brick_err err = {0};
  assert_int_equal(brick_policy_check(p, "docker", "example.com/a:1",
                                      (const unsigned char *)manifest, strlen(manifest), &sig, 1,
                                      &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "not supported"));
  brick_error_clear(&err);
  brick_policy_free(p);
}

static void test_digest_pinned_reference(void **state) {
  (void)state;
  struct brick_policy *p = load("{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
  static const char manifest[] = "{\"schemaVersion\":2}";
  char *digest = NULL;
  assert_int_equal(brick_manifest_digest((const unsigned char *)manifest, strlen(manifest),
                                         &digest, NULL), 0);
  char *good = xasprintf("example.com/a@%s", digest);
  brick_err err = {0};
  assert_int_equal(brick_policy_check(p, "docker", good, (const unsigned char *)manifest,
                                      strlen(manifest), NULL, 0, &err), 0);
  assert_int_equal(brick_policy_check(p, "docker",
                                      "example.com/a@sha256:"
                                      "0000000000000000000000000000000000000000000000000000000000000000",
                                      (const unsigned char *)manifest, strlen(manifest), NULL, 0,
                                      &err), -1);
  brick_error_clear(&err);
  free(good);
  free(digest);
  brick_policy_free(p);
}

static void test_parse_errors(void **state) {
  (void)state;
  bad("{}", "\"default\" is missing");
  bad("{\"default\":[]}", "empty");
  bad("{\"default\":[{\"type\":\"reject\"}],\"brick\":{}}", "unknown member \"brick\"");
  bad("{\"default\":[{\"type\":\"reject\",\"x\":1}]}", "default: [0]: unknown member \"x\"");
  bad("{\"default\":[{\"type\":\"acceptAll\"}]}", "unknown requirement type");
  bad("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\"}]}", "exactly one");
  bad("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/a\","
      "\"keyData\":\"AAAA\"}]}", "exactly one");
  bad("{\"default\":[{\"type\":\"signedBy\",\"keyPath\":\"/a\"}]}", "keyType");
  bad("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyData\":\"!!\"}]}",
      "base64");
  bad("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/a\","
      "\"signedIdentity\":{\"type\":\"bogus\"}}]}", "signedIdentity");
  bad("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"*.a.com/x\":"
      "[{\"type\":\"reject\"}]}}}", "transports[\"docker\"]");
  bad("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"dir\":{\"rel\":"
      "[{\"type\":\"reject\"}]}}}", "clean absolute path");
  bad("{\"default\":[{\"type\":\"reject\"}],\"default\":[{\"type\":\"reject\"}]}", "duplicate");
  bad("{\"default\":[{\"type\":\"sigstoreSigned\"}]}", "exactly one");
}

static void test_explain(void **state) {
  (void)state;
  struct brick_policy *p = load(POLICY);
  json_t *out = NULL;
  assert_int_equal(brick_policy_explain(p, "docker", "example.com/ns/app:3", &out, NULL), 0);
  assert_string_equal(json_string_value(json_object_get(out, "scope")), "example.com/ns");
  assert_string_equal(json_string_value(json_object_get(out, "identity")),
                      "example.com/ns/app:3");
  assert_int_equal(json_array_size(json_object_get(out, "requirements")), 1);
  json_decref(out);
  brick_policy_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_precedence),        cmocka_unit_test(test_reject_message),
      cmocka_unit_test(test_signed_by_without_signatures),
      cmocka_unit_test(test_fulcio_unsupported), cmocka_unit_test(test_digest_pinned_reference),
      cmocka_unit_test(test_parse_errors),      cmocka_unit_test(test_explain)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
