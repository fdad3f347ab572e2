/* Vulnerability scanning: package inventory of a root filesystem or of an image's
 * layers, an OSV vulnerability index in SQLite, matching with each ecosystem's own
 * version order, and reports (table, JSON, SARIF, CycloneDX). */
#ifndef BRICK_SCAN_H
#define BRICK_SCAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "core/error.h"

/* ---- version order ------------------------------------------------------------ */

enum brick_pkg_kind { BRICK_PKG_DPKG, BRICK_PKG_RPM, BRICK_PKG_APK };

/* <0, 0, >0 as a sorts before, equal to, after b. */
int brick_vercmp_dpkg(const char *a, const char *b);
/* Full EVR strings ("[E:]V[-R]"), compared as rpm does (rpmvercmp per part). */
int brick_vercmp_rpm(const char *a, const char *b);
/* rpmvercmp on one part (no epoch/release split). */
int brick_rpmvercmp(const char *a, const char *b);
int brick_vercmp_apk(const char *a, const char *b);
int brick_vercmp(enum brick_pkg_kind kind, const char *a, const char *b);
const char *brick_pkg_kind_name(enum brick_pkg_kind kind);
/* "dpkg"/"deb", "rpm", "apk"; -1 when unknown. */
int brick_pkg_kind_parse(const char *s);

/* ---- inventory ---------------------------------------------------------------- */

struct brick_os {
  char *id;               /* os-release ID: debian, ubuntu, alpine, almalinux, rocky, rhel */
  char *version_id;       /* VERSION_ID */
  char *pretty_name;
  char *ecosystem;        /* OSV ecosystem key: "Debian:12", "Alpine:v3.19", ... or NULL */
};

struct brick_package {
  char *name;
  char *version;          /* as the package manager prints it (rpm: [E:]V-R) */
  char *arch;
  char *source;           /* source package (dpkg Source:, rpm SOURCERPM name, apk origin) */
  char *source_version;   /* dpkg "src (version)" form, else NULL */
  enum brick_pkg_kind kind;
  int layer;              /* index of the layer that added it, -1 when unknown */
  char *layer_digest;     /* that layer's digest when known */
};

struct brick_inventory {
  struct brick_os os;
  struct brick_package *pkgs;
  size_t n_pkgs, cap_pkgs;
};

void brick_inventory_free(struct brick_inventory *inv);
/* Appends a package (copies every string; NULLs allowed except name/version). */
struct brick_package *brick_inventory_add(struct brick_inventory *inv, enum brick_pkg_kind kind,
                                          const char *name, const char *version,
                                          const char *arch, const char *source,
                                          const char *source_version);
void brick_inventory_sort(struct brick_inventory *inv);

/* Parsers of each package database's bytes (origin names the file in errors). */
int brick_dpkg_parse_status(const char *buf, size_t len, const char *origin,
                            struct brick_inventory *inv, brick_err *err);
int brick_apk_parse_installed(const char *buf, size_t len, const char *origin,
                              struct brick_inventory *inv, brick_err *err);
/* One rpm header blob as stored in an rpmdb (no lead, no magic). */
int brick_rpm_parse_header(const unsigned char *blob, size_t len, const char *origin,
                           struct brick_inventory *inv, brick_err *err);
int brick_rpm_parse_sqlite(const void *buf, size_t len, const char *origin,
                           struct brick_inventory *inv, brick_err *err);
int brick_rpm_parse_bdb(const unsigned char *buf, size_t len, const char *origin,
                        struct brick_inventory *inv, brick_err *err);
int brick_rpm_parse_ndb(const unsigned char *buf, size_t len, const char *origin,
                        struct brick_inventory *inv, brick_err *err);
/* os-release text into os (fills ecosystem). */
int brick_os_release_parse(const char *buf, struct brick_os *os);
void brick_os_free(struct brick_os *os);
/* The OSV ecosystem key for an os-release ID/VERSION_ID pair, NULL when unsupported. */
char *brick_os_ecosystem(const char *id, const char *version_id, const char *id_like);

/* Read rootfs-relative path without ever leaving the rootfs (openat2 RESOLVE_IN_ROOT).
 * Returns 0, -1 with err; a missing file returns -1 with err->errnum == ENOENT. */
int brick_rootfs_read(int rootfd, const char *path, char **out, size_t *len, brick_err *err);

/* Inventory of an unpacked root filesystem (OS + dpkg + rpm + apk). */
int brick_inventory_rootfs(const char *rootfs, struct brick_inventory *inv, brick_err *err);
/* Layer-aware inventory from the layer tar blobs (any compression libarchive reads), in
 * order, applying whiteouts; digests may be NULL. */
int brick_inventory_layers(char *const *layer_paths, char *const *layer_digests, size_t n,
                           struct brick_inventory *inv, brick_err *err);

json_t *brick_inventory_to_json(const struct brick_inventory *inv);
int brick_inventory_from_json(json_t *j, struct brick_inventory *inv, brick_err *err);

/* ---- severity / CVSS ---------------------------------------------------------- */

enum brick_severity {
  BRICK_SEV_UNKNOWN, BRICK_SEV_NONE, BRICK_SEV_LOW, BRICK_SEV_MEDIUM, BRICK_SEV_HIGH,
  BRICK_SEV_CRITICAL, BRICK_SEV_COUNT
};
const char *brick_severity_name(enum brick_severity s);
/* Case-insensitive: names above plus vendor words (moderate, important, urgency words). */
enum brick_severity brick_severity_parse(const char *s);
enum brick_severity brick_severity_from_score(double score);
/* CVSS v3.0/v3.1 base score of a vector "CVSS:3.1/AV:N/AC:L/...", -1 when malformed. */
double brick_cvss3_base_score(const char *vector);

/* ---- the OSV index -------------------------------------------------------------- */

struct brick_vulndb;
typedef void (*brick_progress_fn)(void *ctx, size_t done, size_t total);

struct brick_import_stats {
  size_t records;      /* records read */
  size_t stored;       /* inserted or replaced */
  size_t skipped;      /* older or equal `modified`, or without supported ecosystems */
};

int brick_vulndb_open(const char *path, bool create, struct brick_vulndb **out, brick_err *err);
void brick_vulndb_close(struct brick_vulndb *db);
/* Import a directory of *.json, a .zip of them, a JSON file (object or array) or JSON
 * lines. One transaction for all sources. */
int brick_vulndb_import(struct brick_vulndb *db, char *const *sources, size_t n,
                        brick_progress_fn progress, void *ctx,
                        struct brick_import_stats *stats, brick_err *err);
/* Import one parsed OSV record (used by import and by tests). */
int brick_vulndb_import_record(struct brick_vulndb *db, json_t *record, const char *origin,
                               struct brick_import_stats *stats, brick_err *err);
/* Normalise an OSV ecosystem string to the key used for look-ups; NULL if unsupported. */
char *brick_osv_ecosystem_key(const char *ecosystem);
size_t brick_vulndb_count(struct brick_vulndb *db);

/* ---- ignore rules ------------------------------------------------------------- */

struct brick_ignore_rule {
  char *id;            /* CVE or advisory id (also matched against aliases) */
  char *package;       /* NULL = any package */
  time_t until;        /* 0 = forever; expired rules do not ignore */
  char *reason;
};
struct brick_ignore {
  struct brick_ignore_rule *rules;
  size_t n;
};
int brick_ignore_load(const char *path, struct brick_ignore *ig, brick_err *err);
int brick_ignore_parse(const char *buf, const char *origin, struct brick_ignore *ig,
                       brick_err *err);
void brick_ignore_free(struct brick_ignore *ig);
/* The rule ignoring (id or one of aliases, package) at time now; NULL if none. */
const struct brick_ignore_rule *brick_ignore_find(const struct brick_ignore *ig,
                                                  const char *id, char *const *aliases,
                                                  const char *pkg, const char *src, time_t now);

/* ---- matching ----------------------------------------------------------------- */

/* A finding's strings belong to its scan result: copies in the result's string arena
 * (brick_scan_result_strdup) or the result's own inventory strings; they are freed with
 * the result, never one by one. */
struct brick_finding {
  char *vuln_id;
  char **aliases;
  char *summary;
  enum brick_severity severity;
  double score;           /* CVSS base score, -1 when none */
  char *pkg_name;         /* installed package (binary) */
  char *pkg_source;       /* the name the advisory used */
  char *installed;
  char *fixed;            /* NULL = no fix available */
  char *layer_digest;
  int layer;
  bool ignored;
  char *ignore_reason;
};

struct brick_scan_result {
  char *target;           /* what was scanned, as the user named it */
  char *image_id;         /* when the target is an image */
  struct brick_inventory inv;
  struct brick_finding *findings;
  size_t n_findings;
  time_t scanned_at;
  struct brick_arena *strings;   /* the findings' strings (see struct brick_finding) */
};

/* A copy of s (NULL for NULL) that lives as long as res. */
char *brick_scan_result_strdup(struct brick_scan_result *res, const char *s);

struct brick_match_opts {
  bool ignore_unfixed;
  const struct brick_ignore *ignore;
  time_t now;             /* for ignore expiry; 0 = time(NULL) */
};

/* Match res->inv against db, filling res->findings (sorted by severity, package, id). */
int brick_scan_match(struct brick_vulndb *db, struct brick_scan_result *res,
                     const struct brick_match_opts *o, brick_err *err);
/* Whether version v of an OSV `affected` entry (ranges + versions JSON) is affected;
 * *fixed gets the fixing version (malloc'd) or NULL. */
bool brick_osv_affected(enum brick_pkg_kind kind, const char *v, json_t *ranges,
                        json_t *versions, char **fixed);
void brick_scan_result_free(struct brick_scan_result *res);
/* Remove findings without a fixed version (--ignore-unfixed, applied after the summary
 * is recorded so the scan gate still sees them). */
void brick_scan_drop_unfixed(struct brick_scan_result *res);

/* ---- summaries (the trust module's scan gate) ------------------------------------ */

struct brick_scan_summary {
  size_t counts[BRICK_SEV_COUNT];   /* unfixed, not ignored findings per severity */
  size_t fixable;                   /* findings with a fix (not ignored) */
  enum brick_severity highest;      /* highest severity among counts, UNKNOWN if none */
  time_t scanned_at;
};
void brick_scan_summarize(const struct brick_scan_result *res, struct brick_scan_summary *out);
/* Stored at <store>/scan/<image_id>.json by brick_scan_cache_save. */
int brick_scan_last_summary(const char *store_dir, const char *image_id,
                            struct brick_scan_summary *out, brick_err *err);
/* Per-image cache (inventory + last summary) in <store>/scan/<image_id>.json. */
int brick_scan_cache_load(const char *store_dir, const char *image_id,
                          struct brick_inventory *inv, brick_err *err);
int brick_scan_cache_save(const char *store_dir, const char *image_id,
                          const struct brick_inventory *inv,
                          const struct brick_scan_summary *summary, brick_err *err);

/* ---- targets (images in the store, containers, the fleet) ------------------------- */

/* Inventory of an image in the store (name or id): the per-image cache when present,
 * else its layers (layer-aware), then cached. Fills res->target, res->image_id, res->inv. */
int brick_scan_load_image(const char *store_dir, const char *name_or_id,
                          struct brick_scan_result *res, brick_err *err);
/* Every image in the store (cached inventories), appended to *res / *n. */
int brick_scan_load_all_images(const char *store_dir, struct brick_scan_result **res,
                               size_t *n, brick_err *err);
/* A container's rootfs from <state_root>/<id>/state.json ("rootfs"). */
int brick_scan_container_rootfs(const char *state_root, const char *id, char **rootfs,
                                 brick_err *err);
/* Ids of containers under state_root that have a state.json (sorted). */
int brick_scan_list_containers(const char *state_root, char ***ids, brick_err *err);

/* ---- reports ------------------------------------------------------------------ */

struct brick_report_opts {
  bool color;
  bool show_ignored;
};
int brick_report_table(FILE *out, const struct brick_scan_result *res, size_t n,
                       const struct brick_report_opts *o, brick_err *err);
json_t *brick_report_json(const struct brick_scan_result *res, size_t n);
/* The same report streamed target by target (begin, add per target, end): the bytes of
 * brick_report_json's document dumped with JSON_INDENT(2) | JSON_SORT_KEYS and a
 * newline. Each returns 0, or -1 when writing failed. */
struct brick_json_stream {
  FILE *out;
  size_t n;
};
int brick_report_json_begin(struct brick_json_stream *s, FILE *out);
int brick_report_json_add(struct brick_json_stream *s, const struct brick_scan_result *res);
int brick_report_json_end(struct brick_json_stream *s);
json_t *brick_report_sarif(const struct brick_scan_result *res, size_t n);
json_t *brick_report_cyclonedx(const struct brick_scan_result *res, size_t n);

#endif
