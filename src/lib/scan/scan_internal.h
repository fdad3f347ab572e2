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
 * score, introduced, fixed, last_affected; RECORD binds a vuln id and yields summary,
 * aliases. */
enum scan_stmt { SCAN_STMT_AFFECTED, SCAN_STMT_RECORD, SCAN_STMT_COUNT };
struct sqlite3_stmt *scan_vulndb_stmt(struct brick_vulndb *d, enum scan_stmt which,
                                      brick_err *err);

#endif
