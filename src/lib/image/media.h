/* The media types brick accepts (OCI image-spec 1.1 and Docker v2 schema 2) and the
 * platform strings used to pick one image out of an index / manifest list. */
#ifndef BRICK_IMAGE_MEDIA_H
#define BRICK_IMAGE_MEDIA_H

#include <jansson.h>
#include <stdbool.h>

#include "core/error.h"

#define BRICK_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define BRICK_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define BRICK_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define BRICK_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define BRICK_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define BRICK_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define BRICK_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define BRICK_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define BRICK_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define BRICK_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define BRICK_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

enum brick_media_kind {
  BRICK_MEDIA_UNKNOWN = 0,
  BRICK_MEDIA_INDEX,
  BRICK_MEDIA_MANIFEST,
  BRICK_MEDIA_CONFIG,
  BRICK_MEDIA_LAYER,
};

enum brick_compression {
  BRICK_COMPRESS_NONE = 0,
  BRICK_COMPRESS_GZIP,
  BRICK_COMPRESS_ZSTD,
};

/* Classify a media type; for layers also report the compression it promises. */
enum brick_media_kind brick_media_kind(const char *media_type, enum brick_compression *comp);
const char *brick_compression_name(enum brick_compression c);
/* Sniff compression from the first bytes of a blob (gzip and zstd magic). */
enum brick_compression brick_compression_sniff(const unsigned char *buf, size_t len);

struct brick_platform {
  char *os;
  char *arch;
  char *variant; /* NULL = any */
};

/* Parse "os/arch[/variant]" (e.g. linux/arm64/v8); NULL or "" = the host (linux/<arch>). */
int brick_platform_parse(const char *s, struct brick_platform *out, brick_err *err);
void brick_platform_clear(struct brick_platform *p);
/* The GOARCH name of the machine brick was built for (amd64, arm64, ...). */
const char *brick_platform_host_arch(void);
/* Does an OCI "platform" object (os, architecture, variant) satisfy want? A missing
 * variant on either side matches; arm64's implied variant is v8. */
bool brick_platform_match(const struct brick_platform *want, json_t *platform);

#endif
