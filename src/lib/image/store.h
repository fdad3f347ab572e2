/* The image store (default /var/lib/brick, BRICK_STORE): content-addressed blobs, one
 * unpacked read-only rootfs per image config shared by all containers through overlayfs,
 * and a small JSON record per image (names, layers). Mutations take an exclusive flock on
 * <store>/lock; everything is staged in <store>/tmp/<random> and renamed into place, so
 * concurrent imports of the same image end with one consistent image and a failed import
 * leaves nothing behind.
 *
 *   <store>/blobs/sha256/<hex>       manifests, configs, layers
 *   <store>/rootfs/<config-hex>/     unpacked layers (lowerdir of every container)
 *   <store>/images/<manifest-hex>.json
 *   <store>/containers/<id>/         bundles made by `brick run IMAGE`
 *   <store>/signatures/<id>/         signature-N kept with an image (trust re-checks them
 *                                    when a container starts)
 *   <store>/tmp/                     staging
 *
 * This header is the stable API the scan and trust modules use. */
#ifndef BRICK_IMAGE_STORE_H
#define BRICK_IMAGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct brick_store;

int brick_store_open(const char *dir, struct brick_store **out, brick_err *err);
void brick_store_close(struct brick_store *s);
/* The store's directory (absolute). */
const char *brick_store_dir(const struct brick_store *s);

struct brick_image_info {
  char *id;              /* hex of the manifest digest */
  char *manifest_digest; /* "sha256:..." */
  char *config_digest;   /* "sha256:..." */
  char **names;          /* NULL-terminated */
  char *rootfs;          /* absolute path of the unpacked read-only rootfs */
  char **layer_blobs;    /* absolute paths of the layer blob files, base first */
  char **layer_digests;  /* "sha256:..." of each layer blob, base first */
  char **layer_media_types;
  char *manifest_path;   /* blob path of the manifest (trust signs its bytes) */
  json_t *config;        /* the image config document */
  int64_t created;       /* import time, unix seconds */
  uint64_t size;         /* bytes of blobs */
  /* How the trust policy named the source of the last import ("oci",
   * "/abs/layout:tag"); NULL when the record has none. */
  char *source_transport;
  char *source_reference;
};

int brick_store_list(struct brick_store *s, struct brick_image_info **out, size_t *n,
                     brick_err *err);
/* name ("localhost/demo:latest"; ":latest" is implied), id, "sha256:<id>" or an id
 * prefix of at least 12 hex digits. Not found: -1 with errnum ENOENT. */
int brick_store_lookup(struct brick_store *s, const char *name_or_id,
                       struct brick_image_info *out, brick_err *err);
void brick_image_info_clear(struct brick_image_info *info);
void brick_image_info_list_free(struct brick_image_info *list, size_t n);

/* Policy hook (trust): called once the manifest, config and layer blobs are read and
 * verified into staging, before anything is committed to the store. candidate->rootfs
 * is NULL (not unpacked yet); the blob paths point into staging; source_transport and
 * source_reference name the source as containers-policy.json does (also recorded with
 * the image). Return -1 to refuse. */
typedef int (*brick_import_verify_fn)(const struct brick_image_info *candidate,
                                      const char *source, void *ctx, brick_err *err);

/* One signature kept with an image (an opaque blob to the store). */
struct brick_store_sig {
  unsigned char *data;
  size_t len;
};
/* Signatures the verify hook accepted, kept with the image at commit so that a
 * container start can re-check them. The hook fills it through its ctx; the caller
 * points opts.kept at the same struct. */
struct brick_import_kept {
  struct brick_store_sig *sigs;
  size_t n_sigs;
};
void brick_import_kept_clear(struct brick_import_kept *k);

struct brick_import_opts {
  const char *source;       /* oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:REF] | PATH */
  const char *name;         /* NULL: names the source carries, if any */
  const char *platform;     /* os/arch[/variant]; NULL = this host */
  bool progress;            /* draw a progress bar on stderr (the CLI sets it for a tty) */
  uint64_t max_layer_bytes; /* decompressed bytes per layer; 0 = 8 GiB */
  brick_import_verify_fn verify;
  void *verify_ctx;
  /* appended after the first version of this struct */
  uint64_t max_entry_bytes; /* one file; 0 = 4 GiB */
  uint64_t max_entries;     /* entries per layer; 0 = 1,000,000 */
  struct brick_import_kept *kept; /* NULL: nothing recorded beyond the image */
};

int brick_store_import(struct brick_store *s, const struct brick_import_opts *o,
                       struct brick_image_info *out, brick_err *err);

/* Remove a name; when it is the image's last name (or an id was given) remove the image.
 * Refused while a container made from it exists, unless force (the rootfs then stays until
 * the last such container is gone and `prune` runs). */
int brick_store_remove(struct brick_store *s, const char *name_or_id, bool force,
                       brick_err *err);
/* Add a name (moved from another image that had it). */
int brick_store_tag(struct brick_store *s, const char *name_or_id, const char *name,
                    brick_err *err);

struct brick_prune_report {
  size_t blobs;
  size_t rootfs;
  size_t tmp;
  uint64_t bytes; /* bytes of removed blobs */
};
/* Remove blobs and rootfs directories no image record references (rootfs still used by a
 * container stays) and abandoned staging directories. */
int brick_store_prune(struct brick_store *s, struct brick_prune_report *report, brick_err *err);

/* Ids of the containers (bundles under <store>/containers) made from image id. */
int brick_store_image_users(struct brick_store *s, const char *id, char ***containers,
                            brick_err *err);

/* <store>/signatures/<id> (may not exist). */
char *brick_store_signature_dir(const struct brick_store *s, const char *id);
/* Keep signatures with image id, skipping byte-identical ones already kept; *added
 * (may be NULL) = how many were new. Takes the store lock. */
int brick_store_signatures_add(struct brick_store *s, const char *id,
                               const struct brick_store_sig *sigs, size_t n, size_t *added,
                               brick_err *err);

/* Inside each <store>/containers/<id>/: {"image": "<id>", "rootfs": "<config-hex>"}. */
#define BRICK_BUNDLE_IMAGE_FILE "brick-image.json"

/* "demo" -> "demo:latest"; validates the characters of a reference. */
int brick_image_name_normalize(const char *name, char **out, brick_err *err);

#endif
