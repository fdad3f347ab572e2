/* brick-probe: checks, from inside a container, every confinement layer of the
 * "secure by default" issue, one line per check ("PASS name", "FAIL name: detail",
 * "SKIP name: reason"), then one line "JSON {...}" summarising the lot.
 *
 * It is built static (it runs in a bare busybox rootfs) and is also run unconfined on
 * the host by tests/integration/test_confinement.py: every check must FAIL there, which
 * is what shows a check can fail at all. So every probe is chosen to be harmless for an
 * unconfined root: arguments that the kernel rejects after its permission checks
 * (EINVAL, EBADF, ENOENT...), opens without writes, and anything that changes the
 * process's own state (personality, namespaces) runs in a throw-away child.
 *
 * "Blocked" means the call was refused before it reached the code that looks at its
 * arguments: EPERM or ENOSYS (what seccomp and a missing capability answer). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#endif
#define X32_SYSCALL_BIT 0x40000000

/* ---- reporting ----------------------------------------------------------------- */

enum verdict { V_PASS, V_FAIL, V_SKIP };

struct result {
  char name[64];
  enum verdict v;
  char detail[200];
};

static struct result results[256];
static size_t n_results;

static void report(const char *name, enum verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(const char *name, enum verdict v, const char *fmt, ...) {
  if (n_results == sizeof results / sizeof results[0])
    return;
  struct result *r = &results[n_results++];
  snprintf(r->name, sizeof r->name, "%s", name);
  r->v = v;
  r->detail[0] = '\0';
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
  }
  if (v == V_PASS)
    printf("PASS %s%s%s\n", name, r->detail[0] ? ": " : "", r->detail);
  else
    printf("%s %s: %s\n", v == V_FAIL ? "FAIL" : "SKIP", name, r->detail);
  fflush(stdout);
}

/* Bounded copy: details are for people, truncation is fine. */
static void copy_str(char *dst, size_t n, const char *src) {
  size_t l = strlen(src);
  if (l >= n)
    l = n - 1;
  memcpy(dst, src, l);
  dst[l] = '\0';
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

static const char *errname(int e) {
  switch (e) {
  case 0: return "success";
  case EPERM: return "EPERM";
  case ENOSYS: return "ENOSYS";
  case EACCES: return "EACCES";
  case EROFS: return "EROFS";
  case EINVAL: return "EINVAL";
  case EBADF: return "EBADF";
  case ENOENT: return "ENOENT";
  case EFAULT: return "EFAULT";
  case EAFNOSUPPORT: return "EAFNOSUPPORT";
  case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
  case ESRCH: return "ESRCH";
  case ECONNREFUSED: return "ECONNREFUSED";
  case ENXIO: return "ENXIO";
  case ENODEV: return "ENODEV";
  case ENOKEY: return "ENOKEY";
  case EEXIST: return "EEXIST";
  case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
  default: return strerror(e);
  }
}

/* ---- syscalls ------------------------------------------------------------------ */

/* Outcome of one call: ret and errno, or (run_in_child) how a child died. */
struct outcome {
  long ret;
  int err;
  int signal;   /* child killed by this signal, 0 otherwise */
};

static void check_blocked(const char *name, struct outcome o) {
  if (o.signal == SIGSYS) {
    report(name, V_PASS, "killed by SIGSYS");
    return;
  }
  if (o.signal) {
    report(name, V_FAIL, "child killed by signal %d", o.signal);
    return;
  }
  if (o.ret < 0 && (o.err == EPERM || o.err == ENOSYS))
    report(name, V_PASS, "%s", errname(o.err));
  else if (o.ret < 0)
    report(name, V_FAIL, "reached the kernel: %s", errname(o.err));
  else
    report(name, V_FAIL, "succeeded (returned %ld)", o.ret);
}

static struct outcome call(long ret) {
  return (struct outcome){.ret = ret, .err = ret < 0 ? errno : 0};
}

typedef long (*child_fn)(void);

/* Run fn in a forked child, which exits with 0 on success or 100+errno. */
static struct outcome in_child(child_fn fn) {
  pid_t pid = fork();
  if (pid < 0)
    return (struct outcome){.ret = -1, .err = errno};
  if (pid == 0) {
    long r = fn();
    _exit(r < 0 ? 100 + (errno & 0x7f) : 0);
  }
  int status;
  if (waitpid(pid, &status, 0) < 0)
    return (struct outcome){.ret = -1, .err = errno};
  if (WIFSIGNALED(status))
    return (struct outcome){.ret = -1, .signal = WTERMSIG(status)};
  int code = WEXITSTATUS(status);
  if (code == 0)
    return (struct outcome){.ret = 0};
  return (struct outcome){.ret = -1, .err = code - 100};
}

static long do_unshare_ns(void) { return unshare(CLONE_NEWNS); }

static long do_clone_newuser(void) {
  long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (r == 0)
    _exit(0);
  if (r > 0)
    waitpid((pid_t)r, NULL, 0);
  return r;
}

struct clone_args_v0 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static long do_clone3_newuser(void) {
  struct clone_args_v0 a = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
  long r = syscall(SYS_clone3, &a, sizeof a);
  if (r == 0)
    _exit(0);
  if (r > 0)
    waitpid((pid_t)r, NULL, 0);
  return r;
}

static long do_personality32(void) { return personality(PER_LINUX32); }

/* getpid through the 32-bit entry point. */
static long do_int80(void) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
  if (ret < 0 && ret > -4096) {
    errno = (int)-ret;
    return -1;
  }
  return ret;
}

static void check_syscalls(void) {
  check_blocked("syscall_kexec_load", call(syscall(SYS_kexec_load, 0, 1000, NULL, 0)));
  check_blocked("syscall_open_by_handle_at", call(syscall(SYS_open_by_handle_at, -1, NULL, 0)));
  check_blocked("syscall_init_module", call(syscall(SYS_init_module, NULL, 0, "")));
  check_blocked("syscall_finit_module", call(syscall(SYS_finit_module, -1, "", 0)));
  check_blocked("syscall_delete_module",
                call(syscall(SYS_delete_module, "brick_probe_no_such_module", O_NONBLOCK)));
  check_blocked("syscall_iopl", call(syscall(SYS_iopl, 4)));
  check_blocked("syscall_ioperm", call(syscall(SYS_ioperm, 65536UL, 1UL, 0)));
  check_blocked("syscall_swapon", call(syscall(SYS_swapon, "/brick-probe-no-such-file", 0)));
  check_blocked("syscall_swapoff", call(syscall(SYS_swapoff, "/brick-probe-no-such-file")));
  check_blocked("syscall_sysfs", call(syscall(SYS_sysfs, 99, 0, 0)));
#ifdef SYS__sysctl
  check_blocked("syscall__sysctl", call(syscall(SYS__sysctl, NULL)));
#else
  report("syscall__sysctl", V_SKIP, "this architecture has no _sysctl");
#endif
  struct timex tx = {.modes = 0};
  check_blocked("syscall_adjtimex", call(syscall(SYS_adjtimex, &tx)));
  struct timex tx2 = {.modes = 0};
  check_blocked("syscall_clock_adjtime", call(syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx2)));
  check_blocked("syscall_lookup_dcookie", call(syscall(SYS_lookup_dcookie, 0ULL, NULL, 0)));
  check_blocked("syscall_perf_event_open", call(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0)));
  check_blocked("syscall_fanotify_init", call(syscall(SYS_fanotify_init, 0xffffffffU, 0)));
  check_blocked("syscall_kcmp", call(syscall(SYS_kcmp, getpid(), getpid(), 99, 0, 0)));
  check_blocked("syscall_keyctl", call(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0)));
  check_blocked("syscall_add_key", call(syscall(SYS_add_key, "brick_probe_no_such_type", "d", "x", 1,
                                                -2 /* process keyring */)));
  check_blocked("syscall_request_key", call(syscall(SYS_request_key, "user", "brick-probe-no-such-key",
                                                    NULL, 0)));
  check_blocked("syscall_bpf", call(syscall(SYS_bpf, 0x7fffffff, NULL, 0)));
  check_blocked("syscall_userfaultfd", call(syscall(SYS_userfaultfd, 0xffffffffU)));
  check_blocked("syscall_io_uring_setup", call(syscall(SYS_io_uring_setup, 0, NULL)));
  check_blocked("syscall_mount",
                call(syscall(SYS_mount, "none", "/brick-probe-no-such-dir", "tmpfs", 0, NULL)));
  check_blocked("syscall_umount2", call(syscall(SYS_umount2, "/brick-probe-no-such-dir", 0x7fffff00)));
  check_blocked("syscall_pivot_root",
                call(syscall(SYS_pivot_root, "/brick-probe-no-such-dir", "/brick-probe-no-such-dir")));
  check_blocked("syscall_unshare_newns", in_child(do_unshare_ns));
  check_blocked("syscall_setns", call(syscall(SYS_setns, -1, 0)));
  check_blocked("syscall_clone_newuser", in_child(do_clone_newuser));
  check_blocked("syscall_clone3_newuser", in_child(do_clone3_newuser));
  check_blocked("syscall_personality_linux32", in_child(do_personality32));

  /* 32-bit entry: blocked (errno or SIGSYS) passes; a SIGSEGV means the kernel has no
   * IA32 emulation, so the layer cannot be seen from here. */
  struct outcome o = in_child(do_int80);
  if (o.signal == SIGSEGV || o.signal == SIGILL)
    report("abi_int80", V_SKIP, "not testable here: int $0x80 faults (signal %d), no IA32 emulation",
           o.signal);
  else
    check_blocked("abi_int80", o);
  /* x32: the syscall bit must give ENOSYS, nothing else. */
  long r = syscall(X32_SYSCALL_BIT | SYS_getpid);
  if (r < 0 && errno == ENOSYS)
    report("abi_x32", V_PASS, "ENOSYS");
  else
    report("abi_x32", V_FAIL, "x32 getpid: %s", r < 0 ? errname(errno) : "succeeded");
}

/* ---- sockets ------------------------------------------------------------------- */

static void check_sockets(void) {
  static const struct { const char *name; int family, type, proto; } allowed[] = {
      {"AF_UNIX", AF_UNIX, SOCK_STREAM, 0},
      {"AF_INET", AF_INET, SOCK_STREAM, 0},
      {"AF_INET6", AF_INET6, SOCK_STREAM, 0},
      {"AF_NETLINK", AF_NETLINK, SOCK_RAW, 0},
  };
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
    char name[64];
    snprintf(name, sizeof name, "socket_allowed_%s", allowed[i].name);
    int fd = socket(allowed[i].family, allowed[i].type | SOCK_CLOEXEC, allowed[i].proto);
    if (fd >= 0) {
      close(fd);
      report(name, V_PASS, NULL);
    } else {
      report(name, V_FAIL, "%s", errname(errno));
    }
  }
  static const struct { const char *name; int family, type; } refused[] = {
      {"AF_PACKET", AF_PACKET, SOCK_RAW},       {"AF_KEY", AF_KEY, SOCK_RAW},
      {"AF_BLUETOOTH", AF_BLUETOOTH, SOCK_RAW}, {"AF_ALG", AF_ALG, SOCK_SEQPACKET},
      {"AF_VSOCK", AF_VSOCK, SOCK_STREAM},      {"AF_XDP", AF_XDP, SOCK_RAW},
      {"AF_TIPC", AF_TIPC, SOCK_RDM},           {"AF_CAN", AF_CAN, SOCK_RAW},
      {"AF_RDS", AF_RDS, SOCK_SEQPACKET},       {"AF_LLC", AF_LLC, SOCK_DGRAM},
      {"AF_NFC", AF_NFC, SOCK_DGRAM},           {"AF_SMC", AF_SMC, SOCK_STREAM},
      {"AF_KCM", AF_KCM, SOCK_DGRAM},           {"AF_QIPCRTR", AF_QIPCRTR, SOCK_DGRAM},
      {"AF_MCTP", 45, SOCK_DGRAM},              {"AF_PPPOX", AF_PPPOX, SOCK_STREAM},
      {"AF_ATMPVC", AF_ATMPVC, SOCK_DGRAM},     {"AF_AX25", AF_AX25, SOCK_SEQPACKET},
      {"AF_X25", AF_X25, SOCK_SEQPACKET},       {"AF_APPLETALK", AF_APPLETALK, SOCK_DGRAM},
      {"AF_IEEE802154", AF_IEEE802154, SOCK_DGRAM}, {"AF_RXRPC", AF_RXRPC, SOCK_DGRAM},
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    char name[64];
    snprintf(name, sizeof name, "socket_refused_%s", refused[i].name);
    int fd = socket(refused[i].family, refused[i].type | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      close(fd);
      report(name, V_FAIL, "socket created");
    } else if (errno == EAFNOSUPPORT) {
      report(name, V_PASS, "EAFNOSUPPORT");
    } else {
      report(name, V_FAIL, "refused with %s, not EAFNOSUPPORT", errname(errno));
    }
  }
}

/* ---- capabilities and process flags -------------------------------------------- */

static const char *const cap_names[] = {
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"};
#define N_CAPS ((int)(sizeof cap_names / sizeof cap_names[0]))

/* The 11 that brick (and podman) grant by default. */
static const int default_caps[] = {0 /*CHOWN*/, 1 /*DAC_OVERRIDE*/, 3 /*FOWNER*/, 4 /*FSETID*/,
                                   5 /*KILL*/, 10 /*NET_BIND_SERVICE*/, 31 /*SETFCAP*/,
                                   6 /*SETGID*/, 8 /*SETPCAP*/, 7 /*SETUID*/, 18 /*SYS_CHROOT*/};

static bool is_default_cap(int c) {
  for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++)
    if (default_caps[i] == c)
      return true;
  return false;
}

static void check_caps(void) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) {
    report("caps_capget", V_FAIL, "capget: %s", errname(errno));
    return;
  }
  uint64_t eff = d[0].effective | (uint64_t)d[1].effective << 32;
  uint64_t prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
  uint64_t inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
  uint64_t bnd = 0, amb = 0;
  for (int c = 0; c < 64; c++) {
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
      bnd |= 1ULL << c;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
      amb |= 1ULL << c;
  }
  uint64_t defaults = 0;
  for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++)
    defaults |= 1ULL << default_caps[i];
  uint64_t any = eff | prm | inh | bnd;
  if ((any & ~defaults) == 0)
    report("caps_only_defaults", V_PASS, NULL);
  else
    report("caps_only_defaults", V_FAIL, "extra capabilities: mask %#llx",
           (unsigned long long)(any & ~defaults));
  for (int c = 0; c < 64; c++) {
    if (c < N_CAPS && is_default_cap(c))
      continue;
    if (c >= N_CAPS && !(any & (1ULL << c)))
      continue; /* unnamed, absent: nothing to report */
    char name[64];
    if (c < N_CAPS)
      snprintf(name, sizeof name, "cap_absent_%s", cap_names[c]);
    else
      snprintf(name, sizeof name, "cap_absent_%d", c);
    uint64_t bit = 1ULL << c;
    if (!(any & bit))
      report(name, V_PASS, NULL);
    else
      report(name, V_FAIL, "in%s%s%s%s", bnd & bit ? " bounding" : "", eff & bit ? " effective" : "",
             prm & bit ? " permitted" : "", inh & bit ? " inheritable" : "");
  }
  if (amb == 0)
    report("caps_ambient_empty", V_PASS, NULL);
  else
    report("caps_ambient_empty", V_FAIL, "ambient mask %#llx", (unsigned long long)amb);
  int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  if (nnp == 1)
    report("no_new_privs", V_PASS, NULL);
  else
    report("no_new_privs", V_FAIL, "NoNewPrivs %d", nnp);
}

/* "Key:\tvalue" from /proc/self/status. */
static bool status_field(const char *key, char *out, size_t n) {
  FILE *f = fopen("/proc/self/status", "re");
  if (!f)
    return false;
  char line[512];
  size_t kl = strlen(key);
  bool found = false;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, key, kl) && line[kl] == ':') {
      char *v = line + kl + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      v[strcspn(v, "\n")] = '\0';
      copy_str(out, n, v);
      found = true;
      break;
    }
  }
  fclose(f);
  return found;
}

static void check_seccomp_mode(void) {
  char v[64];
  if (!status_field("Seccomp", v, sizeof v))
    report("seccomp_filter_mode", V_FAIL, "no Seccomp line in /proc/self/status");
  else if (!strcmp(v, "2"))
    report("seccomp_filter_mode", V_PASS, NULL);
  else
    report("seccomp_filter_mode", V_FAIL, "Seccomp: %s", v);
}

/* ---- filesystem ---------------------------------------------------------------- */

/* A read-only path: its mount is read-only and opening it (or a file in it) for
 * writing fails. Nothing is ever written. */
static void check_readonly(const char *name, const char *path, const char *const *files) {
  struct statvfs sv;
  if (statvfs(path, &sv) < 0) {
    if (errno == ENOENT)
      report(name, V_PASS, "%s absent", path);
    else
      report(name, V_FAIL, "statvfs %s: %s", path, errname(errno));
    return;
  }
  if (!(sv.f_flag & ST_RDONLY)) {
    report(name, V_FAIL, "%s is on a writable mount", path);
    return;
  }
  for (size_t i = 0; files && files[i]; i++) {
    int fd = open(files[i], O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd >= 0) {
      close(fd);
      report(name, V_FAIL, "%s opened for writing", files[i]);
      return;
    }
    if (errno == ENOENT)
      continue;
    report(name, V_PASS, "write to %s: %s", files[i], errname(errno));
    return;
  }
  report(name, V_PASS, "read-only mount");
}

static void check_readonly_paths(void) {
  static const char *const sys_files[] = {"/sys/kernel/mm/transparent_hugepage/enabled",
                                          "/sys/kernel/uevent_helper", "/sys/power/state", NULL};
  static const char *const procsys_files[] = {"/proc/sys/kernel/hostname",
                                              "/proc/sys/kernel/core_pattern", NULL};
  static const char *const sysrq_files[] = {"/proc/sysrq-trigger", NULL};
  static const char *const irq_files[] = {"/proc/irq/default_smp_affinity", NULL};
  check_readonly("readonly_sys", "/sys", sys_files);
  check_readonly("readonly_proc_sys", "/proc/sys", procsys_files);
  check_readonly("readonly_proc_sysrq_trigger", "/proc/sysrq-trigger", sysrq_files);
  check_readonly("readonly_proc_irq", "/proc/irq", irq_files);
  check_readonly("readonly_proc_bus", "/proc/bus", NULL);
  check_readonly("readonly_proc_fs", "/proc/fs", NULL);

  /* /sys/fs/cgroup and every cgroup mount under it. */
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) {
    report("readonly_sys_fs_cgroup", V_FAIL, "open /proc/self/mountinfo: %s", errname(errno));
    return;
  }
  char line[4096], bad[2100] = "";
  bool seen = false;
  while (fgets(line, sizeof line, f)) {
    char mp[1024], opts[1024];
    if (sscanf(line, "%*s %*s %*s %*s %1023s %1023s", mp, opts) != 2)
      continue;
    if (strncmp(mp, "/sys/fs/cgroup", 14) || (mp[14] != '\0' && mp[14] != '/'))
      continue;
    seen = true;
    bool ro = !strncmp(opts, "ro", 2) && (opts[2] == ',' || opts[2] == '\0');
    if (!ro && !bad[0])
      snprintf(bad, sizeof bad, "%s is mounted %s", mp, opts);
  }
  fclose(f);
  if (!seen)
    report("readonly_sys_fs_cgroup", V_PASS, "no cgroup filesystem mounted");
  else if (bad[0])
    report("readonly_sys_fs_cgroup", V_FAIL, "%s", bad);
  else
    report("readonly_sys_fs_cgroup", V_PASS, "every mount under /sys/fs/cgroup is ro");
}

/* Masked: absent, a /dev/null bind (files), or an empty tmpfs (directories). */
static void check_masked(const char *path) {
  char name[96];
  snprintf(name, sizeof name, "masked_%s", path + 1);
  for (char *p = name; *p; p++)
    if (*p == '/' || *p == '-')
      *p = '_';
  struct stat st;
  if (stat(path, &st) < 0) {
    report(name, V_PASS, "absent");
    return;
  }
  if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3) {
    report(name, V_PASS, "bound to /dev/null");
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    struct statfs sf;
    DIR *d = opendir(path);
    if (!d) {
      report(name, V_PASS, "unreadable: %s", errname(errno));
      return;
    }
    size_t entries = 0;
    struct dirent *de;
    while ((de = readdir(d)))
      if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
        entries++;
    closedir(d);
    bool tmpfs = statfs(path, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
    if (entries == 0 && tmpfs)
      report(name, V_PASS, "empty tmpfs");
    else
      report(name, V_FAIL, "directory with %zu entries%s", entries, tmpfs ? "" : " (not a mask)");
    return;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    report(name, V_PASS, "unreadable: %s", errname(errno));
    return;
  }
  char c;
  ssize_t n = read(fd, &c, 1);
  int e = errno;
  close(fd);
  if (n == 0)
    report(name, V_PASS, "empty");
  else if (n < 0)
    report(name, V_PASS, "unreadable: %s", errname(e));
  else
    report(name, V_FAIL, "readable");
}

static void check_masked_paths(void) {
  static const char *const paths[] = {
      "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
      "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block", "/sys/devices/virtual/powercap"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    check_masked(paths[i]);
}

static void check_devices(const char *blockdev, const char *scratch) {
  /* mknod of a block device (loop0's numbers) */
  char node[512];
  snprintf(node, sizeof node, "%s/brick-probe-blk-%d", scratch, (int)getpid());
  if (mknod(node, S_IFBLK | 0600, makedev(7, 0)) == 0) {
    unlink(node);
    report("mknod_block_refused", V_FAIL, "mknod %s succeeded", node);
  } else {
    report("mknod_block_refused", V_PASS, "%s", errname(errno));
  }

  if (!blockdev) {
    report("open_block_refused", V_FAIL, "no block device node given (--blockdev)");
  } else {
    struct stat st;
    if (stat(blockdev, &st) < 0 || !S_ISBLK(st.st_mode)) {
      report("open_block_refused", V_FAIL, "%s is not a block device node", blockdev);
    } else {
      int fd = open(blockdev, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      if (fd >= 0) {
        close(fd);
        report("open_block_refused", V_FAIL, "opened %s", blockdev);
      } else {
        report("open_block_refused", V_PASS, "%s", errname(errno));
      }
    }
  }

  /* nodev everywhere except /dev and below (devpts and bound device nodes need it). */
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) {
    report("nodev_mounts", V_FAIL, "open /proc/self/mountinfo: %s", errname(errno));
  } else {
    char line[4096], bad[256] = "";
    size_t n_bad = 0;
    while (fgets(line, sizeof line, f)) {
      char mp[1024], opts[1024];
      if (sscanf(line, "%*s %*s %*s %*s %1023s %1023s", mp, opts) != 2)
        continue;
      if (!strcmp(mp, "/dev") || !strncmp(mp, "/dev/", 5))
        continue;
      /* A masked file is /dev/null bound over it: a device by design. */
      struct stat mst;
      if (stat(mp, &mst) == 0 && S_ISCHR(mst.st_mode) && major(mst.st_rdev) == 1 &&
          minor(mst.st_rdev) == 3)
        continue;
      char o[1030];
      snprintf(o, sizeof o, ",%s,", opts);
      if (!strstr(o, ",nodev,")) {
        if (!n_bad++)
          copy_str(bad, sizeof bad, mp);
      }
    }
    fclose(f);
    if (n_bad)
      report("nodev_mounts", V_FAIL, "%zu mount(s) without nodev, first %s", n_bad, bad);
    else
      report("nodev_mounts", V_PASS, NULL);
  }

  /* Only the allowed device nodes in /dev. */
  static const unsigned allowed[][2] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0},
                                        {5, 1}, {5, 2}, {10, 229}};
  const char *dirs[] = {"/dev", "/dev/pts"};
  char bad[256] = "";
  size_t n_bad = 0, n_nodes = 0;
  for (size_t k = 0; k < 2; k++) {
    DIR *d = opendir(dirs[k]);
    if (!d)
      continue;
    struct dirent *de;
    while ((de = readdir(d))) {
      char p[512];
      snprintf(p, sizeof p, "%s/%s", dirs[k], de->d_name);
      struct stat st;
      if (lstat(p, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
        continue;
      n_nodes++;
      bool ok = false;
      if (S_ISCHR(st.st_mode)) {
        unsigned ma = major(st.st_rdev), mi = minor(st.st_rdev);
        ok = ma == 136;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
          ok = ok || (allowed[i][0] == ma && allowed[i][1] == mi);
      }
      if (!ok && !n_bad++)
        copy_str(bad, sizeof bad, p);
    }
    closedir(d);
  }
  if (n_bad)
    report("dev_only_allowed_nodes", V_FAIL, "%zu unexpected node(s) of %zu, first %s", n_bad,
           n_nodes, bad);
  else
    report("dev_only_allowed_nodes", V_PASS, "%zu nodes", n_nodes);
}

/* ---- namespaces and LSMs -------------------------------------------------------- */

static char uid_map[512];

static void check_userns(void) {
  FILE *f = fopen("/proc/self/uid_map", "re");
  if (!f) {
    report("userns_map", V_FAIL, "open /proc/self/uid_map: %s", errname(errno));
    report("userns_root_not_host_root", V_FAIL, "no uid_map");
    return;
  }
  size_t n = fread(uid_map, 1, sizeof uid_map - 1, f);
  uid_map[n] = '\0';
  fclose(f);
  unsigned long inside, outside, count;
  bool identity = sscanf(uid_map, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 &&
                  outside == 0 && count == 4294967295UL;
  char flat[128];
  copy_str(flat, sizeof flat, uid_map);
  for (char *p = flat; *p; p++)
    if (*p == '\n')
      *p = ';';
  if (identity)
    report("userns_map", V_FAIL, "initial user namespace (%s)", flat);
  else
    report("userns_map", V_PASS, "%s", flat);
  /* Which host uid is this process's root? */
  bool root_is_host_root = false;
  char *line = uid_map;
  while (line && *line) {
    if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 && outside == 0)
      root_is_host_root = true;
    line = strchr(line, '\n');
    if (line)
      line++;
  }
  if (root_is_host_root)
    report("userns_root_not_host_root", V_FAIL, "uid 0 maps to host uid 0");
  else
    report("userns_root_not_host_root", V_PASS, NULL);
}

static void check_landlock(void) {
  /* /proc/self/comm is writable by its own process under DAC, so only a filesystem
   * sandbox (Landlock's rules: nothing under /proc is granted) refuses it. */
  int fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    report("landlock_write_outside_rules", V_FAIL, "/proc/self/comm opened for writing");
  } else {
    report("landlock_write_outside_rules", V_PASS, "%s", errname(errno));
  }
}

static void check_signal_outside(long outside_pid) {
  if (outside_pid <= 0) {
    report("signal_outside_refused", V_FAIL, "no outside pid given (--outside-pid)");
    return;
  }
  if (kill((pid_t)outside_pid, 0) == 0)
    report("signal_outside_refused", V_FAIL, "kill(%ld, 0) succeeded", outside_pid);
  else
    report("signal_outside_refused", V_PASS, "%s", errname(errno));
}

static void check_abstract_socket(const char *name) {
  if (!name) {
    report("abstract_unix_outside_refused", V_FAIL, "no abstract socket name given (--abstract)");
    return;
  }
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  size_t len = strlen(name);
  if (len + 1 > sizeof a.sun_path) {
    report("abstract_unix_outside_refused", V_FAIL, "name too long");
    return;
  }
  memcpy(a.sun_path + 1, name, len);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    report("abstract_unix_outside_refused", V_FAIL, "socket: %s", errname(errno));
    return;
  }
  int r = connect(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len));
  int e = errno;
  close(fd);
  if (r == 0)
    report("abstract_unix_outside_refused", V_FAIL, "connected to @%s", name);
  else
    report("abstract_unix_outside_refused", V_PASS, "%s", errname(e));
}

static void check_keyring(void) {
  /* Neither the session keyring nor the host's key list may be reachable. */
  long id = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0);
  if (id >= 0) {
    report("keyring_unreachable", V_FAIL, "session keyring %ld reachable", id);
    return;
  }
  int fd = open("/proc/keys", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char c;
    ssize_t n = read(fd, &c, 1);
    close(fd);
    if (n > 0) {
      report("keyring_unreachable", V_FAIL, "/proc/keys readable");
      return;
    }
  }
  report("keyring_unreachable", V_PASS, "keyctl: %s", errname(errno));
}

static bool read_line(const char *path, char *out, size_t n) {
  FILE *f = fopen(path, "re");
  if (!f)
    return false;
  bool ok = fgets(out, (int)n, f) != NULL;
  fclose(f);
  if (ok)
    out[strcspn(out, "\n")] = '\0';
  return ok;
}

static void check_pids_limit(void) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  char line[1024], v1[512] = "", v2[512] = "";
  bool have_v1 = false, have_v2 = false;
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2)
      continue;
    *c2 = '\0';
    const char *ctrls = c1 + 1, *path = c2 + 1;
    char list[256];
    snprintf(list, sizeof list, ",%s,", ctrls);
    if (strstr(list, ",pids,")) {
      snprintf(v1, sizeof v1, "%s", path);
      have_v1 = true;
    } else if (!*ctrls) {
      snprintf(v2, sizeof v2, "%s", path);
      have_v2 = true;
    }
  }
  if (f)
    fclose(f);
  char cands[4][1100];
  size_t n = 0;
  if (have_v1) {
    snprintf(cands[n++], sizeof cands[0], "/sys/fs/cgroup/pids%s/pids.max", v1);
    snprintf(cands[n++], sizeof cands[0], "/sys/fs/cgroup/pids/pids.max");
  }
  if (have_v2) {
    snprintf(cands[n++], sizeof cands[0], "/sys/fs/cgroup%s/pids.max", v2);
    snprintf(cands[n++], sizeof cands[0], "/sys/fs/cgroup/unified%s/pids.max", v2);
  }
  for (size_t i = 0; i < n; i++) {
    char v[64];
    if (!read_line(cands[i], v, sizeof v))
      continue;
    if (!strcmp(v, "max"))
      report("cgroup_pids_max", V_FAIL, "%s is max", cands[i]);
    else
      report("cgroup_pids_max", V_PASS, "%s = %s", cands[i], v);
    return;
  }
  report("cgroup_pids_max", V_FAIL, "no pids.max found for this process");
}

static void check_hostname(const char *host_hostname) {
  char h[256];
  if (gethostname(h, sizeof h) < 0) {
    report("hostname_isolated", V_FAIL, "gethostname: %s", errname(errno));
    return;
  }
  if (!host_hostname)
    report("hostname_isolated", V_FAIL, "no host name given (--host-hostname)");
  else if (!strcmp(h, host_hostname))
    report("hostname_isolated", V_FAIL, "hostname is the host's (%s)", h);
  else
    report("hostname_isolated", V_PASS, "%s", h);
}

static void check_netns(void) {
  struct if_nameindex *ifs = if_nameindex();
  if (!ifs) {
    report("netns_only_lo", V_FAIL, "if_nameindex: %s", errname(errno));
    return;
  }
  char others[200] = "";
  size_t n = 0;
  for (struct if_nameindex *i = ifs; i->if_index; i++) {
    if (!strcmp(i->if_name, "lo"))
      continue;
    size_t l = strlen(others);
    snprintf(others + l, sizeof others - l, "%s%s", n++ ? "," : "", i->if_name);
  }
  if_freenameindex(ifs);
  if (n)
    report("netns_only_lo", V_FAIL, "interfaces besides lo: %s", others);
  else
    report("netns_only_lo", V_PASS, NULL);
}

int main(int argc, char **argv) {
  long outside_pid = 0;
  const char *abstract = NULL, *host_hostname = NULL, *blockdev = NULL, *scratch = "/tmp";
  for (int i = 1; i < argc; i++) {
    if (i + 1 < argc && !strcmp(argv[i], "--outside-pid"))
      outside_pid = strtol(argv[++i], NULL, 10);
    else if (i + 1 < argc && !strcmp(argv[i], "--abstract"))
      abstract = argv[++i];
    else if (i + 1 < argc && !strcmp(argv[i], "--host-hostname"))
      host_hostname = argv[++i];
    else if (i + 1 < argc && !strcmp(argv[i], "--blockdev"))
      blockdev = argv[++i];
    else if (i + 1 < argc && !strcmp(argv[i], "--scratch"))
      scratch = argv[++i];
    else {
      fprintf(stderr, "usage: %s [--outside-pid PID] [--abstract NAME] [--host-hostname NAME] "
                      "[--blockdev PATH] [--scratch DIR]\n", argv[0]);
      return 2;
    }
  }

  check_caps();
  check_seccomp_mode();
  check_syscalls();
  check_sockets();
  check_readonly_paths();
  check_masked_paths();
  check_devices(blockdev, scratch);
  check_userns();
  check_landlock();
  check_signal_outside(outside_pid);
  check_abstract_socket(abstract);
  check_keyring();
  check_pids_limit();
  check_hostname(host_hostname);
  check_netns();

  size_t pass = 0, fail = 0, skip = 0;
  for (size_t i = 0; i < n_results; i++)
    pass += results[i].v == V_PASS, fail += results[i].v == V_FAIL, skip += results[i].v == V_SKIP;
  printf("JSON {\"pass\": %zu, \"fail\": %zu, \"skip\": %zu, \"uid_map\": ", pass, fail, skip);
  json_str(stdout, uid_map);
  printf(", \"checks\": {");
  for (size_t i = 0; i < n_results; i++) {
    printf("%s", i ? ", " : "");
    json_str(stdout, results[i].name);
    printf(": {\"result\": \"%s\", \"detail\": ",
           results[i].v == V_PASS ? "PASS" : results[i].v == V_FAIL ? "FAIL" : "SKIP");
    json_str(stdout, results[i].detail);
    printf("}");
  }
  printf("}}\n");
  return fail ? 1 : 0;
}
