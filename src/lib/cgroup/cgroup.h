/* Container cgroups: create, limit, freeze, signal, account and remove them on cgroup v1,
 * v2 and the hybrid layout (v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified).
 *
 * A container's cgroup is named by one path ("/brick/<id>") that is used under every
 * hierarchy root; brick_cgroup_resolve_path() turns the config's linux.cgroupsPath into it
 * and the runtime keeps that string in its state. */
#ifndef BRICK_CGROUP_H
#define BRICK_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/error.h"
#include "spec/spec.h"

enum brick_cgroup_mode { BRICK_CGROUP_V1, BRICK_CGROUP_V2, BRICK_CGROUP_HYBRID };

/* Cached after the first call. A host with no cgroup mounts at all reports V2 (and every
 * operation then fails with a message saying no cgroup filesystem is mounted). */
enum brick_cgroup_mode brick_cgroup_detect(void);
const char *brick_cgroup_mode_name(enum brick_cgroup_mode mode);   /* "v1", "v2", "hybrid" */

/* cgroups_path NULL/"" -> "/brick/<id>"; absolute -> as is (relative to the hierarchy
 * roots); relative -> under the caller's own cgroup (runc semantics). With systemd=true the
 * "slice:prefix:name" form is expected; this fails with a clear error when systemd is not
 * running or libsystemd cannot be loaded. Returns a malloc'd, normalised path. */
char *brick_cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd,
                                brick_err *err);

/* The systemd driver's inputs beyond the resources: the config's annotations, whose
 * org.systemd.property.<Name> entries become unit properties (as with crun and runc;
 * CRI-O sets CollectMode, DefaultDependencies and After this way). */
struct brick_cgroup_systemd {
  const struct brick_kv *annotations;
  size_t n_annotations;
};

/* Create the cgroup in every hierarchy, apply res (may be NULL or !res->present) and its
 * device rules, then move pid into it. Removes the directories it created on failure.
 * With systemd (non-NULL), path came from the "slice:prefix:name" form and systemd first
 * creates the transient unit (a scope holding pid) over D-Bus, with the resources and the
 * org.systemd.property.* annotations as properties; when enter fails after that,
 * *unit_left is set: the caller kills pid, then calls brick_cgroup_destroy (a unit that
 * already existed, such as another container's, is never left to the caller). */
int brick_cgroup_enter(const char *path, const struct brick_cgroup_systemd *systemd,
                       const struct brick_resources *res, pid_t pid, bool *unit_left,
                       brick_err *err);
/* Only move pid into the existing cgroup (exec joins the container). */
int brick_cgroup_join(const char *path, pid_t pid, brick_err *err);
/* Apply res to the existing cgroup. Device rules are replaced when res has any.
 * memory.checkBeforeUpdate refuses a limit below the current usage. */
int brick_cgroup_update(const char *path, bool systemd, const struct brick_resources *res,
                        brick_err *err);

/* v1 freezer.state FROZEN/THAWED, v2 cgroup.freeze; both wait (bounded) for the state. */
int brick_cgroup_freeze(const char *path, bool freeze, brick_err *err);
int brick_cgroup_is_frozen(const char *path, bool *frozen, brick_err *err);

/* Every pid in the cgroup and its descendants, sorted, without duplicates (*pids is
 * malloc'd; NULL when *n == 0). A cgroup that does not exist is an error (ENOENT). */
int brick_cgroup_pids(const char *path, pid_t **pids, size_t *n, brick_err *err);
/* Signal every process: cgroup.kill for SIGKILL where the kernel has it, otherwise
 * freeze, signal each pid, thaw, so that forks cannot escape. */
int brick_cgroup_kill_all(const char *path, int sig, brick_err *err);
/* Remove the cgroup from every hierarchy, SIGKILLing leftovers first and waiting (bounded)
 * until it is empty. A cgroup that is already gone is success. */
int brick_cgroup_destroy(const char *path, bool systemd, brick_err *err);

/* runc `events --stats` "data" object (cpu, memory, pids, blkio, hugetlb). */
int brick_cgroup_stats(const char *path, json_t **out, brick_err *err);

/* {"v1":bool,"v2":bool,"systemd":bool,"systemdUser":false,"rdma":bool} as in the
 * runtime-spec features document, plus "mode" ("v1"/"v2"/"hybrid") and "controllers"
 * ({"cpu":"v1","hugetlb":"v2",...}: where each available controller lives). */
json_t *brick_cgroup_features(void);

/* Expand systemd's "slice:prefix:name" into the cgroupfs path systemd would use
 * ("machine-a.slice:brick:x" -> "/machine.slice/machine-a.slice/brick-x.scope"); an empty
 * slice is "system.slice", an empty spec is "system.slice:brick:<id>". No systemd needed. */
char *brick_cgroup_systemd_path(const char *spec, const char *id, brick_err *err);

/* The decision the device rules make for one access, in the kernel's v1 semantics that
 * both the v1 rule writes and the v2 eBPF program implement: a request is allowed when
 * each requested access bit is granted by the last rule that matches the device and
 * names that bit; no matching rule means deny. type is 'c' or 'b'; access is a subset
 * of "rwm". Used by `check` to explain a config, and by the tests as the model. */
bool brick_cgroup_device_allowed(const struct brick_device_rule *rules, size_t n, char type,
                                 int64_t major, int64_t minor, const char *access);

#endif
