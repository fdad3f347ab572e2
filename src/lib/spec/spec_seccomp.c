/* config.json "linux.seccomp": validated names only; the seccomp module compiles it. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "spec/spec_internal.h"

static int get_action(json_t *o, const char *path, const char *key,
                      enum brick_seccomp_action *out, brick_err *err) {
  _cleanup_free_ char *name = NULL;
  if (spec_get_string(o, path, key, true, &name, err) < 0)
    return -1;
  long v;
  if (!spec_lookup(spec_seccomp_action_names, name, &v)) {
    _cleanup_free_ char *apath = spec_path_key(path, key);
    return spec_error(err, apath, "unknown action \"%s\"", name);
  }
  *out = (enum brick_seccomp_action)v;
  return 0;
}

static int check_names(char **names, const char *parent, const char *key,
                       const struct spec_name_value *table, const char *what,
                       brick_err *err) {
  for (size_t i = 0; names && names[i]; i++) {
    if (!spec_lookup(table, names[i], NULL)) {
      _cleanup_free_ char *kpath = spec_path_key(parent, key);
      _cleanup_free_ char *ipath = spec_path_index(kpath, i);
      return spec_error(err, ipath, "unknown %s \"%s\"", what, names[i]);
    }
  }
  return 0;
}

static int parse_args(json_t *arr, const char *path, struct brick_seccomp_rule *rule,
                      brick_err *err) {
  size_t n = json_array_size(arr);
  rule->args = xcalloc(n, sizeof *rule->args);
  rule->n_args = n;
  for (size_t i = 0; i < n; i++) {
    json_t *o;
    if (spec_array_object(arr, path, i, &o, err) < 0)
      return -1;
    _cleanup_free_ char *ipath = spec_path_index(path, i);
    struct brick_seccomp_arg *a = &rule->args[i];
    uint64_t index = 0;
    /* A system call has at most six arguments. */
    if (spec_get_uint(o, ipath, "index", true, 5, &index, NULL, err) < 0 ||
        spec_get_uint(o, ipath, "value", true, UINT64_MAX, &a->value, NULL, err) < 0 ||
        spec_get_uint(o, ipath, "valueTwo", false, UINT64_MAX, &a->value_two, NULL, err) < 0)
      return -1;
    a->index = (unsigned)index;
    _cleanup_free_ char *op = NULL;
    if (spec_get_string(o, ipath, "op", true, &op, err) < 0)
      return -1;
    long v;
    if (!spec_lookup(spec_seccomp_op_names, op, &v)) {
      _cleanup_free_ char *opath = spec_path_key(ipath, "op");
      return spec_error(err, opath, "unknown operator \"%s\"", op);
    }
    a->op = (enum brick_seccomp_op)v;
  }
  return 0;
}

static int parse_rule(json_t *o, const char *path, struct brick_seccomp_rule *rule,
                      brick_err *err) {
  if (spec_get_strv(o, path, "names", &rule->names, err) < 0)
    return -1;
  if (rule->names == NULL || rule->names[0] == NULL) {
    _cleanup_free_ char *npath = spec_path_key(path, "names");
    return spec_error(err, npath, rule->names ? "must not be empty" : "required field is missing");
  }
  for (size_t i = 0; rule->names[i]; i++) {
    if (rule->names[i][0] == '\0') {
      _cleanup_free_ char *npath = spec_path_key(path, "names");
      _cleanup_free_ char *ipath = spec_path_index(npath, i);
      return spec_error(err, ipath, "empty system call name");
    }
  }
  if (get_action(o, path, "action", &rule->action, err) < 0)
    return -1;
  uint64_t v = 0;
  if (spec_get_uint(o, path, "errnoRet", false, UINT32_MAX, &v, &rule->has_errno_ret, err) < 0)
    return -1;
  rule->errno_ret = (unsigned)v;
  json_t *args;
  if (spec_get_array(o, path, "args", &args, err) < 0)
    return -1;
  if (args) {
    _cleanup_free_ char *apath = spec_path_key(path, "args");
    if (parse_args(args, apath, rule, err) < 0)
      return -1;
  }
  return 0;
}

int spec_parse_seccomp(json_t *obj, const char *path, struct brick_seccomp *s,
                       brick_err *err) {
  s->present = true;
  s->raw = json_incref(obj);
  if (get_action(obj, path, "defaultAction", &s->default_action, err) < 0)
    return -1;
  uint64_t v = 0;
  if (spec_get_uint(obj, path, "defaultErrnoRet", false, UINT32_MAX, &v,
                    &s->has_default_errno_ret, err) < 0)
    return -1;
  s->default_errno_ret = (unsigned)v;
  if (spec_get_strv(obj, path, "architectures", &s->architectures, err) < 0 ||
      check_names(s->architectures, path, "architectures", spec_seccomp_arch_names,
                  "architecture", err) < 0 ||
      spec_get_strv(obj, path, "flags", &s->flags, err) < 0 ||
      check_names(s->flags, path, "flags", spec_seccomp_flag_names, "flag", err) < 0 ||
      spec_get_string(obj, path, "listenerPath", false, &s->listener_path, err) < 0 ||
      spec_get_string(obj, path, "listenerMetadata", false, &s->listener_metadata, err) < 0)
    return -1;

  json_t *arr;
  if (spec_get_array(obj, path, "syscalls", &arr, err) < 0)
    return -1;
  bool notify = s->default_action == BRICK_SCMP_NOTIFY;
  if (arr) {
    _cleanup_free_ char *spath = spec_path_key(path, "syscalls");
    size_t n = json_array_size(arr);
    s->syscalls = xcalloc(n, sizeof *s->syscalls);
    s->n_syscalls = n;
    for (size_t i = 0; i < n; i++) {
      json_t *o;
      if (spec_array_object(arr, spath, i, &o, err) < 0)
        return -1;
      _cleanup_free_ char *ipath = spec_path_index(spath, i);
      if (parse_rule(o, ipath, &s->syscalls[i], err) < 0)
        return -1;
      notify = notify || s->syscalls[i].action == BRICK_SCMP_NOTIFY;
    }
  }
  /* A notifying filter hands its fd to a listener; the spec requires one then. */
  if (notify && (s->listener_path == NULL || s->listener_path[0] == '\0')) {
    _cleanup_free_ char *lpath = spec_path_key(path, "listenerPath");
    return spec_error(err, lpath, "required when SCMP_ACT_NOTIFY is used");
  }
  return 0;
}

void spec_seccomp_clear(struct brick_seccomp *s) {
  brick_strv_free(s->architectures);
  brick_strv_free(s->flags);
  free(s->listener_path);
  free(s->listener_metadata);
  for (size_t i = 0; i < s->n_syscalls; i++) {
    brick_strv_free(s->syscalls[i].names);
    free(s->syscalls[i].args);
  }
  free(s->syscalls);
  if (s->raw)
    json_decref(s->raw);
  memset(s, 0, sizeof *s);
}
