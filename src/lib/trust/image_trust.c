/* The policy where images enter the store and where containers start. Import and start
 * ask the same question of the same policy file, so tightening the policy later also
 * stops images that were let in under a looser one. */
#include "trust/image_trust.h"

#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "scan/scan.h"

struct sigset {
  struct brick_sig_blob *v;
  size_t n;
};

static void sigset_take(struct sigset *set, struct brick_sig_blob *more, size_t n) {
  if (!n) {
    free(more);
    return;
  }
  set->v = xrealloc(set->v, (set->n + n) * sizeof *set->v);
  memcpy(set->v + set->n, more, n * sizeof *more);
  set->n += n;
  free(more); /* the array only: its blobs now belong to set */
}

static void sigset_copy_in(struct sigset *set, const struct brick_sig_blob *b, size_t n) {
  if (!n)
    return;
  set->v = xrealloc(set->v, (set->n + n) * sizeof *set->v);
  for (size_t i = 0; i < n; i++) {
    unsigned char *d = xmalloc(b[i].len ? b[i].len : 1);
    memcpy(d, b[i].data, b[i].len);
    set->v[set->n++] = (struct brick_sig_blob){d, b[i].len};
  }
}

static void sigset_clear(struct sigset *set) {
  brick_sig_blobs_free(set->v, set->n);
  set->v = NULL;
  set->n = 0;
}

static void keep_sig(struct brick_import_kept *k, const struct brick_sig_blob *b) {
  k->sigs = xrealloc(k->sigs, (k->n_sigs + 1) * sizeof *k->sigs);
  unsigned char *d = xmalloc(b->len ? b->len : 1);
  memcpy(d, b->data, b->len);
  k->sigs[k->n_sigs++] = (struct brick_store_sig){d, b->len};
}

/* Every signature that could speak for the candidate. */
static int gather_import_sigs(const struct brick_trust_import *t,
                              const struct brick_image_info *c, const char *digest,
                              struct sigset *set, brick_err *err) {
  sigset_copy_in(set, t->given, t->n_given);
  struct brick_sig_blob *found = NULL;
  size_t n = 0;
  if (!strcmp(c->source_transport, "dir")) {
    if (brick_sigs_read_dir(c->source_reference, &found, &n, err) < 0)
      return -1;
    sigset_take(set, found, n);
  }
  /* the lookaside store registries.d configures for the names the image gets */
  for (size_t i = 0; c->names && c->names[i]; i++) {
    found = NULL;
    n = 0;
    if (brick_sigstore_load(t->settings.registries_d, c->names[i], digest, &found, &n, err) < 0)
      return brick_error_prefix(err, "signatures of %s", c->names[i]);
    sigset_take(set, found, n);
  }
  return 0;
}

int brick_trust_import_verify(const struct brick_image_info *c, const char *source, void *ctx,
                              brick_err *err) {
  struct brick_trust_import *t = ctx;
  if (!c->source_transport || !c->source_reference)
    return brick_error(err, EINVAL, "%s: the source has no policy name", source);
  _cleanup_free_ char *manifest = NULL, *digest = NULL;
  size_t mlen;
  if (brick_read_file(c->manifest_path, &manifest, &mlen, err) < 0)
    return -1;
  const unsigned char *m = (const unsigned char *)manifest;
  if (brick_manifest_digest(m, mlen, &digest, err) < 0)
    return -1;
  struct brick_policy *p = NULL;
  if (brick_policy_load(t->settings.policy_path, &p, err) < 0)
    return -1;
  struct sigset set = {0};
  int ret = -1;
  if (gather_import_sigs(t, c, digest, &set, err) < 0)
    goto out;
  if (brick_policy_check(p, c->source_transport, c->source_reference, m, mlen, set.v, set.n,
                         err) < 0)
    goto out;
  ret = 0;
  if (set.n == 0)
    goto out;
  /* Accepted. Keep what the policy actually relied on, so a later start re-checks real
   * evidence: when it needs no signature at all, keep every one (a tightened policy may
   * want them); otherwise those that satisfy it alone, or all when only a combination
   * of them does. */
  brick_err e = {0};
  bool needs_none = brick_policy_check(p, c->source_transport, c->source_reference, m, mlen,
                                       NULL, 0, &e) == 0;
  brick_error_clear(&e);
  size_t before = t->kept.n_sigs;
  for (size_t i = 0; !needs_none && i < set.n; i++) {
    if (brick_policy_check(p, c->source_transport, c->source_reference, m, mlen, &set.v[i], 1,
                           &e) == 0)
      keep_sig(&t->kept, &set.v[i]);
    brick_error_clear(&e);
  }
  if (needs_none || t->kept.n_sigs == before)
    for (size_t i = 0; i < set.n; i++)
      keep_sig(&t->kept, &set.v[i]);
out:
  sigset_clear(&set);
  brick_policy_free(p);
  return ret;
}

void brick_trust_image_policy_name(const struct brick_store *s,
                                   const struct brick_image_info *img, char **transport,
                                   char **reference) {
  if (img->source_transport && img->source_reference) {
    *transport = xstrdup(img->source_transport);
    *reference = xstrdup(img->source_reference);
    return;
  }
  *transport = xstrdup("containers-storage");
  *reference = xasprintf("[%s]%s", brick_store_dir(s),
                         img->names && img->names[0] ? img->names[0] : "");
}

/* The record says which config and layers make up the image; the manifest (which the
 * signatures cover) must say the same, or a signed manifest could front other content. */
static int manifest_matches_record(const struct brick_image_info *img, const char *manifest,
                                   size_t len, brick_err *err) {
  json_error_t je;
  _cleanup_json_ json_t *m = json_loadb(manifest, len, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(m))
    return brick_error(err, EINVAL, "stored manifest %s: invalid JSON: %s", img->manifest_path,
                       je.text);
  const char *cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
  if (!cd || strcmp(cd, img->config_digest))
    return brick_error(err, EINVAL, "the image record's config %s is not the manifest's (%s)",
                       img->config_digest, cd ? cd : "none");
  json_t *layers = json_object_get(m, "layers");
  size_t n = brick_strv_len(img->layer_digests);
  if (json_array_size(layers) != n)
    return brick_error(err, EINVAL, "the image record lists %zu layers, the manifest %zu", n,
                       json_array_size(layers));
  for (size_t i = 0; i < n; i++) {
    const char *ld = json_string_value(json_object_get(json_array_get(layers, i), "digest"));
    if (!ld || strcmp(ld, img->layer_digests[i]))
      return brick_error(err, EINVAL, "layer %zu of the image record (%s) is not the "
                                      "manifest's (%s)", i + 1, img->layer_digests[i],
                         ld ? ld : "none");
  }
  return 0;
}

static enum brick_trust_severity trust_severity(enum brick_severity s) {
  switch (s) {
  case BRICK_SEV_LOW: return BRICK_TRUST_SEV_LOW;
  case BRICK_SEV_MEDIUM: return BRICK_TRUST_SEV_MEDIUM;
  case BRICK_SEV_HIGH: return BRICK_TRUST_SEV_HIGH;
  case BRICK_SEV_CRITICAL: return BRICK_TRUST_SEV_CRITICAL;
  case BRICK_SEV_UNKNOWN:
  case BRICK_SEV_NONE:
  case BRICK_SEV_COUNT: break;
  }
  return BRICK_TRUST_SEV_UNKNOWN;
}

static int check_scan_gate(struct brick_store *s, const struct brick_image_info *img,
                           const char *name, const struct brick_trust_settings *t,
                           brick_err *err) {
  struct brick_scan_gate gate;
  if (brick_scan_gate_load(t->gate_path, &gate, err) < 0)
    return brick_error_prefix(err, "scan gate");
  if (!gate.enabled)
    return 0;
  struct brick_trust_scan_counts counts = {0};
  struct brick_scan_summary sum;
  brick_err e = {0};
  if (brick_scan_last_summary(brick_store_dir(s), img->id, &sum, &e) == 0) {
    counts.scanned = true;
    for (int sev = 0; sev < BRICK_SEV_COUNT; sev++)
      counts.unfixed[trust_severity((enum brick_severity)sev)] += (unsigned)sum.counts[sev];
  } else if (e.errnum != ENOENT) {
    brick_error(err, 0, "scan gate: last scan of image %.12s: %s", img->id,
                brick_error_msg(&e));
    brick_error_clear(&e);
    return -1;
  }
  brick_error_clear(&e);
  return brick_scan_gate_check(&gate, name, &counts, err);
}

int brick_trust_check_start(struct brick_store *s, const struct brick_image_info *img,
                            const struct brick_trust_settings *t, brick_err *err) {
  const char *name = img->names && img->names[0] ? img->names[0] : img->id;
  _cleanup_free_ char *manifest = NULL, *digest = NULL, *transport = NULL, *reference = NULL;
  _cleanup_free_ char *sigdir = brick_store_signature_dir(s, img->id);
  size_t mlen;
  if (brick_read_file(img->manifest_path, &manifest, &mlen, err) < 0)
    return brick_error_prefix(err, "image %s", name);
  const unsigned char *m = (const unsigned char *)manifest;
  if (brick_manifest_digest(m, mlen, &digest, err) < 0)
    return brick_error_prefix(err, "image %s", name);
  if (strcmp(digest, img->manifest_digest))
    return brick_error(err, EINVAL, "image %s: the stored manifest %s no longer matches its "
                                    "digest %s (the store was modified); refusing to start it",
                       name, img->manifest_path, img->manifest_digest);
  if (manifest_matches_record(img, manifest, mlen, err) < 0)
    return brick_error_prefix(err, "image %s", name);
  struct brick_sig_blob *sigs = NULL;
  size_t n = 0;
  if (brick_sigs_read_dir(sigdir, &sigs, &n, err) < 0)
    return brick_error_prefix(err, "image %s", name);
  brick_trust_image_policy_name(s, img, &transport, &reference);
  struct brick_policy *p = NULL;
  int ret = brick_policy_load(t->policy_path, &p, err);
  if (ret == 0)
    ret = brick_policy_check(p, transport, reference, m, mlen, sigs, n, err);
  brick_policy_free(p);
  brick_sig_blobs_free(sigs, n);
  if (ret < 0)
    return brick_error_prefix(err, "image %s: not started", name);
  if (check_scan_gate(s, img, name, t, err) < 0)
    return -1;
  return 0;
}
