/* Image trust: simple signing (containers-signature(5)) with GnuPG, sigstore-style key
 * signatures (cosign payloads, ECDSA P-256), the lookaside/`dir:` signature stores,
 * registries.d configuration, containers-policy.json(5) enforcement, and brick's
 * scan gate. The formats are the ones skopeo/podman/cosign read and write, so signatures
 * and policies move freely between those tools and brick. */
#ifndef BRICK_TRUST_H
#define BRICK_TRUST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* One signature as stored: an OpenPGP signed message (simple signing) or the
 * "\0sigstore-json\n{...}" envelope (key signatures). */
struct brick_sig_blob {
  const unsigned char *data;
  size_t len;
};
/* Free blobs returned by the loaders in this module (they own their data). */
void brick_sig_blobs_free(struct brick_sig_blob *sigs, size_t n);

/* ---- manifests ---- */

/* "sha256:<hex>" of the manifest bytes. Docker schema1 manifests (whose digest is
 * computed over a rewritten form) are refused: only schema2/OCI manifests are signed. */
int brick_manifest_digest(const unsigned char *manifest, size_t len, char **out, brick_err *err);
/* True when digest ("sha256:…" or "sha512:…") is the digest of manifest. */
int brick_manifest_matches_digest(const unsigned char *manifest, size_t len, const char *digest,
                                  bool *matches, brick_err *err);

/* ---- what a verified signature claims ---- */

struct brick_sig_info {
  bool sigstore;        /* key signature (cosign payload) rather than simple signing */
  char *identity;       /* critical.identity.docker-reference */
  char *digest;         /* critical.image.docker-manifest-digest */
  char *key;            /* GPG primary key fingerprint, or the public key's origin */
  char *creator;        /* optional.creator, may be NULL */
  int64_t timestamp;    /* optional.timestamp, 0 when absent */
};
void brick_sig_info_clear(struct brick_sig_info *info);

/* ---- simple signing (GnuPG through gpgme) ---- */

/* Where verification keys come from: an existing GnuPG home (every key in it is
 * trusted), or key material (armored or binary OpenPGP public keys) imported into a
 * private temporary keyring for this call only. Never the user's default keyring
 * unless gpg_home says so. */
struct brick_gpg_keys {
  const char *gpg_home;
  const struct brick_sig_blob *keys;
  size_t n_keys;
};

/* Sign the payload for (identity, manifest digest) with the secret key `fingerprint`
 * from gpg_home (NULL = GnuPG's default home). A passphrase, if the key needs one, is
 * taken from env BRICK_GPG_PASSPHRASE (pinentry loopback). */
int brick_simple_sign(const char *gpg_home, const char *fingerprint, const char *identity,
                      const unsigned char *manifest, size_t manifest_len, unsigned char **sig,
                      size_t *sig_len, brick_err *err);
/* Verify the OpenPGP signature first, then parse the payload strictly. Does NOT
 * compare digest or identity; see brick_signature_check_image. */
int brick_simple_verify(const struct brick_gpg_keys *keys, const unsigned char *sig, size_t len,
                        struct brick_sig_info *info, brick_err *err);

/* ---- sigstore-style key signatures ---- */

#define BRICK_SIGSTORE_PREFIX "\0sigstore-json\n"
#define BRICK_SIGSTORE_PREFIX_LEN 15
#define BRICK_COSIGN_MIME "application/vnd.dev.cosign.simplesigning.v1+json"
#define BRICK_COSIGN_SIG_ANNOTATION "dev.cosignproject.cosign/signature"

bool brick_sig_is_sigstore(const unsigned char *data, size_t len);
/* Write <prefix>.key (PKCS#8 PEM, encrypted with AES-256-CBC when password is
 * non-empty) and <prefix>.pub (SubjectPublicKeyInfo PEM) for a new ECDSA P-256 key. */
int brick_key_generate(const char *prefix, const char *password, brick_err *err);
/* Sign (identity, manifest digest) with a PEM private key; the result is the
 * "\0sigstore-json\n{...}" blob. password may be NULL. */
int brick_sigstore_sign(const char *private_key_path, const char *password, const char *identity,
                        const unsigned char *manifest, size_t manifest_len, unsigned char **blob,
                        size_t *blob_len, brick_err *err);
/* Verify the envelope's signature with any of the PEM public keys, then parse the
 * cosign payload strictly. Does NOT compare digest or identity. */
int brick_sigstore_verify(const struct brick_sig_blob *public_keys, size_t n_keys,
                          const unsigned char *blob, size_t len, struct brick_sig_info *info,
                          brick_err *err);

/* After a signature verified: its digest must match the manifest, and its identity
 * must equal expected_identity (both normalized; no default tag is added). */
int brick_signature_check_image(const struct brick_sig_info *info, const unsigned char *manifest,
                                size_t manifest_len, const char *expected_identity,
                                brick_err *err);

/* ---- signature storage ---- */

/* signature-1, signature-2, … from dir until the first missing one. */
int brick_sigs_read_dir(const char *dir, struct brick_sig_blob **sigs, size_t *n, brick_err *err);
/* Store blob as the next free signature-N in dir (created when missing). */
int brick_sigs_write_next(const char *dir, const unsigned char *blob, size_t len,
                          char **written_path, brick_err *err);
/* <base>/<repository path>@<algo>=<hex>, the lookaside directory of one manifest. */
int brick_lookaside_dir(const char *base, const char *reference, const char *manifest_digest,
                        char **out, brick_err *err);
/* The lookaside base directory registries.d configures for reference (NULL
 * registries_d = $HOME/.config/containers/registries.d if present, else
 * /etc/containers/registries.d). for_write picks lookaside-staging when set. *out is
 * NULL when nothing is configured. Only file:// URLs are usable offline. */
int brick_registries_d_lookaside(const char *registries_d, const char *reference, bool for_write,
                                 char **out, brick_err *err);
/* Load the signatures of reference+digest. reference "dir:PATH" (or an existing
 * directory path) reads the dir: layout's signature-N files; otherwise reference is a
 * docker reference and the registries.d lookaside store is read. */
int brick_sigstore_load(const char *registries_d, const char *reference,
                        const char *manifest_digest, struct brick_sig_blob **sigs, size_t *n,
                        brick_err *err);

/* ---- containers-policy.json(5) ---- */

/* docker, atomic and docker-daemon name images by docker reference (signatures for
 * them live in registries.d lookaside stores); the others by path or store spec. */
bool brick_transport_is_docker_like(const char *transport);

struct brick_policy;
/* path NULL = the standard places: env BRICK_POLICY, $HOME/.config/containers/policy.json,
 * /etc/containers/policy.json. A missing policy is an error (nothing is trusted). */
int brick_policy_load(const char *path, struct brick_policy **out, brick_err *err);
/* Parse policy text; origin names it in errors. */
int brick_policy_parse(const char *text, size_t len, const char *origin,
                       struct brick_policy **out, brick_err *err);
void brick_policy_free(struct brick_policy *p);
const char *brick_policy_origin(const struct brick_policy *p);

/* Evaluate the policy for an image about to be imported or run. transport e.g.
 * "docker", "oci", "dir"; reference e.g. "registry.example.com/app:1.0" or a path;
 * signatures = every blob (simple and sigstore) found for it. On rejection returns -1
 * with err naming the policy entry (transport + scope) and the reason. */
int brick_policy_check(const struct brick_policy *p, const char *transport, const char *reference,
                       const unsigned char *manifest, size_t manifest_len,
                       const struct brick_sig_blob *sigs, size_t n_sigs, brick_err *err);
/* The scope that applies to transport+reference and its requirements, as JSON:
 * {"policy","transport","reference","identity","candidates":[…],"scope","entry",
 *  "requirements":[…],"explanation":[…]}. */
int brick_policy_explain(const struct brick_policy *p, const char *transport,
                         const char *reference, json_t **out, brick_err *err);

/* The whole check in one call, for the image store's verify hook at import/run: load
 * the policy (policy_path NULL = the standard places), gather signatures — extra_sigs
 * (e.g. carried in an archive) plus, for docker-like transports, the registries.d
 * lookaside store (registries_d NULL = standard place) and for "dir" the layout's
 * signature-N files — and evaluate. -1 with the policy's reason on rejection. */
int brick_trust_verify_image(const char *policy_path, const char *registries_d,
                             const char *transport, const char *reference,
                             const unsigned char *manifest, size_t manifest_len,
                             const struct brick_sig_blob *extra_sigs, size_t n_extra,
                             brick_err *err);

/* ---- scan gate (brick extension, /etc/brick/trust.json) ---- */

/* Severities in increasing order. */
enum brick_trust_severity {
  BRICK_TRUST_SEV_UNKNOWN,
  BRICK_TRUST_SEV_LOW,
  BRICK_TRUST_SEV_MEDIUM,
  BRICK_TRUST_SEV_HIGH,
  BRICK_TRUST_SEV_CRITICAL,
  BRICK_TRUST_SEV_COUNT
};
/* What the gate needs to know about the image's last scan: whether it was scanned
 * and how many unfixed findings it has per severity. */
struct brick_trust_scan_counts {
  bool scanned;
  unsigned unfixed[BRICK_TRUST_SEV_COUNT];
};
struct brick_scan_gate {
  bool enabled;
  enum brick_trust_severity threshold; /* refuse unfixed findings at or above this */
  bool require_scan;                   /* refuse images never scanned (default true) */
};
int brick_trust_severity_parse(const char *s, enum brick_trust_severity *out);
const char *brick_trust_severity_name(enum brick_trust_severity s);
/* path NULL = env BRICK_TRUST_CONFIG, else /etc/brick/trust.json. A missing file
 * means the gate is off. {"scanGate":{"maxSeverity":"HIGH","requireScan":true}} */
int brick_scan_gate_load(const char *path, struct brick_scan_gate *out, brick_err *err);
/* -1 with a reason when the image must not start. */
int brick_scan_gate_check(const struct brick_scan_gate *gate, const char *image,
                          const struct brick_trust_scan_counts *counts, brick_err *err);

#endif
