#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/util.h"
#include "trust/internal.h"

static const char manifest[] = "{\"schemaVersion\":2,\"config\":{}}";
static char dir[] = "/tmp/brick-sigstore-XXXXXX";

static int setup(void **state) {
  (void)state;
  return mkdtemp(dir) ? 0 : -1;
}
static int teardown(void **state) {
  (void)state;
  return brick_rm_rf(dir, NULL);
}

static struct brick_sig_blob read_blob(const char *path) {
  char *d;
  size_t n;
  assert_int_equal(brick_read_file(path, &d, &n, NULL), 0);
  return (struct brick_sig_blob){(unsigned char *)d, n};
}

static void test_sign_verify(void **state) {
  (void)state;
  char *a = xasprintf("%s/a", dir), *b = xasprintf("%s/b", dir);
  brick_err err = {0};
  assert_int_equal(brick_key_generate(a, NULL, &err), 0);
  assert_int_equal(brick_key_generate(b, NULL, &err), 0);
  /* never overwrite an existing key */
  assert_int_equal(brick_key_generate(a, NULL, &err), -1);
  brick_error_clear(&err);
  char *akey = xasprintf("%s.key", a), *apub = xasprintf("%s.pub", a), *bpub = xasprintf("%s.pub", b);
  unsigned char *blob;
  size_t blen;
  assert_int_equal(brick_sigstore_sign(akey, NULL, "example.com/app:1",
                                       (const unsigned char *)manifest, strlen(manifest), &blob,
                                       &blen, &err), 0);
  assert_true(brick_sig_is_sigstore(blob, blen));
  struct brick_sig_blob ka = read_blob(apub), kb = read_blob(bpub);
  struct brick_sig_info info = {0};
  assert_int_equal(brick_sigstore_verify(&ka, 1, blob, blen, &info, &err), 0);
  assert_true(info.sigstore);
  assert_string_equal(info.identity, "example.com/app:1");
  assert_int_equal(brick_signature_check_image(&info, (const unsigned char *)manifest,
                                               strlen(manifest), "example.com/app:1", &err), 0);
  /* tampered manifest / wrong expected identity */
  assert_int_equal(brick_signature_check_image(&info, (const unsigned char *)"{\"schemaVersion\":2}",
                                               19, "example.com/app:1", &err), -1);
  assert_int_equal(brick_signature_check_image(&info, (const unsigned char *)manifest,
                                               strlen(manifest), "example.com/app:2", &err), -1);
  brick_sig_info_clear(&info);
  /* wrong key */
  assert_int_equal(brick_sigstore_verify(&kb, 1, blob, blen, &info, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "verification failed"));
  /* either of two keys */
  struct brick_sig_blob both[2] = {kb, ka};
  assert_int_equal(brick_sigstore_verify(both, 2, blob, blen, &info, &err), 0);
  brick_sig_info_clear(&info);
  /* flip one byte inside the base64 payload: the signature no longer covers it */
  unsigned char *t = xmalloc(blen);
  memcpy(t, blob, blen);
  char *pl = strstr((char *)t + BRICK_SIGSTORE_PREFIX_LEN, "\"payload\":\"");
  assert_non_null(pl);
  pl += 20;
  *pl = *pl == 'A' ? 'B' : 'A';
  assert_int_equal(brick_sigstore_verify(&ka, 1, t, blen, &info, &err), -1);
  brick_error_clear(&err);
  free(t);
  free(blob);
  free((void *)ka.data);
  free((void *)kb.data);
  free(a); free(b); free(akey); free(apub); free(bpub);
}

static void test_encrypted_key(void **state) {
  (void)state;
  char *c = xasprintf("%s/c", dir), *ckey = xasprintf("%s/c.key", dir);
  brick_err err = {0};
  assert_int_equal(brick_key_generate(c, "s3cret", &err), 0);
  char *pem;
  size_t n;
  assert_int_equal(brick_read_file(ckey, &pem, &n, NULL), 0);
  assert_non_null(strstr(pem, "BEGIN ENCRYPTED PRIVATE KEY"));
  free(pem);
  unsigned char *blob;
  size_t blen;
  assert_int_equal(brick_sigstore_sign(ckey, NULL, "a.com/x:1", (const unsigned char *)manifest,
                                       strlen(manifest), &blob, &blen, &err), -1);
  assert_int_equal(brick_sigstore_sign(ckey, "wrong", "a.com/x:1",
                                       (const unsigned char *)manifest, strlen(manifest), &blob,
                                       &blen, &err), -1);
  assert_int_equal(brick_sigstore_sign(ckey, "s3cret", "a.com/x:1",
                                       (const unsigned char *)manifest, strlen(manifest), &blob,
                                       &blen, &err), 0);
  free(blob);
  brick_error_clear(&err);
  free(c);
  free(ckey);
}

static void test_envelope_strict(void **state) {
  (void)state;
  struct brick_sig_info info = {0};
  brick_err err = {0};
  struct brick_sig_blob k = {(const unsigned char *)"x", 1};
  const char *bad[] = {
      "\0sigstore-json\n{\"mimeType\":\"text/plain\",\"payload\":\"\",\"annotations\":{}}",
      "\0sigstore-json\n{\"mimeType\":\"" BRICK_COSIGN_MIME "\",\"payload\":\"e30=\"}",
      "\0sigstore-json\n{\"mimeType\":\"" BRICK_COSIGN_MIME "\",\"payload\":\"e30=\","
      "\"annotations\":{},\"x\":1}",
      "\0sigstore-json\nnot json",
  };
  for (size_t i = 0; i < 4; i++) {
    size_t len = BRICK_SIGSTORE_PREFIX_LEN + strlen(bad[i] + BRICK_SIGSTORE_PREFIX_LEN);
    assert_int_equal(brick_sigstore_verify(&k, 1, (const unsigned char *)bad[i], len, &info, &err), -1);
  }
  brick_error_clear(&err);
}

/* The one-call hook the image store uses: dir: layout signatures under a policy file. */
static void test_verify_image(void **state) {
  (void)state;
  char *prefix = xasprintf("%s/hook", dir), *key = xasprintf("%s/hook.key", dir);
  char *pub = xasprintf("%s/hook.pub", dir), *img = xasprintf("%s/img", dir);
  char *policy = xasprintf("%s/policy.json", dir), *mpath = xasprintf("%s/img/manifest.json", dir);
  brick_err err = {0};
  assert_int_equal(brick_key_generate(prefix, NULL, &err), 0);
  assert_int_equal(brick_mkdir_p(img, 0755, NULL), 0);
  assert_int_equal(brick_write_file_atomic(mpath, manifest, strlen(manifest), 0644, NULL), 0);
  char *pol = xasprintf("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"dir\":{\"%s\":"
                        "[{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\",\"signedIdentity\":"
                        "{\"type\":\"exactRepository\",\"dockerRepository\":\"a.com/x\"}}]}}}",
                        dir, pub);
  assert_int_equal(brick_write_file_atomic(policy, pol, strlen(pol), 0644, NULL), 0);
  const unsigned char *m = (const unsigned char *)manifest;
  /* unsigned: rejected */
  assert_int_equal(brick_trust_verify_image(policy, NULL, "dir", img, m, strlen(manifest), NULL,
                                            0, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "has none"));
  unsigned char *blob;
  size_t blen;
  assert_int_equal(brick_sigstore_sign(key, NULL, "a.com/x:2", m, strlen(manifest), &blob, &blen,
                                       &err), 0);
  /* passed in by the caller (as from an archive): accepted */
  struct brick_sig_blob extra = {blob, blen};
  assert_int_equal(brick_trust_verify_image(policy, NULL, "dir", img, m, strlen(manifest), &extra,
                                            1, &err), 0);
  /* stored beside the manifest: accepted */
  assert_int_equal(brick_sigs_write_next(img, blob, blen, NULL, &err), 0);
  assert_int_equal(brick_trust_verify_image(policy, NULL, "dir", img, m, strlen(manifest), NULL,
                                            0, &err), 0);
  /* outside the policy's scope the default rejects */
  assert_int_equal(brick_trust_verify_image(policy, NULL, "oci", img, m, strlen(manifest), NULL, 0,
                                            &err), -1);
  brick_error_clear(&err);
  free(blob); free(pol); free(prefix); free(key); free(pub); free(img); free(policy); free(mpath);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sign_verify),
                                     cmocka_unit_test(test_encrypted_key),
                                     cmocka_unit_test(test_envelope_strict),
                                     cmocka_unit_test(test_verify_image)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
