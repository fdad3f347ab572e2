/* Per-image scan state under <store>/scan/: inventory.sqlite holds the cached
 * inventories (so fleet questions and `--all` need no layer reads; inventory_cache.c) and
 * <image-id>.summary.json the last scan's summary, which the trust module's scan gate reads through
 * brick_scan_last_summary(). They are separate files because every scan rewrites the
 * summary: rewriting the inventory with it cost a JSON parse and dump of hundreds of
 * kilobytes per image. (Stores written before kept inventory and summary in
 * <image-id>.json; both are still read from there.) */
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "scan/scan_internal.h"

static int check_id(const char *id, brick_err *err) {
  if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, "..") ||
      strlen(id) > 200)
    return brick_error(err, EINVAL, "image id \"%s\" is not valid", id ? id : "");
  return 0;
}

static char *cache_path(const char *store, const char *id) {
  const char *hex = brick_str_has_prefix(id, "sha256:") ? id + 7 : id;
  return xasprintf("%s/scan/%s.json", store, hex);
}

static char *summary_path(const char *store, const char *id) {
  const char *hex = brick_str_has_prefix(id, "sha256:") ? id + 7 : id;
  return xasprintf("%s/scan/%s.summary.json", store, hex);
}

void brick_scan_summarize(const struct brick_scan_result *res, struct brick_scan_summary *out) {
  memset(out, 0, sizeof *out);
  out->scanned_at = res->scanned_at;
  out->highest = BRICK_SEV_UNKNOWN;
  bool any = false;
  for (size_t i = 0; i < res->n_findings; i++) {
    const struct brick_finding *f = &res->findings[i];
    if (f->ignored)
      continue;
    if (f->fixed) {
      out->fixable++;
      continue;
    }
    out->counts[f->severity]++;
    if (!any || f->severity > out->highest)
      out->highest = f->severity;
    any = true;
  }
}

static json_t *summary_json(const struct brick_scan_summary *s) {
  json_t *counts = json_object();
  for (int i = 0; i < BRICK_SEV_COUNT; i++)
    json_object_set_new(counts, brick_severity_name((enum brick_severity)i),
                        json_integer((json_int_t)s->counts[i]));
  return json_pack("{s:o, s:I, s:s, s:I}", "unfixed", counts, "fixable", (json_int_t)s->fixable,
                   "highest_unfixed", brick_severity_name(s->highest), "scanned_at",
                   (json_int_t)s->scanned_at);
}

static int load_json_file(const char *path, json_t **out, brick_err *err) {
  _cleanup_free_ char *buf = NULL;
  if (brick_read_file(path, &buf, NULL, err) < 0)
    return -1;
  json_error_t je;
  *out = json_loads(buf, 0, &je);
  if (!*out)
    return brick_error(err, 0, "%s: line %d: %s", path, je.line, je.text);
  return 0;
}

static int load_doc(const char *store, const char *id, json_t **out, brick_err *err) {
  if (check_id(id, err) < 0)
    return -1;
  _cleanup_free_ char *path = cache_path(store, id);
  return load_json_file(path, out, err);
}

int brick_scan_last_summary(const char *store_dir, const char *image_id,
                            struct brick_scan_summary *out, brick_err *err) {
  _cleanup_json_ json_t *doc = NULL;
  if (check_id(image_id, err) < 0)
    return -1;
  _cleanup_free_ char *path = summary_path(store_dir, image_id);
  brick_err e = {0};
  if (load_json_file(path, &doc, &e) < 0) {
    if (e.errnum != ENOENT) {
      if (err)
        *err = e;
      else
        brick_error_clear(&e);
      return -1;
    }
    brick_error_clear(&e);
    if (load_doc(store_dir, image_id, &doc, err) < 0)
      return -1;
  }
  json_t *s = json_object_get(doc, "summary");
  if (!json_is_object(s))
    return brick_error(err, ENOENT, "image %s has not been scanned", image_id);
  memset(out, 0, sizeof *out);
  json_t *counts = json_object_get(s, "unfixed");
  for (int i = 0; i < BRICK_SEV_COUNT; i++) {
    json_t *c = json_object_get(counts, brick_severity_name((enum brick_severity)i));
    out->counts[i] = json_is_integer(c) ? (size_t)json_integer_value(c) : 0;
  }
  out->fixable = (size_t)json_integer_value(json_object_get(s, "fixable"));
  out->highest = brick_severity_parse(json_string_value(json_object_get(s, "highest_unfixed")));
  out->scanned_at = (time_t)json_integer_value(json_object_get(s, "scanned_at"));
  return 0;
}

int brick_scan_cache_load(const char *store_dir, const char *image_id,
                          struct brick_inventory *inv, brick_err *err) {
  if (check_id(image_id, err) < 0)
    return -1;
  brick_err e = {0};
  if (scan_inventory_cache_load(store_dir, image_id, inv, &e) == 0)
    return 0;
  if (e.errnum != ENOENT) {
    if (err)
      *err = e;
    else
      brick_error_clear(&e);
    return -1;
  }
  brick_error_clear(&e);
  /* written by an older brick: the JSON document */
  _cleanup_json_ json_t *doc = NULL;
  if (load_doc(store_dir, image_id, &doc, err) < 0)
    return -1;
  json_t *j = json_object_get(doc, "inventory");
  if (!j)
    return brick_error(err, ENOENT, "image %s: no cached inventory", image_id);
  if (brick_inventory_from_json(j, inv, err) < 0) {
    brick_inventory_free(inv);
    return brick_error_prefix(err, "scan cache of %s", image_id);
  }
  return 0;
}

/* Replaced by rename, never seen half-written; not fsynced: a summary lost to a crash
 * leaves the previous one, with its older scanned_at, for the gate to judge (an fsync
 * per image made `scan --all` wait on the journal). */
static int save_doc(const char *path, json_t *doc, brick_err *err) {
  _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
  if (!text)
    return brick_error(err, ENOMEM, "%s: cannot encode", path);
  return brick_write_file_replace(path, text, strlen(text), 0600, err);
}

int brick_scan_cache_save(const char *store_dir, const char *image_id,
                          const struct brick_inventory *inv,
                          const struct brick_scan_summary *summary, brick_err *err) {
  if (check_id(image_id, err) < 0)
    return -1;
  _cleanup_free_ char *dir = xasprintf("%s/scan", store_dir);
  if (brick_mkdir_p(dir, 0700, err) < 0)
    return -1;
  if (inv && scan_inventory_cache_save(store_dir, image_id, inv, err) < 0)
    return -1;
  if (summary) {
    _cleanup_json_ json_t *doc = json_pack("{s:s, s:o}", "image_id", image_id, "summary",
                                           summary_json(summary));
    _cleanup_free_ char *path = summary_path(store_dir, image_id);
    if (save_doc(path, doc, err) < 0)
      return -1;
  }
  return 0;
}
