/* signedIdentity: which docker-reference a signature must claim for a given image.
 * The rules follow containers-policy.json(5); note that no form adds a default tag —
 * a signature naming only a repository never matches a tag-exact rule. */
#include <string.h>

#include "core/util.h"
#include "trust/internal.h"

static const char *const type_names[] = {
    [BRICK_ID_MATCH_EXACT] = "matchExact",
    [BRICK_ID_MATCH_REPO_DIGEST_OR_EXACT] = "matchRepoDigestOrExact",
    [BRICK_ID_MATCH_REPOSITORY] = "matchRepository",
    [BRICK_ID_EXACT_REFERENCE] = "exactReference",
    [BRICK_ID_EXACT_REPOSITORY] = "exactRepository",
    [BRICK_ID_REMAP_IDENTITY] = "remapIdentity",
};

const char *brick_identity_type_name(enum brick_identity_type t) { return type_names[t]; }

void brick_identity_clear(struct brick_signed_identity *id) {
  free(id->docker_reference);
  free(id->docker_repository);
  free(id->prefix);
  free(id->signed_prefix);
  *id = (struct brick_signed_identity){0};
}

/* A remapIdentity prefix is a host[:port] or a normalized repository namespace. */
static bool valid_remap_prefix(const char *s) {
  if (brick_dref_valid_domain(s) && !strchr(s, '/'))
    return true;
  struct brick_dref r;
  if (brick_dref_parse(s, false, &r, NULL) < 0)
    return false;
  bool ok = brick_dref_name_only(&r);
  brick_dref_clear(&r);
  return ok;
}

static int want_string(json_t *j, const char *key, char **out, brick_err *err) {
  json_t *v = json_object_get(j, key);
  if (!v)
    return brick_error(err, 0, "%s: missing", key);
  if (!json_is_string(v))
    return brick_error(err, 0, "%s: expected a string", key);
  *out = xstrdup(json_string_value(v));
  return 0;
}

int brick_policy_type_index(json_t *j, const char *const *names, size_t n, const char *what,
                            size_t *index, brick_err *err) {
  if (!json_is_object(j))
    return brick_error(err, 0, "expected an object");
  json_t *t = json_object_get(j, "type");
  if (!json_is_string(t))
    return brick_error(err, 0, "type: missing or not a string");
  const char *ts = json_string_value(t);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(ts, names[i])) {
      *index = i;
      return 0;
    }
  return brick_error(err, 0, "type: unknown %s type \"%s\"", what, ts);
}

int brick_identity_parse(json_t *j, struct brick_signed_identity *out, brick_err *err) {
  *out = (struct brick_signed_identity){0};
  size_t i;
  if (brick_policy_type_index(j, type_names, ARRAY_SIZE(type_names), "signedIdentity", &i, err) < 0)
    return -1;
  struct brick_signed_identity id = {.type = (enum brick_identity_type)i};
  const char *allowed[3] = {"type", NULL, NULL};
  switch (id.type) {
  case BRICK_ID_EXACT_REFERENCE: {
    allowed[1] = "dockerReference";
    if (want_string(j, "dockerReference", &id.docker_reference, err) < 0)
      return -1;
    struct brick_dref r;
    if (brick_dref_parse(id.docker_reference, true, &r, err) < 0) {
      brick_identity_clear(&id);
      return brick_error_prefix(err, "dockerReference");
    }
    bool name_only = brick_dref_name_only(&r);
    brick_dref_clear(&r);
    if (name_only) {
      brick_error(err, 0, "dockerReference: \"%s\" needs a tag or digest",
                  id.docker_reference);
      brick_identity_clear(&id);
      return -1;
    }
    break;
  }
  case BRICK_ID_EXACT_REPOSITORY: {
    allowed[1] = "dockerRepository";
    if (want_string(j, "dockerRepository", &id.docker_repository, err) < 0)
      return -1;
    struct brick_dref r;
    if (brick_dref_parse(id.docker_repository, true, &r, err) < 0) {
      brick_identity_clear(&id);
      return brick_error_prefix(err, "dockerRepository");
    }
    brick_dref_clear(&r);
    break;
  }
  case BRICK_ID_REMAP_IDENTITY:
    allowed[1] = "prefix";
    allowed[2] = "signedPrefix";
    if (want_string(j, "prefix", &id.prefix, err) < 0 ||
        want_string(j, "signedPrefix", &id.signed_prefix, err) < 0) {
      brick_identity_clear(&id);
      return -1;
    }
    if (!valid_remap_prefix(id.prefix) || !valid_remap_prefix(id.signed_prefix)) {
      brick_error(err, 0, "prefix/signedPrefix must be a host[:port] or a normalized "
                          "repository namespace (got \"%s\" and \"%s\")",
                  id.prefix, id.signed_prefix);
      brick_identity_clear(&id);
      return -1;
    }
    break;
  default:
    break;
  }
  const char *key;
  json_t *v;
  json_object_foreach(j, key, v) {
    bool ok = false;
    for (size_t k = 0; k < ARRAY_SIZE(allowed); k++)
      if (allowed[k] && !strcmp(allowed[k], key))
        ok = true;
    if (!ok) {
      brick_identity_clear(&id);
      return brick_error(err, 0, "unknown member \"%s\" for %s", key, type_names[i]);
    }
  }
  *out = id;
  return 0;
}

/* prefix matches a repository name at a component boundary. ':' is not a boundary:
 * a port is part of the host and must match exactly. */
static bool name_has_prefix(const char *name, const char *prefix) {
  size_t n = strlen(name), p = strlen(prefix);
  if (n < p || strncmp(name, prefix, p) != 0)
    return false;
  return n == p || name[p] == '/';
}

/* repoDigestOrExact between an intended (image) reference and the signed one. */
static bool repo_digest_or_exact(const struct brick_dref *intended, const struct brick_dref *sig) {
  if (brick_dref_name_only(sig))
    return false;
  _cleanup_free_ char *in_s = brick_dref_string(intended);
  _cleanup_free_ char *sig_s = brick_dref_string(sig);
  if (intended->tag)
    return strcmp(in_s, sig_s) == 0;
  if (intended->digest) {
    /* The manifest digest itself is checked against the signature separately. */
    _cleanup_free_ char *in_n = brick_dref_name(intended);
    _cleanup_free_ char *sig_n = brick_dref_name(sig);
    return strcmp(in_n, sig_n) == 0;
  }
  return false;
}

bool brick_identity_matches(const struct brick_signed_identity *id, const char *image_ref,
                            const char *sig_ref) {
  struct brick_dref sig = {0}, intended = {0};
  bool ok = false;
  if (!sig_ref || brick_dref_parse(sig_ref, true, &sig, NULL) < 0)
    return false;
  switch (id->type) {
  case BRICK_ID_MATCH_EXACT:
  case BRICK_ID_MATCH_REPO_DIGEST_OR_EXACT:
  case BRICK_ID_MATCH_REPOSITORY:
  case BRICK_ID_REMAP_IDENTITY:
    if (!image_ref || brick_dref_parse(image_ref, true, &intended, NULL) < 0)
      goto out;
    break;
  case BRICK_ID_EXACT_REFERENCE:
    if (brick_dref_parse(id->docker_reference, true, &intended, NULL) < 0)
      goto out;
    break;
  case BRICK_ID_EXACT_REPOSITORY:
    if (brick_dref_parse(id->docker_repository, true, &intended, NULL) < 0)
      goto out;
    break;
  }

  switch (id->type) {
  case BRICK_ID_MATCH_EXACT:
  case BRICK_ID_EXACT_REFERENCE: {
    if (brick_dref_name_only(&intended) || brick_dref_name_only(&sig))
      goto out;
    _cleanup_free_ char *a = brick_dref_string(&intended);
    _cleanup_free_ char *b = brick_dref_string(&sig);
    ok = strcmp(a, b) == 0;
    break;
  }
  case BRICK_ID_MATCH_REPO_DIGEST_OR_EXACT:
    ok = repo_digest_or_exact(&intended, &sig);
    break;
  case BRICK_ID_MATCH_REPOSITORY:
  case BRICK_ID_EXACT_REPOSITORY: {
    _cleanup_free_ char *a = brick_dref_name(&intended);
    _cleanup_free_ char *b = brick_dref_name(&sig);
    ok = strcmp(a, b) == 0;
    break;
  }
  case BRICK_ID_REMAP_IDENTITY: {
    _cleanup_free_ char *name = brick_dref_name(&intended);
    if (name_has_prefix(name, id->prefix)) {
      _cleanup_free_ char *full = brick_dref_string(&intended);
      _cleanup_free_ char *remapped =
          xasprintf("%s%s", id->signed_prefix, full + strlen(id->prefix));
      struct brick_dref r;
      if (brick_dref_parse(remapped, false, &r, NULL) < 0)
        goto out;
      brick_dref_clear(&intended);
      intended = r;
    }
    ok = repo_digest_or_exact(&intended, &sig);
    break;
  }
  }
out:
  brick_dref_clear(&sig);
  brick_dref_clear(&intended);
  return ok;
}
