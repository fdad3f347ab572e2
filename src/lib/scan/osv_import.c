/* The OSV index: records (from a directory, a zip, a JSON document or JSON lines) kept in
 * SQLite, one row per record and one per (ecosystem, package) it affects, indexed for
 * the look-up a scan makes. A record replaces a stored one only when its `modified`
 * time is newer. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/util.h"
#include "scan/scan_internal.h"

struct brick_vulndb {
  sqlite3 *db;
  char *path;
  sqlite3_stmt *get_modified, *del_vuln, *del_affected, *ins_vuln, *ins_affected;
  sqlite3_stmt *scan[SCAN_STMT_COUNT];
  struct scan_memo *memo;
  bool record_copies;   /* affected rows carry their record's summary and aliases */
};

/* Both tables are clustered on what a scan looks up (WITHOUT ROWID): a package's
 * advisory rows are one contiguous b-tree range and a record one seek, instead of an
 * index entry plus a table seek per row. Each affected row also carries its record's
 * summary and aliases (meta layout=2), so a scan reads one range per package and no
 * records at all. Indexes written by older versions (rowid tables with an affected_pkg
 * index, no copies) are still read, only slower. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS vulns(id TEXT PRIMARY KEY, modified REAL NOT NULL,"
    "  modified_text TEXT, summary TEXT, aliases TEXT) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS affected(ecosystem TEXT NOT NULL, package TEXT NOT NULL,"
    "  vuln_id TEXT NOT NULL, seq INTEGER NOT NULL, ranges TEXT, versions TEXT,"
    "  severity INTEGER NOT NULL, score REAL NOT NULL, introduced TEXT, fixed TEXT,"
    "  last_affected TEXT, summary TEXT, aliases TEXT,"
    "  PRIMARY KEY(ecosystem, package, vuln_id, seq)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS affected_vuln ON affected(vuln_id);";

static int db_err(struct brick_vulndb *d, brick_err *err, const char *what) {
  return brick_error(err, 0, "%s: %s: %s", d->path, what, sqlite3_errmsg(d->db));
}

void brick_vulndb_close(struct brick_vulndb *d) {
  if (!d)
    return;
  sqlite3_finalize(d->get_modified);
  sqlite3_finalize(d->del_vuln);
  sqlite3_finalize(d->del_affected);
  sqlite3_finalize(d->ins_vuln);
  sqlite3_finalize(d->ins_affected);
  for (size_t i = 0; i < ARRAY_SIZE(d->scan); i++)
    sqlite3_finalize(d->scan[i]);
  scan_memo_free(d->memo);
  sqlite3_close(d->db);
  free(d->path);
  free(d);
}

sqlite3 *scan_vulndb_handle(struct brick_vulndb *d) { return d->db; }

struct scan_memo **scan_vulndb_memo(struct brick_vulndb *d) { return &d->memo; }

bool scan_vulndb_record_copies(struct brick_vulndb *d) { return d->record_copies; }

sqlite3_stmt *scan_vulndb_stmt(struct brick_vulndb *d, enum scan_stmt which, brick_err *err) {
  static const char *const sql[SCAN_STMT_COUNT] = {
      [SCAN_STMT_AFFECTED] = "SELECT vuln_id, ranges, versions, severity, score, introduced,"
                             " fixed, last_affected, NULL, NULL FROM affected"
                             " WHERE ecosystem = ? AND package = ?",
      [SCAN_STMT_RECORD] = "SELECT summary, aliases FROM vulns WHERE id = ?",
  };
  static const char affected_copies[] =
      "SELECT vuln_id, ranges, versions, severity, score, introduced, fixed, last_affected,"
      " summary, aliases FROM affected WHERE ecosystem = ? AND package = ?";
  const char *text =
      which == SCAN_STMT_AFFECTED && d->record_copies ? affected_copies : sql[which];
  if (!d->scan[which] &&
      sqlite3_prepare_v3(d->db, text, -1, SQLITE_PREPARE_PERSISTENT, &d->scan[which],
                         NULL) != SQLITE_OK) {
    db_err(d, err, "prepare");
    return NULL;
  }
  return d->scan[which];
}

int brick_vulndb_open(const char *path, bool create, struct brick_vulndb **out, brick_err *err) {
  struct brick_vulndb *d = xcalloc(1, sizeof *d);
  d->path = xstrdup(path);
  int flags = create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  if (!create && access(path, R_OK) < 0) {
    int r = brick_errno(err, "vulnerability database %s (run `brick db import` first)", path);
    brick_vulndb_close(d);
    return r;
  }
  if (sqlite3_open_v2(path, &d->db, flags | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
    int r = db_err(d, err, "open");
    brick_vulndb_close(d);
    return r;
  }
  sqlite3_busy_timeout(d->db, 5000);
  /* reads through a mapping: a scan touches many index pages, and pread per page is the
   * dominant cost otherwise. A scan only reads (query_only guards that). */
  sqlite3_exec(d->db,
               create ? "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536"
                      : "PRAGMA mmap_size=1073741824; PRAGMA temp_store=MEMORY;"
                        " PRAGMA query_only=1",
               NULL, NULL, NULL);
  if (create) {
    char *msg = NULL;
    sqlite3_stmt *st = NULL;
    bool fresh = false;
    if (sqlite3_prepare_v2(d->db,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'affected'",
                           -1, &st, NULL) == SQLITE_OK)
      fresh = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (sqlite3_exec(d->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_exec(d->db, schema, NULL, NULL, &msg) != SQLITE_OK ||
        (fresh && sqlite3_exec(d->db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('layout', '2')",
                               NULL, NULL, &msg) != SQLITE_OK)) {
      int r = brick_error(err, 0, "%s: schema: %s", path, msg ? msg : sqlite3_errmsg(d->db));
      sqlite3_free(msg);
      brick_vulndb_close(d);
      return r;
    }
    /* indexes written before the range columns existed gain them (empty = use JSON) */
    static const char *const added[] = {"introduced", "fixed", "last_affected", "seq",
                                        "summary", "aliases"};
    for (size_t i = 0; i < ARRAY_SIZE(added); i++) {
      _cleanup_free_ char *sql = xasprintf("ALTER TABLE affected ADD COLUMN %s TEXT", added[i]);
      sqlite3_exec(d->db, sql, NULL, NULL, NULL); /* fails harmlessly when present */
    }
  } else {
    /* One read snapshot for the handle's life: every look-up of a scan (and the memo
     * built from them) sees the same index even while an import commits. */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(d->db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
      rc = sqlite3_prepare_v2(d->db, "SELECT 1 FROM affected LIMIT 1", -1, &st, NULL);
      if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ERROR)
        rc = SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
      int r = brick_error(err, 0, "%s: not a brick vulnerability database: %s", path,
                          sqlite3_errmsg(d->db));
      brick_vulndb_close(d);
      return r;
    }
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(d->db, "SELECT value FROM meta WHERE key = 'layout'", -1, &st, NULL) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(st, 0);
    d->record_copies = v && !strcmp(v, "2");
  }
  sqlite3_finalize(st);
  *out = d;
  return 0;
}

size_t brick_vulndb_count(struct brick_vulndb *d) {
  sqlite3_stmt *st = NULL;
  size_t n = 0;
  if (sqlite3_prepare_v2(d->db, "SELECT count(*) FROM vulns", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = (size_t)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static bool is_major(const char *s) {
  return *s >= '0' && *s <= '9';
}

/* The first ':'-separated component of rest that starts with a version number, or NULL. */
static const char *first_version_component(const char *rest) {
  for (const char *p = rest; *p;) {
    if (is_major(p))
      return p;
    const char *c = strchr(p, ':');
    if (!c)
      return NULL;
    p = c + 1;
  }
  return NULL;
}

char *brick_osv_ecosystem_key(const char *eco) {
  if (!eco)
    return NULL;
  const char *colon = strchr(eco, ':');
  if (!colon || !colon[1])
    return NULL;
  size_t plen = (size_t)(colon - eco);
  const char *rest = colon + 1;
  if ((plen == 6 && !strncmp(eco, "Debian", 6)) || (plen == 6 && !strncmp(eco, "Alpine", 6)) ||
      (plen == 9 && !strncmp(eco, "AlmaLinux", 9)) ||
      (plen == 11 && !strncmp(eco, "Rocky Linux", 11))) {
    size_t n = strcspn(rest, ":");
    return xasprintf("%.*s:%.*s", (int)plen, eco, (int)n, rest);
  }
  if (plen == 6 && !strncmp(eco, "Ubuntu", 6)) {
    /* Ubuntu:22.04:LTS, Ubuntu:Pro:18.04:LTS, Ubuntu:Pro:FIPS:20.04:LTS -> Ubuntu:NN.NN */
    const char *p = first_version_component(rest);
    return p ? xasprintf("Ubuntu:%.*s", (int)strcspn(p, ":"), p) : NULL;
  }
  if (plen == 7 && !strncmp(eco, "Red Hat", 7)) {
    /* Red Hat:enterprise_linux:9::appstream -> Red Hat:9 */
    const char *p = first_version_component(rest);
    return p ? xasprintf("Red Hat:%.*s", (int)strspn(p, "0123456789"), p) : NULL;
  }
  return NULL;
}

/* RFC 3339 to seconds (fraction kept), -1 when malformed. */
static double parse_time(const char *s) {
  if (!s)
    return -1;
  struct tm tm = {0};
  const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p)
    return -1;
  double t = (double)timegm(&tm);
  if (*p == '.') {
    double scale = 0.1;
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
      t += (*p - '0') * scale;
  }
  if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
    int sign = *p == '+' ? -1 : 1;
    int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
    t += sign * (hh * 3600 + mm * 60);
  }
  return t;
}

/* The severity an `affected` entry carries: CVSS v3 vector (affected's or the record's)
 * first, then the vendor's words. */
static enum brick_severity affected_severity(json_t *record, json_t *aff, double *score) {
  json_t *lists[2] = {json_object_get(aff, "severity"), json_object_get(record, "severity")};
  *score = -1;
  for (int l = 0; l < 2; l++) {
    size_t i;
    json_t *s;
    json_array_foreach(lists[l], i, s) {
      const char *type = json_string_value(json_object_get(s, "type"));
      const char *vec = json_string_value(json_object_get(s, "score"));
      if (type && vec && !strcmp(type, "CVSS_V3")) {
        double sc = brick_cvss3_base_score(vec);
        if (sc >= 0) {
          *score = sc;
          return brick_severity_from_score(sc);
        }
      }
    }
  }
  const char *words[] = {
      json_string_value(json_object_get(json_object_get(aff, "ecosystem_specific"), "severity")),
      json_string_value(json_object_get(json_object_get(aff, "ecosystem_specific"), "urgency")),
      json_string_value(json_object_get(json_object_get(aff, "database_specific"), "severity")),
      json_string_value(json_object_get(json_object_get(record, "database_specific"), "severity")),
  };
  for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
    enum brick_severity s = brick_severity_parse(words[i]);
    if (s != BRICK_SEV_UNKNOWN)
      return s;
  }
  return BRICK_SEV_UNKNOWN;
}

/* Most OS advisories are one ECOSYSTEM range "introduced X, then fixed or last_affected
 * Y" and nothing else; those are stored as columns so a scan compares versions without
 * parsing JSON. Anything else keeps the JSON and goes through the full evaluation. */
static bool simple_range(json_t *aff, const char **intro, const char **fixed,
                         const char **last) {
  json_t *ranges = json_object_get(aff, "ranges");
  *intro = *fixed = *last = NULL;
  if (json_array_size(json_object_get(aff, "versions")) || json_array_size(ranges) != 1)
    return false;
  json_t *r = json_array_get(ranges, 0);
  const char *type = json_string_value(json_object_get(r, "type"));
  json_t *events = json_object_get(r, "events");
  if (!type || strcmp(type, "ECOSYSTEM") || json_array_size(events) < 1 ||
      json_array_size(events) > 2 || json_object_size(r) > 3)
    return false;
  size_t i;
  json_t *e;
  json_array_foreach(events, i, e) {
    if (json_object_size(e) != 1)
      return false;
    const char *v;
    if ((v = json_string_value(json_object_get(e, "introduced"))) && i == 0)
      *intro = v;
    else if ((v = json_string_value(json_object_get(e, "fixed"))) && i == 1)
      *fixed = v;
    else if ((v = json_string_value(json_object_get(e, "last_affected"))) && i == 1)
      *last = v;
    else
      return false;
  }
  return *intro != NULL;
}

static int prepare(struct brick_vulndb *d, brick_err *err) {
  if (d->ins_affected)
    return 0;
  if (sqlite3_prepare_v2(d->db, "SELECT modified FROM vulns WHERE id = ?", -1, &d->get_modified,
                         NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(d->db, "DELETE FROM vulns WHERE id = ?", -1, &d->del_vuln, NULL) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(d->db, "DELETE FROM affected WHERE vuln_id = ?", -1, &d->del_affected,
                         NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(d->db,
                         "INSERT INTO vulns(id, modified, modified_text, summary, aliases)"
                         " VALUES (?, ?, ?, ?, ?)",
                         -1, &d->ins_vuln, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(d->db,
                         "INSERT INTO affected(vuln_id, ecosystem, package, ranges, versions,"
                         " severity, score, introduced, fixed, last_affected, seq, summary,"
                         " aliases) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         -1, &d->ins_affected, NULL) != SQLITE_OK)
    return db_err(d, err, "prepare");
  return 0;
}

static int step_done(struct brick_vulndb *d, sqlite3_stmt *st, brick_err *err) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE)
    return db_err(d, err, "write");
  return 0;
}

static void bind_json(sqlite3_stmt *st, int i, json_t *j) {
  if (!j) {
    sqlite3_bind_null(st, i);
    return;
  }
  char *s = json_dumps(j, JSON_COMPACT);
  sqlite3_bind_text(st, i, s, -1, free);
}

int brick_vulndb_import_record(struct brick_vulndb *d, json_t *rec, const char *origin,
                               struct brick_import_stats *stats, brick_err *err) {
  if (prepare(d, err) < 0)
    return -1;
  /* what was looked up before may change now */
  scan_memo_free(d->memo);
  d->memo = NULL;
  stats->records++;
  const char *id = json_string_value(json_object_get(rec, "id"));
  if (!json_is_object(rec) || !id || !*id)
    return brick_error(err, 0, "%s: not an OSV record (no \"id\")", origin);
  const char *mod_text = json_string_value(json_object_get(rec, "modified"));
  double modified = parse_time(mod_text);
  if (modified < 0)
    return brick_error(err, 0, "%s: %s: \"modified\" is not an RFC 3339 time", origin, id);
  json_t *affected = json_object_get(rec, "affected");
  if (affected && !json_is_array(affected))
    return brick_error(err, 0, "%s: %s: \"affected\" is not an array", origin, id);

  sqlite3_bind_text(d->get_modified, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(d->get_modified);
  bool exists = rc == SQLITE_ROW;
  double old = exists ? sqlite3_column_double(d->get_modified, 0) : 0;
  sqlite3_reset(d->get_modified);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_err(d, err, "read");
  if (exists && old >= modified) {
    stats->skipped++;
    return 0;
  }

  /* Check every affected entry before writing anything. */
  size_t i;
  json_t *aff;
  size_t supported = 0;
  json_array_foreach(affected, i, aff) {
    json_t *pkg = json_object_get(aff, "package");
    const char *eco = json_string_value(json_object_get(pkg, "ecosystem"));
    const char *name = json_string_value(json_object_get(pkg, "name"));
    if (!eco || !name)
      continue;
    json_t *ranges = json_object_get(aff, "ranges"), *versions = json_object_get(aff, "versions");
    if ((ranges && !json_is_array(ranges)) || (versions && !json_is_array(versions)))
      return brick_error(err, 0, "%s: %s: affected[%zu]: ranges/versions must be arrays",
                         origin, id, i);
    _cleanup_free_ char *key = brick_osv_ecosystem_key(eco);
    if (key)
      supported++;
  }
  if (exists) {
    sqlite3_bind_text(d->del_vuln, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(d->del_affected, 1, id, -1, SQLITE_STATIC);
    if (step_done(d, d->del_vuln, err) < 0 || step_done(d, d->del_affected, err) < 0)
      return -1;
  }
  if (!supported) {
    stats->skipped++;
    return 0;
  }
  sqlite3_bind_text(d->ins_vuln, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_double(d->ins_vuln, 2, modified);
  sqlite3_bind_text(d->ins_vuln, 3, mod_text, -1, SQLITE_STATIC);
  const char *summary = json_string_value(json_object_get(rec, "summary"));
  if (!summary)
    summary = json_string_value(json_object_get(rec, "details"));
  sqlite3_bind_text(d->ins_vuln, 4, summary, -1, SQLITE_STATIC);
  _cleanup_free_ char *aliases = NULL;
  if (json_object_get(rec, "aliases"))
    aliases = json_dumps(json_object_get(rec, "aliases"), JSON_COMPACT);
  sqlite3_bind_text(d->ins_vuln, 5, aliases, -1, SQLITE_STATIC);
  if (step_done(d, d->ins_vuln, err) < 0)
    return -1;
  json_array_foreach(affected, i, aff) {
    json_t *pkg = json_object_get(aff, "package");
    const char *name = json_string_value(json_object_get(pkg, "name"));
    _cleanup_free_ char *key =
        brick_osv_ecosystem_key(json_string_value(json_object_get(pkg, "ecosystem")));
    if (!key || !name)
      continue;
    double score;
    enum brick_severity sev = affected_severity(rec, aff, &score);
    sqlite3_bind_text(d->ins_affected, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(d->ins_affected, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(d->ins_affected, 3, name, -1, SQLITE_STATIC);
    const char *intro, *fixed, *last;
    if (simple_range(aff, &intro, &fixed, &last)) {
      sqlite3_bind_text(d->ins_affected, 8, intro, -1, SQLITE_STATIC);
      sqlite3_bind_text(d->ins_affected, 9, fixed, -1, SQLITE_STATIC);
      sqlite3_bind_text(d->ins_affected, 10, last, -1, SQLITE_STATIC);
    } else {
      bind_json(d->ins_affected, 4, json_object_get(aff, "ranges"));
      bind_json(d->ins_affected, 5, json_object_get(aff, "versions"));
    }
    sqlite3_bind_int(d->ins_affected, 6, (int)sev);
    sqlite3_bind_double(d->ins_affected, 7, score);
    sqlite3_bind_int64(d->ins_affected, 11, (sqlite3_int64)i);
    sqlite3_bind_text(d->ins_affected, 12, summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(d->ins_affected, 13, aliases, -1, SQLITE_STATIC);
    if (step_done(d, d->ins_affected, err) < 0)
      return -1;
  }
  stats->stored++;
  return 0;
}

struct import_ctx {
  struct brick_vulndb *db;
  struct brick_import_stats *stats;
  brick_progress_fn progress;
  void *pctx;
  size_t done, total;
};

static void tick(struct import_ctx *c, size_t bytes) {
  c->done += bytes;
  if (c->progress)
    c->progress(c->pctx, c->done, c->total);
}

/* A buffer holding one JSON object, an array of them, or JSON lines. */
static int import_buffer(struct import_ctx *c, const char *buf, size_t len, const char *origin,
                         brick_err *err) {
  size_t off = 0, n = 0;
  while (off < len) {
    while (off < len && (buf[off] == ' ' || buf[off] == '\n' || buf[off] == '\r' ||
                         buf[off] == '\t'))
      off++;
    if (off >= len)
      break;
    json_error_t je;
    json_t *j = json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK, &je);
    if (!j)
      return brick_error(err, 0, "%s: line %d, column %d: %s", origin,
                         je.line, je.column, je.text);
    _cleanup_json_ json_t *doc = j;
    int r = 0;
    if (json_is_array(doc)) {
      size_t i;
      json_t *rec;
      json_array_foreach(doc, i, rec) {
        _cleanup_free_ char *where = xasprintf("%s[%zu]", origin, i);
        if ((r = brick_vulndb_import_record(c->db, rec, where, c->stats, err)) < 0)
          break;
      }
    } else {
      _cleanup_free_ char *where = n ? xasprintf("%s (record %zu)", origin, n + 1)
                                     : xstrdup(origin);
      r = brick_vulndb_import_record(c->db, doc, where, c->stats, err);
    }
    if (r < 0)
      return -1;
    n++;
    size_t before = off;
    off += je.position;
    c->done += off - before;
    if (c->progress && (n % 512) == 0)
      c->progress(c->pctx, c->done, c->total);
  }
  return 0;
}

static int import_file(struct import_ctx *c, const char *path, brick_err *err) {
  _cleanup_free_ char *buf = NULL;
  size_t len;
  if (brick_read_file(path, &buf, &len, err) < 0)
    return -1;
  return import_buffer(c, buf, len, path, err);
}

static int import_zip(struct import_ctx *c, const char *path, brick_err *err) {
  struct archive *a = archive_read_new();
  archive_read_support_format_zip(a);
  if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
    int r = brick_error(err, 0, "%s: %s", path, archive_error_string(a));
    archive_read_free(a);
    return r;
  }
  struct archive_entry *e;
  int rc = 0, ar;
  la_int64_t last = 0;
  while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
    const char *name = archive_entry_pathname(e);
    size_t nl = strlen(name);
    if (archive_entry_filetype(e) != AE_IFREG || nl < 5 || strcmp(name + nl - 5, ".json"))
      continue;
    la_int64_t size = archive_entry_size(e);
    if (size < 0 || size > (64 << 20)) {
      rc = brick_error(err, EFBIG, "%s: %s: entry size not acceptable", path, name);
      break;
    }
    _cleanup_free_ char *buf = xmalloc((size_t)size + 1);
    if (archive_read_data(a, buf, (size_t)size) != size) {
      rc = brick_error(err, 0, "%s: %s: %s", path, name, archive_error_string(a));
      break;
    }
    _cleanup_free_ char *origin = xasprintf("%s: %s", path, name);
    size_t done_before = c->done;
    if (import_buffer(c, buf, (size_t)size, origin, err) < 0) {
      rc = -1;
      break;
    }
    c->done = done_before;
    la_int64_t pos = archive_filter_bytes(a, -1);
    tick(c, (size_t)(pos - last));
    last = pos;
  }
  if (rc == 0 && ar != ARCHIVE_EOF)
    rc = brick_error(err, 0, "%s: %s", path, archive_error_string(a));
  archive_read_free(a);
  return rc;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int import_dir(struct import_ctx *c, const char *path, brick_err *err) {
  DIR *d = opendir(path);
  if (!d)
    return brick_errno(err, "open %s", path);
  _cleanup_strv_ char **names = NULL;
  struct dirent *de;
  while ((de = readdir(d)))
    if (de->d_name[0] != '.')
      brick_strv_push(&names, de->d_name);
  closedir(d);
  size_t n = brick_strv_len(names);
  if (n)
    qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *p = xasprintf("%s/%s", path, names[i]);
    struct stat st;
    if (stat(p, &st) < 0)
      return brick_errno(err, "stat %s", p);
    size_t nl = strlen(names[i]);
    if (S_ISDIR(st.st_mode)) {
      if (import_dir(c, p, err) < 0)
        return -1;
    } else if (S_ISREG(st.st_mode) && nl > 5 && !strcmp(names[i] + nl - 5, ".json")) {
      size_t before = c->done;
      if (import_file(c, p, err) < 0)
        return -1;
      c->done = before;
      tick(c, (size_t)st.st_size);
    }
  }
  return 0;
}

static size_t tree_size(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0)
    return 0;
  if (!S_ISDIR(st.st_mode))
    return (size_t)st.st_size;
  DIR *d = opendir(path);
  if (!d)
    return 0;
  size_t total = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *p = xasprintf("%s/%s", path, de->d_name);
    total += tree_size(p);
  }
  closedir(d);
  return total;
}

int brick_vulndb_import(struct brick_vulndb *d, char *const *sources, size_t n,
                        brick_progress_fn progress, void *pctx,
                        struct brick_import_stats *stats, brick_err *err) {
  struct import_ctx c = {d, stats, progress, pctx, 0, 0};
  memset(stats, 0, sizeof *stats);
  if (progress)
    for (size_t i = 0; i < n; i++)
      c.total += tree_size(sources[i]);
  if (sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return db_err(d, err, "begin");
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    struct stat st;
    if (stat(sources[i], &st) < 0) {
      rc = brick_errno(err, "%s", sources[i]);
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      rc = import_dir(&c, sources[i], err);
      continue;
    }
    char magic[4] = {0};
    _cleanup_close_ int fd = open(sources[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      rc = brick_errno(err, "open %s", sources[i]);
      break;
    }
    ssize_t got = read(fd, magic, sizeof magic);
    if (got < 0) {
      rc = brick_errno(err, "read %s", sources[i]);
      break;
    }
    size_t before = c.done;
    if (got == 4 && !memcmp(magic, "PK\3\4", 4))
      rc = import_zip(&c, sources[i], err);
    else
      rc = import_file(&c, sources[i], err);
    c.done = before;
    tick(&c, (size_t)st.st_size);
  }
  if (rc == 0) {
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(d->db,
                           "INSERT OR REPLACE INTO meta(key, value) VALUES ('updated_at', ?)",
                           -1, &st, NULL) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
      sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      rc = db_err(d, err, "commit");
  }
  if (rc < 0)
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}
