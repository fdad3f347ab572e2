/* Image sources given as tars (oci-archive, docker-archive) and the source-string
 * syntax. A tar is unpacked with the same safe unpacker as layers into staging and then
 * read as a directory, so a hostile outer archive gets the same protection as a layer. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "image/path.h"
#include "image/source.h"
#include "image/unpack.h"

int brick_oci_resolve(struct brick_image_source *src, const struct brick_platform *want,
                      bool platform_explicit, int blob_dirfd, struct brick_resolved *out,
                      brick_err *err);
int brick_dir_resolve(struct brick_image_source *src, const struct brick_platform *want,
                      bool platform_explicit, int blob_dirfd, struct brick_resolved *out,
                      brick_err *err);

static bool is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}
static bool is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* "PATH[:REF]" where PATH itself may hold ':' — the longest existing prefix wins. */
static int split_path_ref(const char *rest, bool want_dir, char **path, char **ref,
                          brick_err *err) {
  if (want_dir ? is_dir(rest) : is_file(rest)) {
    *path = xstrdup(rest);
    *ref = NULL;
    return 0;
  }
  for (const char *c = strrchr(rest, ':'); c; ) {
    _cleanup_free_ char *p = strndup(rest, (size_t)(c - rest));
    if (!p)
      abort();
    if (want_dir ? is_dir(p) : is_file(p)) {
      *path = TAKE_PTR(p);
      *ref = c[1] ? xstrdup(c + 1) : NULL;
      return 0;
    }
    const char *prev = NULL;
    for (const char *q = rest; q < c; q++)
      if (*q == ':')
        prev = q;
    c = prev;
  }
  return brick_error(err, ENOENT, "%s: no such %s", rest, want_dir ? "directory" : "file");
}

static int unpack_archive(const char *file, const char *staging_dir, int *dirfd_out,
                          brick_err *err) {
  _cleanup_close_ int in = open(file, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return brick_errno(err, "open %s", file);
  unsigned char magic[4] = {0};
  ssize_t n = pread(in, magic, sizeof magic, 0);
  if (n < 0)
    return brick_errno(err, "read %s", file);
  _cleanup_free_ char *dir = xasprintf("%s/src", staging_dir);
  if (mkdir(dir, 0700) < 0)
    return brick_errno(err, "mkdir %s", dir);
  _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return brick_errno(err, "open %s", dir);
  struct brick_unpack_opts uo = {
      .layer_digest = file,
      .compression = brick_compression_sniff(magic, (size_t)n),
      .max_layer_bytes = 256ULL << 30,
      .max_entry_bytes = 64ULL << 30,
  };
  struct brick_unpack_result res;
  int r = brick_unpack_layer(dfd, in, &uo, &res, err);
  brick_unpack_result_clear(&res);
  if (r < 0) {
    /* the unpacker calls its input "layer"; here it is the archive itself */
    if (err && err->msg && brick_str_has_prefix(err->msg, "layer ")) {
      char *m = xstrdup(err->msg + 6);
      free(err->msg);
      err->msg = xasprintf("archive %s", m);
      free(m);
    }
    return -1;
  }
  *dirfd_out = TAKE_FD(dfd);
  return 0;
}

int brick_source_open(const char *spec, const char *staging_dir, struct brick_image_source *src,
                      brick_err *err) {
  memset(src, 0, sizeof *src);
  src->dirfd = -1;
  _cleanup_free_ char *path = NULL, *ref = NULL;
  bool archive = false;
  if (!spec || !*spec)
    return brick_error(err, EINVAL, "empty image source");
  if (brick_str_has_prefix(spec, "oci:")) {
    src->kind = BRICK_SOURCE_OCI_DIR;
    if (split_path_ref(spec + 4, true, &path, &ref, err) < 0)
      return -1;
  } else if (brick_str_has_prefix(spec, "oci-archive:")) {
    src->kind = BRICK_SOURCE_OCI_ARCHIVE;
    archive = true;
    if (split_path_ref(spec + 12, false, &path, &ref, err) < 0)
      return -1;
  } else if (brick_str_has_prefix(spec, "dir:")) {
    src->kind = BRICK_SOURCE_DIR;
    if (!is_dir(spec + 4))
      return brick_error(err, ENOENT, "%s: no such directory", spec + 4);
    path = xstrdup(spec + 4);
  } else if (brick_str_has_prefix(spec, "docker-archive:")) {
    src->kind = BRICK_SOURCE_DOCKER_ARCHIVE;
    src->docker = true;
    archive = true;
    if (split_path_ref(spec + 15, false, &path, &ref, err) < 0)
      return -1;
  } else {
    struct stat st;
    if (stat(spec, &st) < 0)
      return brick_errno(err, "%s", spec);
    path = xstrdup(spec);
    if (S_ISDIR(st.st_mode)) {
      src->kind = BRICK_SOURCE_OCI_DIR;
    } else if (S_ISREG(st.st_mode)) {
      archive = true;
      src->kind = BRICK_SOURCE_OCI_ARCHIVE; /* refined after unpacking */
    } else {
      return brick_error(err, EINVAL, "%s: neither a directory nor a file", spec);
    }
  }
  src->path = xstrdup(path);
  src->ref = ref ? xstrdup(ref) : NULL;
  if (archive) {
    if (unpack_archive(path, staging_dir, &src->dirfd, err) < 0)
      return -1;
  } else {
    src->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src->dirfd < 0)
      return brick_errno(err, "open %s", path);
  }
  if (!brick_str_has_prefix(spec, "oci") && !brick_str_has_prefix(spec, "docker-archive:") &&
      !brick_str_has_prefix(spec, "dir:")) {
    /* auto-detect: an OCI layout wins over docker's manifest.json (docker >= 25 writes both) */
    struct stat st;
    if (fstatat(src->dirfd, "oci-layout", &st, AT_SYMLINK_NOFOLLOW) == 0) {
      src->docker = false;
    } else if (!archive && fstatat(src->dirfd, "manifest.json", &st, AT_SYMLINK_NOFOLLOW) == 0) {
      src->kind = BRICK_SOURCE_DIR; /* what `skopeo copy … dir:PATH` writes */
    } else if (archive && fstatat(src->dirfd, "manifest.json", &st, AT_SYMLINK_NOFOLLOW) == 0) {
      src->kind = BRICK_SOURCE_DOCKER_ARCHIVE;
      src->docker = true;
    } else {
      return brick_error(err, EINVAL, "%s: neither an OCI image layout (no oci-layout) nor a "
                         "docker archive or dir: image (no manifest.json)", spec);
    }
  }
  return 0;
}

void brick_source_policy_name(const struct brick_image_source *src, char **transport,
                              char **reference) {
  static const char *const names[] = {
      [BRICK_SOURCE_OCI_DIR] = "oci",
      [BRICK_SOURCE_OCI_ARCHIVE] = "oci-archive",
      [BRICK_SOURCE_DOCKER_ARCHIVE] = "docker-archive",
      [BRICK_SOURCE_DIR] = "dir",
  };
  *transport = xstrdup(names[src->kind]);
  char *real = realpath(src->path, NULL);
  const char *p = real ? real : src->path;
  *reference = src->ref && src->kind != BRICK_SOURCE_DIR ? xasprintf("%s:%s", p, src->ref)
                                                         : xstrdup(p);
  free(real);
}

void brick_source_close(struct brick_image_source *src) {
  free(src->path);
  free(src->ref);
  if (src->dirfd >= 0)
    close(src->dirfd);
  memset(src, 0, sizeof *src);
  src->dirfd = -1;
}

/* Copy a member into staging, hashing it; no digest was promised (docker-archive). */
static int stage_hashed(int src_dirfd, const char *rel, int blob_dirfd, const char *what,
                        char digest[BRICK_DIGEST_STR_LEN], int64_t *size,
                        enum brick_compression *comp, brick_err *err) {
  _cleanup_close_ int in = brick_open_file_beneath(src_dirfd, rel, err);
  if (in < 0)
    return brick_error_prefix(err, "%s", what);
  unsigned char magic[4] = {0};
  ssize_t mn = pread(in, magic, sizeof magic, 0);
  if (mn < 0)
    return brick_errno(err, "%s: read", what);
  if (comp)
    *comp = brick_compression_sniff(magic, (size_t)mn);
  static const char tmp[] = "docker-member.part";
  _cleanup_close_ int out =
      openat(blob_dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0)
    return brick_errno(err, "%s: create staging file", what);
  struct brick_sha256 *h = brick_sha256_new();
  char buf[1 << 15];
  uint64_t total = 0;
  for (;;) {
    ssize_t r = read(in, buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      brick_sha256_free(h);
      return brick_errno(err, "%s: read", what);
    }
    if (r == 0)
      break;
    brick_sha256_update(h, buf, (size_t)r);
    for (ssize_t off = 0; off < r;) {
      ssize_t w = write(out, buf + off, (size_t)(r - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        brick_sha256_free(h);
        return brick_errno(err, "%s: write", what);
      }
      off += w;
    }
    total += (uint64_t)r;
  }
  brick_sha256_final(h, digest);
  *size = (int64_t)total;
  if (renameat(blob_dirfd, tmp, blob_dirfd, digest + 7) < 0)
    return brick_errno(err, "%s: stage", what);
  return 0;
}

/* docker names some members after their content ("<hex>.json", "blobs/sha256/<hex>"):
 * when it does, the name is a promise to check. */
static int check_name_promise(const char *rel, const char *digest, const char *what,
                              brick_err *err) {
  const char *base = strrchr(rel, '/');
  base = base ? base + 1 : rel;
  size_t n = strlen(base);
  if (n == 69 && !strcmp(base + 64, ".json"))
    n = 64;
  if (n != 64)
    return 0;
  for (size_t i = 0; i < 64; i++)
    if (!((base[i] >= '0' && base[i] <= '9') || (base[i] >= 'a' && base[i] <= 'f')))
      return 0;
  if (strncmp(base, digest + 7, 64) != 0)
    return brick_error(err, EBADMSG, "%s: digest mismatch: content is %s, its name says "
                       "sha256:%.64s", what, digest, base);
  return 0;
}

static char *normalize_repo_tag(const char *t) {
  /* docker writes short names ("busybox:latest") that mean docker.io/library/... */
  const char *slash = strchr(t, '/');
  if (!slash)
    return xasprintf("docker.io/library/%s", t);
  _cleanup_free_ char *first = strndup(t, (size_t)(slash - t));
  if (!first)
    abort();
  if (!strchr(first, '.') && !strchr(first, ':') && strcmp(first, "localhost") != 0)
    return xasprintf("docker.io/%s", t);
  return xstrdup(t);
}

static int docker_resolve(struct brick_image_source *src, int blob_dirfd,
                          const struct brick_platform *want, bool platform_explicit,
                          struct brick_resolved *out, brick_err *err) {
  _cleanup_close_ int mfd = brick_open_file_beneath(src->dirfd, "manifest.json", err);
  if (mfd < 0)
    return brick_error_prefix(err, "%s", src->path);
  _cleanup_free_ char *buf = NULL;
  size_t len;
  if (brick_read_fd(mfd, &buf, &len, 4u << 20, err) < 0)
    return brick_error_prefix(err, "%s: manifest.json", src->path);
  json_error_t je;
  _cleanup_json_ json_t *list = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_array(list) || json_array_size(list) == 0)
    return brick_error(err, EINVAL, "%s: manifest.json: expected a non-empty array%s%s",
                       src->path, list ? "" : ": ", list ? "" : je.text);
  json_t *entry = NULL;
  size_t idx = 0;
  if (!src->ref) {
    if (json_array_size(list) != 1)
      return brick_error(err, EINVAL, "%s: the archive holds %zu images; choose one with "
                         ":NAME:TAG or :@N", src->path, json_array_size(list));
    entry = json_array_get(list, 0);
  } else if (src->ref[0] == '@') {
    char *end;
    unsigned long n = strtoul(src->ref + 1, &end, 10);
    if (*end || n >= json_array_size(list))
      return brick_error(err, EINVAL, "%s: no image %s in the archive", src->path, src->ref);
    entry = json_array_get(list, n);
    idx = n;
  } else {
    _cleanup_free_ char *want_ref = normalize_repo_tag(src->ref);
    for (size_t i = 0; i < json_array_size(list) && !entry; i++) {
      json_t *tags = json_object_get(json_array_get(list, i), "RepoTags");
      for (size_t j = 0; j < json_array_size(tags); j++) {
        const char *t = json_string_value(json_array_get(tags, j));
        _cleanup_free_ char *nt = t ? normalize_repo_tag(t) : NULL;
        if (nt && !strcmp(nt, want_ref)) {
          entry = json_array_get(list, i);
          idx = i;
          break;
        }
      }
    }
    if (!entry)
      return brick_error(err, ENOENT, "%s: no image named \"%s\" in the archive", src->path,
                         src->ref);
  }
  const char *config_rel = json_string_value(json_object_get(entry, "Config"));
  json_t *layers = json_object_get(entry, "Layers");
  if (!config_rel)
    return brick_error(err, EINVAL, "%s: manifest.json[%zu].Config: missing", src->path, idx);
  if (!json_is_array(layers))
    return brick_error(err, EINVAL, "%s: manifest.json[%zu].Layers: missing", src->path, idx);

  char cdigest[BRICK_DIGEST_STR_LEN];
  int64_t csize;
  _cleanup_free_ char *cwhat = xasprintf("%s: config %s", src->path, config_rel);
  if (stage_hashed(src->dirfd, config_rel, blob_dirfd, cwhat, cdigest, &csize, NULL, err) < 0 ||
      check_name_promise(config_rel, cdigest, cwhat, err) < 0)
    return -1;
  if (csize > (int64_t)(4u << 20))
    return brick_error(err, EFBIG, "%s: too large", cwhat);
  {
    _cleanup_close_ int cfd = openat(blob_dirfd, cdigest + 7, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    _cleanup_free_ char *cbuf = NULL;
    size_t clen;
    if (cfd < 0 || brick_read_fd(cfd, &cbuf, &clen, 4u << 20, err) < 0)
      return brick_error(err, EIO, "%s: read staged copy", cwhat);
    out->config = json_loadb(cbuf, clen, JSON_REJECT_DUPLICATES, &je);
    if (!out->config)
      return brick_error(err, EINVAL, "%s: invalid JSON at line %d: %s", cwhat, je.line, je.text);
  }
  out->config_digest = xstrdup(cdigest);
  out->config_size = csize;
  out->nlayers = json_array_size(layers);
  if (brick_config_check(out->config, out->nlayers, err) < 0)
    return brick_error_prefix(err, "%s", cwhat);

  out->layers = xcalloc(out->nlayers ? out->nlayers : 1, sizeof *out->layers);
  bool any_zstd = false;
  for (size_t i = 0; i < out->nlayers; i++) {
    const char *rel = json_string_value(json_array_get(layers, i));
    if (!rel)
      return brick_error(err, EINVAL, "%s: manifest.json[%zu].Layers[%zu]: not a string",
                         src->path, idx, i);
    char ldigest[BRICK_DIGEST_STR_LEN];
    _cleanup_free_ char *lwhat = xasprintf("%s: layer %s", src->path, rel);
    if (stage_hashed(src->dirfd, rel, blob_dirfd, lwhat, ldigest, &out->layers[i].size,
                     &out->layers[i].compression, err) < 0)
      return -1;
    if (brick_str_has_prefix(rel, "blobs/") && check_name_promise(rel, ldigest, lwhat, err) < 0)
      return -1;
    out->layers[i].digest = xstrdup(ldigest);
    any_zstd |= out->layers[i].compression == BRICK_COMPRESS_ZSTD;
  }
  /* synthesise the manifest docker-archive lacks; deterministic so that importing the same
   * archive twice yields the same image id */
  json_t *jl = json_array();
  for (size_t i = 0; i < out->nlayers; i++) {
    enum brick_compression c = out->layers[i].compression;
    const char *mt = any_zstd ? (c == BRICK_COMPRESS_ZSTD   ? BRICK_MT_OCI_LAYER_ZSTD
                                 : c == BRICK_COMPRESS_GZIP ? BRICK_MT_OCI_LAYER_GZIP
                                                            : BRICK_MT_OCI_LAYER)
                              : (c == BRICK_COMPRESS_GZIP ? BRICK_MT_DOCKER_LAYER_GZIP
                                                          : BRICK_MT_DOCKER_LAYER);
    out->layers[i].media_type = xstrdup(mt);
    json_array_append_new(jl, json_pack("{s:s, s:I, s:s}", "mediaType", mt, "size",
                                        (json_int_t)out->layers[i].size, "digest",
                                        out->layers[i].digest));
  }
  const char *mmt = any_zstd ? BRICK_MT_OCI_MANIFEST : BRICK_MT_DOCKER_MANIFEST;
  const char *cmt = any_zstd ? BRICK_MT_OCI_CONFIG : BRICK_MT_DOCKER_CONFIG;
  _cleanup_json_ json_t *m = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2,
                                       "mediaType", mmt, "config", "mediaType", cmt, "size",
                                       (json_int_t)csize, "digest", cdigest, "layers", jl);
  _cleanup_free_ char *mbytes = json_dumps(m, JSON_COMPACT);
  if (!mbytes)
    abort();
  size_t mlen = strlen(mbytes);
  brick_sha256_buf(mbytes, mlen, out->manifest_digest);
  out->manifest_media_type = xstrdup(mmt);
  out->manifest_size = (int64_t)mlen;
  {
    _cleanup_close_ int wfd = openat(blob_dirfd, out->manifest_digest + 7,
                                     O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (wfd < 0 || write(wfd, mbytes, mlen) != (ssize_t)mlen)
      return brick_errno(err, "stage synthesised manifest");
  }
  json_t *tags = json_object_get(entry, "RepoTags");
  for (size_t j = 0; j < json_array_size(tags); j++) {
    const char *t = json_string_value(json_array_get(tags, j));
    if (t) {
      _cleanup_free_ char *nt = normalize_repo_tag(t);
      brick_strv_push(&out->names, nt);
    }
  }
  const char *os = json_string_value(json_object_get(out->config, "os"));
  const char *arch = json_string_value(json_object_get(out->config, "architecture"));
  if (platform_explicit && os && arch && (strcmp(os, want->os) || strcmp(arch, want->arch)))
    return brick_error(err, ENOENT, "%s: image is for %s/%s, not the requested %s/%s",
                       src->path, os, arch, want->os, want->arch);
  return 0;
}

int brick_source_resolve(struct brick_image_source *src, const char *platform, int blob_dirfd,
                         struct brick_resolved *out, brick_err *err) {
  memset(out, 0, sizeof *out);
  struct brick_platform want;
  if (brick_platform_parse(platform, &want, err) < 0)
    return -1;
  bool explicit_platform = platform && *platform;
  int r = src->docker ? docker_resolve(src, blob_dirfd, &want, explicit_platform, out, err)
          : src->kind == BRICK_SOURCE_DIR
              ? brick_dir_resolve(src, &want, explicit_platform, blob_dirfd, out, err)
              : brick_oci_resolve(src, &want, explicit_platform, blob_dirfd, out, err);
  brick_platform_clear(&want);
  if (r < 0)
    brick_resolved_clear(out);
  return r;
}
