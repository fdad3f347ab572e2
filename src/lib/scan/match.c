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
                            const char *fixed, const char *last, const char **fixed_out) {
  if (strcmp(intro, "0") && brick_vercmp(kind, v, intro) < 0)
    return false;
  if (fixed && brick_vercmp(kind, v, fixed) >= 0)
    return false;
  if (last && brick_vercmp(kind, v, last) > 0)
    return false;
  *fixed_out = fixed;
  return true;
}

char *brick_scan_result_strdup(struct brick_scan_result *res, const char *s) {
  return s ? scan_arena_strndup(&res->strings, s, strlen(s)) : NULL;
}

void brick_scan_result_free(struct brick_scan_result *res) {
  if (!res)
    return;
  free(res->findings);
  scan_arena_free(res->strings);
  free(res->target);
  free(res->image_id);
  brick_inventory_free(&res->inv);
  memset(res, 0, sizeof *res);
}

void brick_scan_drop_unfixed(struct brick_scan_result *res) {
  size_t w = 0;
  for (size_t i = 0; i < res->n_findings; i++)
    if (res->findings[i].fixed)
      res->findings[w++] = res->findings[i];
  res->n_findings = w;
}

static int finding_order(const void *a, const void *b) {
  const struct brick_finding *x = a, *y = b;
  if (x->severity != y->severity)
    return (int)y->severity - (int)x->severity;
  /* findings of one package share its name string */
  int r = x->pkg_name == y->pkg_name ? 0 : strcmp(x->pkg_name, y->pkg_name);
  return r ? r : strcmp(x->vuln_id, y->vuln_id);
}

/* The advisory name and the version compared for a package (see the top comment). */
static const char *lookup_name(const struct brick_package *pkg) {
  return pkg->kind == BRICK_PKG_RPM ? pkg->name : pkg->source;
}

static const char *match_version(const struct brick_package *pkg) {
  return pkg->kind == BRICK_PKG_DPKG && pkg->source_version ? pkg->source_version
                                                             : pkg->version;
}

static int by_lookup(const void *a, const void *b) {
  const struct brick_package *x = *(const struct brick_package *const *)a;
  const struct brick_package *y = *(const struct brick_package *const *)b;
  return strcmp(lookup_name(x), lookup_name(y));
}

static struct brick_finding *new_finding(struct brick_scan_result *res, size_t *cap) {
  if (res->n_findings == *cap) {
    *cap = *cap ? *cap * 2 : 256;
    res->findings = xrealloc(res->findings, *cap * sizeof *res->findings);
  }
  struct brick_finding *f = &res->findings[res->n_findings++];
  memset(f, 0, sizeof *f);
  return f;
}

static int by_vuln_id(const void *a, const void *b) {
  const struct brick_finding *x = *(const struct brick_finding *const *)a;
  const struct brick_finding *y = *(const struct brick_finding *const *)b;
  return strcmp(x->vuln_id, y->vuln_id);
}

/* The result's own copy of a record's aliases (findings of one record share it). */
static char **copy_aliases(struct brick_scan_result *res, char *const *from) {
  if (!from)
    return NULL;
  size_t na = brick_strv_len(from);
  char **aliases = scan_arena_alloc(&res->strings, (na + 1) * sizeof *aliases, _Alignof(char *));
  for (size_t k = 0; k < na; k++)
    aliases[k] = brick_scan_result_strdup(res, from[k]);
  aliases[na] = NULL;
  return aliases;
}

/* Summary and aliases (unless the rows carried them) and ignore rules of findings
 * [base, n), each record looked up once. */
static int add_records(struct brick_vulndb *db, struct brick_scan_result *res, size_t base,
                       const struct brick_match_opts *o, brick_err *err) {
  size_t n = res->n_findings - base;
  if (!n)
    return 0;
  bool have_records = scan_vulndb_record_copies(db);
  if (have_records && !(o && o->ignore && o->ignore->n))
    return 0;
  time_t now = o && o->now ? o->now : time(NULL);
  _cleanup_free_ struct brick_finding **order = xmalloc(n * sizeof *order);
  for (size_t i = 0; i < n; i++)
    order[i] = &res->findings[base + i];
  qsort(order, n, sizeof *order, by_vuln_id);
  for (size_t i = 0; i < n;) {
    size_t end = i + 1;
    while (end < n && !strcmp(order[end]->vuln_id, order[i]->vuln_id))
      end++;
    /* rows carrying the record's copies filled these already */
    if (!have_records) {
      struct memo_rec *rec;
      if (scan_memo_record(db, order[i]->vuln_id, &rec, err) < 0)
        return -1;
      char *summary = brick_scan_result_strdup(res, rec->summary);
      char **aliases = copy_aliases(res, scan_memo_aliases(db, rec));
      for (size_t k = i; k < end; k++) {
        order[k]->summary = summary;
        order[k]->aliases = aliases;
      }
    }
    for (size_t k = i; k < end; k++) {
      struct brick_finding *f = order[k];
      const struct brick_ignore_rule *rule =
          o && o->ignore ? brick_ignore_find(o->ignore, f->vuln_id, f->aliases, f->pkg_name,
                                             f->pkg_source, now)
                         : NULL;
      if (rule) {
        f->ignored = true;
        f->ignore_reason = brick_scan_result_strdup(res, rule->reason);
      }
    }
    i = end;
  }
  return 0;
}

static json_t *load_json(const char *text) {
  return text ? json_loads(text, 0, NULL) : NULL;
}

/* Advisory rows are looked up once per advisory name (binaries of one source share them)
 * and, through the memo, once per database handle however many targets are scanned. */
static int match_rows(struct brick_vulndb *db, struct brick_scan_result *res,
                      const struct brick_match_opts *o, brick_err *err) {
  const char *eco = res->inv.os.ecosystem;
  size_t n = res->inv.n_pkgs;
  _cleanup_free_ const struct brick_package **order = xmalloc(n * sizeof *order);
  for (size_t p = 0; p < n; p++)
    order[p] = &res->inv.pkgs[p];
  qsort(order, n, sizeof *order, by_lookup);
  /* groups of packages sharing an advisory name, and their rows: first all look-ups,
   * so the findings array is sized once (growing it copied megabytes per target) */
  struct group {
    size_t first, end, n_rows;
    const struct memo_row *rows;
  };
  _cleanup_free_ struct group *groups = xmalloc(n * sizeof *groups);
  size_t n_groups = 0, bound = res->n_findings;
  for (size_t g = 0; g < n;) {
    struct group *gr = &groups[n_groups++];
    const char *lookup = lookup_name(order[g]);
    gr->first = g;
    gr->end = g + 1;
    while (gr->end < n && !strcmp(lookup_name(order[gr->end]), lookup))
      gr->end++;
    if (scan_memo_rows(db, eco, lookup, &gr->rows, &gr->n_rows, err) < 0)
      return -1;
    bound += gr->n_rows * (gr->end - gr->first);
    g = gr->end;
  }
  size_t cap = res->n_findings, base = res->n_findings;
  if (bound > cap) {
    res->findings = xrealloc(res->findings, bound * sizeof *res->findings);
    cap = bound;
  }
  for (size_t gi = 0; gi < n_groups; gi++) {
    size_t g = groups[gi].first, g_end = groups[gi].end, n_rows = groups[gi].n_rows;
    const struct memo_row *rows = groups[gi].rows;
    const char *lookup = lookup_name(order[g]);
    size_t group_first = res->n_findings;
    for (size_t r = 0; r < n_rows; r++) {
      const struct memo_row *row = &rows[r];
      char *id_copy = NULL, *summary = NULL;
      char **aliases = NULL;
      _cleanup_json_ json_t *ranges = NULL, *versions = NULL;
      if (!row->intro) {
        ranges = load_json(row->ranges);
        versions = load_json(row->versions);
      }
      /* a record listing the package twice: the first matching entry counts (the
       * memo orders rows by id, so a repeat follows its first row) */
      bool repeat = r > 0 && !strcmp(rows[r - 1].id, row->id);
      for (size_t k = g; k < g_end; k++) {
        const struct brick_package *pkg = order[k];
        bool dup = false;
        for (size_t q = res->n_findings; repeat && q > group_first && !dup; q--)
          dup = res->findings[q - 1].pkg_name == pkg->name &&
                !strcmp(res->findings[q - 1].vuln_id, row->id);
        if (dup)
          continue;
        const char *fixed = NULL;
        _cleanup_free_ char *fixed_json = NULL;
        bool hit = row->intro ? simple_affected(pkg->kind, match_version(pkg), row->intro,
                                                row->fixed, row->last, &fixed)
                              : brick_osv_affected(pkg->kind, match_version(pkg), ranges,
                                                   versions, &fixed_json);
        if (fixed_json)
          fixed = fixed_json;
        if (!hit)
          continue;
        if (o && o->ignore_unfixed && !fixed)
          continue;
        if (!id_copy) {
          id_copy = brick_scan_result_strdup(res, row->id);
          if (row->rec) {
            summary = brick_scan_result_strdup(res, row->rec->summary);
            aliases = copy_aliases(res, scan_memo_aliases(db, row->rec));
          }
        }
        struct brick_finding *f = new_finding(res, &cap);
        f->vuln_id = id_copy;
        f->summary = summary;
        f->aliases = aliases;
        f->severity = (enum brick_severity)row->severity;
        f->score = row->score;
        /* the package's strings are the result's own (its inventory) */
        f->pkg_name = pkg->name;
        f->installed = pkg->version;
        f->pkg_source = (char *)lookup;
        f->fixed = brick_scan_result_strdup(res, fixed);
        f->layer = pkg->layer;
        f->layer_digest = pkg->layer_digest;
      }
    }
  }
  /* give back what the bound over-estimated */
  if (res->n_findings && res->n_findings < cap)
    res->findings = xrealloc(res->findings, res->n_findings * sizeof *res->findings);
  if (add_records(db, res, base, o, err) < 0)
    return -1;
  if (res->n_findings)
    qsort(res->findings, res->n_findings, sizeof *res->findings, finding_order);
  return 0;
}

int brick_scan_match(struct brick_vulndb *db, struct brick_scan_result *res,
                     const struct brick_match_opts *o, brick_err *err) {
  res->scanned_at = time(NULL);
  if (!res->inv.os.ecosystem || !res->inv.n_pkgs)
    return 0;
  /* One read transaction for all look-ups: otherwise every statement takes and drops
   * the file lock and re-checks the journal (two system calls per look-up). */
  sqlite3 *h = scan_vulndb_handle(db);
  bool own_txn = sqlite3_get_autocommit(h);
  if (own_txn && sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    return brick_error(err, 0, "vulnerability database: %s", sqlite3_errmsg(h));
  int r = match_rows(db, res, o, err);
  if (own_txn)
    sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
  return r;
}
