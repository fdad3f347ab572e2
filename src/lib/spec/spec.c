/* config.json as a whole: loading, the top-level sections, hooks and annotations. */
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "core/util.h"
#include "spec/spec_internal.h"

static const char *const hook_keys[BRICK_HOOK_KIND_COUNT] = {
    [BRICK_HOOK_PRESTART] = "prestart",
    [BRICK_HOOK_CREATE_RUNTIME] = "createRuntime",
    [BRICK_HOOK_CREATE_CONTAINER] = "createContainer",
    [BRICK_HOOK_START_CONTAINER] = "startContainer",
    [BRICK_HOOK_POSTSTART] = "poststart",
    [BRICK_HOOK_POSTSTOP] = "poststop",
};

static int parse_hook(json_t *o, const char *path, struct brick_hook *h, brick_err *err) {
  if (spec_get_string(o, path, "path", true, &h->path, err) < 0)
    return -1;
  if (!spec_path_is_absolute(h->path)) {
    _cleanup_free_ char *ppath = spec_path_key(path, "path");
    return spec_error(err, ppath, "\"%s\" is not an absolute path", h->path);
  }
  if (spec_get_strv(o, path, "args", &h->args, err) < 0 ||
      spec_get_strv(o, path, "env", &h->env, err) < 0)
    return -1;
  int64_t timeout = 0;
  if (spec_get_int(o, path, "timeout", false, INT32_MIN, INT32_MAX, &timeout, &h->has_timeout,
                   err) < 0)
    return -1;
  if (h->has_timeout && timeout <= 0) {
    _cleanup_free_ char *tpath = spec_path_key(path, "timeout");
    return spec_error(err, tpath, "must be greater than 0");
  }
  h->timeout = (int)timeout;
  return 0;
}

static int parse_hooks(json_t *obj, struct brick_hooks *hooks, brick_err *err) {
  for (int k = 0; k < BRICK_HOOK_KIND_COUNT; k++) {
    json_t *arr;
    if (spec_get_array(obj, "hooks", hook_keys[k], &arr, err) < 0)
      return -1;
    if (arr == NULL)
      continue;
    _cleanup_free_ char *path = spec_path_key("hooks", hook_keys[k]);
    size_t n = json_array_size(arr);
    hooks->list[k] = xcalloc(n, sizeof *hooks->list[k]);
    hooks->n[k] = n;
    for (size_t i = 0; i < n; i++) {
      json_t *o;
      if (spec_array_object(arr, path, i, &o, err) < 0)
        return -1;
      _cleanup_free_ char *ipath = spec_path_index(path, i);
      if (parse_hook(o, ipath, &hooks->list[k][i], err) < 0)
        return -1;
    }
  }
  return 0;
}

static void hooks_clear(struct brick_hooks *hooks) {
  for (int k = 0; k < BRICK_HOOK_KIND_COUNT; k++) {
    for (size_t i = 0; i < hooks->n[k]; i++) {
      free(hooks->list[k][i].path);
      brick_strv_free(hooks->list[k][i].args);
      brick_strv_free(hooks->list[k][i].env);
    }
    free(hooks->list[k]);
  }
  memset(hooks, 0, sizeof *hooks);
}

/* SemVer 2.0: MAJOR.MINOR.PATCH, numbers without leading zeros, then an optional
 * -pre.release and +build of [0-9A-Za-z-] identifiers separated by dots. */
static bool is_semver(const char *v) {
  for (int part = 0; part < 3; part++) {
    if (!isdigit((unsigned char)*v) || (v[0] == '0' && isdigit((unsigned char)v[1])))
      return false;
    while (isdigit((unsigned char)*v))
      v++;
    if (part < 2 && *v++ != '.')
      return false;
  }
  for (char sep = '-'; *v; sep = '+') {
    if (*v != sep && !(sep == '-' && *v == '+'))
      return false;
    sep = *v++;
    bool ident = false;
    for (; *v && !(sep == '-' && *v == '+'); v++) {
      if (*v == '.') {
        if (!ident)
          return false;
        ident = false;
      } else if (isalnum((unsigned char)*v) || *v == '-') {
        ident = true;
      } else {
        return false;
      }
    }
    if (!ident)
      return false;
    if (sep == '+' && *v)
      return false;
  }
  return true;
}

static int parse_document(json_t *doc, struct brick_spec *spec, brick_err *err) {
  json_t *sub;

  if (spec_get_string(doc, "", "ociVersion", true, &spec->oci_version, err) < 0)
    return -1;
  if (spec->oci_version[0] == '\0')
    return spec_error(err, "ociVersion", "must not be empty");
  if (!is_semver(spec->oci_version))
    return spec_error(err, "ociVersion", "\"%s\" is not a SemVer version (\"1.2.0\")",
                      spec->oci_version);
  if (strncmp(spec->oci_version, "1.", 2))
    return spec_error(err, "ociVersion", "\"%s\": brick implements runtime-spec 1.x",
                      spec->oci_version);

  if (spec_get_object(doc, "", "process", false, &sub, err) < 0)
    return -1;
  if (sub) {
    spec->process = xcalloc(1, sizeof *spec->process);
    if (spec_parse_process(sub, "process", spec->process, err) < 0)
      return -1;
  }

  /* Optional in the schema but required on Linux: there is nothing to pivot into. */
  if (spec_get_object(doc, "", "root", true, &sub, err) < 0 ||
      spec_get_string(sub, "root", "path", true, &spec->root.path, err) < 0 ||
      spec_get_bool(sub, "root", "readonly", &spec->root.readonly, NULL, err) < 0)
    return -1;
  if (spec->root.path[0] == '\0')
    return spec_error(err, "root.path", "must not be empty");

  if (spec_get_string(doc, "", "hostname", false, &spec->hostname, err) < 0 ||
      spec_get_string(doc, "", "domainname", false, &spec->domainname, err) < 0)
    return -1;

  if (spec_parse_mounts(doc, spec, err) < 0)
    return -1;

  if (spec_get_object(doc, "", "hooks", false, &sub, err) < 0)
    return -1;
  if (sub && parse_hooks(sub, &spec->hooks, err) < 0)
    return -1;

  if (spec_get_string_map(doc, "", "annotations", &spec->annotations, &spec->n_annotations,
                          err) < 0)
    return -1;

  if (spec_get_object(doc, "", "linux", false, &sub, err) < 0)
    return -1;
  if (sub) {
    spec->has_linux = true;
    if (spec_parse_linux(sub, &spec->linux_, err) < 0)
      return -1;
  }
  return 0;
}

struct brick_spec *brick_spec_parse(json_t *doc, const char *name_for_errors, brick_err *err) {
  const char *name = name_for_errors ? name_for_errors : "config.json";
  if (!json_is_object(doc)) {
    brick_error(err, 0, "%s: expected a JSON object", name);
    return NULL;
  }
  struct brick_spec *spec = xcalloc(1, sizeof *spec);
  spec->json = json_incref(doc);
  if (parse_document(doc, spec, err) < 0) {
    brick_error_prefix(err, "%s", name);
    brick_spec_free(spec);
    return NULL;
  }
  return spec;
}

struct brick_spec *brick_spec_load(const char *path, brick_err *err) {
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  if (brick_read_file(path, &buf, &len, err) < 0)
    return NULL;
  json_error_t jerr;
  /* Duplicate keys are rejected: two readers picking different copies of "process"
   * or "linux.seccomp" is how policy checks get bypassed. */
  _cleanup_json_ json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (doc == NULL) {
    brick_error(err, 0, "%s: line %d column %d: %s", path, jerr.line, jerr.column, jerr.text);
    return NULL;
  }
  return brick_spec_parse(doc, path, err);
}

void brick_spec_free(struct brick_spec *spec) {
  if (spec == NULL)
    return;
  free(spec->oci_version);
  brick_process_free(spec->process);
  free(spec->root.path);
  free(spec->hostname);
  free(spec->domainname);
  for (size_t i = 0; i < spec->n_mounts; i++)
    spec_mount_clear(&spec->mounts[i]);
  free(spec->mounts);
  hooks_clear(&spec->hooks);
  spec_kv_free(spec->annotations, spec->n_annotations);
  spec_linux_clear(&spec->linux_);
  if (spec->json)
    json_decref(spec->json);
  free(spec);
}

const char *brick_annotation(const struct brick_spec *spec, const char *key) {
  if (spec == NULL || key == NULL)
    return NULL;
  for (size_t i = 0; i < spec->n_annotations; i++)
    if (strcmp(spec->annotations[i].key, key) == 0)
      return spec->annotations[i].value;
  return NULL;
}
