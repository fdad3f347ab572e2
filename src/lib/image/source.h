/* Image sources: an OCI image layout directory, an oci-archive tar, a docker-archive
 * tar. A source resolves to one image (index / manifest list -> platform -> manifest ->
 * config -> layers), and every blob it hands out is copied into a staging directory
 * while its digest and size are checked. Internal to the image module. */
#ifndef BRICK_IMAGE_SOURCE_H
#define BRICK_IMAGE_SOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "image/digest.h"
#include "image/media.h"

enum brick_source_kind {
  BRICK_SOURCE_OCI_DIR,
  BRICK_SOURCE_OCI_ARCHIVE,
  BRICK_SOURCE_DOCKER_ARCHIVE,
  BRICK_SOURCE_DIR, /* containers/image `dir:`: manifest.json, blobs named by hex, signature-N */
};

struct brick_image_source {
  enum brick_source_kind kind;
  char *path;      /* as given */
  char *ref;       /* :TAG for OCI, name:tag or @N for docker-archive; NULL = the only one */
  int dirfd;       /* layout root: the directory itself, or the unpacked archive */
  bool docker;     /* read manifest.json (docker-archive) rather than index.json */
};

struct brick_layer_desc {
  char *digest;
  char *media_type;
  int64_t size;
  enum brick_compression compression;
};

struct brick_resolved {
  char manifest_digest[BRICK_DIGEST_STR_LEN];
  char *manifest_media_type;
  int64_t manifest_size;
  char *config_digest;
  int64_t config_size;
  json_t *config;
  struct brick_layer_desc *layers;
  size_t nlayers;
  char **names; /* names the source carries (docker RepoTags, containerd image name) */
};

struct brick_source_limits {
  uint64_t max_entry_bytes; /* for archive sources (each member) */
};

/* The containers-policy.json(5) name of an opened source: transport ("oci", "oci-archive",
 * "docker-archive", "dir") and reference (the absolute path, ":REF" appended when given). */
void brick_source_policy_name(const struct brick_image_source *src, char **transport,
                              char **reference);

/* Parse "oci:DIR[:TAG]", "dir:DIR", "oci-archive:FILE[:TAG]", "docker-archive:FILE[:REF]" or a plain
 * path (a directory holding oci-layout, or a tar holding oci-layout or manifest.json).
 * Archives are unpacked (with the safe layer unpacker) into staging_dir. */
int brick_source_open(const char *spec, const char *staging_dir, struct brick_image_source *src,
                      brick_err *err);
void brick_source_close(struct brick_image_source *src);

/* Pick the image for platform (NULL = host), read and verify manifest and config into
 * blob_dirfd (files named by hex digest). For docker-archive the layers are hashed and
 * copied too, since their digests make up the synthesised manifest. platform_explicit:
 * a config whose os/architecture differs is an error rather than a warning. */
int brick_source_resolve(struct brick_image_source *src, const char *platform,
                         int blob_dirfd, struct brick_resolved *out, brick_err *err);
/* Copy and verify the layer blobs into blob_dirfd (no-op for those already there). */
int brick_source_fetch_layers(struct brick_image_source *src, const struct brick_resolved *r,
                              int blob_dirfd, brick_err *err);
void brick_resolved_clear(struct brick_resolved *r);

/* Validation helpers, exposed for unit tests. */
/* Read the descriptor at desc (mediaType, digest, size), checking each. */
int brick_descriptor_parse(json_t *desc, const char **media_type, const char **digest,
                           int64_t *size, brick_err *err);
/* Choose among the descriptors of an index (already tag-filtered) for want; returns the
 * chosen descriptor (borrowed) or NULL with err. Indexes inside must have been expanded. */
json_t *brick_index_select(json_t *manifests, const struct brick_platform *want, brick_err *err);
/* Check a manifest document against the kind its descriptor promised. */
int brick_manifest_check(json_t *manifest, const char *desc_media_type, brick_err *err);
/* Check an image config: rootfs.type "layers" and diff_ids matching nlayers. */
int brick_config_check(json_t *config, size_t nlayers, brick_err *err);

/* Copy blob "sha256:..." of size from (dirfd, relpath) into blob_dirfd/<hex>, verified. */
int brick_blob_copy_verified(int src_dirfd, const char *relpath, const char *digest,
                             int64_t size, int blob_dirfd, const char *what, brick_err *err);

#endif
