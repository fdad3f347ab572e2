/* The inventory container: packages with their OS, sorting and the JSON form used for the
 * per-image cache. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "scan/scan.h"

static char *dup_or_null(const char *s) { return s && *s ? xstrdup(s) : NULL; }

struct brick_package *brick_inventory_add(struct brick_inventory *inv, enum brick_pkg_kind kind,
                                          const char *name, const char *version,
                                          const char *arch, const char *source,
                                          const char *source_version) {
  if (inv->n_pkgs == inv->cap_pkgs) {
    inv->cap_pkgs = inv->cap_pkgs ? inv->cap_pkgs * 2 : 64;
    inv->pkgs = xrealloc(inv->pkgs, inv->cap_pkgs * sizeof *inv->pkgs);
  }
  struct brick_package *p = &inv->pkgs[inv->n_pkgs++];
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->name = xstrdup(name);
  p->version = xstrdup(version);
  p->arch = dup_or_null(arch);
  p->source = xstrdup(source && *source ? source : name);
  p->source_version = dup_or_null(source_version);
  p->layer = -1;
  return p;
}

static void package_free(struct brick_package *p) {
  free(p->name);
  free(p->version);
  free(p->arch);
  free(p->source);
  free(p->source_version);
  free(p->layer_digest);
}

void brick_os_free(struct brick_os *os) {
  free(os->id);
  free(os->version_id);
  free(os->pretty_name);
  free(os->ecosystem);
  memset(os, 0, sizeof *os);
}

void brick_inventory_free(struct brick_inventory *inv) {
  if (!inv)
    return;
  for (size_t i = 0; i < inv->n_pkgs; i++)
    package_free(&inv->pkgs[i]);
  free(inv->pkgs);
  brick_os_free(&inv->os);
  memset(inv, 0, sizeof *inv);
}

static int pkg_order(const void *a, const void *b) {
  const struct brick_package *x = a, *y = b;
  int r = strcmp(x->name, y->name);
  if (r)
    return r;
  r = strcmp(x->arch ? x->arch : "", y->arch ? y->arch : "");
  if (r)
    return r;
  return strcmp(x->version, y->version);
}

void brick_inventory_sort(struct brick_inventory *inv) {
  if (inv->n_pkgs)
    qsort(inv->pkgs, inv->n_pkgs, sizeof *inv->pkgs, pkg_order);
}

static void set_opt(json_t *o, const char *key, const char *v) {
  if (v)
    json_object_set_new(o, key, json_string(v));
}

json_t *brick_inventory_to_json(const struct brick_inventory *inv) {
  json_t *os = json_object();
  set_opt(os, "id", inv->os.id);
  set_opt(os, "version_id", inv->os.version_id);
  set_opt(os, "pretty_name", inv->os.pretty_name);
  set_opt(os, "ecosystem", inv->os.ecosystem);
  json_t *pkgs = json_array();
  for (size_t i = 0; i < inv->n_pkgs; i++) {
    const struct brick_package *p = &inv->pkgs[i];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "version", json_string(p->version));
    json_object_set_new(o, "type", json_string(brick_pkg_kind_name(p->kind)));
    set_opt(o, "arch", p->arch);
    set_opt(o, "source", p->source);
    set_opt(o, "source_version", p->source_version);
    if (p->layer >= 0)
      json_object_set_new(o, "layer", json_integer(p->layer));
    set_opt(o, "layer_digest", p->layer_digest);
    json_array_append_new(pkgs, o);
  }
  return json_pack("{s:o, s:o}", "os", os, "packages", pkgs);
}

static const char *jstr(json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

int brick_inventory_from_json(json_t *j, struct brick_inventory *inv, brick_err *err) {
  json_t *os = json_object_get(j, "os");
  json_t *pkgs = json_object_get(j, "packages");
  if (!json_is_object(os) || !json_is_array(pkgs))
    return brick_error(err, 0, "inventory: expected \"os\" object and \"packages\" array");
  inv->os.id = dup_or_null(jstr(os, "id"));
  inv->os.version_id = dup_or_null(jstr(os, "version_id"));
  inv->os.pretty_name = dup_or_null(jstr(os, "pretty_name"));
  inv->os.ecosystem = dup_or_null(jstr(os, "ecosystem"));
  size_t i;
  json_t *o;
  json_array_foreach(pkgs, i, o) {
    const char *name = jstr(o, "name"), *version = jstr(o, "version"), *type = jstr(o, "type");
    int kind = type ? brick_pkg_kind_parse(type) : -1;
    if (!name || !version || kind < 0)
      return brick_error(err, 0, "inventory: packages[%zu]: needs name, version and type", i);
    struct brick_package *p = brick_inventory_add(inv, (enum brick_pkg_kind)kind, name, version,
                                                  jstr(o, "arch"), jstr(o, "source"),
                                                  jstr(o, "source_version"));
    json_t *layer = json_object_get(o, "layer");
    p->layer = json_is_integer(layer) ? (int)json_integer_value(layer) : -1;
    p->layer_digest = dup_or_null(jstr(o, "layer_digest"));
  }
  return 0;
}
