/* The look-up memo of a vulnerability database handle (see scan_internal.h): advisory
 * rows per (ecosystem, package name) and summary/aliases per record, kept in an arena
 * and found through open-addressing tables keyed by string. */
#include <sqlite3.h>
#include <string.h>

#include "core/util.h"
#include "scan/scan_internal.h"

struct table {
  const char **keys;
  void **values;
  size_t cap, n;   /* cap: a power of two or 0 */
};

struct scan_memo {
  struct brick_arena *arena;
  struct table rows, recs;
};

struct rows_entry {
  const struct memo_row *rows;
  size_t n;
};

static size_t hash(const char *s) {
  size_t h = 1469598103934665603u;   /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static void **slot(struct table *t, const char *key, bool *found) {
  size_t mask = t->cap - 1;
  for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
    if (!t->keys[i] || !strcmp(t->keys[i], key)) {
      *found = t->keys[i] != NULL;
      return &t->values[i];
    }
  }
}

static void *table_get(struct table *t, const char *key) {
  bool found;
  if (!t->cap)
    return NULL;
  void **v = slot(t, key, &found);
  return found ? *v : NULL;
}

/* key must outlive the table (it is kept, not copied) */
static void table_put(struct table *t, const char *key, void *value) {
  if ((t->n + 1) * 2 > t->cap) {
    struct table bigger = {.cap = t->cap ? t->cap * 2 : 1024};
    bigger.keys = xcalloc(bigger.cap, sizeof *bigger.keys);
    bigger.values = xcalloc(bigger.cap, sizeof *bigger.values);
    for (size_t i = 0; i < t->cap; i++)
      if (t->keys[i])
        table_put(&bigger, t->keys[i], t->values[i]);
    free(t->keys);
    free(t->values);
    *t = bigger;
  }
  bool found;
  void **v = slot(t, key, &found);
  if (!found) {
    t->keys[v - t->values] = key;
    t->n++;
  }
  *v = value;
}

static void table_free(struct table *t) {
  free(t->keys);
  free(t->values);
}

void scan_memo_free(struct scan_memo *m) {
  if (!m)
    return;
  table_free(&m->rows);
  table_free(&m->recs);
  scan_arena_free(m->arena);
  free(m);
}

static struct scan_memo *memo_of(struct brick_vulndb *db) {
  struct scan_memo **m = scan_vulndb_memo(db);
  if (!*m)
    *m = xcalloc(1, sizeof **m);
  return *m;
}

static int by_id_then_seq(const void *a, const void *b) {
  const struct memo_row *x = a, *y = b;
  int r = strcmp(x->id, y->id);
  return r ? r : (x->seq > y->seq) - (x->seq < y->seq);
}

static const char *col(struct scan_memo *m, sqlite3_stmt *st, int i) {
  const char *t = (const char *)sqlite3_column_text(st, i);
  return t ? scan_arena_strndup(&m->arena, t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

int scan_memo_rows(struct brick_vulndb *db, const char *eco, const char *name,
                   const struct memo_row **rows, size_t *n, brick_err *err) {
  struct scan_memo *m = memo_of(db);
  /* "ecosystem\nname": ecosystem keys never contain a newline */
  _cleanup_free_ char *key = xasprintf("%s\n%s", eco, name);
  struct rows_entry *e = table_get(&m->rows, key);
  if (e) {
    *rows = e->rows;
    *n = e->n;
    return 0;
  }
  sqlite3_stmt *st = scan_vulndb_stmt(db, SCAN_STMT_AFFECTED, err);
  if (!st)
    return -1;
  sqlite3_bind_text(st, 1, eco, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
  size_t cap = 0, count = 0;
  _cleanup_free_ struct memo_row *tmp = NULL;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (count == cap) {
      cap = cap ? cap * 2 : 16;
      tmp = xrealloc(tmp, cap * sizeof *tmp);
    }
    struct memo_row *r = &tmp[count++];
    r->id = col(m, st, 0);
    r->ranges = col(m, st, 1);
    r->versions = col(m, st, 2);
    r->severity = sqlite3_column_int(st, 3);
    r->score = sqlite3_column_double(st, 4);
    r->intro = col(m, st, 5);
    r->fixed = col(m, st, 6);
    r->last = col(m, st, 7);
    r->rec = NULL;
    r->seq = count - 1;
    if (scan_vulndb_record_copies(db)) {
      r->rec = scan_arena_alloc(&m->arena, sizeof *r->rec, _Alignof(struct memo_rec));
      *r->rec = (struct memo_rec){.summary = col(m, st, 8), .aliases_json = col(m, st, 9)};
    }
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return brick_error(err, 0, "vulnerability database: %s",
                       sqlite3_errmsg(scan_vulndb_handle(db)));
  /* by id, then as stored (indexes of older layouts return rows in insertion order) */
  if (count > 1)
    qsort(tmp, count, sizeof *tmp, by_id_then_seq);
  e = scan_arena_alloc(&m->arena, sizeof *e, _Alignof(struct rows_entry));
  e->n = count;
  e->rows = NULL;
  if (count) {
    struct memo_row *copy =
        scan_arena_alloc(&m->arena, count * sizeof *copy, _Alignof(struct memo_row));
    memcpy(copy, tmp, count * sizeof *copy);
    e->rows = copy;
  }
  table_put(&m->rows, scan_arena_strdup(&m->arena, key), e);
  *rows = e->rows;
  *n = e->n;
  return 0;
}

static char **parse_aliases(struct scan_memo *m, const char *text) {
  if (!text || !strcmp(text, "[]"))
    return NULL;
  _cleanup_json_ json_t *j = json_loads(text, 0, NULL);
  size_t n = json_array_size(j), k = 0, i;
  if (!n)
    return NULL;
  char **out = scan_arena_alloc(&m->arena, (n + 1) * sizeof *out, _Alignof(char *));
  json_t *x;
  json_array_foreach(j, i, x) {
    if (json_is_string(x))
      out[k++] = scan_arena_strndup(&m->arena, json_string_value(x), json_string_length(x));
  }
  out[k] = NULL;
  return k ? out : NULL;
}

char **scan_memo_aliases(struct brick_vulndb *db, struct memo_rec *rec) {
  if (!rec->parsed) {
    rec->aliases = parse_aliases(memo_of(db), rec->aliases_json);
    rec->parsed = true;
  }
  return rec->aliases;
}

/* Records not in the index are remembered too (as one with no summary or aliases). */
int scan_memo_record(struct brick_vulndb *db, const char *id, struct memo_rec **rec,
                     brick_err *err) {
  struct scan_memo *m = memo_of(db);
  struct memo_rec *r = table_get(&m->recs, id);
  if (r) {
    *rec = r;
    return 0;
  }
  sqlite3_stmt *st = scan_vulndb_stmt(db, SCAN_STMT_RECORD, err);
  if (!st)
    return -1;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    sqlite3_reset(st);
    return brick_error(err, 0, "vulnerability database: %s",
                       sqlite3_errmsg(scan_vulndb_handle(db)));
  }
  r = scan_arena_alloc(&m->arena, sizeof *r, _Alignof(struct memo_rec));
  *r = (struct memo_rec){0};
  if (rc == SQLITE_ROW) {
    r->summary = col(m, st, 0);
    r->aliases_json = col(m, st, 1);
  }
  sqlite3_reset(st);
  table_put(&m->recs, scan_arena_strdup(&m->arena, id), r);
  *rec = r;
  return 0;
}
