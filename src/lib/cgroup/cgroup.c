/* The container-level cgroup operations, dispatched over the host's layout: v1 (one
 * directory per hierarchy), v2 (one directory) or hybrid (v1 hierarchies plus the
 * cgroup2 directory, which carries hugetlb/misc, cgroup.kill and eBPF device programs). */
#include "cgroup/cgroup_internal.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define CG_WAIT_MS 5000

static const struct brick_cgroup_mounts *mounts_or_fail(brick_err *err) {
  const struct brick_cgroup_mounts *m = cg_mounts(err);
  if (m && !m->unified && m->n_v1 == 0) {
    brick_error(err, ENOENT, "no cgroup filesystem is mounted");
    return NULL;
  }
  return m;
}

static bool has_v1(const struct brick_cgroup_mounts *m) { return m->mode != BRICK_CGROUP_V2; }

/* ---- path resolution ---- */

/* Collapse "//" and ".", refuse "..": a cgroupsPath must not climb out of where it says. */
static char *normalise(const char *path, brick_err *err) {
  _cleanup_free_ char *copy = xstrdup(path);
  char *out = xstrdup("");
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    if (!strcmp(c, "."))
      continue;
    if (!strcmp(c, "..")) {
      free(out);
      brick_error(err, 0, "linux.cgroupsPath: \"%s\": \"..\" is not allowed", path);
      return NULL;
    }
    char *next = xasprintf("%s/%s", out, c);
    free(out);
    out = next;
  }
  if (!*out) {
    free(out);
    brick_error(err, 0, "linux.cgroupsPath: \"%s\" names the root cgroup", path);
    return NULL;
  }
  return out;
}

static char *caller_cgroup(const struct brick_cgroup_mounts *m, brick_err *err) {
  if (m->unified)
    return cg_proc_cgroup(0, "", err);
  for (size_t i = 0; i < m->n_v1; i++)
    for (int c = 0; c < CG_CTRL_COUNT; c++)
      if (m->v1[i].ctrl_mask & (UINT64_C(1) << c))
        return cg_proc_cgroup(0, cg_ctrl_name((enum cg_ctrl)c), err);
  brick_error(err, ENOENT, "no cgroup filesystem is mounted");
  return NULL;
}

char *brick_cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd,
                                brick_err *err) {
  if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, "..")) {
    brick_error(err, 0, "container id \"%s\" cannot name a cgroup", id ? id : "");
    return NULL;
  }
  if (systemd) {
    if (cg_systemd_available(err) < 0)
      return NULL;
    return brick_cgroup_systemd_path(cgroups_path, id, err);
  }
  if (!cgroups_path || !*cgroups_path) {
    _cleanup_free_ char *def = xasprintf("/brick/%s", id);
    return normalise(def, err);
  }
  if (cgroups_path[0] == '/')
    return normalise(cgroups_path, err);
  const struct brick_cgroup_mounts *m = mounts_or_fail(err);
  if (!m)
    return NULL;
  _cleanup_free_ char *base = caller_cgroup(m, err);
  if (!base)
    return brick_error_prefix(err, "linux.cgroupsPath"), NULL;
  _cleanup_free_ char *joined = xasprintf("%s/%s", base, cgroups_path);
  return normalise(joined, err);
}

/* ---- enter / join ---- */

static const char *hierarchy_key(const struct cg_v1_hierarchy *h) {
  for (int c = 0; c < CG_CTRL_COUNT; c++)
    if (h->ctrl_mask & (UINT64_C(1) << c))
      return cg_ctrl_name((enum cg_ctrl)c);
  return "?";
}

static int move_pid(const char *dir, pid_t pid, brick_err *err) {
  char buf[24];
  snprintf(buf, sizeof(buf), "%d", (int)pid);
  return cg_write(dir, "cgroup.procs", buf, NULL, err);
}

static void rollback(char **created, char **moved_back, pid_t pid) {
  for (size_t i = brick_strv_len(moved_back); i-- > 0;)
    if (move_pid(moved_back[i], pid, NULL) < 0)
      brick_warn("cgroup: could not move %d back to %s", (int)pid, moved_back[i]);
  for (size_t i = brick_strv_len(created); i-- > 0;)
    if (rmdir(created[i]) < 0 && errno != ENOENT)
      brick_warn("cgroup: could not remove %s: %s", created[i], strerror(errno));
}

static bool want_devices(const struct brick_resources *res) {
  return res && res->present && res->n_devices > 0;
}

static int apply_all(const struct brick_cgroup_mounts *m, const char *path,
                     const struct brick_resources *res, bool update, brick_err *err) {
  _cleanup_free_ char *udir = cg_unified_dir(m, path);
  if (m->mode == BRICK_CGROUP_V2) {
    if (cg_v2_apply(udir, res, update, err) < 0)
      return -1;
    if (want_devices(res) && cg_bpf_devices_apply(udir, res->devices, res->n_devices, err) < 0)
      return -1;
    return 0;
  }
  struct cg_v1_dirs d;
  cg_v1_dirs_for(m, path, &d);
  int r = cg_v1_apply(&d, res, update, err);
  if (r == 0 && res && res->present && res->n_unified) {
    if (!udir)
      r = brick_error(err, 0, "linux.resources.unified: this host has no cgroup v2 "
                                    "(cgroup v1 only)");
    else
      r = cg_v2_apply_unified(udir, res, err);
  }
  if (r == 0 && want_devices(res)) {
    if (d.dir[CG_DEVICES])
      r = cg_v1_devices(d.dir[CG_DEVICES], res->devices, res->n_devices, err);
    else if (udir)
      r = cg_bpf_devices_apply(udir, res->devices, res->n_devices, err);
    else
      r = brick_error(err, 0, "linux.resources.devices: devices controller not available");
  }
  cg_v1_dirs_free(&d);
  return r;
}

/* Refuse up front what cannot be applied, so nothing is created for a config that fails. */
static int precheck(const struct brick_cgroup_mounts *m, const char *path,
                    const struct brick_resources *res, brick_err *err) {
  if (!res || !res->present)
    return 0;
  if (m->mode == BRICK_CGROUP_V2)
    return cg_v2_check(res, err);
  struct cg_v1_dirs d;
  cg_v1_dirs_for(m, path, &d);
  int r = cg_v1_check(&d, res, err);
  if (r == 0 && res->n_unified && !m->unified)
    r = brick_error(err, 0, "linux.resources.unified: this host has no cgroup v2 "
                                  "(cgroup v1 only)");
  if (r == 0 && want_devices(res) && !d.dir[CG_DEVICES] && !m->unified)
    r = brick_error(err, 0, "linux.resources.devices: devices controller not available");
  cg_v1_dirs_free(&d);
  return r;
}

int brick_cgroup_enter(const char *path, const struct brick_cgroup_systemd *systemd,
                       const struct brick_resources *res, pid_t pid, bool *unit_left,
                       brick_err *err) {
  *unit_left = false;
  const struct brick_cgroup_mounts *m = mounts_or_fail(err);
  if (!m)
    return -1;
  if (precheck(m, path, res, err) < 0)
    return -1;
  /* systemd creates the unit's directories in the hierarchies it manages and puts pid
   * there; the code below then does the rest as for cgroupfs (hierarchies systemd does
   * not manage, every resource, the device rules), as runc's systemd driver does. */
  if (systemd && cg_systemd_start(path, res, systemd, pid, unit_left, err) < 0)
    return brick_error_prefix(err, "cgroup %s", path);
  _cleanup_strv_ char **created = NULL;
  _cleanup_strv_ char **moved_back = NULL;
  _cleanup_free_ char *udir = cg_unified_dir(m, path);

  if (has_v1(m)) {
    for (size_t i = 0; i < m->n_v1; i++) {
      const struct cg_v1_hierarchy *h = &m->v1[i];
      _cleanup_free_ char *dir = cg_join(h->mountpoint, path);
      size_t before = brick_strv_len(created);
      if (cg_mkdir_tracked(dir, &created, err) < 0)
        goto fail;
      if (!(h->ctrl_mask & (UINT64_C(1) << CG_CPUSET)))
        continue;
      /* Each new cpuset level starts empty and refuses tasks until initialised. */
      for (size_t k = before; k < brick_strv_len(created); k++)
        if (cg_v1_cpuset_init(created[k], err) < 0)
          goto fail;
      if (before == brick_strv_len(created) && cg_v1_cpuset_init(dir, err) < 0)
        goto fail;
    }
  }
  if (udir) {
    if (cg_mkdir_tracked(udir, &created, err) < 0)
      goto fail;
    if (cg_v2_enable_controllers(m->unified, path, err) < 0)
      goto fail;
  }
  if (apply_all(m, path, res, false, err) < 0)
    goto fail;
  if (pid > 0) {
    if (has_v1(m)) {
      /* One read of /proc/<pid>/cgroup for every hierarchy's way back. */
      _cleanup_free_ char *proc_file = xasprintf("/proc/%d/cgroup", (int)pid);
      _cleanup_free_ char *proc_text = NULL;
      if (brick_read_file(proc_file, &proc_text, NULL, err) < 0)
        goto fail;
      for (size_t i = 0; i < m->n_v1; i++) {
        const struct cg_v1_hierarchy *h = &m->v1[i];
        _cleanup_free_ char *orig = cg_proc_cgroup_in(proc_text, hierarchy_key(h));
        if (!orig) {
          brick_error(err, ENOENT, "%s: no %s hierarchy", proc_file, hierarchy_key(h));
          goto fail;
        }
        _cleanup_free_ char *dir = cg_join(h->mountpoint, path);
        if (move_pid(dir, pid, err) < 0)
          goto fail;
        _cleanup_free_ char *back = cg_join(h->mountpoint, orig);
        brick_strv_push(&moved_back, back);
      }
    }
    if (udir && move_pid(udir, pid, err) < 0)
      goto fail;
  }
  return 0;
fail:
  rollback(created, moved_back, pid);
  return brick_error_prefix(err, "cgroup %s", path);
}

int brick_cgroup_join(const char *path, pid_t pid, brick_err *err) {
  const struct brick_cgroup_mounts *m = mounts_or_fail(err);
  if (!m)
    return -1;
  size_t joined = 0;
  if (has_v1(m)) {
    for (size_t i = 0; i < m->n_v1; i++) {
      _cleanup_free_ char *dir = cg_join(m->v1[i].mountpoint, path);
      brick_err local = {0};
      if (move_pid(dir, pid, &local) == 0) {
        joined++;
        continue;
      }
      /* A hierarchy mounted after the container was created has no directory for it. */
      if (local.errnum == ENOENT && access(dir, F_OK) < 0) {
        brick_error_clear(&local);
        continue;
      }
      brick_error(err, local.errnum, "join cgroup %s: %s", path, brick_error_msg(&local));
      brick_error_clear(&local);
      return -1;
    }
  }
  _cleanup_free_ char *udir = cg_unified_dir(m, path);
  if (udir) {
    if (move_pid(udir, pid, err) < 0)
      return brick_error_prefix(err, "join cgroup %s", path);
    joined++;
  }
  if (!joined)
    return brick_error(err, ENOENT, "join cgroup %s: it does not exist", path);
  return 0;
}

/* A directory of the container's cgroup that lists its processes. */
static char *procs_dir(const struct brick_cgroup_mounts *m, const char *path) {
  if (!has_v1(m))
    return cg_unified_dir(m, path);
  static const enum cg_ctrl prefer[] = {CG_PIDS, CG_FREEZER, CG_MEMORY, CG_CPU, CG_NAME_SYSTEMD};
  for (size_t i = 0; i < ARRAY_SIZE(prefer); i++) {
    const struct cg_v1_hierarchy *h = cg_v1_find(m, prefer[i]);
    if (h)
      return cg_join(h->mountpoint, path);
  }
  if (m->n_v1)
    return cg_join(m->v1[0].mountpoint, path);
  return cg_unified_dir(m, path);
}

static int require_exists(const struct brick_cgroup_mounts *m, const char *path, brick_err *err) {
  _cleanup_free_ char *dir = procs_dir(m, path);
  if (!dir || access(dir, F_OK) < 0)
    return brick_error(err, ENOENT, "cgroup %s does not exist", path);
  return 0;
}

static int check_memory_first(const struct brick_cgroup_mounts *m, const char *path,
                              const struct brick_resources *res, brick_err *err) {
  if (!res || !res->present)
    return 0;
  if (m->mode == BRICK_CGROUP_V2) {
    _cleanup_free_ char *dir = cg_unified_dir(m, path);
    return cg_check_memory_before_update(dir, "memory.current", res, true, err);
  }
  const struct cg_v1_hierarchy *mem = cg_v1_find(m, CG_MEMORY);
  if (!mem)
    return 0;
  _cleanup_free_ char *dir = cg_join(mem->mountpoint, path);
  return cg_check_memory_before_update(dir, "memory.usage_in_bytes", res, true, err);
}

int brick_cgroup_update(const char *path, bool systemd, const struct brick_resources *res,
                        brick_err *err) {
  const struct brick_cgroup_mounts *m = mounts_or_fail(err);
  if (!m || require_exists(m, path, err) < 0)
    return -1;
  if (precheck(m, path, res, err) < 0)
    return brick_error_prefix(err, "update cgroup %s", path);
  /* systemd first, as runc does: SetUnitProperties rewrites the unit's cgroup files from
   * its own (rounded) values, and brick's exact values must be the last written. So
   * checkBeforeUpdate has to run before systemd hears of the new limit. */
  if (systemd && (check_memory_first(m, path, res, err) < 0 || cg_systemd_set(path, res, err) < 0))
    return brick_error_prefix(err, "update cgroup %s", path);
  if (apply_all(m, path, res, true, err) < 0)
    return brick_error_prefix(err, "update cgroup %s", path);
  return 0;
}

/* ---- freezer ---- */

static int v1_freezer_state(const char *dir, char *state, size_t len, brick_err *err) {
  _cleanup_free_ char *text = NULL;
  if (cg_read(dir, "freezer.state", &text, err) < 0)
    return -1;
  text[strcspn(text, "\n")] = '\0';
  snprintf(state, len, "%s", text);
  return 0;
}

int brick_cgroup_freeze(const char *path, bool freeze, brick_err *err) {
  const struct brick_cgroup_mounts *m = mounts_or_fail(err);
  if (!m || require_exists(m, path, err) < 0)
    return -1;
  const struct cg_v1_hierarchy *fz = has_v1(m) ? cg_v1_find(m, CG_FREEZER) : NULL;
  if (fz) {
    _cleanup_free_ char *dir = cg_join(fz->mountpoint, path);
    const char *want = freeze ? "FROZEN" : "THAWED";
    for (int waited = 0;; waited += 10) {
      /* Writing FROZEN again nudges tasks that were busy when the freeze started. */
      if (waited % 100 == 0 && cg_write(dir, "freezer.state", want, NULL, err) < 0)
        return -1;
      char state[32];
      if (v1_freezer_state(dir, state, sizeof(state), err) < 0)
        return -1;
      if (!strcmp(state, want))
        return 0;
      if (waited >= CG_WAIT_MS) {
        if (freeze)
          cg_write(dir, "freezer.state", "THAWED", NULL, NULL);
        return brick_error(err, ETIMEDOUT, "cgroup %s: still %s after %d ms", path, state,
                           CG_WAIT_MS);
      }
      cg_sleep_ms(10);
    }
  }
  _cleanup_free_ char *udir = cg_unified_dir(m, path);
  if (!udir || !cg_file_exists(udir, "cgroup.freeze"))
    return brick_error(err, 0, "cgroup %s: no freezer (neither the v1 freezer controller "
                                    "nor cgroup.freeze)", path);
  if (cg_write(udir, "cgroup.freeze", freeze ? "1" : "0", NULL, err) < 0)
    return -1;
  for (int waited = 0;; waited += 10) {
    uint64_t frozen = 0;
    if (cg_read_keyed(udir, "cgroup.events", "frozen", &frozen, err) < 0)
      return -1;
    if ((frozen == 1) == freeze)
      return 0;
    if (waited >= CG_WAIT_MS) {
      if (freeze)
        cg_write(udir, "cgroup.freeze", "0", NULL, NULL);
      return brick_error(err, ETIMEDOUT, "cgroup %s: not %s after %d ms", path,
                         freeze ? "frozen" : "thawed", CG_WAIT_MS);
    }
    cg_sleep_ms(10);
  }
}

int brick_cgroup_is_frozen(const char *path, bool *frozen, brick_err *err) {
  const struct brick_cgroup_mounts *m = mounts_or_fail(err);
  if (!m || require_exists(m, path, err) < 0)
    return -1;
  const struct cg_v1_hierarchy *fz = has_v1(m) ? cg_v1_find(m, CG_FREEZER) : NULL;
  if (fz) {
    _cleanup_free_ char *dir = cg_join(fz->mountpoint, path);
    char state[32];
    if (v1_freezer_state(dir, state, sizeof(state), err) < 0)
      return -1;
    *frozen = !strcmp(state, "FROZEN");
    return 0;
  }
  _cleanup_free_ char *udir = cg_unified_dir(m, path);
  uint64_t v = 0;
  if (!udir || cg_read_keyed(udir, "cgroup.events", "frozen", &v, err) < 0)
    return brick_error(err, 0, "cgroup %s: no freezer", path);
  *frozen = v == 1;
  return 0;
}

/* ---- processes ---- */

static int cmp_pid(const void *a, const void *b) {
  pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
  return (x > y) - (x < y);
}

int brick_cgroup_pids(const char *path, pid_t **pids, size_t *n, brick_err *err) {
  *pids = NULL;
  *n = 0;
  const struct brick_cgroup_mounts *m = mounts_or_fail(err);
  if (!m)
    return -1;
  _cleanup_free_ char *dir = procs_dir(m, path);
  size_t cap = 0;
  if (cg_collect_pids(dir, pids, n, &cap, err) < 0) {
    free(*pids);
    *pids = NULL;
    *n = 0;
    return brick_error_prefix(err, "cgroup %s", path);
  }
  if (*n)
    qsort(*pids, *n, sizeof(**pids), cmp_pid);
  size_t out = 0;
  for (size_t i = 0; i < *n; i++)
    if (out == 0 || (*pids)[out - 1] != (*pids)[i])
      (*pids)[out++] = (*pids)[i];
  *n = out;
  if (!out) {
    free(*pids);
    *pids = NULL;
  }
  return 0;
}

int brick_cgroup_kill_all(const char *path, int sig, brick_err *err) {
  const struct brick_cgroup_mounts *m = mounts_or_fail(err);
  if (!m)
    return -1;
  /* No cgroup, no process in it: systemd removes a scope as soon as it is empty. */
  if (require_exists(m, path, NULL) < 0)
    return 0;
  _cleanup_free_ char *udir = cg_unified_dir(m, path);
  /* cgroup.kill is atomic against forks. On hybrid it works too: enter put the
   * container's processes into the cgroup2 directory as well. */
  if (sig == SIGKILL && udir && cg_file_exists(udir, "cgroup.kill")) {
    if (cg_write(udir, "cgroup.kill", "1", NULL, err) < 0)
      return brick_error_prefix(err, "kill cgroup %s", path);
    if (m->mode == BRICK_CGROUP_V2)
      return 0;
    /* hybrid: also signal whatever joined only the v1 hierarchies */
  }
  brick_err ferr = {0};
  bool frozen_by_us = false, was_frozen = false;
  if (brick_cgroup_is_frozen(path, &was_frozen, &ferr) == 0 && !was_frozen)
    frozen_by_us = brick_cgroup_freeze(path, true, &ferr) == 0;
  brick_error_clear(&ferr);
  pid_t *pids = NULL;
  size_t n = 0;
  int r = brick_cgroup_pids(path, &pids, &n, err);
  if (r < 0 && require_exists(m, path, NULL) < 0) {
    brick_error_clear(err);   /* emptied and removed (by systemd) meanwhile */
    return 0;
  }
  for (size_t i = 0; r == 0 && i < n; i++)
    if (kill(pids[i], sig) < 0 && errno != ESRCH)
      r = brick_errno(err, "kill cgroup %s: signal %d to pid %d", path, sig, (int)pids[i]);
  free(pids);
  /* A stopped container stays stopped unless it is being killed for good. */
  if (frozen_by_us || (was_frozen && sig == SIGKILL)) {
    brick_err terr = {0};
    if (brick_cgroup_freeze(path, false, &terr) < 0 && r == 0) {
      r = -1;
      if (err) {
        brick_error_clear(err);
        *err = terr;
        terr = (brick_err){0};
      }
    }
    brick_error_clear(&terr);
  }
  return r;
}

static int remove_dir(const char *dir, int *first_rc, brick_err *err) {
  brick_err local = {0};
  if (cg_rmdir_tree(dir, 1000, &local) < 0) {
    if (*first_rc == 0 && err) {
      brick_error_clear(err);
      *err = local;
      local = (brick_err){0};
    }
    *first_rc = -1;
  }
  brick_error_clear(&local);
  return *first_rc;
}

int brick_cgroup_destroy(const char *path, bool systemd, brick_err *err) {
  const struct brick_cgroup_mounts *m = mounts_or_fail(err);
  if (!m)
    return -1;
  _cleanup_free_ char *pdir = procs_dir(m, path);
  if (pdir && access(pdir, F_OK) == 0) {
    for (int waited = 0;; waited += 10) {
      pid_t *pids = NULL;
      size_t n = 0;
      brick_err local = {0};
      if (brick_cgroup_pids(path, &pids, &n, &local) < 0 || n == 0) {
        brick_error_clear(&local);
        free(pids);
        break;
      }
      free(pids);
      if (waited >= CG_WAIT_MS)
        return brick_error(err, EBUSY, "destroy cgroup %s: %zu processes survive SIGKILL", path, n);
      if (waited % 200 == 0 && brick_cgroup_kill_all(path, SIGKILL, &local) < 0)
        brick_debug("cgroup: %s", brick_error_msg(&local));
      brick_error_clear(&local);
      cg_sleep_ms(10);
    }
  }
  int rc = 0;
  /* After the unit is gone, whatever brick made beside it (hierarchies systemd does not
   * manage) is removed as on cgroupfs. */
  if (systemd && cg_systemd_stop(path, err) < 0)
    rc = -1;
  if (has_v1(m))
    for (size_t i = 0; i < m->n_v1; i++) {
      _cleanup_free_ char *dir = cg_join(m->v1[i].mountpoint, path);
      remove_dir(dir, &rc, err);
    }
  _cleanup_free_ char *udir = cg_unified_dir(m, path);
  if (udir)
    remove_dir(udir, &rc, err);
  if (rc < 0)
    return brick_error_prefix(err, "destroy cgroup %s", path);
  return 0;
}
