/* The signed payload shared by simple signing and cosign key signatures:
 * {"critical":{"identity":{"docker-reference":…},"image":{"docker-manifest-digest":…},
 *  "type":…},"optional":{…}}. Parsing is deliberately paranoid — an unknown member of
 * "critical" could carry a restriction we would silently ignore, so it rejects. */
#include <openssl/evp.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "trust/internal.h"

void brick_sig_info_clear(struct brick_sig_info *info) {
  free(info->identity);
  free(info->digest);
  free(info->key);
  free(info->creator);
  *info = (struct brick_sig_info){0};
}

void brick_sig_blobs_free(struct brick_sig_blob *sigs, size_t n) {
  if (!sigs)
    return;
  for (size_t i = 0; i < n; i++)
    free((void *)sigs[i].data);
  free(sigs);
}

char *brick_b64_encode(const unsigned char *data, size_t len) {
  char *out = xmalloc(4 * ((len + 2) / 3) + 1);
  EVP_EncodeBlock((unsigned char *)out, data, (int)len);
  return out;
}

int brick_b64_decode(const char *s, unsigned char **out, size_t *len, brick_err *err) {
  size_t n = strlen(s);
  if (n % 4 != 0)
    return brick_error(err, 0, "invalid base64: length %zu is not a multiple of 4", n);
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i >= n - 2);
    if (!ok)
      return brick_error(err, 0, "invalid base64 character at offset %zu", i);
  }
  if (n >= 2 && s[n - 2] == '=' && s[n - 1] != '=')
    return brick_error(err, 0, "invalid base64 padding");
  unsigned char *buf = xmalloc(n / 4 * 3 + 1);
  int r = n ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n) : 0;
  if (r < 0) {
    free(buf);
    return brick_error(err, 0, "invalid base64");
  }
  size_t pad = (n && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
  *len = (size_t)r - pad;
  *out = buf;
  return 0;
}

char *brick_payload_make(const char *type, const char *identity, const char *digest,
                         size_t *len) {
  _cleanup_json_ json_t *j = json_pack(
      "{s:{s:{s:s},s:{s:s},s:s},s:{s:s,s:I}}", "critical", "identity", "docker-reference",
      identity, "image", "docker-manifest-digest", digest, "type", type, "optional", "creator",
      "brick " BRICK_VERSION, "timestamp", (json_int_t)time(NULL));
  char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
  if (!s)
    abort();
  *len = strlen(s);
  return s;
}

/* Exactly these members, each present. */
static int exact_members(json_t *obj, const char *where, const char *const *names, size_t n,
                         brick_err *err) {
  if (!json_is_object(obj))
    return brick_error(err, 0, "%s: expected an object", where);
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    bool known = false;
    for (size_t i = 0; i < n; i++)
      if (!strcmp(names[i], key))
        known = true;
    if (!known)
      return brick_error(err, 0, "%s: unknown member \"%s\"", where, key);
  }
  for (size_t i = 0; i < n; i++)
    if (!json_object_get(obj, names[i]))
      return brick_error(err, 0, "%s: missing \"%s\"", where, names[i]);
  return 0;
}

int brick_payload_parse(const unsigned char *data, size_t len, const char *expected_type,
                        bool optional_may_be_null, struct brick_sig_info *info, brick_err *err) {
  json_error_t jerr;
  _cleanup_json_ json_t *j = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!j)
    return brick_error(err, 0, "payload: invalid JSON: %s", jerr.text);
  if (!json_is_object(j))
    return brick_error(err, 0, "payload: expected an object");
  const char *key;
  json_t *v;
  json_object_foreach(j, key, v) {
    if (strcmp(key, "critical") && strcmp(key, "optional"))
      return brick_error(err, 0, "payload: unknown member \"%s\"", key);
  }
  if (!json_object_get(j, "critical"))
    return brick_error(err, 0, "payload: missing \"critical\"");
  /* cosign writes "optional": null, or leaves it out; simple signing requires it. */
  if (!optional_may_be_null && !json_object_get(j, "optional"))
    return brick_error(err, 0, "payload: missing \"optional\"");
  json_t *critical = json_object_get(j, "critical");
  static const char *const crit[] = {"identity", "image", "type"};
  if (exact_members(critical, "payload: critical", crit, 3, err) < 0)
    return -1;
  json_t *type = json_object_get(critical, "type");
  if (!json_is_string(type) || strcmp(json_string_value(type), expected_type))
    return brick_error(err, 0, "payload: critical.type: expected \"%s\"", expected_type);
  static const char *const image_m[] = {"docker-manifest-digest"};
  static const char *const ident_m[] = {"docker-reference"};
  json_t *image = json_object_get(critical, "image");
  json_t *ident = json_object_get(critical, "identity");
  if (exact_members(image, "payload: critical.image", image_m, 1, err) < 0 ||
      exact_members(ident, "payload: critical.identity", ident_m, 1, err) < 0)
    return -1;
  json_t *digest = json_object_get(image, "docker-manifest-digest");
  json_t *ref = json_object_get(ident, "docker-reference");
  if (!json_is_string(digest))
    return brick_error(err, 0, "payload: critical.image.docker-manifest-digest: not a string");
  if (!json_is_string(ref))
    return brick_error(err, 0, "payload: critical.identity.docker-reference: not a string");

  json_t *optional = json_object_get(j, "optional");
  const char *creator = NULL;
  json_int_t timestamp = 0;
  if (optional && !json_is_null(optional)) {
    if (!json_is_object(optional))
      return brick_error(err, 0, "payload: optional: expected an object");
    json_t *c = json_object_get(optional, "creator");
    if (c && !json_is_string(c))
      return brick_error(err, 0, "payload: optional.creator: not a string");
    creator = c ? json_string_value(c) : NULL;
    json_t *t = json_object_get(optional, "timestamp");
    if (t && !json_is_integer(t))
      return brick_error(err, 0, "payload: optional.timestamp: not an integer");
    timestamp = t ? json_integer_value(t) : 0;
  } else if (optional && !optional_may_be_null) {
    return brick_error(err, 0, "payload: optional: expected an object");
  }
  info->identity = xstrdup(json_string_value(ref));
  info->digest = xstrdup(json_string_value(digest));
  info->creator = creator ? xstrdup(creator) : NULL;
  info->timestamp = timestamp;
  return 0;
}

static int hash_hex(const EVP_MD *md, const unsigned char *data, size_t len, char *hex,
                    brick_err *err) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int dl = 0;
  if (!EVP_Digest(data, len, d, &dl, md, NULL))
    return brick_error(err, 0, "digest computation failed");
  for (unsigned int i = 0; i < dl; i++)
    sprintf(hex + 2 * i, "%02x", d[i]);
  return 0;
}

static int refuse_schema1(const unsigned char *manifest, size_t len, brick_err *err) {
  json_error_t jerr;
  _cleanup_json_ json_t *j = json_loadb((const char *)manifest, len, 0, &jerr);
  if (!j)
    return brick_error(err, 0, "manifest: invalid JSON: %s", jerr.text);
  json_t *v = json_object_get(j, "schemaVersion");
  if (json_is_integer(v) && json_integer_value(v) == 1)
    return brick_error(err, 0, "manifest: docker schema1 manifests are not supported "
                               "(only docker schema2 and OCI manifests can be signed)");
  return 0;
}

int brick_manifest_digest(const unsigned char *manifest, size_t len, char **out, brick_err *err) {
  if (refuse_schema1(manifest, len, err) < 0)
    return -1;
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  if (hash_hex(EVP_sha256(), manifest, len, hex, err) < 0)
    return -1;
  *out = xasprintf("sha256:%s", hex);
  return 0;
}

int brick_manifest_matches_digest(const unsigned char *manifest, size_t len, const char *digest,
                                  bool *matches, brick_err *err) {
  if (refuse_schema1(manifest, len, err) < 0)
    return -1;
  const EVP_MD *md;
  const char *hex_in;
  if (brick_str_has_prefix(digest, "sha256:")) {
    md = EVP_sha256();
    hex_in = digest + 7;
  } else if (brick_str_has_prefix(digest, "sha512:")) {
    md = EVP_sha512();
    hex_in = digest + 7;
  } else {
    return brick_error(err, 0, "unsupported digest algorithm in \"%s\"", digest);
  }
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  if (hash_hex(md, manifest, len, hex, err) < 0)
    return -1;
  *matches = strcmp(hex, hex_in) == 0;
  return 0;
}

int brick_signature_check_image(const struct brick_sig_info *info, const unsigned char *manifest,
                                size_t manifest_len, const char *expected_identity,
                                brick_err *err) {
  bool match = false;
  if (brick_manifest_matches_digest(manifest, manifest_len, info->digest, &match, err) < 0)
    return -1;
  if (!match)
    return brick_error(err, 0, "signature is for manifest %s, which is not this manifest",
                       info->digest);
  struct brick_dref want, got;
  if (brick_dref_parse(expected_identity, true, &want, err) < 0)
    return brick_error_prefix(err, "expected identity");
  if (brick_dref_parse(info->identity, true, &got, err) < 0) {
    brick_dref_clear(&want);
    return brick_error_prefix(err, "signed identity");
  }
  _cleanup_free_ char *a = brick_dref_string(&want);
  _cleanup_free_ char *b = brick_dref_string(&got);
  brick_dref_clear(&want);
  brick_dref_clear(&got);
  if (strcmp(a, b))
    return brick_error(err, 0, "signature is for identity \"%s\", not \"%s\"", info->identity,
                       expected_identity);
  return 0;
}
