#include "image/media.h"

#include <errno.h>
#include <string.h>

#include "core/util.h"

enum brick_media_kind brick_media_kind(const char *mt, enum brick_compression *comp) {
  if (comp)
    *comp = BRICK_COMPRESS_NONE;
  if (!mt)
    return BRICK_MEDIA_UNKNOWN;
  if (!strcmp(mt, BRICK_MT_OCI_INDEX) || !strcmp(mt, BRICK_MT_DOCKER_LIST))
    return BRICK_MEDIA_INDEX;
  if (!strcmp(mt, BRICK_MT_OCI_MANIFEST) || !strcmp(mt, BRICK_MT_DOCKER_MANIFEST))
    return BRICK_MEDIA_MANIFEST;
  if (!strcmp(mt, BRICK_MT_OCI_CONFIG) || !strcmp(mt, BRICK_MT_DOCKER_CONFIG))
    return BRICK_MEDIA_CONFIG;
  static const struct {
    const char *mt;
    enum brick_compression comp;
  } layers[] = {
      {BRICK_MT_OCI_LAYER, BRICK_COMPRESS_NONE},
      {BRICK_MT_OCI_LAYER_GZIP, BRICK_COMPRESS_GZIP},
      {BRICK_MT_OCI_LAYER_ZSTD, BRICK_COMPRESS_ZSTD},
      /* deprecated in image-spec 1.1 but still written by older tools */
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", BRICK_COMPRESS_NONE},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", BRICK_COMPRESS_GZIP},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", BRICK_COMPRESS_ZSTD},
      {BRICK_MT_DOCKER_LAYER_GZIP, BRICK_COMPRESS_GZIP},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", BRICK_COMPRESS_GZIP},
      /* not in the registry spec, but what containers/image writes for the
       * uncompressed layers of docker-archive tars */
      {BRICK_MT_DOCKER_LAYER, BRICK_COMPRESS_NONE},
  };
  for (size_t i = 0; i < ARRAY_SIZE(layers); i++) {
    if (!strcmp(mt, layers[i].mt)) {
      if (comp)
        *comp = layers[i].comp;
      return BRICK_MEDIA_LAYER;
    }
  }
  return BRICK_MEDIA_UNKNOWN;
}

const char *brick_compression_name(enum brick_compression c) {
  switch (c) {
  case BRICK_COMPRESS_GZIP: return "gzip";
  case BRICK_COMPRESS_ZSTD: return "zstd";
  case BRICK_COMPRESS_NONE: break;
  }
  return "none";
}

enum brick_compression brick_compression_sniff(const unsigned char *b, size_t n) {
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
    return BRICK_COMPRESS_GZIP;
  if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
    return BRICK_COMPRESS_ZSTD;
  return BRICK_COMPRESS_NONE;
}

const char *brick_platform_host_arch(void) {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

static bool platform_word_ok(const char *s) {
  if (!*s)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
          *s == '.'))
      return false;
  return true;
}

int brick_platform_parse(const char *s, struct brick_platform *out, brick_err *err) {
  memset(out, 0, sizeof *out);
  if (!s || !*s) {
    out->os = xstrdup("linux");
    out->arch = xstrdup(brick_platform_host_arch());
    return 0;
  }
  _cleanup_free_ char *copy = xstrdup(s);
  char *parts[4] = {0};
  size_t n = 0;
  for (char *save = NULL, *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
    if (n == 3)
      return brick_error(err, EINVAL, "--platform \"%s\": expected os/arch[/variant]", s);
    parts[n++] = tok;
  }
  if (n < 2)
    return brick_error(err, EINVAL, "--platform \"%s\": expected os/arch[/variant]", s);
  for (size_t i = 0; i < n; i++)
    if (!platform_word_ok(parts[i]))
      return brick_error(err, EINVAL, "--platform \"%s\": bad component \"%s\"", s, parts[i]);
  out->os = xstrdup(parts[0]);
  out->arch = xstrdup(parts[1]);
  out->variant = n == 3 ? xstrdup(parts[2]) : NULL;
  return 0;
}

void brick_platform_clear(struct brick_platform *p) {
  free(p->os);
  free(p->arch);
  free(p->variant);
  memset(p, 0, sizeof *p);
}

bool brick_platform_match(const struct brick_platform *want, json_t *platform) {
  if (!json_is_object(platform))
    return false;
  const char *os = json_string_value(json_object_get(platform, "os"));
  const char *arch = json_string_value(json_object_get(platform, "architecture"));
  const char *variant = json_string_value(json_object_get(platform, "variant"));
  if (!os || !arch || strcmp(os, want->os) || strcmp(arch, want->arch))
    return false;
  if (!want->variant || !variant || !*variant)
    return true;
  return !strcmp(want->variant, variant);
}
