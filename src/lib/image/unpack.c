#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/util.h"
#include "image/path.h"

/* ---- the set of paths this layer created (opaque whiteouts keep those) ---- */

struct path_set {
  char **slots;
  size_t cap, n;
};

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static bool set_has(const struct path_set *s, const char *p) {
  if (!s->cap)
    return false;
  for (size_t i = hash_str(p) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
    if (!s->slots[i])
      return false;
    if (!strcmp(s->slots[i], p))
      return true;
  }
}

static void set_add(struct path_set *s, const char *p) {
  if (set_has(s, p))
    return;
  if ((s->n + 1) * 2 > s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    char **ns = xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < s->cap; i++) {
      if (!s->slots[i])
        continue;
      size_t j = hash_str(s->slots[i]) & (ncap - 1);
      while (ns[j])
        j = (j + 1) & (ncap - 1);
      ns[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = ns;
    s->cap = ncap;
  }
  size_t i = hash_str(p) & (s->cap - 1);
  while (s->slots[i])
    i = (i + 1) & (s->cap - 1);
  s->slots[i] = xstrdup(p);
  s->n++;
}

static void set_free(struct path_set *s) {
  for (size_t i = 0; i < s->cap; i++)
    free(s->slots[i]);
  free(s->slots);
  memset(s, 0, sizeof *s);
}

/* ---- the two-stage reader: blob -> (gzip|zstd|none) -> tar ---- */

struct dir_time {
  char *path;
  struct timespec ts[2];
};

struct unpack_ctx {
  const struct brick_unpack_opts *o;
  int rootfd;
  int blob_fd;
  uint64_t blob_bytes;
  struct archive *raw;  /* decompressor: libarchive's "raw" format over the filters */
  struct brick_sha256 *diff_hash;
  uint64_t tar_bytes;
  uint64_t max_layer, max_entry, max_entries;
  brick_err stream_err; /* set by a callback; wins over libarchive's message */
  bool stream_failed;
  char buf[1 << 16];
  char blob_buf[1 << 16];
  struct path_set created;
  struct dir_time *dirs;
  size_t ndirs;
  struct brick_unpack_result *res;
};

static la_ssize_t blob_read_cb(struct archive *a, void *data, const void **out) {
  struct unpack_ctx *c = data;
  for (;;) {
    ssize_t r = read(c->blob_fd, c->blob_buf, sizeof c->blob_buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      archive_set_error(a, errno, "read layer blob: %s", strerror(errno));
      return -1;
    }
    c->blob_bytes += (uint64_t)r;
    if (c->o->progress && r > 0)
      c->o->progress(c->blob_bytes, c->o->progress_ctx);
    *out = c->blob_buf;
    return r;
  }
}

static la_ssize_t tar_read_cb(struct archive *a, void *data, const void **out) {
  struct unpack_ctx *c = data;
  la_ssize_t r = archive_read_data(c->raw, c->buf, sizeof c->buf);
  if (r < 0) {
    if (!c->stream_failed) {
      c->stream_failed = true;
      brick_error(&c->stream_err, archive_errno(c->raw) > 0 ? archive_errno(c->raw) : EIO,
                  "corrupt %s stream: %s", brick_compression_name(c->o->compression),
                  archive_error_string(c->raw) ? archive_error_string(c->raw) : "read error");
    }
    archive_set_error(a, EIO, "%s", brick_error_msg(&c->stream_err));
    return -1;
  }
  c->tar_bytes += (uint64_t)r;
  if (c->tar_bytes > c->max_layer) {
    if (!c->stream_failed) {
      c->stream_failed = true;
      brick_error(&c->stream_err, EFBIG,
                  "decompressed size exceeds the layer limit of %llu bytes",
                  (unsigned long long)c->max_layer);
    }
    archive_set_error(a, EFBIG, "%s", brick_error_msg(&c->stream_err));
    return -1;
  }
  brick_sha256_update(c->diff_hash, c->buf, (size_t)r);
  *out = c->buf;
  return r;
}

/* ---- filesystem helpers, all relative to a resolved parent dirfd ---- */

static int remove_tree_at(int at, const char *name, brick_err *err) {
  struct stat st;
  if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : brick_errno(err, "stat \"%s\"", name);
  if (S_ISDIR(st.st_mode)) {
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return brick_errno(err, "open \"%s\"", name);
    DIR *d = fdopendir(fd);
    if (!d) {
      close(fd);
      return brick_errno(err, "fdopendir \"%s\"", name);
    }
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(d))) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
        continue;
      if (remove_tree_at(dirfd(d), de->d_name, err) < 0) {
        ret = -1;
        break;
      }
    }
    closedir(d);
    if (ret < 0)
      return brick_error_prefix(err, "%s", name);
    if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
      return brick_errno(err, "rmdir \"%s\"", name);
    return 0;
  }
  if (unlinkat(at, name, 0) < 0 && errno != ENOENT)
    return brick_errno(err, "unlink \"%s\"", name);
  return 0;
}

/* Make room for a new entry: returns 1 when an existing directory should be kept (a
 * directory entry over a directory), 0 when the name is free. */
static int prepare_dest(int parent, const char *base, bool is_dir, brick_err *err) {
  struct stat st;
  if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT)
      return 0;
    return brick_errno(err, "stat");
  }
  if (S_ISDIR(st.st_mode)) {
    if (is_dir)
      return 1;
    return remove_tree_at(parent, base, err);
  }
  if (unlinkat(parent, base, 0) < 0)
    return brick_errno(err, "replace existing entry");
  return 0;
}

static bool running_as_root(void) { return geteuid() == 0; }

static int apply_owner(int fd, int parent, const char *base, struct archive_entry *e,
                       brick_err *err) {
  int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
  if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
    return brick_error(err, EINVAL, "owner %lld:%lld out of range", (long long)uid,
                       (long long)gid);
  int r = fd >= 0 ? fchown(fd, (uid_t)uid, (gid_t)gid)
                  : fchownat(parent, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW);
  /* an unprivileged unpack keeps the caller's ownership, as tar does */
  if (r < 0 && !(errno == EPERM && !running_as_root()))
    return brick_errno(err, "chown %lld:%lld", (long long)uid, (long long)gid);
  return 0;
}

static bool xattr_allowed(const char *name) {
  /* trusted.* and security.selinux describe the building host, not the image */
  return brick_str_has_prefix(name, "user.") || !strcmp(name, "security.capability");
}

static int apply_xattrs(int fd, struct archive_entry *e, brick_err *err) {
  const char *name;
  const void *value;
  size_t size;
  archive_entry_xattr_reset(e);
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (!name || !xattr_allowed(name))
      continue;
    if (fsetxattr(fd, name, value, size, 0) < 0) {
      if (errno == ENOTSUP || (errno == EPERM && !running_as_root()))
        continue;
      return brick_errno(err, "set xattr %s", name);
    }
  }
  return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2]) {
  ts[0].tv_sec = archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e);
  ts[0].tv_nsec = archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e)
                                                : archive_entry_mtime_nsec(e);
  ts[1].tv_sec = archive_entry_mtime(e);
  ts[1].tv_nsec = archive_entry_mtime_nsec(e);
}

static int write_data(struct unpack_ctx *c, struct archive *a, int fd, int64_t size,
                      brick_err *err) {
  const void *buf;
  size_t len;
  la_int64_t off;
  uint64_t written = 0;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &len, &off);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      if (c->stream_failed)
        return brick_error(err, c->stream_err.errnum, "%s", brick_error_msg(&c->stream_err));
      return brick_error(err, archive_errno(a) > 0 ? archive_errno(a) : EIO, "read data: %s",
                         archive_error_string(a) ? archive_error_string(a) : "error");
    }
    if (off < 0 || (uint64_t)off + len > (uint64_t)size)
      return brick_error(err, EBADMSG, "data beyond the entry's declared size");
    written += len;
    const char *p = buf;
    while (len > 0) {
      ssize_t w = pwrite(fd, p, len, off);
      if (w < 0) {
        if (errno == EINTR)
          continue;
        return brick_errno(err, "write");
      }
      p += w;
      off += w;
      len -= (size_t)w;
    }
  }
  (void)written;
  /* sparse files end in a hole that no data block covers */
  if (ftruncate(fd, size) < 0)
    return brick_errno(err, "truncate");
  return 0;
}

static int do_whiteout(struct unpack_ctx *c, const char *clean, const char *parent,
                       const char *base, brick_err *err) {
  if (!strcmp(base, BRICK_WHITEOUT_OPAQUE)) {
    _cleanup_close_ int pfd = brick_open_beneath(c->rootfd, parent, true, err);
    if (pfd < 0)
      return -1;
    _cleanup_close_ int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
      return brick_errno(err, "open opaque directory");
    DIR *d = fdopendir(dfd);
    if (!d)
      return brick_errno(err, "fdopendir");
    dfd = -1;
    int ret = 0;
    struct dirent *de;
    char **doomed = NULL;
    while ((de = readdir(d))) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
        continue;
      _cleanup_free_ char *child =
          *parent ? xasprintf("%s/%s", parent, de->d_name) : xstrdup(de->d_name);
      if (!set_has(&c->created, child))
        brick_strv_push(&doomed, de->d_name);
    }
    for (size_t i = 0; doomed && doomed[i] && ret == 0; i++)
      ret = remove_tree_at(dirfd(d), doomed[i], err);
    brick_strv_free(doomed);
    closedir(d);
    set_add(&c->created, parent);
    return ret;
  }
  const char *victim = base + strlen(BRICK_WHITEOUT_PREFIX);
  if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
    return brick_error(err, EPERM, "whiteout of \"%s\" is not a valid name", victim);
  if (brick_str_has_prefix(victim, ".wh."))
    return 0; /* aufs bookkeeping (.wh..wh.plnk etc.), meaningless here */
  (void)clean;
  brick_err perr = {0};
  _cleanup_close_ int pfd = brick_open_beneath(c->rootfd, parent, false, &perr);
  if (pfd < 0) {
    int e = perr.errnum;
    if (e != ENOENT)
      brick_error(err, e, "%s", brick_error_msg(&perr));
    brick_error_clear(&perr);
    return e == ENOENT ? 0 : -1; /* ENOENT: nothing below to hide */
  }
  _cleanup_free_ char *victim_path = *parent ? xasprintf("%s/%s", parent, victim) : xstrdup(victim);
  if (set_has(&c->created, victim_path))
    return 0; /* whiteouts hide lower layers only */
  return remove_tree_at(pfd, victim, err);
}

static int extract_entry(struct unpack_ctx *c, struct archive *a, struct archive_entry *e,
                         const char *clean, brick_err *err) {
  _cleanup_free_ char *parent = NULL, *base = NULL;
  brick_path_split(clean, &parent, &base);

  if (brick_str_has_prefix(base, BRICK_WHITEOUT_PREFIX))
    return do_whiteout(c, clean, parent, base, err);

  mode_t type = archive_entry_filetype(e);
  const char *hardlink = archive_entry_hardlink(e);
  int64_t size = archive_entry_size(e);
  if (size < 0)
    size = 0;
  if ((uint64_t)size > c->max_entry)
    return brick_error(err, EFBIG, "size %lld exceeds the per-entry limit of %llu bytes",
                       (long long)size, (unsigned long long)c->max_entry);

  if (!hardlink && (type == AE_IFCHR || type == AE_IFBLK)) {
    brick_strv_push(&c->res->devices, clean);
    return 0;
  }
  if (!hardlink && type == AE_IFSOCK)
    return 0;
  if (!*clean && type != AE_IFDIR)
    return brick_error(err, EPERM, "a non-directory entry names the rootfs itself");

  _cleanup_close_ int pfd = brick_open_beneath(c->rootfd, parent, true, err);
  if (pfd < 0)
    return brick_error_prefix(err, "parent directory");
  struct timespec ts[2];
  entry_times(e, ts);
  mode_t perm = archive_entry_perm(e) & 07777;

  if (hardlink) {
    _cleanup_free_ char *target = NULL, *tparent = NULL, *tbase = NULL;
    if (brick_path_clean(hardlink, &target, err) < 0)
      return brick_error_prefix(err, "hardlink target");
    if (!*target)
      return brick_error(err, EPERM, "hardlink to the rootfs directory itself");
    brick_path_split(target, &tparent, &tbase);
    _cleanup_close_ int tfd = brick_open_beneath(c->rootfd, tparent, false, err);
    if (tfd < 0)
      return brick_error_prefix(err, "hardlink target \"%s\"", hardlink);
    struct stat st;
    if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return brick_errno(err, "hardlink target \"%s\"", hardlink);
    if (S_ISDIR(st.st_mode))
      return brick_error(err, EPERM, "hardlink target \"%s\" is a directory", hardlink);
    if (!strcmp(target, clean))
      return 0;
    if (prepare_dest(pfd, base, false, err) < 0)
      return -1;
    if (linkat(tfd, tbase, pfd, base, 0) < 0)
      return brick_errno(err, "link to \"%s\"", hardlink);
    set_add(&c->created, clean);
    return 0;
  }

  int keep;
  switch (type) {
  case AE_IFDIR: {
    if (!*clean)
      return 0; /* the root itself: its mode is the store's business */
    keep = prepare_dest(pfd, base, true, err);
    if (keep < 0)
      return -1;
    if (!keep && mkdirat(pfd, base, 0700) < 0)
      return brick_errno(err, "mkdir");
    _cleanup_close_ int dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
      return brick_errno(err, "open directory");
    if (apply_owner(dfd, -1, NULL, e, err) < 0)
      return -1;
    if (fchmod(dfd, perm) < 0)
      return brick_errno(err, "chmod");
    if (apply_xattrs(dfd, e, err) < 0)
      return -1;
    c->dirs = xrealloc(c->dirs, (c->ndirs + 1) * sizeof *c->dirs);
    c->dirs[c->ndirs].path = xstrdup(clean);
    memcpy(c->dirs[c->ndirs].ts, ts, sizeof ts);
    c->ndirs++;
    break;
  }
  case AE_IFREG: {
    if (prepare_dest(pfd, base, false, err) < 0)
      return -1;
    _cleanup_close_ int fd =
        openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
      return brick_errno(err, "create");
    if (write_data(c, a, fd, size, err) < 0)
      return -1;
    if (apply_owner(fd, -1, NULL, e, err) < 0)
      return -1;
    if (fchmod(fd, perm) < 0)
      return brick_errno(err, "chmod");
    if (apply_xattrs(fd, e, err) < 0)
      return -1;
    if (futimens(fd, ts) < 0)
      return brick_errno(err, "set times");
    break;
  }
  case AE_IFLNK: {
    const char *target = archive_entry_symlink(e);
    if (!target || !*target)
      return brick_error(err, EINVAL, "symlink without a target");
    if (prepare_dest(pfd, base, false, err) < 0)
      return -1;
    /* the target is stored verbatim: it is only dangerous when followed, and nothing
     * here follows a final component */
    if (symlinkat(target, pfd, base) < 0)
      return brick_errno(err, "symlink");
    if (apply_owner(-1, pfd, base, e, err) < 0)
      return -1;
    if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
      return brick_errno(err, "set times");
    break;
  }
  case AE_IFIFO: {
    if (prepare_dest(pfd, base, false, err) < 0)
      return -1;
    if (mknodat(pfd, base, S_IFIFO | 0600, 0) < 0)
      return brick_errno(err, "mkfifo");
    if (apply_owner(-1, pfd, base, e, err) < 0)
      return -1;
    if (fchmodat(pfd, base, perm, 0) < 0)
      return brick_errno(err, "chmod");
    if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
      return brick_errno(err, "set times");
    break;
  }
  default:
    return brick_error(err, EINVAL, "unsupported entry type 0%o", (unsigned)type);
  }
  set_add(&c->created, clean);
  return 0;
}

static int apply_dir_times(struct unpack_ctx *c, brick_err *err) {
  /* children were written after their directory; set the directory times last */
  for (size_t i = c->ndirs; i-- > 0;) {
    _cleanup_free_ char *parent = NULL, *base = NULL;
    brick_path_split(c->dirs[i].path, &parent, &base);
    brick_err perr = {0};
    _cleanup_close_ int pfd = brick_open_beneath(c->rootfd, parent, false, &perr);
    if (pfd < 0) {
      int e = perr.errnum;
      if (e != ENOENT) /* ENOENT: removed by a later entry of the same layer */
        brick_error(err, e, "entry \"%s\": %s", c->dirs[i].path, brick_error_msg(&perr));
      brick_error_clear(&perr);
      if (e != ENOENT)
        return -1;
      continue;
    }
    if (utimensat(pfd, base, c->dirs[i].ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
      return brick_errno(err, "entry \"%s\": set times", c->dirs[i].path);
  }
  return 0;
}

static int check_filter(struct unpack_ctx *c, brick_err *err) {
  int code = archive_filter_code(c->raw, 0);
  enum brick_compression got = code == ARCHIVE_FILTER_GZIP   ? BRICK_COMPRESS_GZIP
                               : code == ARCHIVE_FILTER_ZSTD ? BRICK_COMPRESS_ZSTD
                               : code == ARCHIVE_FILTER_NONE ? BRICK_COMPRESS_NONE
                                                             : (enum brick_compression)-1;
  if ((int)got == -1)
    return brick_error(err, EBADMSG, "unsupported compression %s",
                       archive_filter_name(c->raw, 0));
  if (got != c->o->compression)
    return brick_error(err, EBADMSG, "content is %s-compressed but the media type promises %s",
                       brick_compression_name(got), brick_compression_name(c->o->compression));
  return 0;
}

static int unpack_stream(struct unpack_ctx *c, brick_err *err) {
  c->raw = archive_read_new();
  if (!c->raw)
    abort();
  archive_read_support_filter_gzip(c->raw);
  archive_read_support_filter_zstd(c->raw);
  archive_read_support_format_raw(c->raw);
  if (archive_read_open(c->raw, c, NULL, blob_read_cb, NULL) != ARCHIVE_OK)
    return brick_error(err, EBADMSG, "open: %s", archive_error_string(c->raw));
  struct archive_entry *re;
  int r = archive_read_next_header(c->raw, &re);
  if (r == ARCHIVE_EOF)
    return brick_error(err, EBADMSG, "empty layer blob");
  if (r != ARCHIVE_OK)
    return brick_error(err, EBADMSG, "%s", archive_error_string(c->raw));
  if (check_filter(c, err) < 0)
    return -1;

  struct archive *a = archive_read_new();
  if (!a)
    abort();
  int ret = 0;
  archive_read_support_format_tar(a);
  if (archive_read_open(a, c, NULL, tar_read_cb, NULL) != ARCHIVE_OK) {
    ret = brick_error(err, EBADMSG, "%s", c->stream_failed ? brick_error_msg(&c->stream_err)
                                                          : archive_error_string(a));
    goto out;
  }
  for (;;) {
    struct archive_entry *e;
    r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      const char *where = c->res->entries ? "after the last good entry" : "at the start";
      if (c->stream_failed)
        ret = brick_error(err, c->stream_err.errnum, "%s (%s)", brick_error_msg(&c->stream_err),
                          where);
      else
        ret = brick_error(err, EBADMSG, "bad tar header %s: %s", where,
                          archive_error_string(a) ? archive_error_string(a) : "error");
      goto out;
    }
    const char *name = archive_entry_pathname(e);
    if (++c->res->entries > c->max_entries) {
      ret = brick_error(err, EFBIG, "entry \"%s\": more than %llu entries", name ? name : "?",
                        (unsigned long long)c->max_entries);
      goto out;
    }
    _cleanup_free_ char *clean = NULL;
    if (brick_path_clean(name, &clean, err) < 0 || extract_entry(c, a, e, clean, err) < 0) {
      ret = brick_error_prefix(err, "entry \"%s\"", name ? name : "?");
      goto out;
    }
  }
  if (apply_dir_times(c, err) < 0) {
    ret = -1;
    goto out;
  }
  /* hash what tar leaves unread (end-of-archive padding) so the diff_id is complete */
  for (;;) {
    const void *dummy;
    la_ssize_t n = tar_read_cb(a, c, &dummy);
    if (n < 0) {
      ret = brick_error(err, c->stream_err.errnum, "%s", brick_error_msg(&c->stream_err));
      goto out;
    }
    if (n == 0)
      break;
  }
out:
  archive_read_free(a);
  return ret;
}

int brick_unpack_layer(int rootfd, int blob_fd, const struct brick_unpack_opts *o,
                       struct brick_unpack_result *res, brick_err *err) {
  memset(res, 0, sizeof *res);
  struct unpack_ctx *c = xcalloc(1, sizeof *c);
  c->o = o;
  c->rootfd = rootfd;
  c->blob_fd = blob_fd;
  c->res = res;
  c->max_layer = o->max_layer_bytes ? o->max_layer_bytes : BRICK_UNPACK_DEFAULT_MAX_LAYER_BYTES;
  c->max_entry = o->max_entry_bytes ? o->max_entry_bytes : BRICK_UNPACK_DEFAULT_MAX_ENTRY_BYTES;
  c->max_entries = o->max_entries ? o->max_entries : BRICK_UNPACK_DEFAULT_MAX_ENTRIES;
  c->diff_hash = brick_sha256_new();
  int ret = unpack_stream(c, err);
  if (ret == 0) {
    brick_sha256_final(c->diff_hash, res->diff_id);
    c->diff_hash = NULL;
    res->tar_bytes = c->tar_bytes;
    if (o->expect_diff_id && strcmp(o->expect_diff_id, res->diff_id) != 0)
      ret = brick_error(err, EBADMSG, "uncompressed content is %s but the image config's "
                        "rootfs.diff_ids says %s", res->diff_id, o->expect_diff_id);
  }
  if (ret < 0)
    brick_error_prefix(err, "layer %s", o->layer_digest ? o->layer_digest : "(unnamed)");
  brick_sha256_free(c->diff_hash);
  if (c->raw)
    archive_read_free(c->raw);
  brick_error_clear(&c->stream_err);
  set_free(&c->created);
  for (size_t i = 0; i < c->ndirs; i++)
    free(c->dirs[i].path);
  free(c->dirs);
  free(c);
  return ret;
}

int brick_layer_diff_id(int blob_fd, const struct brick_unpack_opts *o,
                        char out[BRICK_DIGEST_STR_LEN], brick_err *err) {
  struct unpack_ctx *c = xcalloc(1, sizeof *c);
  c->o = o;
  c->blob_fd = blob_fd;
  c->max_layer = o->max_layer_bytes ? o->max_layer_bytes : BRICK_UNPACK_DEFAULT_MAX_LAYER_BYTES;
  c->diff_hash = brick_sha256_new();
  int ret = 0;
  c->raw = archive_read_new();
  if (!c->raw)
    abort();
  archive_read_support_filter_gzip(c->raw);
  archive_read_support_filter_zstd(c->raw);
  archive_read_support_format_raw(c->raw);
  struct archive_entry *re;
  if (archive_read_open(c->raw, c, NULL, blob_read_cb, NULL) != ARCHIVE_OK ||
      archive_read_next_header(c->raw, &re) != ARCHIVE_OK) {
    ret = brick_error(err, EBADMSG, "%s", archive_error_string(c->raw) ? archive_error_string(c->raw)
                                                                      : "empty layer blob");
  } else if (check_filter(c, err) < 0) {
    ret = -1;
  } else {
    for (;;) {
      const void *dummy;
      la_ssize_t n = tar_read_cb(c->raw, c, &dummy);
      if (n < 0) {
        ret = brick_error(err, c->stream_err.errnum, "%s", brick_error_msg(&c->stream_err));
        break;
      }
      if (n == 0)
        break;
    }
  }
  if (ret == 0) {
    brick_sha256_final(c->diff_hash, out);
    c->diff_hash = NULL;
    if (o->expect_diff_id && strcmp(o->expect_diff_id, out) != 0)
      ret = brick_error(err, EBADMSG, "uncompressed content is %s but the image config's "
                        "rootfs.diff_ids says %s", out, o->expect_diff_id);
  }
  if (ret < 0)
    brick_error_prefix(err, "layer %s", o->layer_digest ? o->layer_digest : "(unnamed)");
  brick_sha256_free(c->diff_hash);
  archive_read_free(c->raw);
  brick_error_clear(&c->stream_err);
  free(c);
  return ret;
}

void brick_unpack_result_clear(struct brick_unpack_result *res) {
  brick_strv_free(res->devices);
  memset(res, 0, sizeof *res);
}
