/* Pieces shared inside the trust module (and exercised directly by its unit tests):
 * docker reference grammar, policy scopes, signedIdentity rules, payload parsing. */
#ifndef BRICK_TRUST_INTERNAL_H
#define BRICK_TRUST_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "trust/trust.h"

/* ---- docker references (distribution/reference grammar) ---- */

struct brick_dref {
  char *domain;  /* "docker.io", "registry.example.com:5000" */
  char *path;    /* "library/busybox" */
  char *tag;     /* NULL when absent */
  char *digest;  /* "sha256:…", NULL when absent */
};

/* normalize: expand "busybox" to "docker.io/library/busybox" as docker does.
 * Without it the input must already be in normalized form. */
int brick_dref_parse(const char *s, bool normalize, struct brick_dref *out, brick_err *err);
void brick_dref_clear(struct brick_dref *r);
char *brick_dref_name(const struct brick_dref *r);   /* domain/path */
char *brick_dref_string(const struct brick_dref *r); /* name[:tag][@digest] */
static inline bool brick_dref_name_only(const struct brick_dref *r) {
  return !r->tag && !r->digest;
}
bool brick_dref_valid_domain(const char *s);
/* Scopes to try for a docker-like reference, most specific first (the identity itself
 * is not included): repository, parent namespaces, host, then *.domain wildcards. */
char **brick_dref_namespaces(const struct brick_dref *r);

/* ---- policy scopes ---- */

enum brick_transport_kind {
  BRICK_TRANSPORT_DOCKER_LIKE, /* docker, atomic, docker-daemon */
  BRICK_TRANSPORT_PATH,        /* dir, oci, oci-archive, docker-archive */
  BRICK_TRANSPORT_STORAGE,     /* containers-storage */
  BRICK_TRANSPORT_UNKNOWN,
};
enum brick_transport_kind brick_transport_kind(const char *transport);
/* Scope candidates for transport+reference, most specific first: candidates[0] is the
 * image's full identity. *docker_ref (may be NULL) receives the image's docker
 * reference when the transport has one. */
int brick_policy_scope_candidates(const char *transport, const char *reference, char ***candidates,
                                  char **docker_ref, brick_err *err);
/* Whether scope is a valid scope string for transport (non-empty; "" is the default). */
int brick_policy_validate_scope(const char *transport, const char *scope, brick_err *err);

/* ---- signedIdentity ---- */

enum brick_identity_type {
  BRICK_ID_MATCH_EXACT,
  BRICK_ID_MATCH_REPO_DIGEST_OR_EXACT,
  BRICK_ID_MATCH_REPOSITORY,
  BRICK_ID_EXACT_REFERENCE,
  BRICK_ID_EXACT_REPOSITORY,
  BRICK_ID_REMAP_IDENTITY,
};
struct brick_signed_identity {
  enum brick_identity_type type;
  char *docker_reference;  /* exactReference */
  char *docker_repository; /* exactRepository */
  char *prefix;            /* remapIdentity */
  char *signed_prefix;     /* remapIdentity */
};
const char *brick_identity_type_name(enum brick_identity_type t);
/* Parse a signedIdentity object (strict: unknown members reject). */
int brick_identity_parse(json_t *j, struct brick_signed_identity *out, brick_err *err);
/* A policy object's "type" member as an index into names (what: "requirement" or
 * "signedIdentity", for the message). */
int brick_policy_type_index(json_t *j, const char *const *names, size_t n, const char *what,
                            size_t *index, brick_err *err);
void brick_identity_clear(struct brick_signed_identity *id);
/* image_ref: the image's docker reference (normalized, NULL when the transport has
 * none); sig_ref: the signature's critical.identity.docker-reference. */
bool brick_identity_matches(const struct brick_signed_identity *id, const char *image_ref,
                            const char *sig_ref);

/* ---- payloads ---- */

#define BRICK_SIMPLE_SIGNING_TYPE "atomic container signature"
#define BRICK_COSIGN_TYPE "cosign container image signature"

/* Serialize {"critical":{…,"type":type},"optional":{"creator","timestamp"}}. */
char *brick_payload_make(const char *type, const char *identity, const char *digest,
                         size_t *len);
/* Strict parse: critical must hold exactly identity, image and type; type must equal
 * expected_type; optional must be an object (or null when optional_may_be_null). */
int brick_payload_parse(const unsigned char *data, size_t len, const char *expected_type,
                        bool optional_may_be_null, struct brick_sig_info *info, brick_err *err);

/* ---- base64 (OpenSSL) ---- */
char *brick_b64_encode(const unsigned char *data, size_t len);
int brick_b64_decode(const char *s, unsigned char **out, size_t *len, brick_err *err);

/* ---- GnuPG temporary homes ---- */
/* mkdtemp under $TMPDIR (or /tmp); removed with brick_gpg_tmp_home_remove. */
int brick_gpg_tmp_home(char **out, brick_err *err);
void brick_gpg_tmp_home_remove(const char *home);

#endif
