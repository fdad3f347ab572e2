/* Shared between the cgroup module's files and its unit tests; not a public API. */
#ifndef BRICK_CGROUP_INTERNAL_H
#define BRICK_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "core/error.h"
#include "spec/spec.h"

/* Controllers brick knows how to drive. "name=systemd" is a named v1 hierarchy, kept so
 * the container's processes are also tracked there as systemd and runc do. */
enum cg_ctrl {
  CG_CPU, CG_CPUACCT, CG_CPUSET, CG_MEMORY, CG_PIDS, CG_BLKIO, CG_DEVICES, CG_FREEZER,
  CG_HUGETLB, CG_NET_CLS, CG_NET_PRIO, CG_RDMA, CG_MISC, CG_PERF_EVENT, CG_NAME_SYSTEMD,
  CG_CTRL_COUNT
};
const char *cg_ctrl_name(enum cg_ctrl c);
/* v2 name of a controller ("io" for blkio), NULL when it has none on v2. */
const char *cg_ctrl_v2_name(enum cg_ctrl c);

struct cg_v1_hierarchy {
  char *mountpoint;
  char *root;               /* mountinfo field 4: the part of the hierarchy mounted */
  char *options;            /* super options, e.g. "rw,cpu,cpuacct" */
  uint64_t ctrl_mask;       /* bit (1 << enum cg_ctrl) for each controller here */
};

struct brick_cgroup_mounts {
  enum brick_cgroup_mode mode;
  char *unified;            /* cgroup2 mount point, NULL when none */
  char *unified_root;
  struct cg_v1_hierarchy *v1;
  size_t n_v1;
};

/* Parse /proc/self/mountinfo text. Lines for other filesystems are skipped; a malformed
 * cgroup line is an error naming its line number. The first mount of a hierarchy wins
 * (the same hierarchy may be bind-mounted elsewhere). */
int cg_parse_mountinfo(const char *text, struct brick_cgroup_mounts *out, brick_err *err);
void cg_mounts_free(struct brick_cgroup_mounts *m);
/* The host's mounts, parsed once; or the override installed by a test. NULL + err when
 * /proc/self/mountinfo cannot be read. */
const struct brick_cgroup_mounts *cg_mounts(brick_err *err);
/* Tests: use m instead of the host's mounts (NULL restores the host's). Not owned. */
void cg_mounts_override(const struct brick_cgroup_mounts *m);

/* The v1 hierarchy holding controller c, or NULL. */
const struct cg_v1_hierarchy *cg_v1_find(const struct brick_cgroup_mounts *m, enum cg_ctrl c);
/* Directory of path in controller c's hierarchy ("<mnt>/<path>"); NULL when c is not
 * mounted as v1. On hybrid, hugetlb/rdma/misc fall back to the cgroup2 mount when they
 * are offered there (v2_file is then set so the caller writes the v2 file names). */
char *cg_dir_for(const struct brick_cgroup_mounts *m, enum cg_ctrl c, const char *path,
                 bool *v2_file);
/* "<base>/<path>" without doubled slashes. */
char *cg_join(const char *base, const char *path);
/* "<unified>/<path>" or NULL when no cgroup2 mount. */
char *cg_unified_dir(const struct brick_cgroup_mounts *m, const char *path);
/* True when cgroup2 lists controller name (e.g. "hugetlb") in <unified>/cgroup.controllers. */
bool cg_v2_root_has(const struct brick_cgroup_mounts *m, const char *name);

/* Caller pid's cgroup in the hierarchy with key ("" = cgroup2, "cpu", "name=systemd"). */
/* The path for key (a v1 controller, or "" for cgroup2) in /proc/<pid>/cgroup text. */
char *cg_proc_cgroup_in(const char *contents, const char *key);
char *cg_proc_cgroup(pid_t pid, const char *key, brick_err *err);

/* ---- filesystem helpers (cgroup_fs.c) ---- */

/* Write value to <dir>/<file> (no O_CREAT: a missing file means a missing controller);
 * on failure the message starts with what (the config path, e.g.
 * "linux.resources.memory.limit") when what != NULL. */
int cg_write(const char *dir, const char *file, const char *value, const char *what,
             brick_err *err);
int cg_write_u64(const char *dir, const char *file, uint64_t v, const char *what, brick_err *err);
int cg_read(const char *dir, const char *file, char **out, brick_err *err);
/* Read a single unsigned number; "max" reads as UINT64_MAX. */
int cg_read_u64(const char *dir, const char *file, uint64_t *out, brick_err *err);
/* memory.checkBeforeUpdate: refuse an update whose limit is below the usage in
 * dir/usage_file (memory.usage_in_bytes on v1, memory.current on v2). */
int cg_check_memory_before_update(const char *dir, const char *usage_file,
                                  const struct brick_resources *r, bool update, brick_err *err);
/* Value of "key N" in a flat-keyed file (memory.stat, cpu.stat, cgroup.events). */
int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out,
                  brick_err *err);
bool cg_file_exists(const char *dir, const char *file);
/* True when dir has an entry whose name starts with prefix ("hugetlb."). */
bool cg_dir_has_prefix(const char *dir, const char *prefix);

/* mkdir -p that records (into *created, a strv) every directory it made, so a failed
 * enter removes exactly those. */
int cg_mkdir_tracked(const char *dir, char ***created, brick_err *err);
/* rmdir dir and its sub-cgroups, deepest first; ENOENT is success. Retries EBUSY for up
 * to timeout_ms (a killed task leaves the cgroup asynchronously). */
int cg_rmdir_tree(const char *dir, int timeout_ms, brick_err *err);
/* Append every pid listed in <dir>/cgroup.procs and below. */
int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap, brick_err *err);
void cg_sleep_ms(int ms);

/* ---- v1 (cgroup_v1.c) ---- */

/* Directories of the container's cgroup, one per controller (NULL = not available), so
 * the writers can run against a real hierarchy or a fake tree. */
struct cg_v1_dirs {
  char *dir[CG_CTRL_COUNT];
  bool hugetlb_v2;          /* hugetlb lives on the cgroup2 mount (hybrid) */
  bool rdma_v2;
};
void cg_v1_dirs_free(struct cg_v1_dirs *d);
int cg_v1_dirs_for(const struct brick_cgroup_mounts *m, const char *path, struct cg_v1_dirs *d);
/* Fail before anything is created when res needs a controller the host lacks. */
int cg_v1_check(const struct cg_v1_dirs *d, const struct brick_resources *res, brick_err *err);
/* Copy cpuset.cpus/mems from the parent into dir when empty (v1 refuses tasks otherwise). */
int cg_v1_cpuset_init(const char *dir, brick_err *err);
int cg_v1_apply(const struct cg_v1_dirs *d, const struct brick_resources *res, bool update,
                brick_err *err);
/* devices.deny "a" then the rules in order. */
int cg_v1_devices(const char *dir, const struct brick_device_rule *rules, size_t n,
                  brick_err *err);

/* Shared by v1 and v2 (same file format, v2 names when v2 is set). */
int cg_hugetlb_apply(const char *dir, bool v2, const struct brick_resources *r, brick_err *err);
int cg_rdma_apply(const char *dir, const struct brick_resources *r, brick_err *err);

/* ---- v2 (cgroup_v2.c) ---- */

uint64_t cg_v2_cpu_weight(uint64_t shares);          /* 0 -> 0 (unset) */
uint64_t cg_v2_io_weight(uint64_t blkio_weight);     /* blkio 10..1000 -> io 1..10000 */
/* memory.swap.max from spec swap (memory+swap) and limit; *out_str is "max" or a number;
 * returns 1 when nothing must be written, 0 when *out_str is set, -1 on a bad combination. */
int cg_v2_swap(const struct brick_resources *res, char *out_str, size_t len, brick_err *err);
/* "max" or "<quota>" [" <period>"]; returns false when cpu.max is not touched. */
bool cg_v2_cpu_max(const struct brick_resources *res, char *out, size_t len);
/* Enable in each ancestor's cgroup.subtree_control, from the root down to dir's parent,
 * the controllers the parent offers. A controller that cannot be enabled is left out;
 * applying a resource then fails naming it. */
int cg_v2_enable_controllers(const char *root, const char *path, brick_err *err);
int cg_v2_check(const struct brick_resources *res, brick_err *err);
int cg_v2_apply(const char *dir, const struct brick_resources *res, bool update, brick_err *err);
/* resources.unified: only into a cgroup2 dir; keys are validated. */
int cg_v2_apply_unified(const char *dir, const struct brick_resources *res, brick_err *err);

/* ---- devices eBPF (cgroup_devices_bpf.c) ---- */

struct bpf_insn;
/* Generate the BPF_PROG_TYPE_CGROUP_DEVICE program for rules; *insns is malloc'd. */
int cg_bpf_devices_program(const struct brick_device_rule *rules, size_t n,
                           struct bpf_insn **insns, size_t *n_insns, brick_err *err);
/* Load the program and attach it to the cgroup2 dir, replacing brick's earlier ones. */
int cg_bpf_devices_apply(const char *dir, const struct brick_device_rule *rules, size_t n,
                         brick_err *err);

/* ---- systemd (cgroup_systemd.c: names and properties; cgroup_systemd_bus.c) ---- */

/* One unit property as StartTransientUnit/SetUnitProperties take it. */
struct cg_sd_prop {
  const char *name;        /* static, the config's, or name_buf */
  char *name_buf;
  const char *sig;         /* "s", "b", "t", "x", "u", "i", "au", "ay", "as" or "a(ss)" */
  uint64_t u64;
  bool b;
  char *str;
  uint32_t *u32;           /* au */
  size_t n_u32;
  uint8_t *bytes;          /* ay */
  size_t n_bytes;
  char **pairs;            /* a(ss): path, access, path, access, ... (NULL = empty);
                            * as: the strings */
};
struct cg_sd_props {
  struct cg_sd_prop *v;
  size_t n;
};
void cg_sd_add_u64(struct cg_sd_props *p, const char *name, uint64_t v);
void cg_sd_add_bool(struct cg_sd_props *p, const char *name, bool v);
void cg_sd_add_str(struct cg_sd_props *p, const char *name, const char *v);
void cg_sd_add_u32s(struct cg_sd_props *p, const char *name, const uint32_t *v, size_t n);
/* An empty DeviceAllow: on SetUnitProperties it clears the unit's list. */
void cg_sd_add_device_reset(struct cg_sd_props *p);
void cg_sd_props_free(struct cg_sd_props *p);
const struct cg_sd_prop *cg_sd_props_find(const struct cg_sd_props *p, const char *name);

/* "/a.slice/a-b.slice/x.scope" -> unit "x.scope", slice "a-b.slice" ("-.slice" at the
 * top). -1 when path has no last component. */
int cg_sd_unit_of(const char *path, char **unit, char **slice);
/* A cpuset list ("0-3,7") as systemd's AllowedCPUs bitmask. */
int cg_sd_cpuset_mask(const char *list, const char *what, uint8_t **bytes, size_t *n,
                      brick_err *err);
/* The device rules as DeviceAllow pairs, when they have systemd's shape (deny all, then
 * allows only); false (and *pairs NULL) otherwise. */
bool cg_sd_device_allow(const struct brick_device_rule *rules, size_t n, char ***pairs);
/* For a list systemd cannot express: the specific devices (M:m rules) it grants, each
 * with only the access the whole list grants it, as DeviceAllow pairs. Never more than
 * the list allows; wildcard grants are left out. */
void cg_sd_device_allow_subset(const struct brick_device_rule *rules, size_t n, char ***pairs);
/* The resources systemd knows as unit properties (v2 or legacy names), appended to out.
 * brick still writes every resource to cgroupfs itself; these are for systemd to keep. */
int cg_sd_resource_props(const struct brick_resources *res, bool v2, struct cg_sd_props *out,
                         brick_err *err);

/* The org.systemd.property.<Name> annotations as properties, appended to out. Values are
 * GVariant text as runc reads them: true/false, 'str' or "str", ['a', 'b'],
 * "uint64 N" (also int64/uint32/int32), a bare N (uint64). Properties brick sets from
 * the config itself (PIDs, Slice, Delegate, DevicePolicy, DeviceAllow) are refused, as
 * is anything else: the error names the annotation. */
int cg_sd_annotation_props(const struct brick_kv *annotations, size_t n,
                           struct cg_sd_props *out, brick_err *err);

/* 0 when the systemd cgroup driver can be used; -1 with a message saying why not. */
int cg_systemd_available(brick_err *err);
/* Create the transient unit for path (a scope holding pid, or a slice when path ends in
 * ".slice", whose processes brick moves itself), wait for systemd's job, and check that
 * pid landed in path. *unit_made says whether the unit now exists because of this call
 * (also when it then fails): it is the caller's to stop. */
int cg_systemd_start(const char *path, const struct brick_resources *res,
                     const struct brick_cgroup_systemd *opts, pid_t pid, bool *unit_made,
                     brick_err *err);
/* SetUnitProperties (runtime) with the resources. */
int cg_systemd_set(const char *path, const struct brick_resources *res, brick_err *err);
/* StopUnit and wait for systemd's job; a unit systemd already collected is success. */
int cg_systemd_stop(const char *path, brick_err *err);

#endif
