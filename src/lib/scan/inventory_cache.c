/* The per-image inventory cache in <store>/scan/inventory.sqlite: one row per package,
 * read back with one prepared statement. `scan --all` loads every image's inventory, and
 * parsing a JSON document of hundreds of packages per image was most of its time. */
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "scan/scan_internal.h"

static const char cache_schema[] =
    "CREATE TABLE IF NOT EXISTS images(id TEXT PRIMARY KEY, os_id TEXT, version_id TEXT,"
    "  pretty_name TEXT, ecosystem TEXT) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS packages(image_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  name TEXT NOT NULL, version TEXT NOT NULL, kind INTEGER NOT NULL, arch TEXT,"
    "  source TEXT, source_version TEXT, layer INTEGER NOT NULL, layer_digest TEXT,"
    "  PRIMARY KEY(image_id, seq)) WITHOUT ROWID;";

static int cache_err(sqlite3 *db, const char *path, brick_err *err) {
  return brick_error(err, 0, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
}

/* A missing cache (reading) is ENOENT. */
static int cache_open(const char *store, bool write, sqlite3 **out, brick_err *err) {
  _cleanup_free_ char *dir = xasprintf("%s/scan", store);
  _cleanup_free_ char *path = xasprintf("%s/inventory.sqlite", dir);
  if (write && brick_mkdir_p(dir, 0700, err) < 0)
    return -1;
  if (!write && access(path, F_OK) < 0)
    return brick_errno(err, "%s", path);
  sqlite3 *db = NULL;
  int flags = write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
    int r = cache_err(db, path, err);
    sqlite3_close(db);
    return r;
  }
  sqlite3_busy_timeout(db, 5000);
  if (write && (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL,
                             NULL, NULL) != SQLITE_OK ||
                sqlite3_exec(db, cache_schema, NULL, NULL, NULL) != SQLITE_OK)) {
    int r = cache_err(db, path, err);
    sqlite3_close(db);
    return r;
  }
  *out = db;
  return 0;
}

/* "sha256:HEX" and "HEX" name the same image */
static const char *cache_key(const char *image_id) {
  return brick_str_has_prefix(image_id, "sha256:") ? image_id + 7 : image_id;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s) {
  if (s)
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

int scan_inventory_cache_save(const char *store, const char *image_id,
                              const struct brick_inventory *inv, brick_err *err) {
  const char *key = cache_key(image_id);
  sqlite3 *db = NULL;
  if (cache_open(store, true, &db, err) < 0)
    return -1;
  sqlite3_stmt *img = NULL, *del = NULL, *pkg = NULL;
  int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?, ?)", -1,
                            &img, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, "DELETE FROM packages WHERE image_id = ?", -1, &del, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, "INSERT INTO packages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            -1, &pkg, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(img, 1, key, -1, SQLITE_STATIC);
    bind_opt(img, 2, inv->os.id);
    bind_opt(img, 3, inv->os.version_id);
    bind_opt(img, 4, inv->os.pretty_name);
    bind_opt(img, 5, inv->os.ecosystem);
    rc = sqlite3_step(img) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
  }
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(del, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(del) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
  }
  for (size_t i = 0; rc == SQLITE_OK && i < inv->n_pkgs; i++) {
    const struct brick_package *p = &inv->pkgs[i];
    sqlite3_bind_text(pkg, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(pkg, 2, (sqlite3_int64)i);
    sqlite3_bind_text(pkg, 3, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(pkg, 4, p->version, -1, SQLITE_STATIC);
    sqlite3_bind_int(pkg, 5, (int)p->kind);
    bind_opt(pkg, 6, p->arch);
    bind_opt(pkg, 7, p->source);
    bind_opt(pkg, 8, p->source_version);
    sqlite3_bind_int(pkg, 9, p->layer);
    bind_opt(pkg, 10, p->layer_digest);
    rc = sqlite3_step(pkg) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_reset(pkg);
  }
  if (rc == SQLITE_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    rc = SQLITE_ERROR;
  int r = rc == SQLITE_OK ? 0 : brick_error(err, 0, "scan cache of %s: %s", image_id,
                                            sqlite3_errmsg(db));
  if (rc != SQLITE_OK)
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_finalize(img);
  sqlite3_finalize(del);
  sqlite3_finalize(pkg);
  sqlite3_close(db);
  return r;
}

static const char *text(sqlite3_stmt *st, int i) {
  return (const char *)sqlite3_column_text(st, i);
}

static char *dup_text(sqlite3_stmt *st, int i) {
  const char *t = text(st, i);
  return t && *t ? xstrdup(t) : NULL;
}

int scan_inventory_cache_load(const char *store, const char *image_id,
                              struct brick_inventory *inv, brick_err *err) {
  const char *key = cache_key(image_id);
  sqlite3 *db = NULL;
  if (cache_open(store, false, &db, err) < 0)
    return -1;
  sqlite3_stmt *img = NULL, *pkg = NULL;
  int r = 0;
  if (sqlite3_prepare_v2(db, "SELECT os_id, version_id, pretty_name, ecosystem FROM images"
                             " WHERE id = ?", -1, &img, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT name, version, kind, arch, source, source_version, layer,"
                             " layer_digest FROM packages WHERE image_id = ? ORDER BY seq",
                         -1, &pkg, NULL) != SQLITE_OK) {
    r = brick_error(err, 0, "scan cache: %s", sqlite3_errmsg(db));
    goto out;
  }
  sqlite3_bind_text(img, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(img);
  if (rc != SQLITE_ROW) {
    r = rc == SQLITE_DONE ? brick_error(err, ENOENT, "image %s: no cached inventory", image_id)
                          : brick_error(err, 0, "scan cache: %s", sqlite3_errmsg(db));
    goto out;
  }
  inv->os.id = dup_text(img, 0);
  inv->os.version_id = dup_text(img, 1);
  inv->os.pretty_name = dup_text(img, 2);
  inv->os.ecosystem = dup_text(img, 3);
  sqlite3_bind_text(pkg, 1, key, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(pkg)) == SQLITE_ROW) {
    int kind = sqlite3_column_int(pkg, 2);
    if (!text(pkg, 0) || !text(pkg, 1) || kind < BRICK_PKG_DPKG || kind > BRICK_PKG_APK) {
      rc = SQLITE_CORRUPT;
      break;
    }
    struct brick_package *p = brick_inventory_add(inv, (enum brick_pkg_kind)kind, text(pkg, 0),
                                                  text(pkg, 1), text(pkg, 3), text(pkg, 4),
                                                  text(pkg, 5));
    p->layer = sqlite3_column_int(pkg, 6);
    p->layer_digest = dup_text(pkg, 7);
  }
  if (rc != SQLITE_DONE) {
    r = brick_error(err, 0, "scan cache of %s: %s", image_id,
                    rc == SQLITE_CORRUPT ? "malformed package row" : sqlite3_errmsg(db));
    brick_inventory_free(inv);
  }
out:
  sqlite3_finalize(img);
  sqlite3_finalize(pkg);
  sqlite3_close(db);
  return r;
}
