/* rpm databases. Every backend stores the same thing, one rpm header blob per package
 * (index count, data length, 16-byte index entries, data store; big-endian), so the work
 * is finding the blobs: SQLite's Packages table (rpmdb.sqlite), BerkeleyDB hash pages
 * with overflow chains (Packages), or ndb's slot table (Packages.db). */
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "core/util.h"
#include "scan/scan.h"

enum {
  TAG_NAME = 1000, TAG_VERSION = 1001, TAG_RELEASE = 1002, TAG_EPOCH = 1003,
  TAG_ARCH = 1022, TAG_SOURCERPM = 1044,
  TYPE_INT32 = 4, TYPE_STRING = 6, TYPE_I18NSTRING = 9,
};

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[1] << 8 | p[0]); }
static uint16_t be16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* "openssl-3.0.7-24.el9.src.rpm" -> "openssl" */
static char *source_name(const char *srpm) {
  if (!srpm)
    return NULL;
  char *s = xstrdup(srpm);
  size_t n = strlen(s);
  if (n > 8 && !strcmp(s + n - 8, ".src.rpm"))
    s[n - 8] = '\0';
  else if (n > 10 && !strcmp(s + n - 10, ".nosrc.rpm"))
    s[n - 10] = '\0';
  for (int i = 0; i < 2; i++) {
    char *h = strrchr(s, '-');
    if (!h) {
      free(s);
      return xstrdup(srpm);
    }
    *h = '\0';
  }
  return s;
}

int brick_rpm_parse_header(const unsigned char *blob, size_t len, const char *origin,
                           struct brick_inventory *inv, brick_err *err) {
  if (len < 8)
    return brick_error(err, 0, "%s: rpm header of %zu bytes is truncated", origin, len);
  uint32_t il = be32(blob), dl = be32(blob + 4);
  if (il == 0 || il > 0xffff || dl > 256u << 20 || 8 + (uint64_t)il * 16 + dl > len)
    return brick_error(err, 0, "%s: rpm header: %u entries and %u data bytes do not fit in %zu",
                       origin, il, dl, len);
  const unsigned char *index = blob + 8, *data = index + (size_t)il * 16;
  const char *str[TAG_SOURCERPM - TAG_NAME + 1] = {0};
  long long epoch = -1;
  for (uint32_t i = 0; i < il; i++) {
    const unsigned char *e = index + (size_t)i * 16;
    uint32_t tag = be32(e), type = be32(e + 4), off = be32(e + 8), count = be32(e + 12);
    if (tag < TAG_NAME || tag > TAG_SOURCERPM)
      continue;
    if (off >= dl)
      return brick_error(err, 0, "%s: rpm header: tag %u points outside the data", origin, tag);
    if ((type == TYPE_STRING || type == TYPE_I18NSTRING) && tag != TAG_EPOCH) {
      if (!memchr(data + off, '\0', dl - off))
        return brick_error(err, 0, "%s: rpm header: tag %u string is not terminated", origin,
                           tag);
      str[tag - TAG_NAME] = (const char *)data + off;
    } else if (tag == TAG_EPOCH && type == TYPE_INT32 && count >= 1) {
      if (off + 4 > dl)
        return brick_error(err, 0, "%s: rpm header: EPOCH outside the data", origin);
      epoch = be32(data + off);
    }
  }
  const char *name = str[TAG_NAME - TAG_NAME], *version = str[TAG_VERSION - TAG_NAME];
  const char *release = str[TAG_RELEASE - TAG_NAME];
  if (!name || !version)
    return brick_error(err, 0, "%s: rpm header without NAME or VERSION", origin);
  if (!strcmp(name, "gpg-pubkey")) /* imported keys, not software */
    return 0;
  _cleanup_free_ char *evr = NULL;
  if (epoch > 0)
    evr = release ? xasprintf("%lld:%s-%s", epoch, version, release)
                  : xasprintf("%lld:%s", epoch, version);
  else
    evr = release ? xasprintf("%s-%s", version, release) : xstrdup(version);
  _cleanup_free_ char *src = source_name(str[TAG_SOURCERPM - TAG_NAME]);
  brick_inventory_add(inv, BRICK_PKG_RPM, name, evr, str[TAG_ARCH - TAG_NAME], src, NULL);
  return 0;
}

int brick_rpm_parse_sqlite(const void *buf, size_t len, const char *origin,
                           struct brick_inventory *inv, brick_err *err) {
  if (len < 100 || memcmp(buf, "SQLite format 3", 16))
    return brick_error(err, 0, "%s: not an SQLite database", origin);
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    return brick_error(err, 0, "%s: sqlite: cannot open a memory database", origin);
  }
  unsigned char *copy = sqlite3_malloc64(len);
  if (!copy) {
    sqlite3_close(db);
    return brick_error(err, ENOMEM, "%s", origin);
  }
  memcpy(copy, buf, len);
  /* WAL mode (format bytes 2/2) cannot be served from memory; the main file is complete
   * after a checkpoint, which is how an image ships it. */
  copy[18] = copy[19] = 1;
  int rc = sqlite3_deserialize(db, "main", copy, (sqlite3_int64)len, (sqlite3_int64)len,
                               SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return brick_error(err, 0, "%s: sqlite: %s", origin, sqlite3_errstr(rc));
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT blob FROM Packages", -1, &st, NULL) != SQLITE_OK) {
    int r = brick_error(err, 0, "%s: %s", origin, sqlite3_errmsg(db));
    sqlite3_close(db);
    return r;
  }
  int r = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char *blob = sqlite3_column_blob(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    if (!blob || n <= 0)
      continue;
    if (brick_rpm_parse_header(blob, (size_t)n, origin, inv, err) < 0) {
      r = -1;
      break;
    }
  }
  if (r == 0 && rc != SQLITE_DONE)
    r = brick_error(err, 0, "%s: %s", origin, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return r;
}

/* ---- BerkeleyDB hash --------------------------------------------------------------- */

enum { BDB_HASH_MAGIC = 0x061561, P_HASH_UNSORTED = 2, P_OVERFLOW = 7, P_HASH = 13,
       H_KEYDATA = 1, H_OFFPAGE = 3, PAGE_HDR = 26 };

struct bdb {
  const unsigned char *buf;
  size_t len, pagesize, npages;
  bool swap; /* big-endian file */
};

static uint32_t bdb32(const struct bdb *d, const unsigned char *p) {
  return d->swap ? be32(p) : le32(p);
}
static uint16_t bdb16(const struct bdb *d, const unsigned char *p) {
  return d->swap ? be16(p) : le16(p);
}

static int bdb_overflow(const struct bdb *d, uint32_t pgno, uint32_t tlen, unsigned char **out,
                        const char *origin, brick_err *err) {
  unsigned char *data = xmalloc(tlen ? tlen : 1);
  size_t got = 0, hops = 0;
  while (got < tlen) {
    if (pgno == 0 || pgno >= d->npages || ++hops > d->npages) {
      free(data);
      return brick_error(err, 0, "%s: BerkeleyDB overflow chain broken at page %u", origin, pgno);
    }
    const unsigned char *pg = d->buf + (size_t)pgno * d->pagesize;
    if (pg[25] != P_OVERFLOW) {
      free(data);
      return brick_error(err, 0, "%s: BerkeleyDB page %u is not an overflow page", origin, pgno);
    }
    size_t n = bdb16(d, pg + 22);
    if (n > d->pagesize - PAGE_HDR || n > tlen - got) {
      free(data);
      return brick_error(err, 0, "%s: BerkeleyDB overflow page %u length %zu is invalid", origin,
                         pgno, n);
    }
    memcpy(data + got, pg + PAGE_HDR, n);
    got += n;
    pgno = bdb32(d, pg + 16);
  }
  *out = data;
  return 0;
}

int brick_rpm_parse_bdb(const unsigned char *buf, size_t len, const char *origin,
                        struct brick_inventory *inv, brick_err *err) {
  struct bdb d = {.buf = buf, .len = len};
  if (len < 512)
    return brick_error(err, 0, "%s: too short for a BerkeleyDB file", origin);
  if (le32(buf + 12) == BDB_HASH_MAGIC)
    d.swap = false;
  else if (be32(buf + 12) == BDB_HASH_MAGIC)
    d.swap = true;
  else
    return brick_error(err, 0, "%s: not a BerkeleyDB hash database", origin);
  d.pagesize = bdb32(&d, buf + 20);
  if (d.pagesize < 512 || d.pagesize > 65536 || (d.pagesize & (d.pagesize - 1)))
    return brick_error(err, 0, "%s: BerkeleyDB page size %zu is invalid", origin, d.pagesize);
  d.npages = len / d.pagesize;
  for (size_t pgno = 1; pgno < d.npages; pgno++) {
    const unsigned char *pg = buf + pgno * d.pagesize;
    if (pg[25] != P_HASH && pg[25] != P_HASH_UNSORTED)
      continue;
    size_t entries = bdb16(&d, pg + 20);
    if (PAGE_HDR + entries * 2 > d.pagesize)
      return brick_error(err, 0, "%s: BerkeleyDB page %zu has %zu entries", origin, pgno,
                         entries);
    /* key/value pairs: values at odd indices */
    for (size_t i = 1; i < entries; i += 2) {
      size_t off = bdb16(&d, pg + PAGE_HDR + i * 2);
      size_t prev = bdb16(&d, pg + PAGE_HDR + (i - 1) * 2);
      if (off >= d.pagesize || prev > d.pagesize || prev <= off)
        return brick_error(err, 0, "%s: BerkeleyDB page %zu item %zu is out of bounds", origin,
                           pgno, i);
      const unsigned char *item = pg + off;
      _cleanup_free_ unsigned char *blob = NULL;
      size_t blen = 0;
      if (item[0] == H_OFFPAGE) {
        if (off + 12 > d.pagesize)
          return brick_error(err, 0, "%s: BerkeleyDB page %zu item %zu truncated", origin, pgno,
                             i);
        uint32_t ovpg = bdb32(&d, item + 4), tlen = bdb32(&d, item + 8);
        if (tlen > len)
          return brick_error(err, 0, "%s: BerkeleyDB item length %u exceeds the file", origin,
                             tlen);
        if (bdb_overflow(&d, ovpg, tlen, &blob, origin, err) < 0)
          return -1;
        blen = tlen;
      } else if (item[0] == H_KEYDATA) {
        blen = prev - off - 1;
        blob = xmalloc(blen ? blen : 1);
        memcpy(blob, item + 1, blen);
      } else {
        continue;
      }
      if (blen < 16) /* the record counter kept under key 0 */
        continue;
      if (brick_rpm_parse_header(blob, blen, origin, inv, err) < 0)
        return -1;
    }
  }
  return 0;
}

/* ---- ndb (rpm >= 4.16 Packages.db, little-endian) ---------------------------------- */

#define NDB_MAGIC ('R' | 'p' << 8 | 'm' << 16 | (uint32_t)'P' << 24)
#define NDB_SLOT_MAGIC ('S' | 'l' << 8 | 'o' << 16 | (uint32_t)'t' << 24)
#define NDB_BLOB_MAGIC ('B' | 'l' << 8 | 'b' << 16 | (uint32_t)'S' << 24)
enum { NDB_PAGE = 4096, NDB_SLOT = 16, NDB_BLK = 16, NDB_HEADER = 32 };

int brick_rpm_parse_ndb(const unsigned char *buf, size_t len, const char *origin,
                        struct brick_inventory *inv, brick_err *err) {
  if (len < NDB_HEADER || le32(buf) != NDB_MAGIC)
    return brick_error(err, 0, "%s: not an rpm ndb database", origin);
  uint32_t version = le32(buf + 4), slot_pages = le32(buf + 12);
  if (version != 0)
    return brick_error(err, 0, "%s: ndb version %u is not supported", origin, version);
  size_t slot_bytes = (size_t)slot_pages * NDB_PAGE;
  if (slot_pages == 0 || slot_bytes > len)
    return brick_error(err, 0, "%s: ndb slot table of %u pages exceeds the file", origin,
                       slot_pages);
  for (size_t off = NDB_HEADER; off + NDB_SLOT <= slot_bytes; off += NDB_SLOT) {
    const unsigned char *slot = buf + off;
    if (le32(slot) != NDB_SLOT_MAGIC)
      return brick_error(err, 0, "%s: ndb slot at offset %zu is corrupt", origin, off);
    uint32_t pkgidx = le32(slot + 4), blkoff = le32(slot + 8), blkcnt = le32(slot + 12);
    if (pkgidx == 0)
      continue;
    size_t start = (size_t)blkoff * NDB_BLK, size = (size_t)blkcnt * NDB_BLK;
    if (start + size > len || size < 16)
      return brick_error(err, 0, "%s: ndb package %u lies outside the file", origin, pkgidx);
    const unsigned char *b = buf + start;
    if (le32(b) != NDB_BLOB_MAGIC || le32(b + 4) != pkgidx)
      return brick_error(err, 0, "%s: ndb blob of package %u is corrupt", origin, pkgidx);
    uint32_t bloblen = le32(b + 12);
    if ((size_t)bloblen + 16 > size)
      return brick_error(err, 0, "%s: ndb blob of package %u overruns its blocks", origin,
                         pkgidx);
    if (brick_rpm_parse_header(b + 16, bloblen, origin, inv, err) < 0)
      return -1;
  }
  return 0;
}
