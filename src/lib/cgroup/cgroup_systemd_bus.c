/* The systemd cgroup driver's D-Bus side: StartTransientUnit / SetUnitProperties /
 * StopUnit on org.freedesktop.systemd1, as crun and runc do, through sd-bus.
 *
 * libsystemd is loaded with dlopen the first time --systemd-cgroup needs it, so the
 * runtime's ordinary start path does not pay for loading libsystemd and its
 * dependencies. As root, brick talks to systemd's private socket (/run/systemd/private,
 * as systemctl does; no dbus-daemon needed) and falls back to the system bus. */
#include "cgroup/cgroup_internal.h"

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define SD_RUNNING_DIR "/run/systemd/system"

#ifndef BRICK_HAVE_SD_BUS

int cg_systemd_available(brick_err *err) {
  struct stat st;
  if (stat(SD_RUNNING_DIR, &st) < 0 || !S_ISDIR(st.st_mode))
    return brick_error(err, 0, "--systemd-cgroup: systemd is not running on this host "
                                     "(no " SD_RUNNING_DIR "); use the default cgroupfs driver");
  return brick_error(err, 0, "--systemd-cgroup: this brick was built without sd-bus "
                                   "headers (libsystemd-dev), which the systemd driver needs");
}
int cg_systemd_start(const char *path, const struct brick_resources *res,
                     const struct brick_cgroup_systemd *opts, pid_t pid, bool *unit_made,
                     brick_err *err) {
  (void)path, (void)res, (void)opts, (void)pid;
  *unit_made = false;
  return cg_systemd_available(err);
}
int cg_systemd_set(const char *path, const struct brick_resources *res, brick_err *err) {
  (void)path, (void)res;
  return cg_systemd_available(err);
}
int cg_systemd_stop(const char *path, brick_err *err) {
  (void)path;
  return cg_systemd_available(err);
}

#else

#include <dlfcn.h>
#include <systemd/sd-bus.h>

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_JOB_TIMEOUT_US (30ULL * 1000 * 1000)

#define SD_FUNCS(X)                                                                       \
  X(sd_bus_new) X(sd_bus_set_address) X(sd_bus_start) X(sd_bus_open_system)               \
  X(sd_bus_flush_close_unref) X(sd_bus_message_new_method_call) X(sd_bus_message_append)  \
  X(sd_bus_message_append_basic) X(sd_bus_message_append_array) X(sd_bus_message_append_strv) \
  X(sd_bus_message_open_container) X(sd_bus_message_close_container)                      \
  X(sd_bus_message_unref) X(sd_bus_message_read) X(sd_bus_call) X(sd_bus_error_free)      \
  X(sd_bus_add_match) X(sd_bus_slot_unref) X(sd_bus_process) X(sd_bus_wait)

static struct {
  void *handle;
#define SD_MEMBER(f) __typeof__(f) *f;
  SD_FUNCS(SD_MEMBER)
#undef SD_MEMBER
} sd;

static int sd_load(brick_err *err) {
  if (sd.handle)
    return 0;
  void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return brick_error(err, 0, "--systemd-cgroup: cannot load libsystemd.so.0 (%s)", dlerror());
#define SD_LOOKUP(f)                                                                      \
  {                                                                                       \
    void *sym = dlsym(h, #f);                                                             \
    if (!sym) {                                                                           \
      dlclose(h);                                                                         \
      return brick_error(err, 0, "--systemd-cgroup: libsystemd.so.0 lacks " #f);          \
    }                                                                                     \
    memcpy(&sd.f, &sym, sizeof sym);                                                      \
  }
  SD_FUNCS(SD_LOOKUP)
#undef SD_LOOKUP
  sd.handle = h;
  return 0;
}

int cg_systemd_available(brick_err *err) {
  struct stat st;
  if (stat(SD_RUNNING_DIR, &st) < 0 || !S_ISDIR(st.st_mode))
    return brick_error(err, 0, "--systemd-cgroup: systemd is not running on this host "
                                     "(no " SD_RUNNING_DIR "); use the default cgroupfs driver");
  /* An unprivileged caller would need its own user manager (as crun's rootless mode
   * uses), which brick does not drive: refuse here rather than at polkit. */
  if (geteuid() != 0)
    return brick_error(err, EPERM, "--systemd-cgroup: only root can use the systemd cgroup "
                                   "driver (a user's systemd manager is not supported)");
  return sd_load(err);
}

static void sd_message_unrefp(sd_bus_message **m) {
  if (*m)
    sd.sd_bus_message_unref(*m);
}
#define _cleanup_message_ __attribute__((cleanup(sd_message_unrefp)))

/* ---- a connection, with the JobRemoved signals it has seen ---- */

struct sd_session {
  sd_bus *bus;
  sd_bus_slot *slot;
  char **job_paths;    /* finished jobs, in arrival order */
  char **job_results;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  (void)ret_error;
  struct sd_session *s = userdata;
  uint32_t id;
  const char *job, *unit, *result;
  if (sd.sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0) {
    brick_strv_push(&s->job_paths, job);
    brick_strv_push(&s->job_results, result);
  }
  return 0;
}

static void session_close(struct sd_session *s) {
  if (s->slot)
    sd.sd_bus_slot_unref(s->slot);
  if (s->bus)
    sd.sd_bus_flush_close_unref(s->bus);
  brick_strv_free(s->job_paths);
  brick_strv_free(s->job_results);
  *s = (struct sd_session){0};
}

/* Fill *err from a failed call: systemd's own message when it sent one. */
static int bus_error(brick_err *err, int r, const sd_bus_error *e, const char *what,
                     const char *unit) {
  if (e && e->message)
    return brick_error(err, 0, "--systemd-cgroup: %s %s: %s", what, unit, e->message);
  return brick_error(err, -r, "--systemd-cgroup: %s %s", what, unit);
}

static int session_open(struct sd_session *s, const char *unit, brick_err *err) {
  *s = (struct sd_session){0};
  if (cg_systemd_available(err) < 0)
    return -1;
  bool direct = false;
  int r = -1;
  if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
    r = sd.sd_bus_new(&s->bus);
    if (r >= 0)
      r = sd.sd_bus_set_address(s->bus, "unix:path=/run/systemd/private");
    if (r >= 0)
      r = sd.sd_bus_start(s->bus);
    if (r < 0 && s->bus)
      s->bus = sd.sd_bus_flush_close_unref(s->bus);
    direct = r >= 0;
  }
  if (!direct) {
    r = sd.sd_bus_open_system(&s->bus);
    if (r < 0) {
      s->bus = NULL;
      return bus_error(err, r, NULL, "connect to systemd for", unit);
    }
  }
  /* A direct connection has no bus daemon filling in the sender: match without it. */
  const char *match = direct
      ? "type='signal',path='" SD_PATH "',interface='" SD_MANAGER "',member='JobRemoved'"
      : "type='signal',sender='" SD_DEST "',path='" SD_PATH "',interface='" SD_MANAGER
        "',member='JobRemoved'";
  r = sd.sd_bus_add_match(s->bus, &s->slot, match, on_job_removed, s);
  if (r < 0) {
    session_close(s);
    return bus_error(err, r, NULL, "watch systemd jobs for", unit);
  }
  /* Subscribe makes systemd emit job signals to bus clients; its failure (an older or
   * already-subscribed manager) only costs the signal, which the wait then reports. */
  _cleanup_message_ sd_bus_message *call = NULL, *reply = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  if (sd.sd_bus_message_new_method_call(s->bus, &call, SD_DEST, SD_PATH, SD_MANAGER,
                                        "Subscribe") >= 0 &&
      sd.sd_bus_call(s->bus, call, 0, &e, &reply) < 0)
    brick_debug("systemd: Subscribe: %s", e.message ? e.message : "failed");
  sd.sd_bus_error_free(&e);
  return 0;
}

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Wait for the JobRemoved signal of job; its result must be "done". */
static int wait_job(struct sd_session *s, const char *job, const char *what, const char *unit,
                    brick_err *err) {
  uint64_t deadline = now_us() + SD_JOB_TIMEOUT_US;
  for (;;) {
    for (size_t i = 0; s->job_paths && s->job_paths[i]; i++) {
      if (strcmp(s->job_paths[i], job))
        continue;
      if (strcmp(s->job_results[i], "done"))
        return brick_error(err, 0, "--systemd-cgroup: %s %s: systemd's job ended \"%s\"",
                           what, unit, s->job_results[i]);
      return 0;
    }
    int r = sd.sd_bus_process(s->bus, NULL);
    if (r < 0)
      return bus_error(err, r, NULL, what, unit);
    uint64_t now = now_us();
    if (r > 0 && now < deadline)
      continue;   /* more may be queued; the deadline holds even under a stream of signals */
    if (now >= deadline)
      return brick_error(err, ETIMEDOUT, "--systemd-cgroup: %s %s: no answer from systemd "
                                         "within %llu s", what, unit,
                         (unsigned long long)(SD_JOB_TIMEOUT_US / 1000000));
    r = sd.sd_bus_wait(s->bus, deadline - now);
    if (r < 0)
      return bus_error(err, r, NULL, what, unit);
  }
}

/* Call and return the reply; *err_name (when given) receives the D-Bus error name. */
static int call(struct sd_session *s, sd_bus_message *m, sd_bus_message **reply,
                const char *what, const char *unit, char *err_name, size_t name_len,
                brick_err *err) {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  int r = sd.sd_bus_call(s->bus, m, 0, &e, reply);
  if (r < 0) {
    if (err_name)
      snprintf(err_name, name_len, "%s", e.name ? e.name : "");
    bus_error(err, r, &e, what, unit);
  }
  sd.sd_bus_error_free(&e);
  return r < 0 ? -1 : 0;
}

static int append_prop(sd_bus_message *m, const struct cg_sd_prop *p) {
  int r = sd.sd_bus_message_open_container(m, 'r', "sv");
  if (r >= 0)
    r = sd.sd_bus_message_append_basic(m, 's', p->name);
  if (r >= 0)
    r = sd.sd_bus_message_open_container(m, 'v', p->sig);
  if (r < 0)
    return r;
  if (!strcmp(p->sig, "t") || !strcmp(p->sig, "x")) {
    r = sd.sd_bus_message_append_basic(m, p->sig[0], &p->u64);
  } else if (!strcmp(p->sig, "u") || !strcmp(p->sig, "i")) {
    uint32_t v = (uint32_t)p->u64;
    r = sd.sd_bus_message_append_basic(m, p->sig[0], &v);
  } else if (!strcmp(p->sig, "as")) {
    r = sd.sd_bus_message_append_strv(m, p->pairs);
  } else if (!strcmp(p->sig, "b")) {
    int b = p->b;
    r = sd.sd_bus_message_append_basic(m, 'b', &b);
  } else if (!strcmp(p->sig, "s")) {
    r = sd.sd_bus_message_append_basic(m, 's', p->str);
  } else if (!strcmp(p->sig, "ay")) {
    r = sd.sd_bus_message_append_array(m, 'y', p->bytes, p->n_bytes);
  } else if (!strcmp(p->sig, "au")) {
    r = sd.sd_bus_message_append_array(m, 'u', p->u32, p->n_u32 * sizeof(uint32_t));
  } else if (!strcmp(p->sig, "a(ss)")) {
    r = sd.sd_bus_message_open_container(m, 'a', "(ss)");
    for (size_t i = 0; r >= 0 && p->pairs && p->pairs[i] && p->pairs[i + 1]; i += 2)
      r = sd.sd_bus_message_append(m, "(ss)", p->pairs[i], p->pairs[i + 1]);
    if (r >= 0)
      r = sd.sd_bus_message_close_container(m);
  } else {
    r = -EINVAL;
  }
  if (r >= 0)
    r = sd.sd_bus_message_close_container(m);
  if (r >= 0)
    r = sd.sd_bus_message_close_container(m);
  return r;
}

static int append_props(sd_bus_message *m, const struct cg_sd_props *props) {
  int r = sd.sd_bus_message_open_container(m, 'a', "(sv)");
  for (size_t i = 0; r >= 0 && i < props->n; i++)
    r = append_prop(m, &props->v[i]);
  if (r >= 0)
    r = sd.sd_bus_message_close_container(m);
  return r;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

static int resource_props(const struct brick_resources *res, struct cg_sd_props *props,
                          brick_err *err) {
  const struct brick_cgroup_mounts *mounts = cg_mounts(err);
  if (!mounts)
    return -1;
  return cg_sd_resource_props(res, mounts->mode == BRICK_CGROUP_V2, props, err);
}

/* The pid must be where systemd was asked to put it: otherwise brick is not in systemd's
 * pid namespace (a number means another process there) or systemd chose another path. */
static int check_placed(const char *path, pid_t pid, brick_err *err) {
  const struct brick_cgroup_mounts *mounts = cg_mounts(err);
  if (!mounts)
    return -1;
  _cleanup_free_ char *where = cg_proc_cgroup(pid, mounts->unified ? "" : "name=systemd", err);
  if (!where)
    return -1;
  if (strcmp(where, path))
    return brick_error(err, 0, "--systemd-cgroup: systemd put pid %d in %s, not %s (is brick "
                               "in systemd's pid and cgroup namespace?)", (int)pid, where, path);
  return 0;
}

int cg_systemd_start(const char *path, const struct brick_resources *res,
                     const struct brick_cgroup_systemd *opts, pid_t pid, bool *unit_made,
                     brick_err *err) {
  *unit_made = false;
  _cleanup_free_ char *unit = NULL, *slice = NULL;
  if (cg_sd_unit_of(path, &unit, &slice) < 0)
    return brick_error(err, 0, "--systemd-cgroup: %s names no unit", path);
  bool is_slice = has_suffix(unit, ".slice");
  struct cg_sd_props props = {0};
  cg_sd_add_str(&props, "Description", "brick container");
  if (!is_slice) {
    cg_sd_add_str(&props, "Slice", slice);
    /* The container manages its own sub-tree, and systemd must leave it alone. */
    cg_sd_add_bool(&props, "Delegate", true);
  }
  cg_sd_add_bool(&props, "DefaultDependencies", false);
  /* A failed unit is collected at once, so the name can be reused by the next create. */
  cg_sd_add_str(&props, "CollectMode", "inactive-or-failed");
  cg_sd_add_bool(&props, "MemoryAccounting", true);
  cg_sd_add_bool(&props, "TasksAccounting", true);
  cg_sd_add_bool(&props, "CPUAccounting", true);
  /* Every controller systemd supports must be in the unit's mask: systemd removes the
   * unit's directory from the hierarchies it manages but did not realize for it. */
  const struct brick_cgroup_mounts *mounts = cg_mounts(err);
  if (!mounts) {
    cg_sd_props_free(&props);
    return -1;
  }
  cg_sd_add_bool(&props, mounts->mode == BRICK_CGROUP_V2 ? "IOAccounting" : "BlockIOAccounting",
                 true);
  int r = resource_props(res, &props, err);
  /* After brick's own: systemd applies a property given twice in order, last wins. */
  if (r == 0 && opts)
    r = cg_sd_annotation_props(opts->annotations, opts->n_annotations, &props, err);
  if (r == 0 && !is_slice && pid > 0) {
    uint32_t one = (uint32_t)pid;
    cg_sd_add_u32s(&props, "PIDs", &one, 1);
  }
  if (r < 0) {
    cg_sd_props_free(&props);
    return brick_error_prefix(err, "--systemd-cgroup: %s", unit);
  }

  struct sd_session s;
  if (session_open(&s, unit, err) < 0) {
    cg_sd_props_free(&props);
    return -1;
  }
  _cleanup_message_ sd_bus_message *m = NULL, *reply = NULL;
  r = sd.sd_bus_message_new_method_call(s.bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                        "StartTransientUnit");
  if (r >= 0)
    r = sd.sd_bus_message_append(m, "ss", unit, "fail");
  if (r >= 0)
    r = append_props(m, &props);
  if (r >= 0)
    r = sd.sd_bus_message_append(m, "a(sa(sv))", 0);
  cg_sd_props_free(&props);
  const char *job = NULL;
  if (r < 0)
    bus_error(err, r, NULL, "StartTransientUnit", unit);
  else if (call(&s, m, &reply, "StartTransientUnit", unit, NULL, 0, err) < 0)
    r = -1;
  else if ((r = sd.sd_bus_message_read(reply, "o", &job)) < 0)
    bus_error(err, r, NULL, "StartTransientUnit reply for", unit);
  else
    r = wait_job(&s, job, "StartTransientUnit", unit, err);
  session_close(&s);
  /* Once a job was queued the unit is ours (not a name clash) and must be destroyed,
   * after the caller has killed pid: systemd stops an empty scope at once, while a stop
   * with pid inside waits for it (for ever where systemd cannot see a v1 cgroup empty). */
  *unit_made = job != NULL;
  if (r < 0)
    return -1;
  if (!is_slice && pid > 0 && check_placed(path, pid, err) < 0)
    return -1;
  return 0;
}

int cg_systemd_set(const char *path, const struct brick_resources *res, brick_err *err) {
  _cleanup_free_ char *unit = NULL, *slice = NULL;
  if (cg_sd_unit_of(path, &unit, &slice) < 0)
    return brick_error(err, 0, "--systemd-cgroup: %s names no unit", path);
  struct cg_sd_props props = {0};
  /* SetUnitProperties adds to a unit's DeviceAllow list; an empty one clears it first. */
  if (res && res->present && res->n_devices)
    cg_sd_add_device_reset(&props);
  if (resource_props(res, &props, err) < 0) {
    cg_sd_props_free(&props);
    return brick_error_prefix(err, "--systemd-cgroup: %s", unit);
  }
  if (props.n == 0) {
    cg_sd_props_free(&props);
    return 0;
  }
  struct sd_session s;
  if (session_open(&s, unit, err) < 0) {
    cg_sd_props_free(&props);
    return -1;
  }
  _cleanup_message_ sd_bus_message *m = NULL, *reply = NULL;
  int r = sd.sd_bus_message_new_method_call(s.bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                            "SetUnitProperties");
  if (r >= 0)
    r = sd.sd_bus_message_append(m, "sb", unit, 1);
  if (r >= 0)
    r = append_props(m, &props);
  cg_sd_props_free(&props);
  if (r < 0)
    bus_error(err, r, NULL, "SetUnitProperties", unit);
  else
    r = call(&s, m, &reply, "SetUnitProperties", unit, NULL, 0, err);
  session_close(&s);
  return r < 0 ? -1 : 0;
}

int cg_systemd_stop(const char *path, brick_err *err) {
  _cleanup_free_ char *unit = NULL, *slice = NULL;
  if (cg_sd_unit_of(path, &unit, &slice) < 0)
    return brick_error(err, 0, "--systemd-cgroup: %s names no unit", path);
  /* No systemd (any more), no unit: what is left is cgroupfs, which the caller removes. */
  struct stat st;
  if (stat(SD_RUNNING_DIR, &st) < 0)
    return 0;
  /* Without libsystemd (removed since create) brick cannot stop the unit; systemd
   * collects it once empty, which the caller's kill makes it. */
  brick_err load_err = {0};
  if (sd_load(&load_err) < 0) {
    brick_warn("%s; the unit of %s is left to systemd", brick_error_msg(&load_err), path);
    brick_error_clear(&load_err);
    return 0;
  }
  struct sd_session s;
  if (session_open(&s, unit, err) < 0)
    return -1;
  _cleanup_message_ sd_bus_message *m = NULL, *reply = NULL;
  _cleanup_message_ sd_bus_message *reset = NULL, *reset_reply = NULL;
  char err_name[128] = "";
  const char *job = NULL;
  int r = sd.sd_bus_message_new_method_call(s.bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                            "StopUnit");
  if (r >= 0)
    r = sd.sd_bus_message_append(m, "ss", unit, "replace");
  if (r < 0) {
    bus_error(err, r, NULL, "StopUnit", unit);
  } else if (call(&s, m, &reply, "StopUnit", unit, err_name, sizeof err_name, err) < 0) {
    /* Already collected (the container's last process exited): nothing to stop. */
    r = !strcmp(err_name, "org.freedesktop.systemd1.NoSuchUnit") ? 0 : -1;
    if (r == 0)
      brick_error_clear(err);
  } else if ((r = sd.sd_bus_message_read(reply, "o", &job)) < 0) {
    bus_error(err, r, NULL, "StopUnit reply for", unit);
  } else {
    r = wait_job(&s, job, "StopUnit", unit, err);
  }
  /* A scope that failed would keep its name until reset; collect it either way. */
  if (sd.sd_bus_message_new_method_call(s.bus, &reset, SD_DEST, SD_PATH, SD_MANAGER,
                                        "ResetFailedUnit") >= 0 &&
      sd.sd_bus_message_append(reset, "s", unit) >= 0)
    call(&s, reset, &reset_reply, "ResetFailedUnit", unit, NULL, 0, NULL);
  session_close(&s);
  return r < 0 ? -1 : 0;
}

#endif
