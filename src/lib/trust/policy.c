/* containers-policy.json(5): loading, strict validation (unknown members reject, as a
 * misspelled restriction must never silently widen trust), scope lookup and the
 * human explanation behind `brick policy show`. Evaluation is in policy_eval.c. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "trust/policy_types.h"

static const char *const req_names[] = {
    [BRICK_REQ_INSECURE_ACCEPT_ANYTHING] = "insecureAcceptAnything",
    [BRICK_REQ_REJECT] = "reject",
    [BRICK_REQ_SIGNED_BY] = "signedBy",
    [BRICK_REQ_SIGSTORE_SIGNED] = "sigstoreSigned",
};

const char *brick_req_type_name(enum brick_req_type t) { return req_names[t]; }

static void req_clear(struct brick_requirement *r) {
  free(r->key_type);
  for (size_t i = 0; i < r->n_keys; i++) {
    free(r->keys[i].path);
    free(r->keys[i].data);
  }
  free(r->keys);
  free(r->unsupported);
  brick_identity_clear(&r->identity);
  if (r->raw)
    json_decref(r->raw);
}

static void req_list_clear(struct brick_req_list *l) {
  for (size_t i = 0; i < l->n; i++)
    req_clear(&l->reqs[i]);
  free(l->reqs);
  *l = (struct brick_req_list){0};
}

void brick_policy_free(struct brick_policy *p) {
  if (!p)
    return;
  req_list_clear(&p->def);
  for (size_t i = 0; i < p->n_transports; i++) {
    struct brick_policy_transport *t = &p->transports[i];
    for (size_t j = 0; j < t->n; j++) {
      free(t->scopes[j].name);
      req_list_clear(&t->scopes[j].reqs);
    }
    free(t->scopes);
    free(t->name);
  }
  free(p->transports);
  free(p->origin);
  free(p);
}

const char *brick_policy_origin(const struct brick_policy *p) { return p->origin; }

static int check_members(json_t *j, const char *const *allowed, size_t n, brick_err *err) {
  const char *key;
  json_t *v;
  json_object_foreach(j, key, v) {
    bool ok = false;
    for (size_t i = 0; i < n; i++)
      if (!strcmp(allowed[i], key))
        ok = true;
    if (!ok)
      return brick_error(err, 0, "unknown member \"%s\"", key);
  }
  return 0;
}

static void add_key(struct brick_requirement *r, struct brick_key_source k) {
  r->keys = xrealloc(r->keys, (r->n_keys + 1) * sizeof *r->keys);
  r->keys[r->n_keys++] = k;
}

/* keyPath / keyPaths / keyData / keyDatas into r->keys. Returns how many of the
 * members were present (the caller requires exactly one source). */
static int parse_keys(json_t *j, struct brick_requirement *r, bool allow_datas, int *present,
                      brick_err *err) {
  json_t *v;
  *present = 0;
  if ((v = json_object_get(j, "keyPath"))) {
    (*present)++;
    if (!json_is_string(v) || !*json_string_value(v))
      return brick_error(err, 0, "keyPath: expected a non-empty string");
    add_key(r, (struct brick_key_source){.path = xstrdup(json_string_value(v))});
  }
  if ((v = json_object_get(j, "keyPaths"))) {
    (*present)++;
    if (!json_is_array(v) || json_array_size(v) == 0)
      return brick_error(err, 0, "keyPaths: expected a non-empty array of strings");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      if (!json_is_string(e) || !*json_string_value(e))
        return brick_error(err, 0, "keyPaths[%zu]: expected a non-empty string", i);
      add_key(r, (struct brick_key_source){.path = xstrdup(json_string_value(e))});
    }
  }
  const char *data_names[] = {"keyData", "keyDatas"};
  for (size_t d = 0; d < (allow_datas ? 2u : 1u); d++) {
    if (!(v = json_object_get(j, data_names[d])))
      continue;
    (*present)++;
    json_t *one = d == 0 ? v : NULL;
    size_t count = d == 0 ? 1 : json_is_array(v) ? json_array_size(v) : 0;
    if (d == 1 && count == 0)
      return brick_error(err, 0, "keyDatas: expected a non-empty array of base64 strings");
    for (size_t i = 0; i < count; i++) {
      json_t *e = one ? one : json_array_get(v, i);
      if (!json_is_string(e))
        return brick_error(err, 0, "%s: expected a base64 string", data_names[d]);
      struct brick_key_source k = {0};
      if (brick_b64_decode(json_string_value(e), &k.data, &k.len, err) < 0)
        return brick_error_prefix(err, "%s", data_names[d]);
      if (k.len == 0) {
        free(k.data);
        return brick_error(err, 0, "%s: empty key", data_names[d]);
      }
      add_key(r, k);
    }
  }
  return 0;
}

static int parse_identity_member(json_t *j, struct brick_requirement *r, brick_err *err) {
  json_t *id = json_object_get(j, "signedIdentity");
  if (!id) {
    r->identity = (struct brick_signed_identity){.type = BRICK_ID_MATCH_REPO_DIGEST_OR_EXACT};
    return 0;
  }
  if (brick_identity_parse(id, &r->identity, err) < 0)
    return brick_error_prefix(err, "signedIdentity");
  return 0;
}

static int parse_requirement(json_t *j, struct brick_requirement *r, brick_err *err) {
  *r = (struct brick_requirement){0};
  size_t i;
  if (brick_policy_type_index(j, req_names, ARRAY_SIZE(req_names), "requirement", &i, err) < 0)
    return -1;
  r->type = (enum brick_req_type)i;
  r->raw = json_incref(j);
  int present = 0;
  switch (r->type) {
  case BRICK_REQ_INSECURE_ACCEPT_ANYTHING:
  case BRICK_REQ_REJECT: {
    static const char *const m[] = {"type"};
    return check_members(j, m, ARRAY_SIZE(m), err);
  }
  case BRICK_REQ_SIGNED_BY: {
    static const char *const m[] = {"type", "keyType", "keyPath", "keyPaths", "keyData",
                                    "signedIdentity"};
    if (check_members(j, m, ARRAY_SIZE(m), err) < 0)
      return -1;
    json_t *kt = json_object_get(j, "keyType");
    if (!json_is_string(kt))
      return brick_error(err, 0, "keyType: missing or not a string");
    const char *k = json_string_value(kt);
    if (strcmp(k, "GPGKeys") && strcmp(k, "signedByGPGKeys") && strcmp(k, "X509Certificates") &&
        strcmp(k, "signedByX509CAs"))
      return brick_error(err, 0, "keyType: unknown key type \"%s\"", k);
    r->key_type = xstrdup(k);
    if (parse_keys(j, r, false, &present, err) < 0)
      return -1;
    if (present != 1)
      return brick_error(err, 0, "exactly one of keyPath, keyPaths and keyData must be set");
    return parse_identity_member(j, r, err);
  }
  case BRICK_REQ_SIGSTORE_SIGNED: {
    static const char *const m[] = {"type", "keyPath", "keyPaths", "keyData", "keyDatas",
                                    "fulcio", "pki", "rekorPublicKeyPath",
                                    "rekorPublicKeyPaths", "rekorPublicKeyData",
                                    "rekorPublicKeyDatas", "signedIdentity"};
    if (check_members(j, m, ARRAY_SIZE(m), err) < 0)
      return -1;
    if (parse_keys(j, r, true, &present, err) < 0)
      return -1;
    const char *online = NULL;
    if (json_object_get(j, "fulcio")) {
      present++;
      if (!json_is_object(json_object_get(j, "fulcio")))
        return brick_error(err, 0, "fulcio: expected an object");
      online = "fulcio certificate";
    }
    if (json_object_get(j, "pki")) {
      present++;
      if (!json_is_object(json_object_get(j, "pki")))
        return brick_error(err, 0, "pki: expected an object");
      online = "pki certificate";
    }
    if (present != 1)
      return brick_error(err, 0, "exactly one of keyPath, keyPaths, keyData, keyDatas, "
                                 "fulcio and pki must be set");
    static const char *const rekor[] = {"rekorPublicKeyPath", "rekorPublicKeyPaths",
                                        "rekorPublicKeyData", "rekorPublicKeyDatas"};
    for (size_t k = 0; k < ARRAY_SIZE(rekor); k++)
      if (json_object_get(j, rekor[k]))
        online = online ? online : "Rekor transparency-log";
    if (online)
      r->unsupported = xasprintf("%s verification is not supported: brick verifies sigstore "
                                 "signatures offline with public keys only",
                                 online);
    return parse_identity_member(j, r, err);
  }
  }
  return 0;
}

static int parse_req_list(json_t *j, struct brick_req_list *out, brick_err *err) {
  if (!json_is_array(j))
    return brick_error(err, 0, "expected an array of requirements");
  if (json_array_size(j) == 0)
    return brick_error(err, 0, "the list of requirements is empty");
  out->reqs = xcalloc(json_array_size(j), sizeof *out->reqs);
  size_t i;
  json_t *e;
  json_array_foreach(j, i, e) {
    out->n = i + 1;
    if (parse_requirement(e, &out->reqs[i], err) < 0)
      return brick_error_prefix(err, "[%zu]", i);
  }
  return 0;
}

static int parse_transports(json_t *j, struct brick_policy *p, brick_err *err) {
  if (!json_is_object(j))
    return brick_error(err, 0, "transports: expected an object");
  const char *tname;
  json_t *scopes;
  json_object_foreach(j, tname, scopes) {
    if (!json_is_object(scopes))
      return brick_error(err, 0, "transports[\"%s\"]: expected an object of scopes", tname);
    p->transports = xrealloc(p->transports, (p->n_transports + 1) * sizeof *p->transports);
    struct brick_policy_transport *t = &p->transports[p->n_transports++];
    *t = (struct brick_policy_transport){.name = xstrdup(tname)};
    t->scopes = xcalloc(json_object_size(scopes) + 1, sizeof *t->scopes);
    const char *sname;
    json_t *list;
    json_object_foreach(scopes, sname, list) {
      struct brick_policy_scope *s = &t->scopes[t->n++];
      s->name = xstrdup(sname);
      if (*sname && brick_policy_validate_scope(tname, sname, err) < 0)
        return brick_error_prefix(err, "transports[\"%s\"]", tname);
      if (parse_req_list(list, &s->reqs, err) < 0)
        return brick_error_prefix(err, "transports[\"%s\"][\"%s\"]", tname, sname);
    }
  }
  return 0;
}

int brick_policy_parse(const char *text, size_t len, const char *origin,
                       struct brick_policy **out, brick_err *err) {
  json_error_t jerr;
  _cleanup_json_ json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!j)
    return brick_error(err, 0, "%s:%d:%d: invalid JSON: %s", origin, jerr.line, jerr.column,
                       jerr.text);
  if (!json_is_object(j))
    return brick_error(err, 0, "%s: expected a JSON object", origin);
  struct brick_policy *p = xcalloc(1, sizeof *p);
  p->origin = xstrdup(origin);
  static const char *const top[] = {"default", "transports"};
  int r = check_members(j, top, ARRAY_SIZE(top), err);
  json_t *def = json_object_get(j, "default");
  if (r == 0 && !def)
    r = brick_error(err, 0, "\"default\" is missing (a policy must say what applies when no "
                            "scope matches)");
  if (r == 0 && parse_req_list(def, &p->def, err) < 0)
    r = brick_error_prefix(err, "default");
  json_t *tr = json_object_get(j, "transports");
  if (r == 0 && tr && parse_transports(tr, p, err) < 0)
    r = -1;
  if (r < 0) {
    brick_policy_free(p);
    return brick_error_prefix(err, "%s", origin);
  }
  *out = p;
  return 0;
}

int brick_policy_load(const char *path, struct brick_policy **out, brick_err *err) {
  _cleanup_free_ char *chosen = NULL;
  if (path) {
    chosen = xstrdup(path);
  } else {
    const char *env = getenv("BRICK_POLICY");
    const char *home = getenv("HOME");
    _cleanup_free_ char *user = home && *home
                                    ? xasprintf("%s/.config/containers/policy.json", home)
                                    : NULL;
    struct stat st;
    if (env && *env)
      chosen = xstrdup(env);
    else if (user && stat(user, &st) == 0)
      chosen = TAKE_PTR(user);
    else if (stat("/etc/containers/policy.json", &st) == 0)
      chosen = xstrdup("/etc/containers/policy.json");
    else
      return brick_error(err, ENOENT, "no trust policy: none of --policy, $BRICK_POLICY, "
                                      "%s/.config/containers/policy.json, "
                                      "/etc/containers/policy.json exists",
                         home ? home : "$HOME");
  }
  _cleanup_free_ char *text = NULL;
  size_t len;
  if (brick_read_file(chosen, &text, &len, err) < 0)
    return brick_error_prefix(err, "trust policy");
  return brick_policy_parse(text, len, chosen, out, err);
}

void brick_policy_match_clear(struct brick_policy_match *m) {
  free(m->entry);
  free(m->scope);
  brick_strv_free(m->candidates);
  free(m->docker_ref);
  *m = (struct brick_policy_match){0};
}

int brick_policy_lookup(const struct brick_policy *p, const char *transport, const char *reference,
                        struct brick_policy_match *m, brick_err *err) {
  *m = (struct brick_policy_match){0};
  if (brick_policy_scope_candidates(transport, reference, &m->candidates, &m->docker_ref, err) <
      0)
    return -1;
  const struct brick_policy_transport *t = NULL;
  for (size_t i = 0; i < p->n_transports; i++)
    if (!strcmp(p->transports[i].name, transport))
      t = &p->transports[i];
  if (t) {
    for (char **c = m->candidates; *c; c++) {
      for (size_t i = 0; i < t->n; i++) {
        if (*t->scopes[i].name && !strcmp(t->scopes[i].name, *c)) {
          m->reqs = &t->scopes[i].reqs;
          m->scope = xstrdup(*c);
          m->entry = xasprintf("transports[\"%s\"][\"%s\"]", transport, *c);
          return 0;
        }
      }
    }
    for (size_t i = 0; i < t->n; i++) {
      if (!*t->scopes[i].name) {
        m->reqs = &t->scopes[i].reqs;
        m->scope = xstrdup("");
        m->entry = xasprintf("transports[\"%s\"][\"\"]", transport);
        return 0;
      }
    }
  }
  m->reqs = &p->def;
  m->entry = xstrdup("default");
  return 0;
}

static char *describe(const struct brick_requirement *r) {
  switch (r->type) {
  case BRICK_REQ_INSECURE_ACCEPT_ANYTHING:
    return xstrdup("accept anything, signed or not");
  case BRICK_REQ_REJECT:
    return xstrdup("reject every image");
  case BRICK_REQ_SIGNED_BY:
  case BRICK_REQ_SIGSTORE_SIGNED: {
    if (r->unsupported)
      return xasprintf("always rejects: %s", r->unsupported);
    _cleanup_free_ char *keys = xstrdup("");
    for (size_t i = 0; i < r->n_keys; i++) {
      char *k = r->keys[i].path ? xasprintf("%s%s%s", keys, *keys ? ", " : "", r->keys[i].path)
                                : xasprintf("%s%sinline key %zu", keys, *keys ? ", " : "", i + 1);
      free(keys);
      keys = k;
    }
    const struct brick_signed_identity *id = &r->identity;
    _cleanup_free_ char *ident =
        id->type == BRICK_ID_EXACT_REFERENCE ? xasprintf("exactly \"%s\"", id->docker_reference)
        : id->type == BRICK_ID_EXACT_REPOSITORY
            ? xasprintf("repository \"%s\"", id->docker_repository)
        : id->type == BRICK_ID_REMAP_IDENTITY
            ? xasprintf("remapIdentity \"%s\" -> \"%s\", then matchRepoDigestOrExact", id->prefix,
                        id->signed_prefix)
            : xstrdup(brick_identity_type_name(id->type));
    return xasprintf("require a %s signature by %s%s%s; signed identity must match %s",
                     r->type == BRICK_REQ_SIGNED_BY ? "GPG simple-signing" : "sigstore key",
                     keys, r->key_type ? " keyType " : "", r->key_type ? r->key_type : "", ident);
  }
  }
  return xstrdup("");
}

int brick_policy_explain(const struct brick_policy *p, const char *transport,
                         const char *reference, json_t **out, brick_err *err) {
  struct brick_policy_match m;
  if (brick_policy_lookup(p, transport, reference, &m, err) < 0)
    return -1;
  json_t *j = json_object();
  json_object_set_new(j, "policy", json_string(p->origin));
  json_object_set_new(j, "transport", json_string(transport));
  json_object_set_new(j, "reference", json_string(reference));
  json_object_set_new(j, "identity", m.candidates[0] ? json_string(m.candidates[0]) : json_null());
  json_object_set_new(j, "dockerReference", m.docker_ref ? json_string(m.docker_ref) : json_null());
  json_t *cands = json_array();
  for (char **c = m.candidates; *c; c++)
    json_array_append_new(cands, json_string(*c));
  json_object_set_new(j, "candidates", cands);
  json_object_set_new(j, "entry", json_string(m.entry));
  json_object_set_new(j, "scope", m.scope ? json_string(m.scope) : json_null());
  json_t *reqs = json_array(), *expl = json_array();
  for (size_t i = 0; i < m.reqs->n; i++) {
    json_array_append(reqs, m.reqs->reqs[i].raw);
    _cleanup_free_ char *d = describe(&m.reqs->reqs[i]);
    json_array_append_new(expl, json_string(d));
  }
  json_object_set_new(j, "requirements", reqs);
  json_object_set_new(j, "explanation", expl);
  brick_policy_match_clear(&m);
  *out = j;
  return 0;
}
