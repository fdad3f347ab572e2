/* Typed access to the parsed document, with every failure reported at its JSON path. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "spec/spec_internal.h"

char *spec_path_key(const char *parent, const char *key) {
  if (parent == NULL || parent[0] == '\0')
    return xstrdup(key);
  return xasprintf("%s.%s", parent, key);
}

char *spec_path_index(const char *parent, size_t index) {
  return xasprintf("%s[%zu]", parent ? parent : "", index);
}

int spec_error(brick_err *err, const char *path, const char *fmt, ...) {
  _cleanup_free_ char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (r < 0)
    return brick_error(err, 0, "out of memory formatting an error");
  if (path == NULL || path[0] == '\0')
    return brick_error(err, 0, "%s", msg);
  return brick_error(err, 0, "%s: %s", path, msg);
}

const char *spec_json_type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "object";
  case JSON_ARRAY: return "array";
  case JSON_STRING: return "string";
  case JSON_INTEGER: return "integer";
  case JSON_REAL: return "number";
  case JSON_TRUE:
  case JSON_FALSE: return "boolean";
  case JSON_NULL: return "null";
  }
  return "value";
}

json_t *spec_get(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL || json_is_null(v))
    return NULL;
  return v;
}

static int missing(const char *parent, const char *key, brick_err *err) {
  _cleanup_free_ char *path = spec_path_key(parent, key);
  return spec_error(err, path, "required field is missing");
}

static int wrong_type(const char *parent, const char *key, const char *expected,
                      brick_err *err) {
  _cleanup_free_ char *path = spec_path_key(parent, key);
  return spec_error(err, path, "expected %s", expected);
}

int spec_get_string(json_t *obj, const char *parent, const char *key, bool required,
                    char **out, brick_err *err) {
  json_t *v = spec_get(obj, key);
  if (v == NULL)
    return required ? missing(parent, key, err) : 0;
  if (!json_is_string(v))
    return wrong_type(parent, key, "a string", err);
  /* An embedded NUL would make the C string say something other than the JSON. */
  if (strlen(json_string_value(v)) != json_string_length(v))
    return wrong_type(parent, key, "a string without NUL characters", err);
  free(*out);
  *out = xstrdup(json_string_value(v));
  return 0;
}

int spec_get_bool(json_t *obj, const char *parent, const char *key, bool *out,
                  bool *present, brick_err *err) {
  json_t *v = spec_get(obj, key);
  if (present)
    *present = v != NULL;
  if (v == NULL)
    return 0;
  if (!json_is_boolean(v))
    return wrong_type(parent, key, "a boolean", err);
  *out = json_is_true(v);
  return 0;
}

int spec_get_int(json_t *obj, const char *parent, const char *key, bool required,
                 int64_t min, int64_t max, int64_t *out, bool *present, brick_err *err) {
  json_t *v = spec_get(obj, key);
  if (present)
    *present = v != NULL;
  if (v == NULL)
    return required ? missing(parent, key, err) : 0;
  if (!json_is_integer(v))
    return wrong_type(parent, key, "an integer", err);
  json_int_t n = json_integer_value(v);
  if (n < min || n > max) {
    _cleanup_free_ char *path = spec_path_key(parent, key);
    return spec_error(err, path, "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                      (int64_t)n, min, max);
  }
  *out = (int64_t)n;
  return 0;
}

int spec_get_uint(json_t *obj, const char *parent, const char *key, bool required,
                  uint64_t max, uint64_t *out, bool *present, brick_err *err) {
  json_t *v = spec_get(obj, key);
  if (present)
    *present = v != NULL;
  if (v == NULL)
    return required ? missing(parent, key, err) : 0;
  if (!json_is_integer(v))
    return wrong_type(parent, key, "a non-negative integer", err);
  json_int_t n = json_integer_value(v);
  if (n < 0 || (uint64_t)n > max) {
    _cleanup_free_ char *path = spec_path_key(parent, key);
    return spec_error(err, path, "%" PRId64 " is out of range [0, %" PRIu64 "]", (int64_t)n,
                      max);
  }
  *out = (uint64_t)n;
  return 0;
}

int spec_get_strv(json_t *obj, const char *parent, const char *key, char ***out,
                  brick_err *err) {
  json_t *v = spec_get(obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_array(v))
    return wrong_type(parent, key, "an array of strings", err);
  size_t n = json_array_size(v);
  for (size_t i = 0; i < n; i++) {
    json_t *s = json_array_get(v, i);
    if (!json_is_string(s))
      return wrong_type(parent, key, "an array of strings", err);
    if (strlen(json_string_value(s)) != json_string_length(s)) {
      _cleanup_free_ char *path = spec_path_key(parent, key);
      _cleanup_free_ char *ipath = spec_path_index(path, i);
      return spec_error(err, ipath, "string contains a NUL character");
    }
  }
  char **strv = xcalloc(n + 1, sizeof *strv);
  for (size_t i = 0; i < n; i++)
    strv[i] = xstrdup(json_string_value(json_array_get(v, i)));
  brick_strv_free(*out);
  *out = strv;
  return 0;
}

int spec_get_object(json_t *obj, const char *parent, const char *key, bool required,
                    json_t **out, brick_err *err) {
  json_t *v = spec_get(obj, key);
  *out = NULL;
  if (v == NULL)
    return required ? missing(parent, key, err) : 0;
  if (!json_is_object(v))
    return wrong_type(parent, key, "an object", err);
  *out = v;
  return 0;
}

int spec_get_array(json_t *obj, const char *parent, const char *key, json_t **out,
                   brick_err *err) {
  json_t *v = spec_get(obj, key);
  *out = NULL;
  if (v == NULL)
    return 0;
  if (!json_is_array(v))
    return wrong_type(parent, key, "an array", err);
  *out = v;
  return 0;
}

void spec_kv_free(struct brick_kv *kv, size_t n) {
  for (size_t i = 0; kv && i < n; i++) {
    free(kv[i].key);
    free(kv[i].value);
  }
  free(kv);
}

int spec_get_string_map(json_t *obj, const char *parent, const char *key,
                        struct brick_kv **out, size_t *n, brick_err *err) {
  json_t *map;
  if (spec_get_object(obj, parent, key, false, &map, err) < 0)
    return -1;
  if (map == NULL)
    return 0;
  _cleanup_free_ char *path = spec_path_key(parent, key);
  const char *k;
  json_t *v;
  json_object_foreach(map, k, v) {
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
      _cleanup_free_ char *kpath = spec_path_key(path, k);
      return spec_error(err, kpath, "expected a string");
    }
  }
  size_t count = json_object_size(map), i = 0;
  struct brick_kv *kv = xcalloc(count, sizeof *kv);
  json_object_foreach(map, k, v) {
    kv[i].key = xstrdup(k);
    kv[i].value = xstrdup(json_string_value(v));
    i++;
  }
  spec_kv_free(*out, *n);
  *out = kv;
  *n = count;
  return 0;
}

int spec_array_object(json_t *arr, const char *path, size_t i, json_t **out, brick_err *err) {
  json_t *v = json_array_get(arr, i);
  if (!json_is_object(v)) {
    _cleanup_free_ char *ipath = spec_path_index(path, i);
    return spec_error(err, ipath, "expected an object");
  }
  *out = v;
  return 0;
}

int spec_get_id_mappings(json_t *obj, const char *parent, const char *key,
                         struct brick_id_mapping **out, size_t *n, brick_err *err) {
  json_t *arr;
  if (spec_get_array(obj, parent, key, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  _cleanup_free_ char *path = spec_path_key(parent, key);
  size_t count = json_array_size(arr);
  _cleanup_free_ struct brick_id_mapping *maps = xcalloc(count, sizeof *maps);
  for (size_t i = 0; i < count; i++) {
    json_t *m;
    if (spec_array_object(arr, path, i, &m, err) < 0)
      return -1;
    _cleanup_free_ char *ipath = spec_path_index(path, i);
    uint64_t c = 0, h = 0, s = 0;
    if (spec_get_uint(m, ipath, "containerID", true, UINT32_MAX, &c, NULL, err) < 0 ||
        spec_get_uint(m, ipath, "hostID", true, UINT32_MAX, &h, NULL, err) < 0 ||
        spec_get_uint(m, ipath, "size", true, UINT32_MAX, &s, NULL, err) < 0)
      return -1;
    if (s == 0)
      return spec_error(err, ipath, "size must be greater than 0");
    /* The kernel refuses ranges that wrap; say so here with the path. */
    if (c + s - 1 > UINT32_MAX || h + s - 1 > UINT32_MAX)
      return spec_error(err, ipath, "range exceeds the 32-bit id space");
    maps[i] = (struct brick_id_mapping){(uint32_t)c, (uint32_t)h, (uint32_t)s};
  }
  free(*out);
  *out = TAKE_PTR(maps);
  *n = count;
  return 0;
}

bool spec_path_is_absolute(const char *p) {
  return p != NULL && p[0] == '/';
}

/* "0-3,7": comma-separated CPU numbers or ascending ranges. */
bool spec_cpu_list_valid(const char *s) {
  if (*s == '\0')
    return false;
  for (;;) {
    if (!isdigit((unsigned char)*s))
      return false;
    char *end;
    unsigned long lo = strtoul(s, &end, 10), hi = lo;
    s = end;
    if (*s == '-') {
      s++;
      if (!isdigit((unsigned char)*s))
        return false;
      hi = strtoul(s, &end, 10);
      s = end;
      if (hi < lo)
        return false;
    }
    if (*s == '\0')
      return true;
    if (*s != ',')
      return false;
    s++;
  }
}
