#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/util.h"
#include "trust/internal.h"

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *s, const char *type, bool opt_null, struct brick_sig_info *info,
                 brick_err *err) {
  return brick_payload_parse((const unsigned char *)s, strlen(s), type, opt_null, info, err);
}

static void rejects(const char *s, const char *needle) {
  struct brick_sig_info info = {0};
  brick_err err = {0};
  if (parse(s, BRICK_SIMPLE_SIGNING_TYPE, false, &info, &err) == 0)
    fail_msg("accepted: %s", s);
  if (!strstr(brick_error_msg(&err), needle))
    fail_msg("error \"%s\" lacks \"%s\"", brick_error_msg(&err), needle);
  brick_error_clear(&err);
  brick_sig_info_clear(&info);
}

static void test_roundtrip(void **state) {
  (void)state;
  size_t len;
  char *p = brick_payload_make(BRICK_SIMPLE_SIGNING_TYPE, "example.com/app:1", D, &len);
  assert_true(brick_str_has_prefix(p, "{\"critical\":{\"identity\":{\"docker-reference\":"
                                      "\"example.com/app:1\"},\"image\":{\"docker-manifest-digest\":"));
  struct brick_sig_info info = {0};
  assert_int_equal(parse(p, BRICK_SIMPLE_SIGNING_TYPE, false, &info, NULL), 0);
  assert_string_equal(info.identity, "example.com/app:1");
  assert_string_equal(info.digest, D);
  assert_non_null(info.creator);
  assert_true(info.timestamp > 0);
  brick_sig_info_clear(&info);
  /* the wrong type for the format rejects */
  brick_err err = {0};
  assert_int_equal(parse(p, BRICK_COSIGN_TYPE, true, &info, &err), -1);
  brick_error_clear(&err);
  free(p);
}

static void test_strict(void **state) {
  (void)state;
  rejects("{\"critical\":{\"identity\":{\"docker-reference\":\"a.com/x:1\"},"
          "\"image\":{\"docker-manifest-digest\":\"" D "\"},"
          "\"type\":\"atomic container signature\",\"expires\":1},\"optional\":{}}",
          "unknown member \"expires\"");
  rejects("{\"critical\":{\"identity\":{\"docker-reference\":\"a.com/x:1\"},"
          "\"image\":{\"docker-manifest-digest\":\"" D "\"},"
          "\"type\":\"something else\"},\"optional\":{}}", "critical.type");
  rejects("{\"critical\":{\"identity\":{\"docker-reference\":\"a.com/x:1\"},"
          "\"type\":\"atomic container signature\"},\"optional\":{}}", "missing \"image\"");
  rejects("{\"critical\":{\"identity\":{\"docker-reference\":\"a.com/x:1\",\"x\":1},"
          "\"image\":{\"docker-manifest-digest\":\"" D "\"},"
          "\"type\":\"atomic container signature\"},\"optional\":{}}", "critical.identity");
  rejects("{\"critical\":{\"identity\":{\"docker-reference\":\"a.com/x:1\"},"
          "\"image\":{\"docker-manifest-digest\":\"" D "\"},"
          "\"type\":\"atomic container signature\"}}", "missing \"optional\"");
  rejects("{\"critical\":{\"identity\":{\"docker-reference\":\"a.com/x:1\"},"
          "\"image\":{\"docker-manifest-digest\":\"" D "\"},"
          "\"type\":\"atomic container signature\"},\"optional\":{},\"extra\":1}",
          "unknown member \"extra\"");
  rejects("{\"critical\":{\"identity\":{\"docker-reference\":\"a.com/x:1\"},"
          "\"image\":{\"docker-manifest-digest\":\"" D "\"},"
          "\"type\":\"atomic container signature\"},\"optional\":{\"timestamp\":\"now\"}}",
          "timestamp");
  rejects("not json", "invalid JSON");
}

static void test_cosign_shape(void **state) {
  (void)state;
  /* as cosign writes it: no tag in the identity, "optional": null */
  const char *p = "{\"critical\":{\"identity\":{\"docker-reference\":\"a.com/x\"},"
                  "\"image\":{\"docker-manifest-digest\":\"" D "\"},"
                  "\"type\":\"cosign container image signature\"},\"optional\":null}";
  struct brick_sig_info info = {0};
  brick_err err = {0};
  assert_int_equal(parse(p, BRICK_COSIGN_TYPE, true, &info, &err), 0);
  assert_string_equal(info.identity, "a.com/x");
  brick_sig_info_clear(&info);
}

static void test_manifest_digest(void **state) {
  (void)state;
  const char *m = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}";
  char *d = NULL;
  assert_int_equal(brick_manifest_digest((const unsigned char *)m, strlen(m), &d, NULL), 0);
  assert_int_equal(strlen(d), 71);
  bool ok = false;
  assert_int_equal(brick_manifest_matches_digest((const unsigned char *)m, strlen(m), d, &ok, NULL), 0);
  assert_true(ok);
  assert_int_equal(brick_manifest_matches_digest((const unsigned char *)m, strlen(m) - 1, d, &ok,
                                                 NULL), -1); /* truncated: invalid JSON */
  free(d);
  const char *s1 = "{\"schemaVersion\":1,\"name\":\"x\"}";
  brick_err err = {0};
  assert_int_equal(brick_manifest_digest((const unsigned char *)s1, strlen(s1), &d, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "schema1"));
  brick_error_clear(&err);
}

static void test_base64(void **state) {
  (void)state;
  unsigned char *out;
  size_t len;
  assert_int_equal(brick_b64_decode("aGVsbG8=", &out, &len, NULL), 0);
  assert_int_equal(len, 5);
  assert_memory_equal(out, "hello", 5);
  free(out);
  char *e = brick_b64_encode((const unsigned char *)"hello", 5);
  assert_string_equal(e, "aGVsbG8=");
  free(e);
  brick_err err = {0};
  assert_int_equal(brick_b64_decode("aGVsbG8", &out, &len, &err), -1);
  assert_int_equal(brick_b64_decode("aG=sbG8=", &out, &len, &err), -1);
  assert_int_equal(brick_b64_decode("a$VsbG8=", &out, &len, &err), -1);
  brick_error_clear(&err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_strict),
      cmocka_unit_test(test_cosign_shape), cmocka_unit_test(test_manifest_digest),
      cmocka_unit_test(test_base64)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
