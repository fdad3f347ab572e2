/* config.json "process" (and exec --process FILE): what runs, as whom, with which
 * privileges and limits. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "spec/spec_internal.h"

static int parse_caps(json_t *obj, const char *path, struct brick_caps *caps, brick_err *err) {
  static const char *const set_names[] = {"bounding", "effective", "inheritable",
                                          "permitted", "ambient"};
  uint64_t *sets[] = {&caps->bounding, &caps->effective, &caps->inheritable,
                      &caps->permitted, &caps->ambient};
  caps->present = true;
  for (size_t s = 0; s < ARRAY_SIZE(set_names); s++) {
    _cleanup_strv_ char **names = NULL;
    if (spec_get_strv(obj, path, set_names[s], &names, err) < 0)
      return -1;
    for (size_t i = 0; names && names[i]; i++) {
      int cap = brick_cap_from_name(names[i]);
      if (cap < 0) {
        _cleanup_free_ char *spath = spec_path_key(path, set_names[s]);
        _cleanup_free_ char *ipath = spec_path_index(spath, i);
        return spec_error(err, ipath, "unknown capability \"%s\"", names[i]);
      }
      *sets[s] |= UINT64_C(1) << cap;
    }
  }
  return 0;
}

static int parse_rlimits(json_t *arr, const char *path, struct brick_process *p,
                         brick_err *err) {
  size_t n = json_array_size(arr);
  p->rlimits = xcalloc(n, sizeof *p->rlimits);
  p->n_rlimits = n;
  for (size_t i = 0; i < n; i++) {
    struct brick_rlimit *rl = &p->rlimits[i];
    json_t *o;
    if (spec_array_object(arr, path, i, &o, err) < 0)
      return -1;
    _cleanup_free_ char *ipath = spec_path_index(path, i);
    if (spec_get_string(o, ipath, "type", true, &rl->type, err) < 0)
      return -1;
    long resource;
    _cleanup_free_ char *tpath = spec_path_key(ipath, "type");
    if (!spec_lookup(spec_rlimit_names, rl->type, &resource))
      return spec_error(err, tpath, "unknown rlimit \"%s\"", rl->type);
    for (size_t j = 0; j < i; j++)
      if (p->rlimits[j].resource == (int)resource)
        return spec_error(err, tpath, "duplicate rlimit \"%s\"", rl->type);
    rl->resource = (int)resource;
    if (spec_get_uint(o, ipath, "soft", true, UINT64_MAX, &rl->soft, NULL, err) < 0 ||
        spec_get_uint(o, ipath, "hard", true, UINT64_MAX, &rl->hard, NULL, err) < 0)
      return -1;
    /* setrlimit() would only say EINVAL much later, inside the container's init. */
    if (rl->soft > rl->hard)
      return spec_error(err, ipath, "soft limit %llu exceeds hard limit %llu",
                        (unsigned long long)rl->soft, (unsigned long long)rl->hard);
  }
  return 0;
}

static int parse_user(json_t *obj, const char *path, struct brick_user *u, brick_err *err) {
  uint64_t v = 0;
  bool present;
  if (spec_get_uint(obj, path, "uid", false, UINT32_MAX, &v, NULL, err) < 0)
    return -1;
  u->uid = (uid_t)v;
  v = 0;
  if (spec_get_uint(obj, path, "gid", false, UINT32_MAX, &v, NULL, err) < 0)
    return -1;
  u->gid = (gid_t)v;
  if (spec_get_uint(obj, path, "umask", false, 0777, &v, &present, err) < 0)
    return -1;
  if (present) {
    u->has_umask = true;
    u->umask = (mode_t)v;
  }
  if (spec_get_string(obj, path, "username", false, &u->username, err) < 0)
    return -1;
  json_t *gids;
  if (spec_get_array(obj, path, "additionalGids", &gids, err) < 0)
    return -1;
  if (gids) {
    _cleanup_free_ char *gpath = spec_path_key(path, "additionalGids");
    size_t n = json_array_size(gids);
    u->additional_gids = xcalloc(n, sizeof *u->additional_gids);
    u->n_additional_gids = n;
    for (size_t i = 0; i < n; i++) {
      json_t *g = json_array_get(gids, i);
      if (!json_is_integer(g) || json_integer_value(g) < 0 ||
          json_integer_value(g) > (json_int_t)UINT32_MAX) {
        _cleanup_free_ char *ipath = spec_path_index(gpath, i);
        return spec_error(err, ipath, "expected a group id (0 to 4294967295)");
      }
      u->additional_gids[i] = (gid_t)json_integer_value(g);
    }
  }
  return 0;
}

static int parse_io_priority(json_t *obj, const char *path, struct brick_io_priority *io,
                             brick_err *err) {
  _cleanup_free_ char *cls = NULL;
  if (spec_get_string(obj, path, "class", true, &cls, err) < 0)
    return -1;
  long value;
  if (!spec_lookup(spec_ioprio_class_names, cls, &value)) {
    _cleanup_free_ char *cpath = spec_path_key(path, "class");
    return spec_error(err, cpath, "unknown class \"%s\"", cls);
  }
  io->present = true;
  io->class_ = (int)value;
  int64_t prio = 0;
  if (spec_get_int(obj, path, "priority", false, 0, 7, &prio, NULL, err) < 0)
    return -1;
  io->priority = (int)prio;
  return 0;
}

static int parse_scheduler(json_t *obj, const char *path, struct brick_scheduler *s,
                           brick_err *err) {
  _cleanup_free_ char *policy = NULL;
  if (spec_get_string(obj, path, "policy", true, &policy, err) < 0)
    return -1;
  long value;
  if (!spec_lookup(spec_sched_policy_names, policy, &value)) {
    _cleanup_free_ char *ppath = spec_path_key(path, "policy");
    return spec_error(err, ppath, "unknown scheduler policy \"%s\"", policy);
  }
  s->present = true;
  s->policy = (int)value;
  int64_t nice = 0, prio = 0;
  if (spec_get_int(obj, path, "nice", false, -20, 19, &nice, NULL, err) < 0 ||
      spec_get_int(obj, path, "priority", false, INT32_MIN, INT32_MAX, &prio, NULL, err) < 0)
    return -1;
  s->nice = (int)nice;
  s->priority = (int)prio;
  _cleanup_strv_ char **flags = NULL;
  if (spec_get_strv(obj, path, "flags", &flags, err) < 0)
    return -1;
  for (size_t i = 0; flags && flags[i]; i++) {
    if (!spec_lookup(spec_sched_flag_names, flags[i], &value)) {
      _cleanup_free_ char *fpath = spec_path_key(path, "flags");
      _cleanup_free_ char *ipath = spec_path_index(fpath, i);
      return spec_error(err, ipath, "unknown scheduler flag \"%s\"", flags[i]);
    }
    s->flags |= (uint64_t)value;
  }
  if (spec_get_uint(obj, path, "runtime", false, UINT64_MAX, &s->runtime, NULL, err) < 0 ||
      spec_get_uint(obj, path, "deadline", false, UINT64_MAX, &s->deadline, NULL, err) < 0 ||
      spec_get_uint(obj, path, "period", false, UINT64_MAX, &s->period, NULL, err) < 0)
    return -1;
  return 0;
}

static int parse_cpu_affinity(json_t *obj, const char *path,
                              struct brick_exec_cpu_affinity *a, brick_err *err) {
  static const char *const keys[] = {"initial", "final"};
  char **fields[] = {&a->initial, &a->final};
  for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
    if (spec_get_string(obj, path, keys[k], false, fields[k], err) < 0)
      return -1;
    if (*fields[k] && !spec_cpu_list_valid(*fields[k])) {
      _cleanup_free_ char *kpath = spec_path_key(path, keys[k]);
      return spec_error(err, kpath, "invalid CPU list \"%s\"", *fields[k]);
    }
  }
  return 0;
}

static int parse_env(json_t *obj, const char *path, struct brick_process *p, brick_err *err) {
  if (spec_get_strv(obj, path, "env", &p->env, err) < 0)
    return -1;
  for (size_t i = 0; p->env && p->env[i]; i++) {
    const char *eq = strchr(p->env[i], '=');
    if (eq == NULL || eq == p->env[i]) {
      _cleanup_free_ char *epath = spec_path_key(path, "env");
      _cleanup_free_ char *ipath = spec_path_index(epath, i);
      return spec_error(err, ipath, "\"%s\" is not of the form KEY=VALUE", p->env[i]);
    }
  }
  return 0;
}

int spec_parse_process(json_t *obj, const char *path, struct brick_process *p,
                       brick_err *err) {
  json_t *sub;
  bool present;

  if (spec_get_bool(obj, path, "terminal", &p->terminal, NULL, err) < 0)
    return -1;
  if (spec_get_object(obj, path, "consoleSize", false, &sub, err) < 0)
    return -1;
  if (sub) {
    _cleanup_free_ char *cpath = spec_path_key(path, "consoleSize");
    uint64_t h = 0, w = 0;
    if (spec_get_uint(sub, cpath, "height", true, UINT32_MAX, &h, NULL, err) < 0 ||
        spec_get_uint(sub, cpath, "width", true, UINT32_MAX, &w, NULL, err) < 0)
      return -1;
    p->console_size = (struct brick_console_size){true, (unsigned)h, (unsigned)w};
  }

  if (spec_get_object(obj, path, "user", false, &sub, err) < 0)
    return -1;
  if (sub) {
    _cleanup_free_ char *upath = spec_path_key(path, "user");
    if (parse_user(sub, upath, &p->user, err) < 0)
      return -1;
  }

  if (spec_get_strv(obj, path, "args", &p->args, err) < 0)
    return -1;
  if (p->args == NULL || p->args[0] == NULL) {
    _cleanup_free_ char *apath = spec_path_key(path, "args");
    return spec_error(err, apath, p->args ? "must not be empty" : "required field is missing");
  }
  if (spec_get_string(obj, path, "commandLine", false, &p->command_line, err) < 0)
    return -1;
  if (parse_env(obj, path, p, err) < 0)
    return -1;

  if (spec_get_string(obj, path, "cwd", true, &p->cwd, err) < 0)
    return -1;
  if (!spec_path_is_absolute(p->cwd)) {
    _cleanup_free_ char *cpath = spec_path_key(path, "cwd");
    return spec_error(err, cpath, "\"%s\" is not an absolute path", p->cwd);
  }

  if (spec_get_object(obj, path, "capabilities", false, &sub, err) < 0)
    return -1;
  if (sub) {
    _cleanup_free_ char *cpath = spec_path_key(path, "capabilities");
    if (parse_caps(sub, cpath, &p->caps, err) < 0)
      return -1;
  }

  if (spec_get_array(obj, path, "rlimits", &sub, err) < 0)
    return -1;
  if (sub) {
    _cleanup_free_ char *rpath = spec_path_key(path, "rlimits");
    if (parse_rlimits(sub, rpath, p, err) < 0)
      return -1;
  }

  if (spec_get_bool(obj, path, "noNewPrivileges", &p->no_new_privileges, NULL, err) < 0)
    return -1;
  int64_t oom = 0;
  if (spec_get_int(obj, path, "oomScoreAdj", false, -1000, 1000, &oom, &present, err) < 0)
    return -1;
  p->has_oom_score_adj = present;
  p->oom_score_adj = (int)oom;

  if (spec_get_string(obj, path, "selinuxLabel", false, &p->selinux_label, err) < 0 ||
      spec_get_string(obj, path, "apparmorProfile", false, &p->apparmor_profile, err) < 0)
    return -1;

  if (spec_get_object(obj, path, "ioPriority", false, &sub, err) < 0)
    return -1;
  if (sub) {
    _cleanup_free_ char *ipath = spec_path_key(path, "ioPriority");
    if (parse_io_priority(sub, ipath, &p->io_priority, err) < 0)
      return -1;
  }

  if (spec_get_object(obj, path, "scheduler", false, &sub, err) < 0)
    return -1;
  if (sub) {
    _cleanup_free_ char *spath = spec_path_key(path, "scheduler");
    if (parse_scheduler(sub, spath, &p->scheduler, err) < 0)
      return -1;
  }

  if (spec_get_object(obj, path, "execCPUAffinity", false, &sub, err) < 0)
    return -1;
  if (sub) {
    _cleanup_free_ char *apath = spec_path_key(path, "execCPUAffinity");
    if (parse_cpu_affinity(sub, apath, &p->exec_cpu_affinity, err) < 0)
      return -1;
  }
  return 0;
}

void spec_process_clear(struct brick_process *p) {
  if (p == NULL)
    return;
  free(p->user.additional_gids);
  free(p->user.username);
  brick_strv_free(p->args);
  free(p->command_line);
  brick_strv_free(p->env);
  free(p->cwd);
  for (size_t i = 0; i < p->n_rlimits; i++)
    free(p->rlimits[i].type);
  free(p->rlimits);
  free(p->selinux_label);
  free(p->apparmor_profile);
  free(p->exec_cpu_affinity.initial);
  free(p->exec_cpu_affinity.final);
  memset(p, 0, sizeof *p);
}

struct brick_process *brick_process_parse(json_t *obj, const char *name_for_errors,
                                          brick_err *err) {
  const char *name = name_for_errors ? name_for_errors : "process.json";
  if (!json_is_object(obj)) {
    brick_error(err, 0, "%s: expected a JSON object", name);
    return NULL;
  }
  struct brick_process *p = xcalloc(1, sizeof *p);
  if (spec_parse_process(obj, "", p, err) < 0) {
    brick_error_prefix(err, "%s", name);
    brick_process_free(p);
    return NULL;
  }
  return p;
}

void brick_process_free(struct brick_process *p) {
  if (p == NULL)
    return;
  spec_process_clear(p);
  free(p);
}
