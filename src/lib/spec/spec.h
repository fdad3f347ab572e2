/* runtime-spec 1.3 config.json as typed structs.
 *
 * brick_spec_load() parses and validates the whole document with jansson; every error
 * names the file and the JSON path ("config.json: linux.namespaces[2].type: unknown
 * namespace \"pidd\""). Unknown fields are ignored, as the spec requires; unknown
 * capabilities, namespaces, mount options, seccomp actions/arches/operators are errors.
 * Optional scalars carry a has_* flag so "absent" and "zero" stay distinct.
 * Every string is owned by the struct; brick_spec_free() releases all of it. */
#ifndef BRICK_SPEC_H
#define BRICK_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

#define BRICK_OCI_VERSION "1.3.0"

/* ---- process ------------------------------------------------------------------- */

struct brick_rlimit {
  int resource;          /* RLIMIT_* number, resolved from "RLIMIT_NOFILE" etc. */
  char *type;            /* as written */
  uint64_t soft, hard;
};

/* Capability sets as bitmasks of CAP_* numbers (bit n = capability n). */
struct brick_caps {
  bool present;          /* process.capabilities given at all */
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct brick_user {
  uid_t uid;
  gid_t gid;
  bool has_umask;
  mode_t umask;
  gid_t *additional_gids;
  size_t n_additional_gids;
  char *username;        /* Windows-only in the spec; kept for completeness */
};

struct brick_io_priority {
  bool present;
  int class_;            /* IOPRIO_CLASS_RT / BE / IDLE */
  int priority;
};

struct brick_scheduler {
  bool present;
  int policy;            /* SCHED_* */
  int nice;
  int priority;
  uint64_t flags;        /* SCHED_FLAG_* bits */
  uint64_t runtime, deadline, period;
};

struct brick_exec_cpu_affinity {
  char *initial;         /* cpu list, e.g. "0-3,7" */
  char *final;
};

struct brick_console_size {
  bool present;
  unsigned height, width;
};

struct brick_process {
  bool terminal;
  struct brick_console_size console_size;
  struct brick_user user;
  char **args;           /* NULL-terminated */
  char *command_line;    /* Windows-only; parsed, unused */
  char **env;            /* NULL-terminated, "K=V" */
  char *cwd;
  struct brick_caps caps;
  struct brick_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
  char *selinux_label;
  char *apparmor_profile;
  struct brick_io_priority io_priority;
  struct brick_scheduler scheduler;
  struct brick_exec_cpu_affinity exec_cpu_affinity;
};

/* ---- root and mounts ----------------------------------------------------------- */

struct brick_root {
  char *path;            /* as written (may be relative to the bundle) */
  bool readonly;
};

struct brick_id_mapping {
  uint32_t container_id, host_id, size;
};

/* Mount options resolved into what the kernel wants. */
struct brick_mount {
  char *destination;
  char *type;            /* may be NULL (bind) */
  char *source;
  char **options;        /* as written */
  unsigned long flags;          /* MS_* to set */
  unsigned long clear_flags;    /* MS_* explicitly cleared ("rw", "suid", "dev", ...) */
  unsigned long propagation;    /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (+MS_REC) or 0 */
  uint64_t rec_attr_set;        /* MOUNT_ATTR_* from "rro", "rnosuid", ... (recursive) */
  uint64_t rec_attr_clr;        /* MOUNT_ATTR_* from "rrw", "rsuid", ... */
  bool bind;                    /* "bind" or "rbind" */
  bool recursive_bind;          /* "rbind" */
  bool idmap;                   /* "idmap" or "ridmap" */
  bool recursive_idmap;         /* "ridmap" */
  bool copy_up;                 /* crun's "copy-symlink"/"tmpcopyup" */
  char *data;                   /* remaining fs-specific options joined by ',' */
  struct brick_id_mapping *uid_mappings;
  size_t n_uid_mappings;
  struct brick_id_mapping *gid_mappings;
  size_t n_gid_mappings;
};

/* ---- hooks --------------------------------------------------------------------- */

struct brick_hook {
  char *path;
  char **args;
  char **env;
  bool has_timeout;
  int timeout;           /* seconds, > 0 */
};

enum brick_hook_kind {
  BRICK_HOOK_PRESTART,         /* deprecated, still run (after createRuntime) */
  BRICK_HOOK_CREATE_RUNTIME,
  BRICK_HOOK_CREATE_CONTAINER,
  BRICK_HOOK_START_CONTAINER,
  BRICK_HOOK_POSTSTART,
  BRICK_HOOK_POSTSTOP,
  BRICK_HOOK_KIND_COUNT
};

struct brick_hooks {
  struct brick_hook *list[BRICK_HOOK_KIND_COUNT];
  size_t n[BRICK_HOOK_KIND_COUNT];
};

/* ---- linux --------------------------------------------------------------------- */

enum brick_ns_type {
  BRICK_NS_PID, BRICK_NS_NETWORK, BRICK_NS_MOUNT, BRICK_NS_IPC, BRICK_NS_UTS,
  BRICK_NS_USER, BRICK_NS_CGROUP, BRICK_NS_TIME, BRICK_NS_COUNT
};

struct brick_namespace {
  bool present;          /* listed in linux.namespaces */
  char *path;            /* join this one instead of creating (may be NULL) */
};

struct brick_time_offset {
  bool present;
  int64_t secs;
  uint32_t nanosecs;
};

struct brick_device {
  char *path;
  char type;             /* 'c', 'b', 'u', 'p' */
  int64_t major, minor;
  bool has_file_mode;
  mode_t file_mode;
  bool has_uid, has_gid;
  uid_t uid;
  gid_t gid;
};

struct brick_device_rule {     /* linux.resources.devices[] */
  bool allow;
  char type;             /* 'a', 'c', 'b' ('a' when absent) */
  int64_t major, minor;  /* -1 = wildcard */
  char access[4];        /* subset of "rwm", "" when absent means "rwm" */
};

struct brick_weight_device {
  int64_t major, minor;
  bool has_weight, has_leaf_weight;
  uint16_t weight, leaf_weight;
};

struct brick_throttle_device {
  int64_t major, minor;
  uint64_t rate;
};

struct brick_hugepage_limit {
  char *page_size;       /* "2MB", "1GB" */
  uint64_t limit;
};

struct brick_net_priority {
  char *name;
  uint32_t priority;
};

struct brick_rdma_limit {
  char *device;
  bool has_hca_handles, has_hca_objects;
  uint32_t hca_handles, hca_objects;
};

struct brick_kv {
  char *key;
  char *value;
};

/* Optional numbers in resources: has_* tells whether the field was given. */
struct brick_resources {
  bool present;

  struct brick_device_rule *devices;
  size_t n_devices;

  struct {
    bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp,
        has_swappiness, has_disable_oom_killer, has_use_hierarchy,
        has_check_before_update;
    int64_t limit, reservation, swap, kernel, kernel_tcp;  /* -1 = unlimited */
    uint64_t swappiness;
    bool disable_oom_killer, use_hierarchy, check_before_update;
  } memory;

  struct {
    bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime,
        has_realtime_period, has_idle;
    uint64_t shares, period, realtime_period, burst;
    int64_t quota, realtime_runtime, idle;
    char *cpus, *mems;
  } cpu;

  struct {
    bool has_limit;
    int64_t limit;
  } pids;

  struct {
    bool has_weight, has_leaf_weight;
    uint16_t weight, leaf_weight;
    struct brick_weight_device *weight_device;
    size_t n_weight_device;
    struct brick_throttle_device *throttle_read_bps, *throttle_write_bps,
        *throttle_read_iops, *throttle_write_iops;
    size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
        n_throttle_write_iops;
  } block_io;

  struct brick_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;

  struct {
    bool has_class_id;
    uint32_t class_id;
    struct brick_net_priority *priorities;
    size_t n_priorities;
  } network;

  struct brick_rdma_limit *rdma;
  size_t n_rdma;

  struct brick_kv *unified;     /* cgroup v2 "file": "value" */
  size_t n_unified;
};

enum brick_seccomp_action {
  BRICK_SCMP_KILL, BRICK_SCMP_KILL_PROCESS, BRICK_SCMP_KILL_THREAD, BRICK_SCMP_TRAP,
  BRICK_SCMP_ERRNO, BRICK_SCMP_TRACE, BRICK_SCMP_ALLOW, BRICK_SCMP_LOG, BRICK_SCMP_NOTIFY
};

enum brick_seccomp_op {
  BRICK_SCMP_CMP_NE, BRICK_SCMP_CMP_LT, BRICK_SCMP_CMP_LE, BRICK_SCMP_CMP_EQ,
  BRICK_SCMP_CMP_GE, BRICK_SCMP_CMP_GT, BRICK_SCMP_CMP_MASKED_EQ
};

struct brick_seccomp_arg {
  unsigned index;
  uint64_t value, value_two;
  enum brick_seccomp_op op;
};

struct brick_seccomp_rule {
  char **names;
  enum brick_seccomp_action action;
  bool has_errno_ret;
  unsigned errno_ret;
  struct brick_seccomp_arg *args;
  size_t n_args;
};

struct brick_seccomp {
  bool present;
  enum brick_seccomp_action default_action;
  bool has_default_errno_ret;
  unsigned default_errno_ret;
  char **architectures;         /* "SCMP_ARCH_X86_64", ... */
  char **flags;                 /* "SECCOMP_FILTER_FLAG_LOG", ... */
  char *listener_path;
  char *listener_metadata;
  struct brick_seccomp_rule *syscalls;
  size_t n_syscalls;
  json_t *raw;                  /* the linux.seccomp object as written (for hashing/cache) */
};

struct brick_personality {
  bool present;
  char *domain;                 /* "LINUX" or "LINUX32" */
  char **flags;
};

struct brick_linux {
  struct brick_namespace namespaces[BRICK_NS_COUNT];
  struct brick_id_mapping *uid_mappings;
  size_t n_uid_mappings;
  struct brick_id_mapping *gid_mappings;
  size_t n_gid_mappings;
  struct brick_time_offset time_offsets[2];   /* [0] monotonic, [1] boottime */
  struct brick_device *devices;
  size_t n_devices;
  char *cgroups_path;
  struct brick_resources resources;
  struct brick_kv *sysctl;
  size_t n_sysctl;
  struct brick_seccomp seccomp;
  unsigned long rootfs_propagation;  /* MS_* | MS_REC or 0 when absent */
  char **masked_paths;
  char **readonly_paths;
  char *mount_label;
  struct brick_personality personality;
  bool has_intel_rdt;                /* accepted and ignored with a warning */
};

/* ---- the document -------------------------------------------------------------- */

struct brick_spec {
  char *oci_version;
  struct brick_process *process;     /* NULL when absent (allowed for create) */
  struct brick_root root;
  char *hostname;
  char *domainname;
  struct brick_mount *mounts;
  size_t n_mounts;
  struct brick_hooks hooks;
  struct brick_kv *annotations;
  size_t n_annotations;
  bool has_linux;
  struct brick_linux linux_;
  json_t *json;                      /* the whole parsed document, for hooks and state */
};

/* Parse config.json at path. name_for_errors is what messages call the file
 * (usually "config.json"). Returns NULL and fills err on failure. */
struct brick_spec *brick_spec_load(const char *path, brick_err *err);
struct brick_spec *brick_spec_parse(json_t *doc, const char *name_for_errors, brick_err *err);
void brick_spec_free(struct brick_spec *spec);

/* A process object alone (exec --process FILE), same rules and paths ("process.json: args"). */
struct brick_process *brick_process_parse(json_t *obj, const char *name_for_errors,
                                          brick_err *err);
void brick_process_free(struct brick_process *p);

/* Name tables, shared with seccomp, caps and check. */
int brick_cap_from_name(const char *name);          /* "CAP_SYS_ADMIN" -> 21, -1 if unknown */
const char *brick_cap_name(int cap);                /* 21 -> "CAP_SYS_ADMIN" */
int brick_cap_last(void);                           /* highest capability number known */
const char *brick_ns_name(enum brick_ns_type t);     /* "pid", "network", ... */
int brick_ns_clone_flag(enum brick_ns_type t);       /* CLONE_NEWPID, ... */
const char *brick_annotation(const struct brick_spec *spec, const char *key);

#endif
