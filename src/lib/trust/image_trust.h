/* Trust where images enter the store and where containers start from them:
 * containers-policy.json at `brick image import` (the store's verify hook) and again at
 * `brick run/create IMAGE` (against the stored manifest and the signatures kept with the
 * image), then brick's scan gate. */
#ifndef BRICK_TRUST_IMAGE_TRUST_H
#define BRICK_TRUST_IMAGE_TRUST_H

#include "core/error.h"
#include "image/store.h"
#include "trust/trust.h"

struct brick_trust_settings {
  const char *policy_path;  /* NULL: BRICK_POLICY, ~/.config/containers/policy.json, /etc/… */
  const char *registries_d; /* NULL: the standard registries.d */
  const char *gate_path;    /* NULL: BRICK_TRUST_CONFIG, else /etc/brick/trust.json */
};

/* ctx of brick_trust_import_verify. The caller sets opts.verify_ctx to it and
 * opts.kept to &kept (and clears kept after the import). */
struct brick_trust_import {
  struct brick_trust_settings settings;
  const struct brick_sig_blob *given; /* --signature FILE… */
  size_t n_given;
  struct brick_import_kept kept;      /* out: the signatures to keep with the image */
};

/* brick_import_verify_fn: evaluate the policy for the candidate under the source's
 * transport and reference, with the given signatures, those beside a dir: image, and
 * those registries.d's lookaside holds for each of the image's names. On acceptance the
 * signatures that satisfy the policy on their own are kept (all of them when the policy
 * needs none or only a combination satisfies it). */
int brick_trust_import_verify(const struct brick_image_info *candidate, const char *source,
                              void *ctx, brick_err *err);

/* Whether a container may start from img: the stored manifest must still be the one
 * the image id names (and agree with the image record), the current policy must accept
 * it with the signatures kept in the store, and the scan gate must pass. -1 with the
 * policy entry / severity counts on refusal. */
int brick_trust_check_start(struct brick_store *s, const struct brick_image_info *img,
                            const struct brick_trust_settings *t, brick_err *err);

/* The policy's name for a stored image: the transport and reference it was imported
 * from, or containers-storage:[<store>]<name> for records without one. */
void brick_trust_image_policy_name(const struct brick_store *s,
                                   const struct brick_image_info *img, char **transport,
                                   char **reference);

#endif
