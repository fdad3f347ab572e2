/* The names config.json uses and the numbers the kernel wants. Tables are static so a
 * config written for a newer kernel than the build headers still resolves (CAP_BPF,
 * SCHED_FLAG_UTIL_CLAMP_MAX, CLONE_NEWTIME, ...). */
#include <sched.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "core/util.h"
#include "spec/spec_internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

bool spec_lookup(const struct spec_name_value *table, const char *name, long *value) {
  for (const struct spec_name_value *e = table; e->name; e++) {
    if (strcmp(e->name, name) == 0) {
      if (value)
        *value = e->value;
      return true;
    }
  }
  return false;
}

/* ---- capabilities ------------------------------------------------------------------ */

static const char *const cap_names[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int brick_cap_from_name(const char *name) {
  if (name == NULL)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
    if (strcmp(cap_names[i], name) == 0)
      return (int)i;
  /* A capability newer than our table but known to the installed libcap. The "CAP_"
   * prefix check keeps libcap's numeric and lower-case spellings out: the spec (and
   * runc) only know the upper-case names. */
  if (!brick_str_has_prefix(name, "CAP_") || name[4] == '\0')
    return -1;
  for (const char *c = name + 4; *c; c++)
    if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
      return -1;
  cap_value_t v;
  if (cap_from_name(name, &v) != 0 || v < 0 || v > 63)
    return -1;
  return (int)v;
}

const char *brick_cap_name(int cap) {
  if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
    return NULL;
  return cap_names[cap];
}

int brick_cap_last(void) {
  return (int)ARRAY_SIZE(cap_names) - 1;
}

/* ---- namespaces -------------------------------------------------------------------- */

static const struct {
  const char *name;
  int clone_flag;
} ns_table[BRICK_NS_COUNT] = {
    [BRICK_NS_PID] = {"pid", CLONE_NEWPID},
    [BRICK_NS_NETWORK] = {"network", CLONE_NEWNET},
    [BRICK_NS_MOUNT] = {"mount", CLONE_NEWNS},
    [BRICK_NS_IPC] = {"ipc", CLONE_NEWIPC},
    [BRICK_NS_UTS] = {"uts", CLONE_NEWUTS},
    [BRICK_NS_USER] = {"user", CLONE_NEWUSER},
    [BRICK_NS_CGROUP] = {"cgroup", CLONE_NEWCGROUP},
    [BRICK_NS_TIME] = {"time", CLONE_NEWTIME},
};

const char *brick_ns_name(enum brick_ns_type t) {
  if ((int)t < 0 || t >= BRICK_NS_COUNT)
    return NULL;
  return ns_table[t].name;
}

int brick_ns_clone_flag(enum brick_ns_type t) {
  if ((int)t < 0 || t >= BRICK_NS_COUNT)
    return 0;
  return ns_table[t].clone_flag;
}

int spec_ns_from_name(const char *name) {
  for (int i = 0; i < BRICK_NS_COUNT; i++)
    if (strcmp(ns_table[i].name, name) == 0)
      return i;
  return -1;
}

/* ---- process ----------------------------------------------------------------------- */

const struct spec_name_value spec_rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
    {NULL, 0},
};

/* Values from linux/ioprio.h and linux/sched.h, spelled out so the tables do not
 * depend on which of those the build headers carry. */
const struct spec_name_value spec_ioprio_class_names[] = {
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
    {NULL, 0},
};

const struct spec_name_value spec_sched_policy_names[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},       {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6}, {NULL, 0},
};

const struct spec_name_value spec_sched_flag_names[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},    {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},   {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}, {NULL, 0},
};

/* ---- linux ------------------------------------------------------------------------- */

const struct spec_name_value spec_propagation_names[] = {
    {"shared", MS_SHARED},
    {"slave", MS_SLAVE},
    {"private", MS_PRIVATE},
    {"unbindable", MS_UNBINDABLE},
    {"rshared", MS_SHARED | MS_REC},
    {"rslave", MS_SLAVE | MS_REC},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"runbindable", MS_UNBINDABLE | MS_REC},
    {NULL, 0},
};

const struct spec_name_value spec_seccomp_action_names[] = {
    {"SCMP_ACT_KILL", BRICK_SCMP_KILL},
    {"SCMP_ACT_KILL_PROCESS", BRICK_SCMP_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", BRICK_SCMP_KILL_THREAD},
    {"SCMP_ACT_TRAP", BRICK_SCMP_TRAP},
    {"SCMP_ACT_ERRNO", BRICK_SCMP_ERRNO},
    {"SCMP_ACT_TRACE", BRICK_SCMP_TRACE},
    {"SCMP_ACT_ALLOW", BRICK_SCMP_ALLOW},
    {"SCMP_ACT_LOG", BRICK_SCMP_LOG},
    {"SCMP_ACT_NOTIFY", BRICK_SCMP_NOTIFY},
    {NULL, 0},
};

const struct spec_name_value spec_seccomp_op_names[] = {
    {"SCMP_CMP_NE", BRICK_SCMP_CMP_NE},
    {"SCMP_CMP_LT", BRICK_SCMP_CMP_LT},
    {"SCMP_CMP_LE", BRICK_SCMP_CMP_LE},
    {"SCMP_CMP_EQ", BRICK_SCMP_CMP_EQ},
    {"SCMP_CMP_GE", BRICK_SCMP_CMP_GE},
    {"SCMP_CMP_GT", BRICK_SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", BRICK_SCMP_CMP_MASKED_EQ},
    {NULL, 0},
};

/* The runtime-spec's list; the seccomp module maps them to libseccomp tokens. */
const struct spec_name_value spec_seccomp_arch_names[] = {
    {"SCMP_ARCH_X86", 0},        {"SCMP_ARCH_X86_64", 0},    {"SCMP_ARCH_X32", 0},
    {"SCMP_ARCH_ARM", 0},        {"SCMP_ARCH_AARCH64", 0},   {"SCMP_ARCH_MIPS", 0},
    {"SCMP_ARCH_MIPS64", 0},     {"SCMP_ARCH_MIPS64N32", 0}, {"SCMP_ARCH_MIPSEL", 0},
    {"SCMP_ARCH_MIPSEL64", 0},   {"SCMP_ARCH_MIPSEL64N32", 0}, {"SCMP_ARCH_PPC", 0},
    {"SCMP_ARCH_PPC64", 0},      {"SCMP_ARCH_PPC64LE", 0},   {"SCMP_ARCH_S390", 0},
    {"SCMP_ARCH_S390X", 0},      {"SCMP_ARCH_PARISC", 0},    {"SCMP_ARCH_PARISC64", 0},
    {"SCMP_ARCH_RISCV64", 0},    {"SCMP_ARCH_LOONGARCH64", 0}, {"SCMP_ARCH_M68K", 0},
    {"SCMP_ARCH_SH", 0},         {"SCMP_ARCH_SHEB", 0},      {NULL, 0},
};

const struct spec_name_value spec_seccomp_flag_names[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", 1},
    {"SECCOMP_FILTER_FLAG_LOG", 2},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 32},
    {NULL, 0},
};

const struct spec_name_value spec_personality_domain_names[] = {
    {"LINUX", 0x0000},
    {"LINUX32", 0x0008},
    {NULL, 0},
};
