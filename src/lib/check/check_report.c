/* Findings and how they are shown: a terminal report (levels coloured on a tty) and
 * a JSON document for tools. */
#include "check/check.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

static const char *const level_names[] = {"ok", "info", "warn", "high", "critical"};

const char *brick_check_level_name(enum brick_check_level level) {
  if ((unsigned)level >= ARRAY_SIZE(level_names))
    return "unknown";
  return level_names[level];
}

int brick_check_level_from_name(const char *name, enum brick_check_level *out) {
  if (!name)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
    if (!strcasecmp(name, level_names[i])) {
      *out = (enum brick_check_level)i;
      return 0;
    }
  }
  if (!strcasecmp(name, "warning")) {
    *out = BRICK_CHECK_WARN;
    return 0;
  }
  return -1;
}

struct brick_check_report *brick_check_report_new(const char *kind, const char *subject) {
  struct brick_check_report *r = xcalloc(1, sizeof *r);
  r->kind = xstrdup(kind);
  r->subject = xstrdup(subject ? subject : "");
  r->facts = json_object();
  if (!r->facts)
    abort();
  return r;
}

void brick_check_report_free(struct brick_check_report *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->n_findings; i++) {
    struct brick_check_finding *f = &r->findings[i];
    free(f->id);
    free(f->where);
    free(f->title);
    free(f->why);
    free(f->fix);
  }
  free(r->findings);
  free(r->kind);
  free(r->subject);
  json_decref(r->facts);
  free(r);
}

void brick_check_report_add(struct brick_check_report *r, enum brick_check_level level, const char *id,
                      const char *where, const char *why, const char *fix,
                      const char *title_fmt, ...) {
  if (r->n_findings == r->cap_findings) {
    r->cap_findings = r->cap_findings ? r->cap_findings * 2 : 16;
    r->findings = xrealloc(r->findings, r->cap_findings * sizeof *r->findings);
  }
  struct brick_check_finding *f = &r->findings[r->n_findings++];
  char *title = NULL;
  va_list ap;
  va_start(ap, title_fmt);
  if (vasprintf(&title, title_fmt, ap) < 0)
    abort();
  va_end(ap);
  *f = (struct brick_check_finding){
      .id = xstrdup(id),
      .level = level,
      .where = where ? xstrdup(where) : NULL,
      .title = title,
      .why = why ? xstrdup(why) : NULL,
      .fix = fix ? xstrdup(fix) : NULL,
  };
}

const struct brick_check_finding *brick_check_report_find(const struct brick_check_report *r, const char *id,
                                              const char *where) {
  for (size_t i = 0; i < r->n_findings; i++) {
    const struct brick_check_finding *f = &r->findings[i];
    if (strcmp(f->id, id))
      continue;
    if (where && (!f->where || strcmp(f->where, where)))
      continue;
    return f;
  }
  return NULL;
}

size_t brick_check_report_count(const struct brick_check_report *r, enum brick_check_level level) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_findings; i++)
    n += r->findings[i].level == level;
  return n;
}

enum brick_check_level brick_check_report_worst(const struct brick_check_report *r) {
  enum brick_check_level worst = BRICK_CHECK_OK;
  for (size_t i = 0; i < r->n_findings; i++)
    if (r->findings[i].level > worst)
      worst = r->findings[i].level;
  return worst;
}

static void json_set_str(json_t *o, const char *key, const char *val) {
  if (val)
    json_object_set_new(o, key, json_string(val));
}

json_t *brick_check_report_to_json(const struct brick_check_report *r) {
  json_t *doc = json_object();
  json_t *list = json_array();
  json_t *summary = json_object();
  if (!doc || !list || !summary)
    abort();
  json_set_str(doc, "kind", r->kind);
  json_set_str(doc, "subject", r->subject);
  for (size_t i = 0; i < r->n_findings; i++) {
    const struct brick_check_finding *f = &r->findings[i];
    json_t *o = json_object();
    if (!o)
      abort();
    json_set_str(o, "id", f->id);
    json_set_str(o, "level", brick_check_level_name(f->level));
    json_set_str(o, "title", f->title);
    json_set_str(o, "where", f->where);
    json_set_str(o, "why", f->why);
    json_set_str(o, "fix", f->fix);
    json_array_append_new(list, o);
  }
  for (size_t l = 0; l < ARRAY_SIZE(level_names); l++)
    json_object_set_new(summary, level_names[l],
                        json_integer((json_int_t)brick_check_report_count(r, (enum brick_check_level)l)));
  json_object_set_new(doc, "findings", list);
  json_object_set_new(doc, "summary", summary);
  json_set_str(doc, "worst", brick_check_level_name(brick_check_report_worst(r)));
  json_object_set(doc, "facts", r->facts);
  return doc;
}

static const char *level_color(enum brick_check_level level) {
  switch (level) {
  case BRICK_CHECK_OK: return "\033[32m";
  case BRICK_CHECK_INFO: return "\033[36m";
  case BRICK_CHECK_WARN: return "\033[33m";
  case BRICK_CHECK_HIGH: return "\033[31m";
  case BRICK_CHECK_CRITICAL: return "\033[1;37;41m";
  }
  return "";
}

void brick_check_report_print(const struct brick_check_report *r, FILE *out, bool color,
                        enum brick_check_level min_level) {
  fprintf(out, "brick check %s: %s\n", r->kind, r->subject);
  /* Worst first: the reader should meet what to fix before what is fine. */
  for (int l = BRICK_CHECK_CRITICAL; l >= (int)min_level; l--) {
    for (size_t i = 0; i < r->n_findings; i++) {
      const struct brick_check_finding *f = &r->findings[i];
      if ((int)f->level != l)
        continue;
      char tag[16];
      snprintf(tag, sizeof tag, "%s", brick_check_level_name(f->level));
      for (char *p = tag; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
      if (color)
        fprintf(out, "\n  %s%-8s\033[0m %s\n", level_color(f->level), tag, f->title);
      else
        fprintf(out, "\n  %-8s %s\n", tag, f->title);
      fprintf(out, "           id: %s\n", f->id);
      if (f->where)
        fprintf(out, "           at: %s\n", f->where);
      if (f->why && f->level > BRICK_CHECK_OK)
        fprintf(out, "          why: %s\n", f->why);
      if (f->fix && f->level > BRICK_CHECK_OK)
        fprintf(out, "          fix: %s\n", f->fix);
    }
  }
  fprintf(out, "\nsummary: %zu critical, %zu high, %zu warn, %zu info, %zu ok (worst: %s)\n",
          brick_check_report_count(r, BRICK_CHECK_CRITICAL), brick_check_report_count(r, BRICK_CHECK_HIGH),
          brick_check_report_count(r, BRICK_CHECK_WARN), brick_check_report_count(r, BRICK_CHECK_INFO),
          brick_check_report_count(r, BRICK_CHECK_OK),
          brick_check_level_name(brick_check_report_worst(r)));
}
