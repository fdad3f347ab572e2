/* Shared between the scan module's files; not part of the public API. */
#ifndef BRICK_SCAN_INTERNAL_H
#define BRICK_SCAN_INTERNAL_H

#include "scan/scan.h"

/* Where package database files come from: a rootfs (read inside it) or the merged state
 * of image layers held in memory. read() fails with err->errnum == ENOENT when absent. */
struct db_source {
  int (*read)(void *ctx, const char *path, char **buf, size_t *len, brick_err *err);
  /* Names of the regular files directly inside dir (NULL-terminated, may be NULL). */
  char **(*list)(void *ctx, const char *dir);
  void *ctx;
};

/* True for the rootfs-relative paths the inventory reads (so layers keep only those). */
bool scan_is_db_path(const char *path);
int scan_inventory_from_source(const struct db_source *src, struct brick_inventory *inv,
                               brick_err *err);

struct sqlite3;
struct sqlite3_stmt;
struct sqlite3 *scan_vulndb_handle(struct brick_vulndb *d);

/* The statements a scan runs, prepared once per open database (reset after use):
 * AFFECTED binds (ecosystem, package) and yields vuln_id, ranges, versions, severity,
 * score, introduced, fixed, last_affected, summary, aliases (the last two NULL unless
 * scan_vulndb_record_copies); RECORD binds a vuln id and yields summary, aliases. */
enum scan_stmt { SCAN_STMT_AFFECTED, SCAN_STMT_RECORD, SCAN_STMT_COUNT };
bool scan_vulndb_record_copies(struct brick_vulndb *d);
struct sqlite3_stmt *scan_vulndb_stmt(struct brick_vulndb *d, enum scan_stmt which,
                                      brick_err *err);

/* inventory_cache.c: inventories by image id in <store>/scan/inventory.sqlite; loading
 * an image not in it fails with ENOENT. */
int scan_inventory_cache_save(const char *store, const char *image_id,
                              const struct brick_inventory *inv, brick_err *err);
int scan_inventory_cache_load(const char *store, const char *image_id,
                              struct brick_inventory *inv, brick_err *err);

/* arena.c: bump allocation, freed all at once (align: a power of two). */
void *scan_arena_alloc(struct brick_arena **a, size_t n, size_t align);
char *scan_arena_strndup(struct brick_arena **a, const char *s, size_t n);
char *scan_arena_strdup(struct brick_arena **a, const char *s);
void scan_arena_free(struct brick_arena *a);

/* match_memo.c: what a database handle has already looked up, so scanning many targets
 * reads each package's advisories and each record once. The handle keeps one read
 * snapshot for its lifetime, so the memo never goes stale. Strings live as long as the
 * handle. */
struct memo_rec {
  const char *summary;
  const char *aliases_json;   /* parsed on first use by scan_memo_aliases */
  char **aliases;             /* NULL-terminated or NULL */
  bool parsed;
};
struct memo_row {
  const char *id, *ranges, *versions, *intro, *fixed, *last;
  int severity;
  double score;
  struct memo_rec *rec;   /* the record's copies on the row, or NULL */
  size_t seq;             /* position in the index's answer */
};
struct scan_memo;
/* Rows ordered by vuln id (then as the index returned them). */
int scan_memo_rows(struct brick_vulndb *db, const char *eco, const char *name,
                   const struct memo_row **rows, size_t *n, brick_err *err);
int scan_memo_record(struct brick_vulndb *db, const char *id, struct memo_rec **rec,
                     brick_err *err);
char **scan_memo_aliases(struct brick_vulndb *db, struct memo_rec *rec);
void scan_memo_free(struct scan_memo *m);
struct scan_memo **scan_vulndb_memo(struct brick_vulndb *d);

#endif
