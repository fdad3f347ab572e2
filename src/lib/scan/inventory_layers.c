/* Layer-aware inventory: replay each layer tar in order (OCI whiteouts included), keeping
 * only the package database files in memory, and inventory the merged state after every
 * layer that touched them. A package belongs to the first layer whose database lists it
 * at the installed version. */
#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "core/util.h"
#include "scan/scan_internal.h"

struct mem_file {
  char *path;
  char *data;
  size_t len;
  size_t layer;
};

struct mem_fs {
  struct mem_file *files;
  size_t n;
};

static struct mem_file *mem_find(struct mem_fs *fs, const char *path) {
  for (size_t i = 0; i < fs->n; i++)
    if (!strcmp(fs->files[i].path, path))
      return &fs->files[i];
  return NULL;
}

static void mem_remove_at(struct mem_fs *fs, size_t i) {
  free(fs->files[i].path);
  free(fs->files[i].data);
  fs->files[i] = fs->files[--fs->n];
}

/* Remove path and everything below it that came from lower layers. */
static bool mem_whiteout(struct mem_fs *fs, const char *path, size_t layer, bool only_children) {
  size_t n = strlen(path);
  bool changed = false;
  for (size_t i = 0; i < fs->n;) {
    const char *p = fs->files[i].path;
    bool hit = (!only_children && !strcmp(p, path)) ||
               (!strncmp(p, path, n) && (n == 0 || p[n] == '/'));
    if (hit && fs->files[i].layer < layer) {
      mem_remove_at(fs, i);
      changed = true;
    } else {
      i++;
    }
  }
  return changed;
}

static void mem_put(struct mem_fs *fs, const char *path, char *data, size_t len, size_t layer) {
  struct mem_file *f = mem_find(fs, path);
  if (!f) {
    fs->files = xrealloc(fs->files, (fs->n + 1) * sizeof *fs->files);
    f = &fs->files[fs->n++];
    f->path = xstrdup(path);
  } else {
    free(f->data);
  }
  f->data = data;
  f->len = len;
  f->layer = layer;
}

static void mem_free(struct mem_fs *fs) {
  while (fs->n)
    mem_remove_at(fs, fs->n - 1);
  free(fs->files);
}

static int mem_read(void *ctx, const char *path, char **buf, size_t *len, brick_err *err) {
  struct mem_file *f = mem_find(ctx, path);
  if (!f)
    return brick_error(err, ENOENT, "%s", path);
  *buf = xmalloc(f->len + 1);
  memcpy(*buf, f->data, f->len);
  (*buf)[f->len] = '\0';
  if (len)
    *len = f->len;
  return 0;
}

static char **mem_list(void *ctx, const char *dir) {
  struct mem_fs *fs = ctx;
  size_t n = strlen(dir);
  char **names = NULL;
  for (size_t i = 0; i < fs->n; i++)
    if (!strncmp(fs->files[i].path, dir, n) && !strchr(fs->files[i].path + n, '/'))
      brick_strv_push(&names, fs->files[i].path + n);
  return names;
}

/* "./a//b/" -> "a/b" */
static char *clean_path(const char *p) {
  char *out = xmalloc(strlen(p) + 1), *o = out;
  while (*p) {
    while (*p == '/')
      p++;
    if (p[0] == '.' && (p[1] == '/' || !p[1])) {
      p++;
      continue;
    }
    while (*p && *p != '/')
      *o++ = *p++;
    if (*p)
      *o++ = '/';
  }
  while (o > out && o[-1] == '/')
    o--;
  *o = '\0';
  return out;
}

static int apply_layer(struct mem_fs *fs, const char *path, size_t layer, bool *changed,
                       brick_err *err) {
  struct archive *a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
    int r = brick_error(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "%s: %s", path,
                        archive_error_string(a));
    archive_read_free(a);
    return r;
  }
  struct archive_entry *e;
  int rc = 0, ar;
  while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
    _cleanup_free_ char *name = clean_path(archive_entry_pathname(e));
    char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (!strncmp(base, ".wh.", 4)) {
      size_t dirlen = (size_t)(base - name);
      _cleanup_free_ char *dir = strndup(name, dirlen ? dirlen - 1 : 0);
      if (!strcmp(base, ".wh..wh..opq")) {
        *changed |= mem_whiteout(fs, dir, layer, true);
      } else {
        _cleanup_free_ char *target = dirlen ? xasprintf("%s/%s", dir, base + 4)
                                             : xstrdup(base + 4);
        *changed |= mem_whiteout(fs, target, layer, false);
      }
      continue;
    }
    /* A file or directory replacing a lower one hides what was below it. */
    if (archive_entry_filetype(e) != AE_IFDIR)
      *changed |= mem_whiteout(fs, name, layer + 1, true);
    if (!scan_is_db_path(name))
      continue;
    const char *hardlink = archive_entry_hardlink(e);
    if (hardlink) {
      _cleanup_free_ char *target = clean_path(hardlink);
      struct mem_file *t = mem_find(fs, target);
      if (t) {
        char *copy = xmalloc(t->len + 1);
        memcpy(copy, t->data, t->len);
        mem_put(fs, name, copy, t->len, layer);
        *changed = true;
      }
      continue;
    }
    if (archive_entry_filetype(e) != AE_IFREG) {
      struct mem_file *f = mem_find(fs, name);
      if (f) {
        mem_remove_at(fs, (size_t)(f - fs->files));
        *changed = true;
      }
      continue;
    }
    la_int64_t size = archive_entry_size(e);
    if (size < 0 || size > (la_int64_t)(512 << 20)) {
      rc = brick_error(err, EFBIG, "%s: %s: size %lld is not acceptable", path, name,
                       (long long)size);
      break;
    }
    char *data = xmalloc((size_t)size + 1);
    la_ssize_t got = archive_read_data(a, data, (size_t)size);
    if (got != size) {
      free(data);
      rc = brick_error(err, 0, "%s: %s: %s", path, name,
                       got < 0 ? archive_error_string(a) : "short read");
      break;
    }
    data[size] = '\0';
    mem_put(fs, name, data, (size_t)size, layer);
    *changed = true;
  }
  if (rc == 0 && ar != ARCHIVE_EOF)
    rc = brick_error(err, 0, "%s: %s", path, archive_error_string(a));
  archive_read_free(a);
  return rc;
}

static char *pkg_key(const struct brick_package *p) {
  return xasprintf("%s\x1f%s\x1f%s", p->name, p->version, p->arch ? p->arch : "");
}

struct first_seen {
  char *key;
  size_t layer;
};

static int seen_cmp(const void *a, const void *b) {
  return strcmp(((const struct first_seen *)a)->key, ((const struct first_seen *)b)->key);
}

int brick_inventory_layers(char *const *layer_paths, char *const *layer_digests, size_t n,
                           struct brick_inventory *inv, brick_err *err) {
  struct mem_fs fs = {0};
  struct first_seen *seen = NULL;
  size_t n_seen = 0;
  int rc = 0;
  struct db_source src = {mem_read, mem_list, &fs};
  struct brick_inventory cur = {0};
  for (size_t l = 0; l < n && rc == 0; l++) {
    bool changed = false;
    if (apply_layer(&fs, layer_paths[l], l, &changed, err) < 0) {
      rc = brick_error_prefix(err, "layer %zu", l);
      break;
    }
    if (!changed && l + 1 < n)
      continue;
    brick_inventory_free(&cur);
    if (scan_inventory_from_source(&src, &cur, err) < 0) {
      rc = brick_error_prefix(err, "layer %zu (%s)", l, layer_paths[l]);
      break;
    }
    size_t before = n_seen;
    for (size_t i = 0; i < cur.n_pkgs; i++) {
      struct first_seen probe = {pkg_key(&cur.pkgs[i]), l};
      if (before && bsearch(&probe, seen, before, sizeof *seen, seen_cmp)) {
        free(probe.key);
        continue;
      }
      seen = xrealloc(seen, (n_seen + 1) * sizeof *seen);
      seen[n_seen++] = probe;
    }
    if (n_seen)
      qsort(seen, n_seen, sizeof *seen, seen_cmp);
  }
  if (rc == 0) {
    for (size_t i = 0; i < cur.n_pkgs; i++) {
      struct first_seen probe = {pkg_key(&cur.pkgs[i]), 0};
      struct first_seen *f =
          n_seen ? bsearch(&probe, seen, n_seen, sizeof *seen, seen_cmp) : NULL;
      free(probe.key);
      if (f) {
        cur.pkgs[i].layer = (int)f->layer;
        if (layer_digests && layer_digests[f->layer])
          cur.pkgs[i].layer_digest = xstrdup(layer_digests[f->layer]);
      }
    }
    *inv = cur;
    memset(&cur, 0, sizeof cur);
  }
  brick_inventory_free(&cur);
  for (size_t i = 0; i < n_seen; i++)
    free(seen[i].key);
  free(seen);
  mem_free(&fs);
  return rc;
}
