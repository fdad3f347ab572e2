/* Evaluating the policy for one image: every requirement of the matching scope must
 * accept. A signature requirement accepts when at least one signature verifies with a
 * trusted key, covers this manifest, and claims an identity signedIdentity allows. */
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "trust/policy_types.h"

/* Trusted key material for one requirement: files are read now, as the policy file
 * may be long-lived while keys rotate. */
static int load_keys(const struct brick_requirement *r, struct brick_sig_blob **out,
                     brick_err *err) {
  struct brick_sig_blob *keys = xcalloc(r->n_keys + 1, sizeof *keys);
  for (size_t i = 0; i < r->n_keys; i++) {
    if (r->keys[i].path) {
      char *data;
      size_t len;
      if (brick_read_file(r->keys[i].path, &data, &len, err) < 0) {
        brick_sig_blobs_free(keys, i);
        return brick_error_prefix(err, "trusted key");
      }
      keys[i] = (struct brick_sig_blob){(unsigned char *)data, len};
    } else {
      unsigned char *copy = xmalloc(r->keys[i].len);
      memcpy(copy, r->keys[i].data, r->keys[i].len);
      keys[i] = (struct brick_sig_blob){copy, r->keys[i].len};
    }
  }
  *out = keys;
  return 0;
}

static void append_reason(char **reasons, size_t index, const char *msg) {
  char *n = xasprintf("%s%ssignature %zu: %s", *reasons ? *reasons : "", *reasons ? "; " : "",
                      index + 1, msg);
  free(*reasons);
  *reasons = n;
}

static int eval_signatures(const struct brick_requirement *r, const char *docker_ref,
                           const unsigned char *manifest, size_t manifest_len,
                           const struct brick_sig_blob *sigs, size_t n_sigs, brick_err *err) {
  if (r->unsupported)
    return brick_error(err, 0, "%s", r->unsupported);
  if (r->type == BRICK_REQ_SIGNED_BY && strcmp(r->key_type, "GPGKeys") &&
      strcmp(r->key_type, "signedByGPGKeys"))
    return brick_error(err, 0, "keyType \"%s\" is not supported (use GPGKeys)", r->key_type);
  bool want_sigstore = r->type == BRICK_REQ_SIGSTORE_SIGNED;
  size_t relevant = 0;
  for (size_t i = 0; i < n_sigs; i++)
    if (brick_sig_is_sigstore(sigs[i].data, sigs[i].len) == want_sigstore)
      relevant++;
  if (relevant == 0)
    return brick_error(err, 0, "a %s signature is required, but the image has none",
                       want_sigstore ? "sigstore" : "simple-signing (GPG)");
  struct brick_sig_blob *keys = NULL;
  if (load_keys(r, &keys, err) < 0)
    return -1;
  _cleanup_free_ char *reasons = NULL;
  bool accepted = false;
  for (size_t i = 0; i < n_sigs && !accepted; i++) {
    if (brick_sig_is_sigstore(sigs[i].data, sigs[i].len) != want_sigstore)
      continue;
    struct brick_sig_info info = {0};
    brick_err e = {0};
    int v;
    if (want_sigstore) {
      v = brick_sigstore_verify(keys, r->n_keys, sigs[i].data, sigs[i].len, &info, &e);
    } else {
      struct brick_gpg_keys gk = {.keys = keys, .n_keys = r->n_keys};
      v = brick_simple_verify(&gk, sigs[i].data, sigs[i].len, &info, &e);
    }
    bool digest_ok = false;
    if (v == 0 &&
        brick_manifest_matches_digest(manifest, manifest_len, info.digest, &digest_ok, &e) == 0 &&
        !digest_ok)
      brick_error(&e, 0, "it signs manifest %s, not this one", info.digest);
    if (v == 0 && digest_ok) {
      if (brick_identity_matches(&r->identity, docker_ref, info.identity)) {
        accepted = true;
      } else {
        brick_error(&e, 0, "signed identity \"%s\" is not accepted by signedIdentity %s for %s",
                    info.identity, brick_identity_type_name(r->identity.type),
                    docker_ref ? docker_ref : "an image without a docker reference");
      }
    }
    if (!accepted)
      append_reason(&reasons, i, brick_error_msg(&e));
    brick_error_clear(&e);
    brick_sig_info_clear(&info);
  }
  brick_sig_blobs_free(keys, r->n_keys);
  if (!accepted)
    return brick_error(err, 0, "no signature was accepted: %s", reasons);
  return 0;
}

int brick_policy_check(const struct brick_policy *p, const char *transport, const char *reference,
                       const unsigned char *manifest, size_t manifest_len,
                       const struct brick_sig_blob *sigs, size_t n_sigs, brick_err *err) {
  struct brick_policy_match m;
  if (brick_policy_lookup(p, transport, reference, &m, err) < 0)
    return brick_error_prefix(err, "%s:%s", transport, reference);
  int ret = 0;
  /* A reference pinned by digest must name this very manifest. */
  const char *at = m.docker_ref ? strchr(m.docker_ref, '@') : NULL;
  if (at) {
    bool ok = false;
    brick_err e = {0};
    if (brick_manifest_matches_digest(manifest, manifest_len, at + 1, &ok, &e) == 0 && !ok)
      brick_error(&e, 0, "the manifest does not match the digest %s in the reference", at + 1);
    if (!ok) {
      ret = brick_error(err, 0, "%s:%s: %s", transport, reference, brick_error_msg(&e));
      brick_error_clear(&e);
      goto out;
    }
  }
  for (size_t i = 0; i < m.reqs->n; i++) {
    const struct brick_requirement *r = &m.reqs->reqs[i];
    brick_err e = {0};
    int v = 0;
    switch (r->type) {
    case BRICK_REQ_INSECURE_ACCEPT_ANYTHING:
      break;
    case BRICK_REQ_REJECT:
      v = brick_error(&e, 0, "the policy rejects every image here");
      break;
    case BRICK_REQ_SIGNED_BY:
    case BRICK_REQ_SIGSTORE_SIGNED:
      v = eval_signatures(r, m.docker_ref, manifest, manifest_len, sigs, n_sigs, &e);
      break;
    }
    if (v < 0) {
      ret = brick_error(err, 0, "%s:%s rejected by %s, %s requirement %zu (%s): %s",
                        transport, reference, p->origin, m.entry, i + 1,
                        brick_req_type_name(r->type), brick_error_msg(&e));
      brick_error_clear(&e);
      goto out;
    }
  }
out:
  brick_policy_match_clear(&m);
  return ret;
}

int brick_trust_verify_image(const char *policy_path, const char *registries_d,
                             const char *transport, const char *reference,
                             const unsigned char *manifest, size_t manifest_len,
                             const struct brick_sig_blob *extra_sigs, size_t n_extra,
                             brick_err *err) {
  struct brick_policy *p = NULL;
  if (brick_policy_load(policy_path, &p, err) < 0)
    return -1;
  struct brick_sig_blob *found = NULL;
  size_t n_found = 0;
  int ret = -1;
  _cleanup_free_ char *digest = NULL;
  if (brick_manifest_digest(manifest, manifest_len, &digest, err) < 0)
    goto out;
  if (!strcmp(transport, "dir")) {
    if (brick_sigs_read_dir(reference, &found, &n_found, err) < 0)
      goto out;
  } else if (brick_transport_is_docker_like(transport)) {
    if (brick_sigstore_load(registries_d, reference, digest, &found, &n_found, err) < 0)
      goto out;
  }
  struct brick_sig_blob *all = xcalloc(n_extra + n_found + 1, sizeof *all);
  for (size_t i = 0; i < n_extra; i++)
    all[i] = extra_sigs[i];
  for (size_t i = 0; i < n_found; i++)
    all[n_extra + i] = found[i];
  ret = brick_policy_check(p, transport, reference, manifest, manifest_len, all,
                           n_extra + n_found, err);
  free(all);
out:
  brick_sig_blobs_free(found, n_found);
  brick_policy_free(p);
  return ret;
}
