/* brick's default seccomp profile, as data.
 *
 * Shape: the default action is SCMP_ACT_ERRNO(ENOSYS), so a syscall nobody listed
 * (including every syscall newer than this table) fails with ENOSYS and libc
 * falls back to an older interface. The syscalls an ordinary program needs are listed
 * as allowed. The dangerous ones are listed too, as SCMP_ACT_ERRNO(EPERM), so the intent
 * is visible in `brick spec` output and callers get the errno they would get from a
 * kernel that refuses them. Some of those are allowed when the container's capability
 * bounding set holds the capability that makes them meaningful (as Docker's profile
 * does): without the capability the kernel would refuse most of them anyway, but their
 * attack surface (parsers, namespaces, BPF) is reached before that check.
 *
 * Only the native architecture is listed: i386 and x32 syscalls hit the bad-arch action
 * (ENOSYS). That is what makes argument filters such as the socket-family rule
 * enforceable: the i386 socketcall(2) multiplexer, which hides the family behind a
 * pointer, cannot be reached. */
#include "seccomp/seccomp.h"
#include "seccomp/seccomp_internal.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include "core/util.h"

#define CAP(c) (UINT64_C(1) << (c))

enum row_when {
  ROW_ALWAYS,
  ROW_WITH_CAP,     /* some capability of .caps is in the bounding set */
  ROW_WITHOUT_CAP,  /* none is */
};

struct row_arg {
  unsigned index;
  uint64_t value, value_two;
  enum brick_seccomp_op op;
};

struct profile_row {
  const char *const *names;    /* NULL-terminated */
  enum brick_seccomp_action action;
  int errno_ret;               /* for SCMP_ACT_ERRNO */
  enum row_when when;
  uint64_t caps;
  const struct row_arg *args;
  size_t n_args;
};

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ARGS(...)                                                                          \
  .args = (const struct row_arg[]){__VA_ARGS__},                                           \
  .n_args = sizeof((const struct row_arg[]){__VA_ARGS__}) / sizeof(struct row_arg)
#define ALLOW(...) {.names = NAMES(__VA_ARGS__), .action = BRICK_SCMP_ALLOW, .when = ROW_ALWAYS}
#define DENY(...)                                                                          \
  {.names = NAMES(__VA_ARGS__), .action = BRICK_SCMP_ERRNO, .errno_ret = EPERM,            \
   .when = ROW_ALWAYS}
/* Allowed with one of caps_ in the bounding set, EPERM without. */
#define GATED(caps_, ...)                                                                  \
  {.names = NAMES(__VA_ARGS__), .action = BRICK_SCMP_ALLOW, .when = ROW_WITH_CAP,          \
   .caps = (caps_)},                                                                       \
  {.names = NAMES(__VA_ARGS__), .action = BRICK_SCMP_ERRNO, .errno_ret = EPERM,            \
   .when = ROW_WITHOUT_CAP, .caps = (caps_)}

/* s390 swaps clone's first two arguments. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

/* Every namespace flag clone(2) takes (CLONE_NEWTIME only exists for clone3/unshare:
 * in clone's flags that bit is part of the exit signal). */
#define CLONE_NS_FLAGS                                                                     \
  ((uint64_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
              CLONE_NEWPID | CLONE_NEWNET))
#define NS_BIT(f) {CLONE_FLAGS_ARG, (uint64_t)(f), (uint64_t)(f), BRICK_SCMP_CMP_MASKED_EQ}

static const struct profile_row rows[] = {
  /* What an ordinary Linux program needs. */
  ALLOW("accept", "accept4", "access", "alarm", "arch_prctl", "bind", "brk", "cachestat",
        "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_getres",
        "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
        "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
        "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
        "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
        "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
        "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
        "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
        "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
        "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
        "futex", "futex_time64", "futex_waitv", "futimesat", "get_mempolicy", "get_robust_list",
        "get_thread_area", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
        "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
        "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
        "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "getrusage",
        "getsid", "getsockname", "getsockopt", "gettid", "gettimeofday", "getuid", "getuid32",
        "getxattr", "getxattrat", "inotify_add_watch", "inotify_init", "inotify_init1",
        "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
        "io_pgetevents_time64", "io_setup", "io_submit", "ioctl", "ioprio_get", "ioprio_set",
        "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
        "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
        "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
        "lstat64", "madvise", "map_shadow_stack", "mbind", "membarrier", "memfd_create",
        "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
        "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
        "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
        "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync",
        "munlock", "munlockall", "munmap", "nanosleep", "newfstatat", "_newselect", "open",
        "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
        "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
        "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
        "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
        "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
        "remap_file_pages", "removexattr", "removexattrat", "rename", "renameat", "renameat2",
        "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
        "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
        "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
        "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
        "set_mempolicy", "set_robust_list", "set_thread_area", "set_tid_address", "setfsgid",
        "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
        "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
        "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
        "setrlimit", "setsid", "setsockopt", "setuid", "setuid32", "setxattr", "setxattrat",
        "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
        "signalfd4", "sigprocmask", "sigreturn", "splice", "stat", "stat64", "statfs",
        "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
        "sync_file_range2", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
        "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
        "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
        "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill",
        "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
        "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4",
        "waitid", "waitpid", "write", "writev"),

  /* Never in a container: host-wide state, kernel code loading, or a record of
   * container escapes and kernel exploits. */
  DENY("kexec_load", "kexec_file_load", "swapon", "swapoff", "sysfs", "_sysctl", "keyctl",
       "add_key", "request_key", "userfaultfd", "io_uring_setup", "io_uring_enter",
       "io_uring_register", "nfsservctl", "uselib", "ustat", "create_module",
       "get_kernel_syms", "query_module", "vm86", "vm86old"),

  /* Mounts and namespaces: only for containers trusted with CAP_SYS_ADMIN. */
  GATED(CAP(CAP_SYS_ADMIN), "mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig",
        "fsmount", "fspick", "open_tree", "move_mount", "mount_setattr", "unshare", "setns",
        "quotactl", "quotactl_fd", "fanotify_init", "lookup_dcookie", "name_to_handle_at",
        "sethostname", "setdomainname"),
  GATED(CAP(CAP_SYS_ADMIN) | CAP(CAP_BPF), "bpf"),
  GATED(CAP(CAP_SYS_ADMIN) | CAP(CAP_PERFMON), "perf_event_open"),
  GATED(CAP(CAP_SYS_ADMIN) | CAP(CAP_SYSLOG), "syslog"),
  GATED(CAP(CAP_SYS_PTRACE), "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
        "pidfd_getfd", "process_madvise"),
  GATED(CAP(CAP_SYS_BOOT), "reboot"),
  GATED(CAP(CAP_SYS_MODULE), "init_module", "finit_module", "delete_module"),
  GATED(CAP(CAP_SYS_RAWIO), "iopl", "ioperm"),
  GATED(CAP(CAP_SYS_TIME), "settimeofday", "stime", "clock_settime", "clock_settime64",
        "adjtimex", "clock_adjtime", "clock_adjtime64"),
  GATED(CAP(CAP_SYS_PACCT), "acct"),
  GATED(CAP(CAP_SYS_TTY_CONFIG), "vhangup"),
  GATED(CAP(CAP_SYS_NICE), "migrate_pages", "move_pages"),
  /* The "shocker" escape: file handles bypass the container's root directory. */
  GATED(CAP(CAP_DAC_READ_SEARCH), "open_by_handle_at"),

  /* clone: any flags with CAP_SYS_ADMIN; without it no namespace flag. The allow rule
   * and the per-flag deny rules are disjoint, so their order in the filter is moot. */
  {.names = NAMES("clone"), .action = BRICK_SCMP_ALLOW, .when = ROW_WITH_CAP,
   .caps = CAP(CAP_SYS_ADMIN)},
  {.names = NAMES("clone"), .action = BRICK_SCMP_ALLOW, .when = ROW_WITHOUT_CAP,
   .caps = CAP(CAP_SYS_ADMIN),
   ARGS({CLONE_FLAGS_ARG, CLONE_NS_FLAGS, 0, BRICK_SCMP_CMP_MASKED_EQ})},
  {.names = NAMES("clone"), .action = BRICK_SCMP_ERRNO, .errno_ret = EPERM,
   .when = ROW_WITHOUT_CAP, .caps = CAP(CAP_SYS_ADMIN),
   ARGS(NS_BIT(CLONE_NEWNS), NS_BIT(CLONE_NEWCGROUP), NS_BIT(CLONE_NEWUTS),
        NS_BIT(CLONE_NEWIPC), NS_BIT(CLONE_NEWUSER), NS_BIT(CLONE_NEWPID),
        NS_BIT(CLONE_NEWNET))},
  /* clone3 passes its flags behind a pointer a filter cannot read: ENOSYS makes glibc
   * fall back to clone, where they are checked. */
  {.names = NAMES("clone3"), .action = BRICK_SCMP_ALLOW, .when = ROW_WITH_CAP,
   .caps = CAP(CAP_SYS_ADMIN)},
  {.names = NAMES("clone3"), .action = BRICK_SCMP_ERRNO, .errno_ret = ENOSYS,
   .when = ROW_WITHOUT_CAP, .caps = CAP(CAP_SYS_ADMIN)},

  /* personality: Linux, UNAME26, and the query. PER_LINUX32 and the flags that weaken
   * exploit mitigations (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC) are refused outright;
   * any other value hits the default (ENOSYS): libseccomp cannot state "every other
   * value" as a rule disjoint from the allowed ones, and overlapping rules with
   * different actions have no defined precedence. */
  {.names = NAMES("personality"), .action = BRICK_SCMP_ALLOW, .when = ROW_ALWAYS,
   ARGS({0, PER_LINUX, 0, BRICK_SCMP_CMP_EQ}, {0, UNAME26, 0, BRICK_SCMP_CMP_EQ},
        {0, 0xffffffffu, 0, BRICK_SCMP_CMP_EQ})},
  {.names = NAMES("personality"), .action = BRICK_SCMP_ERRNO, .errno_ret = EPERM,
   .when = ROW_ALWAYS,
   ARGS({0, PER_LINUX32, 0, BRICK_SCMP_CMP_EQ}, {0, PER_LINUX32 | UNAME26, 0, BRICK_SCMP_CMP_EQ},
        {0, ADDR_NO_RANDOMIZE, 0, BRICK_SCMP_CMP_EQ},
        {0, READ_IMPLIES_EXEC, 0, BRICK_SCMP_CMP_EQ},
        {0, 0xffffffffu, 0, BRICK_SCMP_CMP_GT})},
};

/* Socket address families a container may open; the rest get EAFNOSUPPORT, the errno
 * of a kernel built without them. AF_PACKET needs CAP_NET_RAW anyway; without it the
 * packet-socket code (a long CVE history) stays out of reach. */
static const struct {
  int family;
  uint64_t caps;   /* 0 = always */
} socket_families[] = {
  {AF_UNIX, 0}, {AF_INET, 0}, {AF_INET6, 0}, {AF_NETLINK, 0}, {AF_PACKET, CAP(CAP_NET_RAW)},
};
static const int socketpair_families[] = {AF_UNIX};

static bool row_applies(const struct profile_row *r, uint64_t bounding) {
  switch (r->when) {
  case ROW_ALWAYS: return true;
  case ROW_WITH_CAP: return (bounding & r->caps) != 0;
  case ROW_WITHOUT_CAP: return (bounding & r->caps) == 0;
  }
  return false;
}

static json_t *arg_json(unsigned index, uint64_t value, uint64_t value_two,
                        enum brick_seccomp_op op) {
  return json_pack("{s:I, s:I, s:I, s:s}", "index", (json_int_t)index, "value",
                   (json_int_t)value, "valueTwo", (json_int_t)value_two, "op",
                   seccomp_op_name(op));
}

static json_t *rule_json(const char *const *names, enum brick_seccomp_action action,
                         int errno_ret, json_t *args) {
  json_t *r = json_object();
  json_t *jn = json_array();
  for (size_t i = 0; names[i]; i++)
    json_array_append_new(jn, json_string(names[i]));
  json_object_set_new(r, "names", jn);
  json_object_set_new(r, "action", json_string(seccomp_action_name(action)));
  if (action == BRICK_SCMP_ERRNO)
    json_object_set_new(r, "errnoRet", json_integer(errno_ret));
  if (args && json_array_size(args) > 0)
    json_object_set_new(r, "args", args);
  else
    json_decref(args);
  return r;
}

/* Allow the listed families on arg 0 and refuse every other value with EAFNOSUPPORT:
 * each value at or below the highest allowed one that is not allowed, and everything
 * above it. The comparisons share an argument, so each becomes its own rule (an OR). */
static void add_family_rules(json_t *rules, const char *syscall, const int *families, size_t n) {
  uint64_t allowed_mask = 0;   /* families are < 64 */
  int max = -1;
  json_t *allow = json_array();
  for (size_t i = 0; i < n; i++) {
    allowed_mask |= UINT64_C(1) << families[i];
    if (families[i] > max)
      max = families[i];
    json_array_append_new(allow, arg_json(0, (uint64_t)families[i], 0, BRICK_SCMP_CMP_EQ));
  }
  json_t *deny = json_array();
  for (int f = 0; f < max; f++)
    if (!(allowed_mask & (UINT64_C(1) << f)))
      json_array_append_new(deny, arg_json(0, (uint64_t)f, 0, BRICK_SCMP_CMP_EQ));
  json_array_append_new(deny, arg_json(0, (uint64_t)max, 0, BRICK_SCMP_CMP_GT));
  const char *const names[] = {syscall, NULL};
  json_array_append_new(rules, rule_json(names, BRICK_SCMP_ALLOW, 0, allow));
  json_array_append_new(rules, rule_json(names, BRICK_SCMP_ERRNO, EAFNOSUPPORT, deny));
}

json_t *brick_seccomp_default_profile(uint64_t bounding_caps) {
  json_t *p = json_object();
  json_object_set_new(p, "defaultAction", json_string("SCMP_ACT_ERRNO"));
  json_object_set_new(p, "defaultErrnoRet", json_integer(ENOSYS));
  const char *native = seccomp_arch_name(seccomp_arch_native());
  json_object_set_new(p, "architectures", native ? json_pack("[s]", native) : json_array());

  json_t *rules = json_array();
  for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
    const struct profile_row *r = &rows[i];
    if (!row_applies(r, bounding_caps))
      continue;
    json_t *args = json_array();
    for (size_t k = 0; k < r->n_args; k++)
      json_array_append_new(args, arg_json(r->args[k].index, r->args[k].value,
                                           r->args[k].value_two, r->args[k].op));
    json_array_append_new(rules, rule_json(r->names, r->action, r->errno_ret, args));
  }

  int families[ARRAY_SIZE(socket_families)];
  size_t n = 0;
  for (size_t i = 0; i < ARRAY_SIZE(socket_families); i++)
    if (socket_families[i].caps == 0 || (bounding_caps & socket_families[i].caps))
      families[n++] = socket_families[i].family;
  add_family_rules(rules, "socket", families, n);
  add_family_rules(rules, "socketpair", socketpair_families, ARRAY_SIZE(socketpair_families));

  json_object_set_new(p, "syscalls", rules);
  return p;
}
