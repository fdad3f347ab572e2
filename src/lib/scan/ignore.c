/* Ignore rules: accepted risks with a reason and an optional expiry, so a CI gate stays
 * honest (an expired rule stops ignoring). Two formats: JSON ([{"id", "package",
 * "until", "reason"}] or {"ignore": [...]}) or lines "ID [package] [until=YYYY-MM-DD]
 * # reason". A rule is in force through its `until` day (UTC). */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/util.h"
#include "scan/scan.h"

void brick_ignore_free(struct brick_ignore *ig) {
  if (!ig)
    return;
  for (size_t i = 0; i < ig->n; i++) {
    free(ig->rules[i].id);
    free(ig->rules[i].package);
    free(ig->rules[i].reason);
  }
  free(ig->rules);
  memset(ig, 0, sizeof *ig);
}

/* End of the given day, UTC; -1 when not YYYY-MM-DD. */
static time_t parse_until(const char *s) {
  struct tm tm = {0};
  const char *end = strptime(s, "%Y-%m-%d", &tm);
  if (!end || *end || strlen(s) != 10)
    return -1;
  return timegm(&tm) + 86400;
}

static struct brick_ignore_rule *add_rule(struct brick_ignore *ig) {
  ig->rules = xrealloc(ig->rules, (ig->n + 1) * sizeof *ig->rules);
  struct brick_ignore_rule *r = &ig->rules[ig->n++];
  memset(r, 0, sizeof *r);
  return r;
}

static int parse_json(const char *buf, const char *origin, struct brick_ignore *ig,
                      brick_err *err) {
  json_error_t je;
  _cleanup_json_ json_t *j = json_loads(buf, 0, &je);
  if (!j)
    return brick_error(err, 0, "%s: line %d: %s", origin, je.line, je.text);
  json_t *list = json_is_object(j) ? json_object_get(j, "ignore") : j;
  if (!json_is_array(list))
    return brick_error(err, 0, "%s: expected an array of rules or {\"ignore\": [...]}", origin);
  size_t i;
  json_t *x;
  json_array_foreach(list, i, x) {
    const char *id = json_string_value(json_object_get(x, "id"));
    if (!id || !*id)
      return brick_error(err, 0, "%s: [%zu]: \"id\" is required", origin, i);
    const char *until = json_string_value(json_object_get(x, "until"));
    time_t t = 0;
    if (until && (t = parse_until(until)) < 0)
      return brick_error(err, 0, "%s: [%zu].until: \"%s\" is not YYYY-MM-DD", origin, i, until);
    const char *pkg = json_string_value(json_object_get(x, "package"));
    const char *reason = json_string_value(json_object_get(x, "reason"));
    struct brick_ignore_rule *r = add_rule(ig);
    r->id = xstrdup(id);
    r->package = pkg && *pkg ? xstrdup(pkg) : NULL;
    r->reason = reason ? xstrdup(reason) : NULL;
    r->until = t;
  }
  return 0;
}

static int parse_lines(const char *buf, const char *origin, struct brick_ignore *ig,
                       brick_err *err) {
  const char *s = buf;
  size_t lineno = 0;
  while (*s) {
    lineno++;
    size_t n = strcspn(s, "\n");
    _cleanup_free_ char *line = strndup(s, n);
    s += n;
    if (*s)
      s++;
    char *hash = strchr(line, '#');
    _cleanup_free_ char *reason = NULL;
    if (hash) {
      *hash = '\0';
      char *r = hash + 1;
      while (isspace((unsigned char)*r))
        r++;
      size_t rl = strlen(r);
      while (rl && isspace((unsigned char)r[rl - 1]))
        r[--rl] = '\0';
      if (*r)
        reason = xstrdup(r);
    }
    char *save = NULL, *tok[4];
    size_t nt = 0;
    for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
      if (nt == 3)
        return brick_error(err, 0, "%s:%zu: expected \"ID [package] [until=YYYY-MM-DD]\"",
                           origin, lineno);
      tok[nt++] = t;
    }
    if (!nt)
      continue;
    struct brick_ignore_rule r = {0};
    for (size_t i = 1; i < nt; i++) {
      if (brick_str_has_prefix(tok[i], "until=")) {
        r.until = parse_until(tok[i] + 6);
        if (r.until < 0)
          return brick_error(err, 0, "%s:%zu: \"%s\" is not until=YYYY-MM-DD", origin, lineno,
                             tok[i]);
      } else if (i == 1 && !r.package) {
        r.package = tok[i];
      } else {
        return brick_error(err, 0, "%s:%zu: unexpected \"%s\"", origin, lineno, tok[i]);
      }
    }
    struct brick_ignore_rule *out = add_rule(ig);
    out->id = xstrdup(tok[0]);
    out->package = r.package ? xstrdup(r.package) : NULL;
    out->until = r.until;
    out->reason = TAKE_PTR(reason);
  }
  return 0;
}

int brick_ignore_parse(const char *buf, const char *origin, struct brick_ignore *ig,
                       brick_err *err) {
  const char *p = buf;
  while (isspace((unsigned char)*p))
    p++;
  int r = (*p == '{' || *p == '[') ? parse_json(buf, origin, ig, err)
                                   : parse_lines(buf, origin, ig, err);
  if (r < 0)
    brick_ignore_free(ig);
  return r;
}

int brick_ignore_load(const char *path, struct brick_ignore *ig, brick_err *err) {
  _cleanup_free_ char *buf = NULL;
  if (brick_read_file(path, &buf, NULL, err) < 0)
    return brick_error_prefix(err, "--ignore-file");
  return brick_ignore_parse(buf, path, ig, err);
}

const struct brick_ignore_rule *brick_ignore_find(const struct brick_ignore *ig,
                                                  const char *id, char *const *aliases,
                                                  const char *pkg, const char *src, time_t now) {
  for (size_t i = 0; ig && i < ig->n; i++) {
    const struct brick_ignore_rule *r = &ig->rules[i];
    if (r->until && now >= r->until)
      continue;
    if (r->package && strcmp(r->package, pkg) && (!src || strcmp(r->package, src)))
      continue;
    bool hit = !strcasecmp(r->id, id);
    for (size_t a = 0; !hit && aliases && aliases[a]; a++)
      hit = !strcasecmp(r->id, aliases[a]);
    if (hit)
      return r;
  }
  return NULL;
}
