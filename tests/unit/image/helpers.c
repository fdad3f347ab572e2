#include "helpers.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "image/digest.h"

void t_make_tar(const char *path, const struct t_entry *e, size_t n, int compress) {
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (compress == 1)
    archive_write_add_filter_gzip(a);
  else if (compress == 2)
    archive_write_add_filter_zstd(a);
  if (archive_write_open_filename(a, path) != ARCHIVE_OK)
    abort();
  for (size_t i = 0; i < n; i++) {
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, e[i].name);
    archive_entry_set_mtime(ae, 1000000 + (time_t)i, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    int64_t size = 0;
    switch (e[i].kind) {
    case T_FILE:
      size = e[i].data ? (int64_t)strlen(e[i].data) : e[i].size;
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_size(ae, size);
      break;
    case T_DIR: archive_entry_set_filetype(ae, AE_IFDIR); break;
    case T_SYMLINK:
      archive_entry_set_filetype(ae, AE_IFLNK);
      archive_entry_set_symlink(ae, e[i].data);
      break;
    case T_HARDLINK:
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_hardlink(ae, e[i].data);
      break;
    case T_CHAR:
      archive_entry_set_filetype(ae, AE_IFCHR);
      archive_entry_set_rdevmajor(ae, 1);
      archive_entry_set_rdevminor(ae, 3);
      break;
    case T_FIFO: archive_entry_set_filetype(ae, AE_IFIFO); break;
    }
    archive_entry_set_perm(ae, e[i].mode ? e[i].mode : (e[i].kind == T_DIR ? 0755 : 0644));
    if (e[i].xattr_name)
      archive_entry_xattr_add_entry(ae, e[i].xattr_name, e[i].xattr_value,
                                    strlen(e[i].xattr_value));
    if (archive_write_header(a, ae) != ARCHIVE_OK)
      abort();
    if (e[i].kind == T_FILE && size > 0) {
      if (e[i].data) {
        archive_write_data(a, e[i].data, (size_t)size);
      } else {
        static char zeros[65536];
        for (int64_t left = size; left > 0;) {
          size_t k = left > (int64_t)sizeof zeros ? sizeof zeros : (size_t)left;
          archive_write_data(a, zeros, k);
          left -= (int64_t)k;
        }
      }
    }
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
}

void t_file_digest(const char *path, char out[72], int64_t *size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    abort();
  uint64_t sz;
  if (brick_digest_fd(fd, out, &sz, NULL) < 0)
    abort();
  close(fd);
  if (size)
    *size = (int64_t)sz;
}

static char *put_blob(const char *dir, const void *data, size_t len) {
  char d[BRICK_DIGEST_STR_LEN];
  brick_sha256_buf(data, len, d);
  char *p = xasprintf("%s/blobs/sha256/%s", dir, d + 7);
  FILE *f = fopen(p, "w");
  fwrite(data, 1, len, f);
  fclose(f);
  free(p);
  return xstrdup(d);
}

static void copy_file(const char *from, const char *to) {
  char *buf;
  size_t len;
  if (brick_read_file(from, &buf, &len, NULL) < 0)
    abort();
  FILE *f = fopen(to, "w");
  fwrite(buf, 1, len, f);
  fclose(f);
  free(buf);
}

/* sha256 of the uncompressed stream via libarchive's raw reader */
static void diff_id_of(const char *path, char out[72]) {
  struct archive *a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  archive_read_open_filename(a, path, 65536);
  struct archive_entry *e;
  archive_read_next_header(a, &e);
  struct brick_sha256 *h = brick_sha256_new();
  char buf[65536];
  la_ssize_t r;
  while ((r = archive_read_data(a, buf, sizeof buf)) > 0)
    brick_sha256_update(h, buf, (size_t)r);
  brick_sha256_final(h, out);
  archive_read_free(a);
}

char *t_make_layout(const char *dir, const char *const *layer_tars, const int *compress,
                    size_t n, json_t *config_extra) {
  char *p = xasprintf("%s/blobs/sha256", dir);
  brick_mkdir_p(p, 0755, NULL);
  free(p);
  json_t *layers = json_array(), *diff_ids = json_array();
  for (size_t i = 0; i < n; i++) {
    char d[72], did[72];
    int64_t size;
    t_file_digest(layer_tars[i], d, &size);
    diff_id_of(layer_tars[i], did);
    char *bp = xasprintf("%s/blobs/sha256/%s", dir, d + 7);
    copy_file(layer_tars[i], bp);
    free(bp);
    const char *mt = compress[i] == 1   ? "application/vnd.oci.image.layer.v1.tar+gzip"
                     : compress[i] == 2 ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                        : "application/vnd.oci.image.layer.v1.tar";
    json_array_append_new(layers, json_pack("{s:s,s:s,s:I}", "mediaType", mt, "digest", d,
                                            "size", (json_int_t)size));
    json_array_append_new(diff_ids, json_string(did));
  }
  json_t *config = json_pack("{s:s,s:s,s:{s:[s]},s:{s:s,s:o}}", "architecture", "amd64", "os",
                             "linux", "config", "Cmd", "sh", "rootfs", "type", "layers",
                             "diff_ids", diff_ids);
  if (config_extra)
    json_object_update(config, config_extra);
  char *cj = json_dumps(config, JSON_COMPACT);
  char *cd = put_blob(dir, cj, strlen(cj));
  json_t *m = json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:o}", "schemaVersion", 2, "mediaType",
                        "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                        "application/vnd.oci.image.config.v1+json", "digest", cd, "size",
                        (json_int_t)strlen(cj), "layers", layers);
  char *mj = json_dumps(m, JSON_COMPACT);
  char *md = put_blob(dir, mj, strlen(mj));
  json_t *idx = json_pack("{s:i,s:[{s:s,s:s,s:I,s:{s:s}}]}", "schemaVersion", 2, "manifests",
                          "mediaType", "application/vnd.oci.image.manifest.v1+json", "digest",
                          md, "size", (json_int_t)strlen(mj), "annotations",
                          "org.opencontainers.image.ref.name", "latest");
  char *ip = xasprintf("%s/index.json", dir);
  json_dump_file(idx, ip, 0);
  free(ip);
  char *lp = xasprintf("%s/oci-layout", dir);
  FILE *f = fopen(lp, "w");
  fputs("{\"imageLayoutVersion\":\"1.0.0\"}", f);
  fclose(f);
  free(lp);
  free(cj);
  free(mj);
  free(cd);
  json_decref(config);
  json_decref(m);
  json_decref(idx);
  return md;
}

char *t_tmpdir(void) {
  char tmpl[] = "/tmp/brick-image-test-XXXXXX";
  if (!mkdtemp(tmpl))
    abort();
  return xstrdup(tmpl);
}

void t_rm_rf(const char *path) { brick_rm_rf(path, NULL); }

static void fp_walk(const char *dir, const char *rel, char **acc) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *de;
  char **names = xcalloc(1, sizeof *names);
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      brick_strv_push(&names, de->d_name);
  closedir(d);
  qsort(names, brick_strv_len(names), sizeof *names,
        (int (*)(const void *, const void *))strcmp);
  for (size_t i = 0; names[i]; i++) {
    char *p = xasprintf("%s/%s", dir, names[i]);
    char *r = xasprintf("%s/%s", rel, names[i]);
    struct stat st;
    lstat(p, &st);
    char *line = xasprintf("%s%s %o %lld %lld\n", *acc, r, st.st_mode, (long long)st.st_size,
                           (long long)st.st_mtime);
    free(*acc);
    *acc = line;
    if (S_ISDIR(st.st_mode))
      fp_walk(p, r, acc);
    free(p);
    free(r);
  }
  brick_strv_free(names);
}

char *t_tree_fingerprint(const char *dir) {
  char *acc = xstrdup("");
  fp_walk(dir, "", &acc);
  return acc;
}

char *t_read(const char *path) {
  char *buf = NULL;
  if (brick_read_file(path, &buf, NULL, NULL) < 0)
    return NULL;
  return buf;
}
