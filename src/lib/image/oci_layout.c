/* OCI image layout: index.json -> (nested indexes) -> manifest -> config, with
 * platform selection and every blob verified as it is copied into staging. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/util.h"
#include "image/path.h"
#include "image/source.h"

#define MAX_DOC_BYTES (4u << 20) /* index, manifest and config documents */
#define MAX_INDEX_DEPTH 4

int brick_descriptor_parse(json_t *desc, const char **media_type, const char **digest,
                           int64_t *size, brick_err *err) {
  if (!json_is_object(desc))
    return brick_error(err, EINVAL, "descriptor is not an object");
  json_t *mt = json_object_get(desc, "mediaType");
  json_t *dg = json_object_get(desc, "digest");
  json_t *sz = json_object_get(desc, "size");
  if (!json_is_string(mt))
    return brick_error(err, EINVAL, "mediaType: missing or not a string");
  if (!json_is_string(dg))
    return brick_error(err, EINVAL, "digest: missing or not a string");
  if (!json_is_integer(sz) || json_integer_value(sz) < 0)
    return brick_error(err, EINVAL, "size: missing or not a non-negative integer");
  const char *hex;
  if (brick_digest_hex(json_string_value(dg), &hex, err) < 0)
    return -1;
  *media_type = json_string_value(mt);
  *digest = json_string_value(dg);
  *size = json_integer_value(sz);
  return 0;
}

static char *platform_str(json_t *p) {
  if (!json_is_object(p))
    return xstrdup("(no platform)");
  const char *os = json_string_value(json_object_get(p, "os"));
  const char *arch = json_string_value(json_object_get(p, "architecture"));
  const char *var = json_string_value(json_object_get(p, "variant"));
  return xasprintf("%s/%s%s%s", os ? os : "?", arch ? arch : "?", var ? "/" : "", var ? var : "");
}

json_t *brick_index_select(json_t *manifests, const struct brick_platform *want, brick_err *err) {
  size_t n = json_array_size(manifests);
  if (n == 0) {
    brick_error(err, ENOENT, "the index lists no manifests");
    return NULL;
  }
  size_t with_platform = 0;
  json_t *exact = NULL, *loose = NULL;
  for (size_t i = 0; i < n; i++) {
    json_t *d = json_array_get(manifests, i);
    json_t *p = json_object_get(d, "platform");
    if (!json_is_object(p))
      continue;
    with_platform++;
    if (!brick_platform_match(want, p))
      continue;
    const char *var = json_string_value(json_object_get(p, "variant"));
    if (want->variant && var && !strcmp(var, want->variant) && !exact)
      exact = d;
    if (!loose)
      loose = d;
  }
  if (exact)
    return exact;
  if (loose)
    return loose;
  if (with_platform == 0 && n == 1)
    return json_array_get(manifests, 0);
  if (with_platform == 0) {
    brick_error(err, EINVAL, "the index holds %zu images without platform information; "
                "choose one with :TAG", n);
    return NULL;
  }
  _cleanup_free_ char *avail = xstrdup("");
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *ps = platform_str(json_object_get(json_array_get(manifests, i), "platform"));
    char *na = xasprintf("%s%s%s", avail, *avail ? ", " : "", ps);
    free(avail);
    avail = na;
  }
  brick_error(err, ENOENT, "no image for platform %s/%s%s%s (available: %s)", want->os,
              want->arch, want->variant ? "/" : "", want->variant ? want->variant : "", avail);
  return NULL;
}

int brick_manifest_check(json_t *m, const char *desc_media_type, brick_err *err) {
  if (!json_is_object(m))
    return brick_error(err, EINVAL, "manifest is not a JSON object");
  json_t *sv = json_object_get(m, "schemaVersion");
  if (!json_is_integer(sv) || json_integer_value(sv) != 2)
    return brick_error(err, EINVAL, "schemaVersion: expected 2");
  const char *mt = json_string_value(json_object_get(m, "mediaType"));
  if (mt && desc_media_type && strcmp(mt, desc_media_type) != 0)
    return brick_error(err, EINVAL, "mediaType \"%s\" differs from its descriptor's \"%s\"", mt,
                       desc_media_type);
  const char *eff = mt ? mt : desc_media_type;
  if (brick_media_kind(eff, NULL) != BRICK_MEDIA_MANIFEST)
    return brick_error(err, EINVAL, "mediaType \"%s\" is not an image manifest", eff ? eff : "");
  const char *cmt, *cdg;
  int64_t csz;
  if (brick_descriptor_parse(json_object_get(m, "config"), &cmt, &cdg, &csz, err) < 0)
    return brick_error_prefix(err, "config");
  if (brick_media_kind(cmt, NULL) != BRICK_MEDIA_CONFIG)
    return brick_error(err, EINVAL, "config.mediaType \"%s\" is not an image config (not a "
                       "container image?)", cmt);
  json_t *layers = json_object_get(m, "layers");
  if (!json_is_array(layers))
    return brick_error(err, EINVAL, "layers: missing or not an array");
  for (size_t i = 0; i < json_array_size(layers); i++) {
    const char *lmt, *ldg;
    int64_t lsz;
    if (brick_descriptor_parse(json_array_get(layers, i), &lmt, &ldg, &lsz, err) < 0)
      return brick_error_prefix(err, "layers[%zu]", i);
    if (brick_media_kind(lmt, NULL) != BRICK_MEDIA_LAYER)
      return brick_error(err, EINVAL, "layers[%zu].mediaType \"%s\" is not a supported layer "
                         "type", i, lmt);
  }
  return 0;
}

int brick_config_check(json_t *config, size_t nlayers, brick_err *err) {
  if (!json_is_object(config))
    return brick_error(err, EINVAL, "image config is not a JSON object");
  json_t *rootfs = json_object_get(config, "rootfs");
  const char *type = json_string_value(json_object_get(rootfs, "type"));
  if (!type || strcmp(type, "layers") != 0)
    return brick_error(err, EINVAL, "image config: rootfs.type: expected \"layers\"");
  json_t *ids = json_object_get(rootfs, "diff_ids");
  if (!json_is_array(ids))
    return brick_error(err, EINVAL, "image config: rootfs.diff_ids: missing or not an array");
  if (json_array_size(ids) != nlayers)
    return brick_error(err, EINVAL, "image config: rootfs.diff_ids has %zu entries for %zu "
                       "layers", json_array_size(ids), nlayers);
  for (size_t i = 0; i < nlayers; i++) {
    const char *hex;
    if (brick_digest_hex(json_string_value(json_array_get(ids, i)), &hex, err) < 0)
      return brick_error_prefix(err, "image config: rootfs.diff_ids[%zu]", i);
  }
  json_t *cfg = json_object_get(config, "config");
  if (cfg && !json_is_object(cfg) && !json_is_null(cfg))
    return brick_error(err, EINVAL, "image config: config: not an object");
  return 0;
}

int brick_blob_copy_verified(int src_dirfd, const char *relpath, const char *digest,
                             int64_t size, int blob_dirfd, const char *what, brick_err *err) {
  const char *hex;
  if (brick_digest_hex(digest, &hex, err) < 0)
    return brick_error_prefix(err, "%s", what);
  struct stat st;
  if (fstatat(blob_dirfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
      st.st_size == size)
    return 0; /* already staged (and verified) by this import */
  _cleanup_close_ int in = brick_open_file_beneath(src_dirfd, relpath, err);
  if (in < 0)
    return brick_error_prefix(err, "%s", what);
  _cleanup_free_ char *tmp = xasprintf("%s.part", hex);
  _cleanup_close_ int out =
      openat(blob_dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0)
    return brick_errno(err, "%s: create staging file", what);
  if (brick_digest_copy_verify(in, out, digest, size, what, err) < 0) {
    unlinkat(blob_dirfd, tmp, 0);
    return -1;
  }
  if (renameat(blob_dirfd, tmp, blob_dirfd, hex) < 0) {
    int e = errno;
    unlinkat(blob_dirfd, tmp, 0);
    return brick_error(err, e, "%s: stage", what);
  }
  return 0;
}

/* Where a blob lives in the source: blobs/sha256/<hex> in an OCI layout, <hex> in a
 * dir: image. */
static char *blob_rel(const struct brick_image_source *src, const char *digest) {
  return src->kind == BRICK_SOURCE_DIR ? xstrdup(digest + 7)
                                       : xasprintf("blobs/sha256/%s", digest + 7);
}

/* Copy+verify a document blob and parse it. */
static int read_doc_blob(const struct brick_image_source *src, const char *digest, int64_t size,
                         int blob_dirfd, const char *what, json_t **out, brick_err *err) {
  int src_dirfd = src->dirfd;
  if (size > (int64_t)MAX_DOC_BYTES)
    return brick_error(err, EFBIG, "%s %s: %lld bytes is larger than the %u-byte limit", what,
                       digest, (long long)size, MAX_DOC_BYTES);
  _cleanup_free_ char *what_d = xasprintf("%s %s", what, digest);
  if (brick_digest_hex(digest, &(const char *){NULL}, err) < 0)
    return brick_error_prefix(err, "%s", what);
  _cleanup_free_ char *rel = blob_rel(src, digest);
  if (brick_blob_copy_verified(src_dirfd, rel, digest, size, blob_dirfd, what_d, err) < 0)
    return -1;
  _cleanup_close_ int fd = openat(blob_dirfd, digest + 7, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return brick_errno(err, "%s: open staged copy", what_d);
  _cleanup_free_ char *buf = NULL;
  size_t len;
  if (brick_read_fd(fd, &buf, &len, MAX_DOC_BYTES, err) < 0)
    return brick_error_prefix(err, "%s", what_d);
  json_error_t je;
  *out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!*out)
    return brick_error(err, EINVAL, "%s: invalid JSON at line %d: %s", what_d, je.line, je.text);
  return 0;
}

static bool ref_matches(const char *annotated, const char *want) {
  if (!annotated)
    return false;
  if (!strcmp(annotated, want))
    return true;
  /* some tools store the full reference ("example.com/app:1.0") as ref.name */
  size_t la = strlen(annotated), lw = strlen(want);
  return la > lw && annotated[la - lw - 1] == ':' && !strcmp(annotated + la - lw, want);
}

static char *source_name_from(json_t *desc) {
  json_t *ann = json_object_get(desc, "annotations");
  const char *cname = json_string_value(json_object_get(ann, "io.containerd.image.name"));
  if (cname && *cname)
    return xstrdup(cname);
  const char *ref = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
  if (ref && strchr(ref, '/'))
    return xstrdup(ref);
  return NULL;
}

/* Replace index descriptors by the manifests they list (depth-bounded). */
static int expand_indexes(struct brick_image_source *src, json_t *list, int blob_dirfd,
                          int depth, json_t *out, brick_err *err) {
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *d = json_array_get(list, i);
    const char *mt, *dg;
    int64_t sz;
    if (brick_descriptor_parse(d, &mt, &dg, &sz, err) < 0)
      return brick_error_prefix(err, "manifests[%zu]", i);
    enum brick_media_kind k = brick_media_kind(mt, NULL);
    if (k == BRICK_MEDIA_MANIFEST) {
      json_array_append(out, d);
      continue;
    }
    if (k != BRICK_MEDIA_INDEX)
      continue; /* artifacts and unknown kinds are not images: skip them */
    if (depth >= MAX_INDEX_DEPTH)
      return brick_error(err, ELOOP, "indexes nested more than %d deep", MAX_INDEX_DEPTH);
    _cleanup_json_ json_t *idx = NULL;
    if (read_doc_blob(src, dg, sz, blob_dirfd, "index", &idx, err) < 0)
      return -1;
    json_t *inner = json_object_get(idx, "manifests");
    if (!json_is_array(inner))
      return brick_error(err, EINVAL, "index %s: manifests: missing or not an array", dg);
    if (expand_indexes(src, inner, blob_dirfd, depth + 1, out, err) < 0)
      return brick_error_prefix(err, "index %s", dg);
  }
  return 0;
}

static int finish_from_manifest(struct brick_image_source *src, json_t *desc, int blob_dirfd,
                                const struct brick_platform *want, bool platform_explicit,
                                struct brick_resolved *out, brick_err *err) {
  const char *mt, *dg;
  int64_t sz;
  if (brick_descriptor_parse(desc, &mt, &dg, &sz, err) < 0)
    return -1;
  _cleanup_json_ json_t *m = NULL;
  if (read_doc_blob(src, dg, sz, blob_dirfd, "manifest", &m, err) < 0)
    return -1;
  if (brick_manifest_check(m, mt, err) < 0)
    return brick_error_prefix(err, "manifest %s", dg);
  memcpy(out->manifest_digest, dg, BRICK_DIGEST_STR_LEN);
  out->manifest_media_type = xstrdup(mt);
  out->manifest_size = sz;
  const char *cmt, *cdg;
  int64_t csz;
  brick_descriptor_parse(json_object_get(m, "config"), &cmt, &cdg, &csz, NULL);
  if (read_doc_blob(src, cdg, csz, blob_dirfd, "config", &out->config, err) < 0)
    return -1;
  out->config_digest = xstrdup(cdg);
  out->config_size = csz;
  json_t *layers = json_object_get(m, "layers");
  out->nlayers = json_array_size(layers);
  out->layers = xcalloc(out->nlayers ? out->nlayers : 1, sizeof *out->layers);
  for (size_t i = 0; i < out->nlayers; i++) {
    const char *lmt, *ldg;
    int64_t lsz;
    brick_descriptor_parse(json_array_get(layers, i), &lmt, &ldg, &lsz, NULL);
    out->layers[i].digest = xstrdup(ldg);
    out->layers[i].media_type = xstrdup(lmt);
    out->layers[i].size = lsz;
    brick_media_kind(lmt, &out->layers[i].compression);
  }
  if (brick_config_check(out->config, out->nlayers, err) < 0)
    return brick_error_prefix(err, "config %s", cdg);
  const char *os = json_string_value(json_object_get(out->config, "os"));
  const char *arch = json_string_value(json_object_get(out->config, "architecture"));
  if (os && arch && (strcmp(os, want->os) || strcmp(arch, want->arch))) {
    if (platform_explicit)
      return brick_error(err, ENOENT, "image is for %s/%s, not the requested %s/%s", os, arch,
                         want->os, want->arch);
    brick_warn("image %s is for %s/%s; this host is %s/%s", dg, os, arch, want->os, want->arch);
  }
  return 0;
}

int brick_oci_resolve(struct brick_image_source *src, const struct brick_platform *want,
                      bool platform_explicit, int blob_dirfd, struct brick_resolved *out,
                      brick_err *err);
int brick_oci_resolve(struct brick_image_source *src, const struct brick_platform *want,
                      bool platform_explicit, int blob_dirfd, struct brick_resolved *out,
                      brick_err *err) {
  /* oci-layout marks the directory as a layout of a version we understand */
  {
    _cleanup_close_ int lfd = brick_open_file_beneath(src->dirfd, "oci-layout", err);
    if (lfd < 0)
      return brick_error_prefix(err, "%s: not an OCI image layout", src->path);
    _cleanup_free_ char *buf = NULL;
    if (brick_read_fd(lfd, &buf, NULL, 4096, err) < 0)
      return brick_error_prefix(err, "%s/oci-layout", src->path);
    _cleanup_json_ json_t *l = json_loads(buf, 0, NULL);
    const char *v = json_string_value(json_object_get(l, "imageLayoutVersion"));
    if (!v || strncmp(v, "1.", 2) != 0)
      return brick_error(err, EINVAL, "%s/oci-layout: imageLayoutVersion: expected 1.x",
                         src->path);
  }
  _cleanup_close_ int ifd = brick_open_file_beneath(src->dirfd, "index.json", err);
  if (ifd < 0)
    return brick_error_prefix(err, "%s", src->path);
  _cleanup_free_ char *buf = NULL;
  size_t len;
  if (brick_read_fd(ifd, &buf, &len, MAX_DOC_BYTES, err) < 0)
    return brick_error_prefix(err, "%s/index.json", src->path);
  json_error_t je;
  _cleanup_json_ json_t *index = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!index)
    return brick_error(err, EINVAL, "%s/index.json: invalid JSON at line %d: %s", src->path,
                       je.line, je.text);
  json_t *sv = json_object_get(index, "schemaVersion");
  if (!json_is_integer(sv) || json_integer_value(sv) != 2)
    return brick_error(err, EINVAL, "%s/index.json: schemaVersion: expected 2", src->path);
  json_t *manifests = json_object_get(index, "manifests");
  if (!json_is_array(manifests))
    return brick_error(err, EINVAL, "%s/index.json: manifests: missing or not an array",
                       src->path);
  _cleanup_json_ json_t *tagged = json_array();
  for (size_t i = 0; i < json_array_size(manifests); i++) {
    json_t *d = json_array_get(manifests, i);
    const char *ref = json_string_value(
        json_object_get(json_object_get(d, "annotations"), "org.opencontainers.image.ref.name"));
    if (!src->ref || ref_matches(ref, src->ref))
      json_array_append(tagged, d);
  }
  if (src->ref && json_array_size(tagged) == 0)
    return brick_error(err, ENOENT, "%s: no image tagged \"%s\" in index.json", src->path,
                       src->ref);
  _cleanup_json_ json_t *expanded = json_array();
  if (expand_indexes(src, tagged, blob_dirfd, 0, expanded, err) < 0)
    return brick_error_prefix(err, "%s", src->path);
  json_t *chosen = brick_index_select(expanded, want, err);
  if (!chosen)
    return brick_error_prefix(err, "%s", src->path);
  if (finish_from_manifest(src, chosen, blob_dirfd, want, platform_explicit, out, err) < 0)
    return brick_error_prefix(err, "%s", src->path);
  /* names come from the top-level entry the user picked */
  if (json_array_size(tagged) == 1) {
    _cleanup_free_ char *name = source_name_from(json_array_get(tagged, 0));
    if (name)
      brick_strv_push(&out->names, name);
  }
  return 0;
}

int brick_dir_resolve(struct brick_image_source *src, const struct brick_platform *want,
                      bool platform_explicit, int blob_dirfd, struct brick_resolved *out,
                      brick_err *err);
/* A dir: image names its manifest manifest.json; its digest is that of the bytes, and
 * the signatures beside it sign exactly those bytes. The manifest is staged under its
 * digest, after which it resolves as a descriptor would. */
int brick_dir_resolve(struct brick_image_source *src, const struct brick_platform *want,
                      bool platform_explicit, int blob_dirfd, struct brick_resolved *out,
                      brick_err *err) {
  _cleanup_close_ int mfd = brick_open_file_beneath(src->dirfd, "manifest.json", err);
  if (mfd < 0)
    return brick_error_prefix(err, "%s", src->path);
  _cleanup_free_ char *buf = NULL;
  size_t len;
  if (brick_read_fd(mfd, &buf, &len, MAX_DOC_BYTES, err) < 0)
    return brick_error_prefix(err, "%s/manifest.json", src->path);
  json_error_t je;
  _cleanup_json_ json_t *m = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!m)
    return brick_error(err, EINVAL, "%s/manifest.json: invalid JSON at line %d: %s", src->path,
                       je.line, je.text);
  const char *mt = json_string_value(json_object_get(m, "mediaType"));
  if (!mt && json_integer_value(json_object_get(m, "schemaVersion")) == 2)
    mt = "application/vnd.oci.image.manifest.v1+json"; /* OCI makes mediaType optional */
  if (!mt || brick_media_kind(mt, NULL) != BRICK_MEDIA_MANIFEST)
    return brick_error(err, EINVAL, "%s/manifest.json: not a single-image manifest (mediaType "
                       "%s); copy one platform into the dir: image", src->path,
                       mt ? mt : "missing");
  char digest[BRICK_DIGEST_STR_LEN];
  brick_sha256_buf(buf, len, digest);
  {
    _cleanup_close_ int sfd = openat(blob_dirfd, digest + 7,
                                     O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (sfd < 0)
      return brick_errno(err, "%s/manifest.json: stage", src->path);
    for (size_t off = 0; off < len;) {
      ssize_t w = write(sfd, buf + off, len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return brick_errno(err, "%s/manifest.json: stage", src->path);
      off += (size_t)w;
    }
  }
  _cleanup_json_ json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest,
                                          "size", (json_int_t)len);
  if (finish_from_manifest(src, desc, blob_dirfd, want, platform_explicit, out, err) < 0)
    return brick_error_prefix(err, "%s", src->path);
  return 0;
}

int brick_source_fetch_layers(struct brick_image_source *src, const struct brick_resolved *r,
                              int blob_dirfd, brick_err *err) {
  if (src->docker)
    return 0; /* hashed and staged while the manifest was synthesised */
  for (size_t i = 0; i < r->nlayers; i++) {
    _cleanup_free_ char *what = xasprintf("%s: layer %s", src->path, r->layers[i].digest);
    _cleanup_free_ char *rel = blob_rel(src, r->layers[i].digest);
    if (brick_blob_copy_verified(src->dirfd, rel, r->layers[i].digest, r->layers[i].size,
                                 blob_dirfd, what, err) < 0)
      return -1;
  }
  return 0;
}

void brick_resolved_clear(struct brick_resolved *r) {
  free(r->manifest_media_type);
  free(r->config_digest);
  if (r->config)
    json_decref(r->config);
  for (size_t i = 0; i < r->nlayers; i++) {
    free(r->layers[i].digest);
    free(r->layers[i].media_type);
  }
  free(r->layers);
  brick_strv_free(r->names);
  memset(r, 0, sizeof *r);
}
