/* Key signatures as cosign makes them with a key pair: ECDSA P-256 over SHA-256 of the
 * payload bytes, DER-encoded and base64'd into the envelope's
 * dev.cosignproject.cosign/signature annotation. Keys are standard PEM (PKCS#8 private,
 * SubjectPublicKeyInfo public) so `openssl` and other tools read them as they are. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "trust/internal.h"

static void pkey_freep(EVP_PKEY **k) { EVP_PKEY_free(*k); }
static void bio_freep(BIO **b) { BIO_free(*b); }
static void md_ctx_freep(EVP_MD_CTX **c) { EVP_MD_CTX_free(*c); }
#define _cleanup_pkey_ __attribute__((cleanup(pkey_freep)))
#define _cleanup_bio_ __attribute__((cleanup(bio_freep)))
#define _cleanup_md_ctx_ __attribute__((cleanup(md_ctx_freep)))

static int ssl_error(brick_err *err, const char *what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown OpenSSL error";
  if (e)
    ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return brick_error(err, 0, "%s: %s", what, buf);
}

/* Never let OpenSSL prompt on a terminal: no password given means none is available. */
static int password_cb(char *buf, int size, int rwflag, void *u) {
  (void)rwflag;
  const char *pw = u;
  if (!pw)
    return -1;
  size_t n = strlen(pw);
  if (n > (size_t)size)
    return -1;
  memcpy(buf, pw, n);
  return (int)n;
}

static char *bio_to_string(BIO *b, size_t *len) {
  char *mem = NULL;
  long n = BIO_get_mem_data(b, &mem);
  char *s = xmalloc((size_t)n + 1);
  memcpy(s, mem, (size_t)n);
  s[n] = '\0';
  if (len)
    *len = (size_t)n;
  return s;
}

int brick_key_generate(const char *prefix, const char *password, brick_err *err) {
  _cleanup_free_ char *key_path = xasprintf("%s.key", prefix);
  _cleanup_free_ char *pub_path = xasprintf("%s.pub", prefix);
  struct stat st;
  if (stat(key_path, &st) == 0 || stat(pub_path, &st) == 0)
    return brick_error(err, EEXIST, "%s or %s already exists; not overwriting a key", key_path,
                       pub_path);
  _cleanup_pkey_ EVP_PKEY *key = EVP_EC_gen("P-256");
  if (!key)
    return ssl_error(err, "generate P-256 key");
  _cleanup_bio_ BIO *priv = BIO_new(BIO_s_mem());
  _cleanup_bio_ BIO *pub = BIO_new(BIO_s_mem());
  if (!priv || !pub)
    return ssl_error(err, "allocate");
  bool encrypt = password && *password;
  if (!PEM_write_bio_PKCS8PrivateKey(priv, key, encrypt ? EVP_aes_256_cbc() : NULL, NULL, 0,
                                     password_cb, (void *)(encrypt ? password : NULL)))
    return ssl_error(err, "encode private key");
  if (!PEM_write_bio_PUBKEY(pub, key))
    return ssl_error(err, "encode public key");
  size_t priv_len, pub_len;
  _cleanup_free_ char *priv_s = bio_to_string(priv, &priv_len);
  _cleanup_free_ char *pub_s = bio_to_string(pub, &pub_len);
  if (brick_write_file_atomic(key_path, priv_s, priv_len, 0600, err) < 0)
    return -1;
  if (brick_write_file_atomic(pub_path, pub_s, pub_len, 0644, err) < 0) {
    unlink(key_path);
    return -1;
  }
  return 0;
}

static int load_private_key(const char *path, const char *password, EVP_PKEY **out,
                            brick_err *err) {
  _cleanup_free_ char *pem = NULL;
  size_t len;
  if (brick_read_file(path, &pem, &len, err) < 0)
    return -1;
  _cleanup_bio_ BIO *b = BIO_new_mem_buf(pem, (int)len);
  if (!b)
    return ssl_error(err, "allocate");
  EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, password_cb, (void *)password);
  if (!k) {
    ssl_error(err, "read private key");
    return brick_error_prefix(err, "%s%s", path,
                              password ? "" : " (encrypted keys need BRICK_KEY_PASSWORD)");
  }
  *out = k;
  return 0;
}

static const EVP_MD *md_for(EVP_PKEY *k) {
  int id = EVP_PKEY_get_base_id(k);
  return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? NULL : EVP_sha256();
}

int brick_sigstore_sign(const char *private_key_path, const char *password, const char *identity,
                        const unsigned char *manifest, size_t manifest_len, unsigned char **blob,
                        size_t *blob_len, brick_err *err) {
  _cleanup_free_ char *digest = NULL;
  if (brick_manifest_digest(manifest, manifest_len, &digest, err) < 0)
    return -1;
  struct brick_dref r;
  if (brick_dref_parse(identity, true, &r, err) < 0)
    return brick_error_prefix(err, "identity");
  brick_dref_clear(&r);
  _cleanup_pkey_ EVP_PKEY *key = NULL;
  if (load_private_key(private_key_path, password, &key, err) < 0)
    return -1;
  size_t payload_len;
  _cleanup_free_ char *payload = brick_payload_make(BRICK_COSIGN_TYPE, identity, digest,
                                                    &payload_len);
  _cleanup_md_ctx_ EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx, NULL, md_for(key), NULL, key) != 1 ||
      EVP_DigestSign(ctx, NULL, &sig_len, (unsigned char *)payload, payload_len) != 1)
    return ssl_error(err, "sign");
  _cleanup_free_ unsigned char *sig = xmalloc(sig_len);
  if (EVP_DigestSign(ctx, sig, &sig_len, (unsigned char *)payload, payload_len) != 1)
    return ssl_error(err, "sign");
  _cleanup_free_ char *sig_b64 = brick_b64_encode(sig, sig_len);
  _cleanup_free_ char *payload_b64 = brick_b64_encode((unsigned char *)payload, payload_len);
  _cleanup_json_ json_t *env = json_pack("{s:s,s:s,s:{s:s}}", "mimeType", BRICK_COSIGN_MIME,
                                         "payload", payload_b64, "annotations",
                                         BRICK_COSIGN_SIG_ANNOTATION, sig_b64);
  _cleanup_free_ char *env_s = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
  if (!env_s)
    abort();
  size_t env_len = strlen(env_s);
  unsigned char *out = xmalloc(BRICK_SIGSTORE_PREFIX_LEN + env_len);
  memcpy(out, BRICK_SIGSTORE_PREFIX, BRICK_SIGSTORE_PREFIX_LEN);
  memcpy(out + BRICK_SIGSTORE_PREFIX_LEN, env_s, env_len);
  *blob = out;
  *blob_len = BRICK_SIGSTORE_PREFIX_LEN + env_len;
  return 0;
}

bool brick_sig_is_sigstore(const unsigned char *data, size_t len) {
  return len >= BRICK_SIGSTORE_PREFIX_LEN &&
         memcmp(data, BRICK_SIGSTORE_PREFIX, BRICK_SIGSTORE_PREFIX_LEN) == 0;
}

static int verify_with(const struct brick_sig_blob *pem, const unsigned char *payload,
                       size_t payload_len, const unsigned char *sig, size_t sig_len,
                       bool *ok, brick_err *err) {
  _cleanup_bio_ BIO *b = BIO_new_mem_buf(pem->data, (int)pem->len);
  if (!b)
    return ssl_error(err, "allocate");
  _cleanup_pkey_ EVP_PKEY *key = PEM_read_bio_PUBKEY(b, NULL, password_cb, NULL);
  if (!key)
    return ssl_error(err, "read public key (expected a PEM SubjectPublicKeyInfo)");
  _cleanup_md_ctx_ EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestVerifyInit(ctx, NULL, md_for(key), NULL, key) != 1)
    return ssl_error(err, "verify");
  int r = EVP_DigestVerify(ctx, sig, sig_len, payload, payload_len);
  ERR_clear_error();
  *ok = r == 1;
  return 0;
}

int brick_sigstore_verify(const struct brick_sig_blob *public_keys, size_t n_keys,
                          const unsigned char *blob, size_t len, struct brick_sig_info *info,
                          brick_err *err) {
  if (!brick_sig_is_sigstore(blob, len))
    return brick_error(err, 0, "not a sigstore signature (no \\0sigstore-json prefix)");
  json_error_t jerr;
  _cleanup_json_ json_t *env =
      json_loadb((const char *)blob + BRICK_SIGSTORE_PREFIX_LEN, len - BRICK_SIGSTORE_PREFIX_LEN,
                 JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_object(env))
    return brick_error(err, 0, "sigstore signature: invalid JSON: %s",
                       env ? "not an object" : jerr.text);
  const char *key;
  json_t *v;
  json_object_foreach(env, key, v) {
    if (strcmp(key, "mimeType") && strcmp(key, "payload") && strcmp(key, "annotations"))
      return brick_error(err, 0, "sigstore signature: unknown member \"%s\"", key);
  }
  json_t *mime = json_object_get(env, "mimeType");
  json_t *payload_j = json_object_get(env, "payload");
  json_t *ann = json_object_get(env, "annotations");
  if (!json_is_string(mime) || strcmp(json_string_value(mime), BRICK_COSIGN_MIME))
    return brick_error(err, 0, "sigstore signature: mimeType: expected \"%s\"",
                       BRICK_COSIGN_MIME);
  if (!json_is_string(payload_j))
    return brick_error(err, 0, "sigstore signature: payload: missing or not a string");
  json_t *sig_j = json_is_object(ann) ? json_object_get(ann, BRICK_COSIGN_SIG_ANNOTATION) : NULL;
  if (!json_is_string(sig_j))
    return brick_error(err, 0, "sigstore signature: annotations.\"%s\": missing",
                       BRICK_COSIGN_SIG_ANNOTATION);
  _cleanup_free_ unsigned char *payload = NULL, *sig = NULL;
  size_t payload_len, sig_len;
  if (brick_b64_decode(json_string_value(payload_j), &payload, &payload_len, err) < 0)
    return brick_error_prefix(err, "sigstore signature: payload");
  if (brick_b64_decode(json_string_value(sig_j), &sig, &sig_len, err) < 0)
    return brick_error_prefix(err, "sigstore signature: annotations.\"%s\"",
                              BRICK_COSIGN_SIG_ANNOTATION);
  if (n_keys == 0)
    return brick_error(err, 0, "no public keys to verify with");
  ssize_t good = -1;
  for (size_t i = 0; i < n_keys && good < 0; i++) {
    bool ok = false;
    if (verify_with(&public_keys[i], payload, payload_len, sig, sig_len, &ok, err) < 0)
      return brick_error_prefix(err, "public key %zu", i + 1);
    if (ok)
      good = (ssize_t)i;
  }
  if (good < 0)
    return brick_error(err, 0, "cryptographic signature verification failed with %s",
                       n_keys == 1 ? "the trusted key" : "every trusted key");
  /* Only a verified payload is parsed. */
  struct brick_sig_info tmp = {.sigstore = true};
  if (brick_payload_parse(payload, payload_len, BRICK_COSIGN_TYPE, true, &tmp, err) < 0) {
    brick_sig_info_clear(&tmp);
    return -1;
  }
  tmp.key = xasprintf("public key %zd", good + 1);
  *info = tmp;
  return 0;
}
