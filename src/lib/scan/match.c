/* Matching an inventory against the OSV index. The name looked up is the one the
 * ecosystem's advisories use: Debian and Ubuntu name source packages, Alpine the origin,
 * the Red Hat family binary packages. Affectedness follows the OSV schema's evaluation
 * of ECOSYSTEM ranges (introduced / fixed / last_affected / limit) and `versions`. */
#include <sqlite3.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "scan/scan_internal.h"

enum ev_kind { EV_INTRODUCED, EV_FIXED, EV_LAST_AFFECTED, EV_LIMIT };

struct event {
  enum ev_kind kind;
  const char *version;
};

static enum brick_pkg_kind sort_kind;

static bool is_zero(const struct event *e) {
  return e->kind == EV_INTRODUCED && !strcmp(e->version, "0");
}

static int event_cmp(const void *a, const void *b) {
  const struct event *x = a, *y = b;
  if (is_zero(x) || is_zero(y))
    return is_zero(y) - is_zero(x);
  return brick_vercmp(sort_kind, x->version, y->version);
}

static bool range_affected(enum brick_pkg_kind kind, const char *v, json_t *events,
                           char **fixed) {
  size_t n = json_array_size(events), m = 0;
  if (!n)
    return false;
  struct event *ev = xcalloc(n, sizeof *ev);
  bool has_limit = false, below_limit = false;
  size_t i;
  json_t *e;
  json_array_foreach(events, i, e) {
    static const char *const keys[] = {"introduced", "fixed", "last_affected", "limit"};
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
      const char *ver = json_string_value(json_object_get(e, keys[k]));
      if (!ver)
        continue;
      if (k == EV_LIMIT) {
        has_limit = true;
        if (!strcmp(ver, "*") || brick_vercmp(kind, v, ver) < 0)
          below_limit = true;
        continue;
      }
      ev[m].kind = (enum ev_kind)k;
      ev[m].version = ver;
      m++;
    }
  }
  bool affected = false;
  if (!has_limit || below_limit) {
    sort_kind = kind;
    qsort(ev, m, sizeof *ev, event_cmp);
    for (i = 0; i < m; i++) {
      if (ev[i].kind == EV_INTRODUCED) {
        if (is_zero(&ev[i]) || brick_vercmp(kind, v, ev[i].version) >= 0)
          affected = true;
      } else if (ev[i].kind == EV_FIXED) {
        if (brick_vercmp(kind, v, ev[i].version) >= 0)
          affected = false;
      } else if (ev[i].kind == EV_LAST_AFFECTED) {
        if (brick_vercmp(kind, v, ev[i].version) > 0)
          affected = false;
      }
    }
    if (affected && fixed) {
      for (i = 0; i < m; i++)
        if (ev[i].kind == EV_FIXED && brick_vercmp(kind, ev[i].version, v) > 0) {
          *fixed = xstrdup(ev[i].version);
          break;
        }
    }
  }
  free(ev);
  return affected;
}

bool brick_osv_affected(enum brick_pkg_kind kind, const char *v, json_t *ranges,
                        json_t *versions, char **fixed) {
  if (fixed)
    *fixed = NULL;
  size_t i;
  json_t *x;
  json_array_foreach(ranges, i, x) {
    const char *type = json_string_value(json_object_get(x, "type"));
    if (!type || strcmp(type, "ECOSYSTEM"))
      continue;
    char *fix = NULL;
    if (range_affected(kind, v, json_object_get(x, "events"), fixed ? &fix : NULL)) {
      if (fixed)
        *fixed = fix;
      return true;
    }
  }
  json_array_foreach(versions, i, x) {
    const char *s = json_string_value(x);
    if (s && brick_vercmp(kind, v, s) == 0)
      return true;
  }
  return false;
}

/* The one-range case stored as columns (see osv_import.c): same answer as the full
 * evaluation of [introduced, fixed) or [introduced, last_affected]. */
static bool simple_affected(enum brick_pkg_kind kind, const char *v, const char *intro,
                            const char *fixed, const char *last, char **fixed_out) {
  if (strcmp(intro, "0") && brick_vercmp(kind, v, intro) < 0)
    return false;
  if (fixed && brick_vercmp(kind, v, fixed) >= 0)
    return false;
  if (last && brick_vercmp(kind, v, last) > 0)
    return false;
  if (fixed)
    *fixed_out = xstrdup(fixed);
  return true;
}

static void finding_free(struct brick_finding *f) {
  free(f->vuln_id);
  brick_strv_free(f->aliases);
  free(f->summary);
  free(f->pkg_name);
  free(f->pkg_source);
  free(f->installed);
  free(f->fixed);
  free(f->layer_digest);
  free(f->ignore_reason);
}

void brick_scan_result_free(struct brick_scan_result *res) {
  if (!res)
    return;
  for (size_t i = 0; i < res->n_findings; i++)
    finding_free(&res->findings[i]);
  free(res->findings);
  free(res->target);
  free(res->image_id);
  brick_inventory_free(&res->inv);
  memset(res, 0, sizeof *res);
}

void brick_scan_drop_unfixed(struct brick_scan_result *res) {
  size_t w = 0;
  for (size_t i = 0; i < res->n_findings; i++) {
    if (res->findings[i].fixed)
      res->findings[w++] = res->findings[i];
    else
      finding_free(&res->findings[i]);
  }
  res->n_findings = w;
}

static int finding_order(const void *a, const void *b) {
  const struct brick_finding *x = a, *y = b;
  if (x->severity != y->severity)
    return (int)y->severity - (int)x->severity;
  int r = strcmp(x->pkg_name, y->pkg_name);
  return r ? r : strcmp(x->vuln_id, y->vuln_id);
}

static char **parse_aliases(const char *text) {
  char **out = NULL;
  if (!text)
    return out;
  _cleanup_json_ json_t *j = json_loads(text, 0, NULL);
  size_t i;
  json_t *x;
  json_array_foreach(j, i, x) if (json_is_string(x)) brick_strv_push(&out, json_string_value(x));
  return out;
}

static json_t *load_col(sqlite3_stmt *st, int col) {
  const char *t = (const char *)sqlite3_column_text(st, col);
  return t ? json_loads(t, 0, NULL) : NULL;
}

int brick_scan_match(struct brick_vulndb *db, struct brick_scan_result *res,
                     const struct brick_match_opts *o, brick_err *err) {
  sqlite3 *h = scan_vulndb_handle(db);
  const char *eco = res->inv.os.ecosystem;
  res->scanned_at = time(NULL);
  if (!eco)
    return 0;
  time_t now = o && o->now ? o->now : time(NULL);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(h,
                         "SELECT a.vuln_id, a.ranges, a.versions, a.severity, a.score,"
                         " v.summary, v.aliases, a.introduced, a.fixed, a.last_affected"
                         " FROM affected a JOIN vulns v ON v.id = a.vuln_id"
                         " WHERE a.ecosystem = ? AND a.package = ?",
                         -1, &st, NULL) != SQLITE_OK)
    return brick_error(err, 0, "vulnerability database: %s", sqlite3_errmsg(h));
  size_t cap = res->n_findings;
  for (size_t p = 0; p < res->inv.n_pkgs; p++) {
    const struct brick_package *pkg = &res->inv.pkgs[p];
    const char *lookup = pkg->kind == BRICK_PKG_RPM ? pkg->name : pkg->source;
    const char *version = pkg->kind == BRICK_PKG_DPKG && pkg->source_version
                              ? pkg->source_version : pkg->version;
    size_t first = res->n_findings;
    sqlite3_bind_text(st, 1, eco, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, lookup, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const char *id = (const char *)sqlite3_column_text(st, 0);
      bool dup = false;
      for (size_t k = first; k < res->n_findings && !dup; k++)
        dup = !strcmp(res->findings[k].vuln_id, id);
      if (dup)
        continue;
      char *fixed = NULL;
      const char *intro = (const char *)sqlite3_column_text(st, 7);
      if (intro) {
        if (!simple_affected(pkg->kind, version, intro, (const char *)sqlite3_column_text(st, 8),
                             (const char *)sqlite3_column_text(st, 9), &fixed))
          continue;
      } else {
        _cleanup_json_ json_t *ranges = load_col(st, 1);
        _cleanup_json_ json_t *versions = load_col(st, 2);
        if (!brick_osv_affected(pkg->kind, version, ranges, versions, &fixed))
          continue;
      }
      if (o && o->ignore_unfixed && !fixed)
        continue;
      if (res->n_findings == cap) {
        cap = cap ? cap * 2 : 32;
        res->findings = xrealloc(res->findings, cap * sizeof *res->findings);
      }
      struct brick_finding *f = &res->findings[res->n_findings++];
      memset(f, 0, sizeof *f);
      f->vuln_id = xstrdup(id);
      f->severity = (enum brick_severity)sqlite3_column_int(st, 3);
      f->score = sqlite3_column_double(st, 4);
      const char *summary = (const char *)sqlite3_column_text(st, 5);
      f->summary = summary ? xstrdup(summary) : NULL;
      f->aliases = parse_aliases((const char *)sqlite3_column_text(st, 6));
      f->pkg_name = xstrdup(pkg->name);
      f->pkg_source = xstrdup(lookup);
      f->installed = xstrdup(pkg->version);
      f->fixed = fixed;
      f->layer = pkg->layer;
      f->layer_digest = pkg->layer_digest ? xstrdup(pkg->layer_digest) : NULL;
      const struct brick_ignore_rule *rule =
          o && o->ignore ? brick_ignore_find(o->ignore, id, f->aliases, pkg->name, lookup, now)
                         : NULL;
      if (rule) {
        f->ignored = true;
        f->ignore_reason = rule->reason ? xstrdup(rule->reason) : NULL;
      }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
      int r = brick_error(err, 0, "vulnerability database: %s", sqlite3_errmsg(h));
      sqlite3_finalize(st);
      return r;
    }
  }
  sqlite3_finalize(st);
  if (res->n_findings)
    qsort(res->findings, res->n_findings, sizeof *res->findings, finding_order);
  return 0;
}
