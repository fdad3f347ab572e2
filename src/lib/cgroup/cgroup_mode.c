/* Which cgroup layout the host has, and where each hierarchy is mounted, read from
 * /proc/self/mountinfo (not from a fixed /sys/fs/cgroup layout: distributions and
 * container hosts mount hierarchies in different places and combinations). */
#include "cgroup/cgroup_internal.h"

#include <stdio.h>
#include <string.h>

#include "core/util.h"

static const char *const ctrl_names[CG_CTRL_COUNT] = {
  [CG_CPU] = "cpu", [CG_CPUACCT] = "cpuacct", [CG_CPUSET] = "cpuset",
  [CG_MEMORY] = "memory", [CG_PIDS] = "pids", [CG_BLKIO] = "blkio",
  [CG_DEVICES] = "devices", [CG_FREEZER] = "freezer", [CG_HUGETLB] = "hugetlb",
  [CG_NET_CLS] = "net_cls", [CG_NET_PRIO] = "net_prio", [CG_RDMA] = "rdma",
  [CG_MISC] = "misc", [CG_PERF_EVENT] = "perf_event", [CG_NAME_SYSTEMD] = "name=systemd",
};

const char *cg_ctrl_name(enum cg_ctrl c) {
  return (unsigned)c < CG_CTRL_COUNT ? ctrl_names[c] : "?";
}

const char *cg_ctrl_v2_name(enum cg_ctrl c) {
  switch (c) {
  case CG_CPU: return "cpu";
  case CG_CPUSET: return "cpuset";
  case CG_MEMORY: return "memory";
  case CG_PIDS: return "pids";
  case CG_BLKIO: return "io";
  case CG_HUGETLB: return "hugetlb";
  case CG_RDMA: return "rdma";
  case CG_MISC: return "misc";
  case CG_PERF_EVENT: return "perf_event";
  default: return NULL;
  }
}

const char *brick_cgroup_mode_name(enum brick_cgroup_mode mode) {
  switch (mode) {
  case BRICK_CGROUP_V1: return "v1";
  case BRICK_CGROUP_V2: return "v2";
  case BRICK_CGROUP_HYBRID: return "hybrid";
  }
  return "?";
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s) {
  char *out = xmalloc(strlen(s) + 1), *o = out;
  while (*s) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
        s[3] >= '0' && s[3] <= '7') {
      *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 4;
    } else {
      *o++ = *s++;
    }
  }
  *o = '\0';
  return out;
}

static uint64_t ctrl_mask_from_options(const char *opts) {
  uint64_t mask = 0;
  _cleanup_free_ char *copy = xstrdup(opts);
  char *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    for (int c = 0; c < CG_CTRL_COUNT; c++)
      if (!strcmp(t, ctrl_names[c]))
        mask |= UINT64_C(1) << c;
  return mask;
}

void cg_mounts_free(struct brick_cgroup_mounts *m) {
  if (!m)
    return;
  free(m->unified);
  free(m->unified_root);
  for (size_t i = 0; i < m->n_v1; i++) {
    free(m->v1[i].mountpoint);
    free(m->v1[i].root);
    free(m->v1[i].options);
  }
  free(m->v1);
  memset(m, 0, sizeof(*m));
}

int cg_parse_mountinfo(const char *text, struct brick_cgroup_mounts *out, brick_err *err) {
  memset(out, 0, sizeof(*out));
  _cleanup_free_ char *copy = xstrdup(text);
  char *save = NULL;
  unsigned lineno = 0;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    char *sep = strstr(line, " - ");
    if (!sep)
      continue;
    *sep = '\0';
    char *fstype = NULL, *source = NULL, *superopts = NULL, *s2 = NULL;
    fstype = strtok_r(sep + 3, " ", &s2);
    source = strtok_r(NULL, " ", &s2);
    superopts = strtok_r(NULL, " ", &s2);
    if (!fstype || (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2")))
      continue;
    char *f[5] = {0}, *s1 = NULL;
    f[0] = strtok_r(line, " ", &s1);
    for (int i = 1; i < 5 && f[i - 1]; i++)
      f[i] = strtok_r(NULL, " ", &s1);
    if (!f[4] || !source) {
      cg_mounts_free(out);
      return brick_error(err, 0, "mountinfo line %u: malformed %s entry", lineno, fstype);
    }
    if (!strcmp(fstype, "cgroup2")) {
      if (!out->unified) {
        out->unified = unescape(f[4]);
        out->unified_root = unescape(f[3]);
      }
      continue;
    }
    if (!superopts) {
      cg_mounts_free(out);
      return brick_error(err, 0, "mountinfo line %u: cgroup entry without options", lineno);
    }
    uint64_t mask = ctrl_mask_from_options(superopts);
    bool seen = false;
    for (size_t i = 0; i < out->n_v1; i++)
      if (mask && out->v1[i].ctrl_mask == mask)
        seen = true;
    if (seen || !mask)
      continue;  /* a bind mount of a hierarchy we have, or a named one we don't drive */
    out->v1 = xrealloc(out->v1, (out->n_v1 + 1) * sizeof(*out->v1));
    out->v1[out->n_v1++] = (struct cg_v1_hierarchy){
      .mountpoint = unescape(f[4]), .root = unescape(f[3]), .options = xstrdup(superopts),
      .ctrl_mask = mask,
    };
  }
  bool v1_controllers = false;
  for (size_t i = 0; i < out->n_v1; i++)
    if (out->v1[i].ctrl_mask & ~(UINT64_C(1) << CG_NAME_SYSTEMD))
      v1_controllers = true;
  if (out->unified)
    out->mode = v1_controllers ? BRICK_CGROUP_HYBRID : BRICK_CGROUP_V2;
  else
    out->mode = out->n_v1 ? BRICK_CGROUP_V1 : BRICK_CGROUP_V2;
  return 0;
}

static struct brick_cgroup_mounts host_mounts;
static bool host_loaded;
static const struct brick_cgroup_mounts *override_mounts;

void cg_mounts_override(const struct brick_cgroup_mounts *m) { override_mounts = m; }

const struct brick_cgroup_mounts *cg_mounts(brick_err *err) {
  if (override_mounts)
    return override_mounts;
  if (!host_loaded) {
    _cleanup_free_ char *text = NULL;
    if (brick_read_file("/proc/self/mountinfo", &text, NULL, err) < 0)
      return NULL;
    if (cg_parse_mountinfo(text, &host_mounts, err) < 0)
      return brick_error_prefix(err, "/proc/self/mountinfo"), NULL;
    host_loaded = true;
  }
  return &host_mounts;
}

enum brick_cgroup_mode brick_cgroup_detect(void) {
  const struct brick_cgroup_mounts *m = cg_mounts(NULL);
  return m ? m->mode : BRICK_CGROUP_V2;
}

const struct cg_v1_hierarchy *cg_v1_find(const struct brick_cgroup_mounts *m, enum cg_ctrl c) {
  for (size_t i = 0; i < m->n_v1; i++)
    if (m->v1[i].ctrl_mask & (UINT64_C(1) << c))
      return &m->v1[i];
  return NULL;
}

char *cg_join(const char *base, const char *path) {
  while (*path == '/')
    path++;
  return *path ? xasprintf("%s/%s", base, path) : xstrdup(base);
}

bool cg_v2_root_has(const struct brick_cgroup_mounts *m, const char *name) {
  if (!m->unified)
    return false;
  /* The root's controllers do not change under a running brick: read them once. */
  static char *root_controllers;
  if (!root_controllers && cg_read(m->unified, "cgroup.controllers", &root_controllers, NULL) < 0)
    return false;
  _cleanup_free_ char *text = xstrdup(root_controllers);
  char *save = NULL;
  for (char *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
    if (!strcmp(t, name))
      return true;
  return false;
}

char *cg_dir_for(const struct brick_cgroup_mounts *m, enum cg_ctrl c, const char *path,
                 bool *v2_file) {
  if (v2_file)
    *v2_file = false;
  const struct cg_v1_hierarchy *h = cg_v1_find(m, c);
  if (h)
    return cg_join(h->mountpoint, path);
  const char *v2 = cg_ctrl_v2_name(c);
  if (m->mode == BRICK_CGROUP_HYBRID && v2 &&
      (c == CG_HUGETLB || c == CG_RDMA || c == CG_MISC) && cg_v2_root_has(m, v2)) {
    if (v2_file)
      *v2_file = true;
    return cg_join(m->unified, path);
  }
  return NULL;
}

char *cg_unified_dir(const struct brick_cgroup_mounts *m, const char *path) {
  return m->unified ? cg_join(m->unified, path) : NULL;
}

char *cg_proc_cgroup(pid_t pid, const char *key, brick_err *err) {
  _cleanup_free_ char *file = pid ? xasprintf("/proc/%d/cgroup", (int)pid)
                                  : xstrdup("/proc/self/cgroup");
  _cleanup_free_ char *text = NULL;
  if (brick_read_file(file, &text, NULL, err) < 0)
    return NULL;
  char *found = cg_proc_cgroup_in(text, key);
  if (!found)
    brick_error(err, ENOENT, "%s: no %s hierarchy", file, *key ? key : "cgroup2");
  return found;
}

char *cg_proc_cgroup_in(const char *contents, const char *key) {
  _cleanup_free_ char *text = xstrdup(contents);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2)
      continue;
    *c1 = *c2 = '\0';
    const char *ctrls = c1 + 1, *p = c2 + 1;
    if (!*key) {
      if (!strcmp(line, "0") && !*ctrls)
        return xstrdup(p);
      continue;
    }
    _cleanup_free_ char *copy = xstrdup(ctrls);
    char *s2 = NULL;
    for (char *t = strtok_r(copy, ",", &s2); t; t = strtok_r(NULL, ",", &s2))
      if (!strcmp(t, key))
        return xstrdup(p);
  }
  return NULL;
}

json_t *brick_cgroup_features(void) {
  const struct brick_cgroup_mounts *m = cg_mounts(NULL);
  json_t *o = json_object();
  json_t *ctrls = json_object();
  bool v1 = false, rdma = false;
  if (m) {
    for (int c = 0; c < CG_CTRL_COUNT; c++) {
      if (c == CG_NAME_SYSTEMD)
        continue;
      if (cg_v1_find(m, (enum cg_ctrl)c)) {
        json_object_set_new(ctrls, ctrl_names[c], json_string("v1"));
        v1 = true;
        rdma |= c == CG_RDMA;
      }
    }
    if (m->unified) {
      _cleanup_free_ char *text = NULL;
      if (cg_read(m->unified, "cgroup.controllers", &text, NULL) == 0) {
        char *save = NULL;
        for (char *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
          if (!json_object_get(ctrls, t))
            json_object_set_new(ctrls, t, json_string("v2"));
          rdma |= !strcmp(t, "rdma");
        }
      }
    }
  }
  json_object_set_new(o, "v1", json_boolean(v1));
  json_object_set_new(o, "v2", json_boolean(m && m->unified));
  json_object_set_new(o, "systemd", json_boolean(cg_systemd_available(NULL) == 0));
  json_object_set_new(o, "systemdUser", json_false());
  json_object_set_new(o, "rdma", json_boolean(rdma));
  json_object_set_new(o, "mode", json_string(brick_cgroup_mode_name(m ? m->mode
                                                                       : BRICK_CGROUP_V2)));
  json_object_set_new(o, "controllers", ctrls);
  return o;
}
