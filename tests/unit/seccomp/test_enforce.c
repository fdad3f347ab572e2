/* The compiled filters do what they say, checked from inside a child that installed
 * them — and every check is also run without the filter, to show it would fail there. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"
#include "seccomp/seccomp.h"
#include "seccomp_test_util.h"

#define CAPBIT(c) (UINT64_C(1) << (c))
#define OK 1 /* expected: any non-negative return */

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif

static long sock_family(int family, int type) {
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  close(fd);
  return 0;
}

/* ---- probes: each runs in its own child ----------------------------------------- */

static long p_kexec_load(void) { return SYSRET(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL); }
static long p_kexec_file_load(void) { return SYSRET(SYS_kexec_file_load, -1, -1, 0, NULL, 0xdead0000UL); }
static long p_open_by_handle_at(void) { return SYSRET(SYS_open_by_handle_at, -1, NULL, 0); }
static long p_name_to_handle_at(void) {
  return SYSRET(SYS_name_to_handle_at, AT_FDCWD, "/nonexistent-brick", NULL, NULL, 0);
}
static long p_init_module(void) { return SYSRET(SYS_init_module, NULL, 0, ""); }
static long p_finit_module(void) { return SYSRET(SYS_finit_module, -1, "", 0); }
static long p_delete_module(void) { return SYSRET(SYS_delete_module, "brick_no_such_module", 0); }
static long p_iopl(void) { return SYSRET(SYS_iopl, 99); }
static long p_ioperm(void) { return SYSRET(SYS_ioperm, 0x10000000UL, 8, 1); }
static long p_swapon(void) { return SYSRET(SYS_swapon, "/nonexistent-brick", 0); }
static long p_swapoff(void) { return SYSRET(SYS_swapoff, "/nonexistent-brick"); }
static long p_sysfs(void) { return SYSRET(SYS_sysfs, 99, 0, 0); }
static long p_sysctl(void) { return SYSRET(SYS__sysctl, NULL); }
static long p_adjtimex(void) {
  struct timex tx = {.modes = 0};
  return SYSRET(SYS_adjtimex, &tx);
}
static long p_clock_adjtime(void) {
  struct timex tx = {.modes = 0};
  return SYSRET(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
}
static long p_clock_settime(void) {
  struct timespec ts = {1, 0};
  return SYSRET(SYS_clock_settime, CLOCK_MONOTONIC, &ts);
}
static long p_settimeofday(void) { return SYSRET(SYS_settimeofday, NULL, NULL); }
static long p_lookup_dcookie(void) { return SYSRET(SYS_lookup_dcookie, 0, NULL, 0); }
static long p_perf_event_open(void) { return SYSRET(SYS_perf_event_open, NULL, 0, -1, -1, 0); }
static long p_fanotify_init(void) { return SYSRET(SYS_fanotify_init, 0xffffffffu, 0); }
static long p_kcmp(void) { return SYSRET(SYS_kcmp, getpid(), getpid(), 99, 0, 0); }
static long p_keyctl(void) { return SYSRET(SYS_keyctl, 9999, 0, 0, 0, 0); }
static long p_add_key(void) { return SYSRET(SYS_add_key, NULL, NULL, NULL, 0, 0); }
static long p_request_key(void) { return SYSRET(SYS_request_key, NULL, NULL, NULL, 0); }
static long p_bpf(void) { return SYSRET(SYS_bpf, 9999, NULL, 0); }
static long p_userfaultfd(void) { return SYSRET(SYS_userfaultfd, 0xffff); }
static long p_io_uring_setup(void) { return SYSRET(SYS_io_uring_setup, 0, NULL); }
static long p_io_uring_enter(void) { return SYSRET(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0); }
static long p_io_uring_register(void) { return SYSRET(SYS_io_uring_register, -1, 0, NULL, 0); }
static long p_process_vm_readv(void) { return SYSRET(SYS_process_vm_readv, getpid(), NULL, 0, NULL, 0, 0); }
static long p_process_vm_writev(void) { return SYSRET(SYS_process_vm_writev, getpid(), NULL, 0, NULL, 0, 0); }
static long p_ptrace(void) { return SYSRET(SYS_ptrace, 0xdead, 0, 0, 0); }
static long p_mount(void) { return SYSRET(SYS_mount, "none", "/nonexistent-brick", "tmpfs", 0, NULL); }
static long p_umount2(void) { return SYSRET(SYS_umount2, "/nonexistent-brick", 0); }
static long p_pivot_root(void) { return SYSRET(SYS_pivot_root, "/nonexistent-brick", "/nonexistent-brick"); }
static long p_fsopen(void) { return SYSRET(SYS_fsopen, "brick_no_such_fs", 0); }
static long p_fsconfig(void) { return SYSRET(SYS_fsconfig, -1, 0, NULL, NULL, 0); }
static long p_fsmount(void) { return SYSRET(SYS_fsmount, -1, 0, 0); }
static long p_fspick(void) { return SYSRET(SYS_fspick, AT_FDCWD, "/nonexistent-brick", 0); }
static long p_open_tree(void) { return SYSRET(SYS_open_tree, AT_FDCWD, "/nonexistent-brick", 0); }
static long p_move_mount(void) {
  return SYSRET(SYS_move_mount, AT_FDCWD, "/nonexistent-brick", AT_FDCWD, "/nonexistent-brick", 0);
}
static long p_mount_setattr(void) { return SYSRET(SYS_mount_setattr, -1, "", 0xdead, NULL, 0); }
static long p_unshare(void) { return SYSRET(SYS_unshare, 0); }
static long p_unshare_uts(void) { return SYSRET(SYS_unshare, CLONE_NEWUTS); }
static long p_setns(void) { return SYSRET(SYS_setns, -1, 0); }
static long p_quotactl(void) { return SYSRET(SYS_quotactl, 0, NULL, 0, NULL); }
static long p_acct(void) { return SYSRET(SYS_acct, "/nonexistent-brick/acct"); }
static long p_reboot(void) { return SYSRET(SYS_reboot, 0, 0, 0, NULL); }
static long p_vhangup(void) {
  /* Without a controlling terminal vhangup() touches nothing. */
  setsid();
  return SYSRET(SYS_vhangup);
}
static long p_syslog(void) { return SYSRET(SYS_syslog, 99, NULL, 0); }
static long p_nfsservctl(void) { return SYSRET(SYS_nfsservctl, 0, NULL, NULL); }
static long p_uselib(void) { return SYSRET(SYS_uselib, "/nonexistent-brick"); }
static long p_ustat(void) { return SYSRET(SYS_ustat, 0, NULL); }
static long p_create_module(void) { return SYSRET(SYS_create_module, NULL, 0); }
static long p_query_module(void) { return SYSRET(SYS_query_module, NULL, 0, NULL, 0, NULL); }
static long p_get_kernel_syms(void) { return SYSRET(SYS_get_kernel_syms, NULL); }
static long p_personality_linux32(void) { return SYSRET(SYS_personality, PER_LINUX32); }
static long p_personality_query(void) { return SYSRET(SYS_personality, 0xffffffffUL); }
static long p_personality_linux(void) { return SYSRET(SYS_personality, PER_LINUX); }

static long p_clone_ns(int flag) {
  long r = SYSRET(SYS_clone, (unsigned long)flag | SIGCHLD, 0, NULL, NULL, 0);
  if (r == 0)
    _exit(0);
  if (r > 0)
    waitpid((pid_t)r, NULL, 0);
  return r > 0 ? 0 : r;
}
static long p_clone_newuts(void) { return p_clone_ns(CLONE_NEWUTS); }
static long p_clone_newpid(void) { return p_clone_ns(CLONE_NEWPID); }
static long p_clone_newnet_ns(void) { return p_clone_ns(CLONE_NEWNET | CLONE_NEWNS); }
static long p_clone3(void) { return SYSRET(SYS_clone3, NULL, 0); }
static long p_fork(void) {
  pid_t pid = fork();
  if (pid == 0)
    _exit(7);
  if (pid < 0)
    return -errno;
  int st;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
    return -ECHILD;
  return 0;
}
static void *thread_fn(void *arg) { return arg; }
static long p_pthread(void) {
  pthread_t t;
  int e = pthread_create(&t, NULL, thread_fn, (void *)0x42);
  if (e)
    return -e;
  void *ret;
  pthread_join(t, &ret);
  return ret == (void *)0x42 ? 0 : -EIO;
}
static long p_getpid(void) { return SYSRET(SYS_getpid); }
static long p_uname(void) {
  struct utsname u;
  return SYSRET(SYS_uname, &u);
}

static long p_sock_inet(void) { return sock_family(AF_INET, SOCK_STREAM); }
static long p_sock_inet6(void) { return sock_family(AF_INET6, SOCK_DGRAM); }
static long p_sock_unix(void) { return sock_family(AF_UNIX, SOCK_STREAM); }
static long p_sock_netlink(void) { return sock_family(AF_NETLINK, SOCK_RAW); }
static long p_sock_packet(void) { return sock_family(AF_PACKET, SOCK_RAW); }
static long p_sock_vsock(void) { return sock_family(AF_VSOCK, SOCK_STREAM); }
static long p_sock_xdp(void) { return sock_family(AF_XDP, SOCK_RAW); }
static long p_sock_key(void) { return sock_family(AF_KEY, SOCK_RAW); }
static long p_sock_bluetooth(void) { return sock_family(AF_BLUETOOTH, SOCK_STREAM); }
static long p_sock_alg(void) { return sock_family(AF_ALG, SOCK_SEQPACKET); }
static long p_sock_high(void) { return sock_family(1000, SOCK_STREAM); }
static long p_socketpair_unix(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return -errno;
  close(sv[0]);
  close(sv[1]);
  return 0;
}
static long p_socketpair_inet(void) {
  int sv[2];
  if (socketpair(AF_INET, SOCK_STREAM, 0, sv) < 0)
    return -errno;
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static long p_syscall_1000(void) { return SYSRET(1000, 0, 0, 0); }
/* A real syscall the profile does not list (lsm_list_modules, Linux 6.8). */
static long p_unlisted(void) { return SYSRET(461, NULL, NULL, 0); }

#if defined(__x86_64__)
/* getpid through the i386 entry point. */
static long p_int80_getpid(void) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
  return r;
}
#endif

struct check {
  const char *what;
  long (*fn)(void);
  long expect;         /* OK or -errno under the filter */
  bool must_differ;    /* the unfiltered kernel answers differently (see machine notes) */
};

static const char *outcome(long v, char *buf, size_t n) {
  if (v >= 0)
    snprintf(buf, n, "ok(%ld)", v);
  else
    snprintf(buf, n, "-%s", strerrorname_np((int)-v) ? strerrorname_np((int)-v) : "?");
  return buf;
}

/* Runs every check filtered and unfiltered; returns how many discriminated. */
static size_t run_checks(const struct brick_seccomp_prog *prog, const struct check *c, size_t n) {
  size_t differing = 0;
  for (size_t i = 0; i < n; i++) {
    struct probe_result with = run_probe(prog, c[i].fn);
    struct probe_result without = run_probe(NULL, c[i].fn);
    char b1[64], b2[64];
    if (!with.exited)
      fail_msg("%s: killed by signal %d under the filter", c[i].what, with.signal);
    bool ok = c[i].expect == OK ? with.value >= 0 : with.value == c[i].expect;
    if (!ok)
      fail_msg("%s: filtered %s, expected %s", c[i].what, outcome(with.value, b1, sizeof b1),
               c[i].expect == OK ? "success" : outcome(c[i].expect, b2, sizeof b2));
    bool same = without.exited && (without.value >= 0) == (with.value >= 0) &&
                (without.value >= 0 || without.value == with.value);
    if (!same)
      differing++;
    if (c[i].must_differ && same)
      fail_msg("%s: unfiltered gives the same %s: the check proves nothing", c[i].what,
               outcome(without.value, b1, sizeof b1));
    print_message("  %-28s filtered %-16s unfiltered %s\n", c[i].what,
                  outcome(with.value, b1, sizeof b1),
                  without.exited ? outcome(without.value, b2, sizeof b2) : "killed");
  }
  return differing;
}

static struct brick_seccomp_prog *default_prog(uint64_t caps, struct brick_seccomp **cfg) {
  _cleanup_json_ json_t *p = brick_seccomp_default_profile(caps);
  *cfg = test_seccomp_from_json(p);
  return test_prepare(*cfg);
}

#define DENY_EPERM(f) {#f, p_##f, -EPERM, true}

static void default_profile_enforced(void **state) {
  (void)state;
  struct brick_seccomp *cfg;
  struct brick_seccomp_prog *prog = default_prog(0, &cfg);
  const struct check checks[] = {
    DENY_EPERM(kexec_load), DENY_EPERM(kexec_file_load), DENY_EPERM(open_by_handle_at),
    DENY_EPERM(name_to_handle_at), DENY_EPERM(init_module), DENY_EPERM(finit_module),
    DENY_EPERM(delete_module), DENY_EPERM(iopl), DENY_EPERM(ioperm), DENY_EPERM(swapon),
    DENY_EPERM(swapoff), DENY_EPERM(sysfs), DENY_EPERM(sysctl), DENY_EPERM(adjtimex),
    DENY_EPERM(clock_adjtime), DENY_EPERM(clock_settime), DENY_EPERM(settimeofday),
    DENY_EPERM(lookup_dcookie), DENY_EPERM(perf_event_open), DENY_EPERM(fanotify_init),
    DENY_EPERM(kcmp), DENY_EPERM(keyctl), DENY_EPERM(add_key), DENY_EPERM(request_key),
    DENY_EPERM(bpf), DENY_EPERM(userfaultfd), DENY_EPERM(io_uring_setup),
    DENY_EPERM(io_uring_enter), DENY_EPERM(io_uring_register), DENY_EPERM(process_vm_readv),
    DENY_EPERM(process_vm_writev), DENY_EPERM(ptrace), DENY_EPERM(mount), DENY_EPERM(umount2),
    DENY_EPERM(pivot_root), DENY_EPERM(fsopen), DENY_EPERM(fsconfig), DENY_EPERM(fsmount),
    DENY_EPERM(fspick), DENY_EPERM(open_tree), DENY_EPERM(move_mount),
    DENY_EPERM(mount_setattr), DENY_EPERM(unshare), DENY_EPERM(unshare_uts),
    DENY_EPERM(setns), DENY_EPERM(quotactl), DENY_EPERM(acct), DENY_EPERM(reboot),
    DENY_EPERM(vhangup), DENY_EPERM(syslog), DENY_EPERM(nfsservctl), DENY_EPERM(uselib),
    DENY_EPERM(ustat), DENY_EPERM(create_module), DENY_EPERM(query_module),
    DENY_EPERM(get_kernel_syms), DENY_EPERM(personality_linux32),
    DENY_EPERM(clone_newuts), DENY_EPERM(clone_newpid), DENY_EPERM(clone_newnet_ns),
    {"clone3", p_clone3, -ENOSYS, true},
    {"socket(AF_PACKET)", p_sock_packet, -EAFNOSUPPORT, true},
    {"socket(AF_VSOCK)", p_sock_vsock, -EAFNOSUPPORT, true},
    {"socket(AF_XDP)", p_sock_xdp, -EAFNOSUPPORT, true},
    /* Not built into this test kernel: the unfiltered answer is EAFNOSUPPORT too. */
    {"socket(AF_KEY)", p_sock_key, -EAFNOSUPPORT, false},
    {"socket(AF_BLUETOOTH)", p_sock_bluetooth, -EAFNOSUPPORT, false},
    {"socket(AF_ALG)", p_sock_alg, -EAFNOSUPPORT, false},
    {"socket(1000)", p_sock_high, -EAFNOSUPPORT, false},
    {"socketpair(AF_INET)", p_socketpair_inet, -EAFNOSUPPORT, true},
    {"syscall 1000", p_syscall_1000, -ENOSYS, false},
    {"lsm_list_modules (unlisted)", p_unlisted, -ENOSYS, true},
    /* Allowed: a normal program keeps working. */
    {"getpid", p_getpid, OK, false},
    {"uname", p_uname, OK, false},
    {"fork", p_fork, OK, false},
    {"pthread_create", p_pthread, OK, false},
    {"personality(query)", p_personality_query, OK, false},
    {"personality(PER_LINUX)", p_personality_linux, OK, false},
    {"socket(AF_INET)", p_sock_inet, OK, false},
    {"socket(AF_INET6)", p_sock_inet6, OK, false},
    {"socket(AF_UNIX)", p_sock_unix, OK, false},
    {"socket(AF_NETLINK)", p_sock_netlink, OK, false},
    {"socketpair(AF_UNIX)", p_socketpair_unix, OK, false},
  };
  size_t differing = run_checks(prog, checks, ARRAY_SIZE(checks));
  print_message("  %zu of %zu checks answer differently without the filter\n", differing,
                ARRAY_SIZE(checks));
  brick_seccomp_prog_free(prog);
  test_seccomp_free(cfg);
}

static void default_profile_with_caps(void **state) {
  (void)state;
  struct brick_seccomp *cfg;
  struct brick_seccomp_prog *prog = default_prog(
      CAPBIT(CAP_SYS_ADMIN) | CAPBIT(CAP_NET_RAW) | CAPBIT(CAP_SYS_PTRACE), &cfg);
  const struct check checks[] = {
    {"unshare(0)", p_unshare, OK, false},
    {"clone(CLONE_NEWUTS)", p_clone_newuts, OK, false},
    {"socket(AF_PACKET)", p_sock_packet, OK, false},
    {"process_vm_readv", p_process_vm_readv, OK, false},
    {"mount (reaches the kernel)", p_mount, -ENOENT, false},
    {"fork", p_fork, OK, false},
    {"pthread_create (clone3)", p_pthread, OK, false},
    /* Still refused: no capability unlocks them. */
    DENY_EPERM(kexec_load), DENY_EPERM(keyctl), DENY_EPERM(init_module),
    {"socket(AF_VSOCK)", p_sock_vsock, -EAFNOSUPPORT, true},
  };
  run_checks(prog, checks, ARRAY_SIZE(checks));
  brick_seccomp_prog_free(prog);
  test_seccomp_free(cfg);
}

/* i386 syscalls hit the bad-arch action: ENOSYS. This kernel may have IA-32 emulation
 * off, in which case int $0x80 faults with and without a filter and there is nothing
 * seccomp can change; the test says so instead of passing silently. */
static void compat_abi_blocked(void **state) {
  (void)state;
#if defined(__x86_64__)
  struct probe_result without = run_probe(NULL, p_int80_getpid);
  if (!without.exited || without.value < 0) {
    print_message("  IA-32 emulation unavailable here (int $0x80 -> %s); nothing to block\n",
                  without.exited ? "error" : "signal");
    skip();
  }
  assert_true(without.value > 0);
  struct brick_seccomp *cfg;
  struct brick_seccomp_prog *prog = default_prog(0, &cfg);
  struct probe_result with = run_probe(prog, p_int80_getpid);
  assert_true(with.exited);
  assert_int_equal(with.value, -ENOSYS);
  brick_seccomp_prog_free(prog);
  test_seccomp_free(cfg);
#else
  skip();
#endif
}

/* ---- argument comparisons: each operator, AND across arguments, OR on one ------- */

static long p_getpgid0(void) { return SYSRET(SYS_getpgid, 0); }
static long p_getpgid1(void) { return SYSRET(SYS_getpgid, 1); }
static long p_prio_max0(void) { return SYSRET(SYS_sched_get_priority_max, 0); }
static long p_prio_max1(void) { return SYSRET(SYS_sched_get_priority_max, 1); }
static long p_prio_min1(void) { return SYSRET(SYS_sched_get_priority_min, 1); }
static long p_prio_min2(void) { return SYSRET(SYS_sched_get_priority_min, 2); }
static long p_getsid0(void) { return SYSRET(SYS_getsid, 0); }
static long p_getsid_self(void) { return SYSRET(SYS_getsid, getpid()); }
static long p_umask_022(void) { return SYSRET(SYS_umask, 022); }
static long p_umask_1000(void) { return SYSRET(SYS_umask, 01000); }
static long p_getprio0(void) { return SYSRET(SYS_getpriority, 0, 0); }
static long p_getprio1(void) { return SYSRET(SYS_getpriority, 1, 0); }
static long p_getprio2(void) { return SYSRET(SYS_getpriority, 2, 0); }
static long p_ioprio1(void) { return SYSRET(SYS_ioprio_get, 1, 0); }
static long p_ioprio2(void) { return SYSRET(SYS_ioprio_get, 2, 0); }
static long p_getitimer_null(void) { return SYSRET(SYS_getitimer, 0, NULL); }
static long p_getitimer_buf(void) {
  struct itimerval v;
  return SYSRET(SYS_getitimer, 0, &v);
}
static long p_getitimer1_null(void) { return SYSRET(SYS_getitimer, 1, NULL); }

static void operators_enforced(void **state) {
  (void)state;
  struct brick_seccomp *cfg = test_seccomp_from_string(
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
      " {\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
      "  \"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_NE\"}]},"
      " {\"names\":[\"sched_get_priority_max\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
      "  \"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_LT\"}]},"
      " {\"names\":[\"sched_get_priority_min\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
      "  \"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_LE\"}]},"
      " {\"names\":[\"getsid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
      "  \"args\":[{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_GE\"}]},"
      " {\"names\":[\"umask\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
      "  \"args\":[{\"index\":0,\"value\":511,\"op\":\"SCMP_CMP_GT\"}]},"
      " {\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
      "  \"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
      "            {\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]},"
      " {\"names\":[\"ioprio_get\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
      "  \"args\":[{\"index\":0,\"value\":1,\"valueTwo\":1,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
      " {\"names\":[\"getitimer\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18,"
      "  \"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},"
      "            {\"index\":1,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}"
      "]}");
  struct brick_seccomp_prog *prog = test_prepare(cfg);
  const struct check checks[] = {
    {"NE: getpgid(1)", p_getpgid1, -EXDEV, true},
    {"NE: getpgid(0)", p_getpgid0, OK, false},
    {"LT: prio_max(0)", p_prio_max0, -EXDEV, true},
    {"LT: prio_max(1)", p_prio_max1, OK, false},
    {"LE: prio_min(1)", p_prio_min1, -EXDEV, true},
    {"LE: prio_min(2)", p_prio_min2, OK, false},
    {"GE: getsid(self)", p_getsid_self, -EXDEV, true},
    {"GE: getsid(0)", p_getsid0, OK, false},
    {"GT: umask(01000)", p_umask_1000, -EXDEV, true},
    {"GT: umask(022)", p_umask_022, OK, false},
    {"EQ|EQ: getpriority(1)", p_getprio1, -EXDEV, true},
    {"EQ|EQ: getpriority(2)", p_getprio2, -EXDEV, true},
    {"EQ|EQ: getpriority(0)", p_getprio0, OK, false},
    {"MASKED_EQ: ioprio_get(1)", p_ioprio1, -EXDEV, true},
    {"MASKED_EQ: ioprio_get(2)", p_ioprio2, OK, false},
    {"AND: getitimer(0,NULL)", p_getitimer_null, -EXDEV, true},
    {"AND: getitimer(0,buf)", p_getitimer_buf, OK, false},
    {"AND: getitimer(1,NULL)", p_getitimer1_null, -EFAULT, false},
  };
  run_checks(prog, checks, ARRAY_SIZE(checks));
  brick_seccomp_prog_free(prog);
  test_seccomp_free(cfg);
}

/* ---- actions ------------------------------------------------------------------ */

static long p_getppid(void) { return SYSRET(SYS_getppid); }

static struct probe_result run_action(const char *action, const char *extra) {
  char json[512];
  snprintf(json, sizeof json,
           "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
           "\"action\":\"%s\"%s}]}",
           action, extra);
  struct brick_seccomp *cfg = test_seccomp_from_string(json);
  struct brick_seccomp_prog *prog = test_prepare(cfg);
  struct probe_result r = run_probe(prog, p_getppid);
  brick_seccomp_prog_free(prog);
  test_seccomp_free(cfg);
  return r;
}

static void actions_enforced(void **state) {
  (void)state;
  struct probe_result plain = run_probe(NULL, p_getppid);
  assert_true(plain.exited && plain.value > 0);

  struct probe_result r = run_action("SCMP_ACT_KILL_PROCESS", "");
  assert_false(r.exited);
  assert_int_equal(r.signal, SIGSYS);
  r = run_action("SCMP_ACT_KILL_THREAD", "");
  assert_false(r.exited);
  assert_int_equal(r.signal, SIGSYS);
  r = run_action("SCMP_ACT_KILL", "");
  assert_false(r.exited);
  assert_int_equal(r.signal, SIGSYS);
  r = run_action("SCMP_ACT_TRAP", "");
  assert_false(r.exited);
  assert_int_equal(r.signal, SIGSYS);
  /* No tracer attached: the kernel answers ENOSYS. */
  r = run_action("SCMP_ACT_TRACE", ",\"errnoRet\":7");
  assert_true(r.exited);
  assert_int_equal(r.value, -ENOSYS);
  r = run_action("SCMP_ACT_ERRNO", "");
  assert_int_equal(r.value, -EPERM);
  r = run_action("SCMP_ACT_ERRNO", ",\"errnoRet\":42");
  assert_int_equal(r.value, -42);
  r = run_action("SCMP_ACT_LOG", "");
  assert_true(r.exited && r.value > 0);
}

/* Default ERRNO without errnoRet is EPERM. */
static void default_errno_is_eperm(void **state) {
  (void)state;
  struct brick_seccomp *cfg = test_seccomp_from_string(
      "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"write\",\"exit_group\","
      "\"exit\",\"read\",\"close\",\"rt_sigreturn\",\"mmap\",\"munmap\",\"madvise\","
      "\"sigaltstack\",\"rt_sigaction\",\"rt_sigprocmask\",\"getpid\",\"gettid\",\"futex\","
      "\"sched_yield\",\"prctl\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
  struct brick_seccomp_prog *prog = test_prepare(cfg);
  struct probe_result r = run_probe(prog, p_getppid);
  assert_true(r.exited);
  assert_int_equal(r.value, -EPERM);
  brick_seccomp_prog_free(prog);
  test_seccomp_free(cfg);
}

/* ---- TSYNC: other threads get the filter too ---------------------------------- */

static int tsync_pipe[2], tsync_back[2];
static void *tsync_thread(void *arg) {
  (void)arg;
  char c;
  if (read(tsync_pipe[0], &c, 1) != 1)
    return NULL;
  long v = SYSRET(SYS_getppid);
  if (write(tsync_back[1], &v, sizeof v) != (ssize_t)sizeof v)
    return NULL;
  return NULL;
}

static const struct brick_seccomp_prog *tsync_prog;
static long p_tsync(void) {
  if (pipe(tsync_pipe) < 0 || pipe(tsync_back) < 0)
    return -errno;
  pthread_t t;
  if (pthread_create(&t, NULL, tsync_thread, NULL) != 0)
    return -EAGAIN;
  brick_err err = {0};
  if (brick_seccomp_install(tsync_prog, NULL, &err) < 0)
    return -err.errnum;
  if (write(tsync_pipe[1], "x", 1) != 1)
    return -EIO;
  long v = 0;
  if (read(tsync_back[0], &v, sizeof v) != (ssize_t)sizeof v)
    return -EIO;
  pthread_join(t, NULL);
  return v;
}

static void tsync_reaches_threads(void **state) {
  (void)state;
#define TSYNC_PROFILE(flags)                                                               \
  "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[" flags "],"                             \
  "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":18}]}"
  struct brick_seccomp *with =
      test_seccomp_from_string(TSYNC_PROFILE("\"SECCOMP_FILTER_FLAG_TSYNC\""));
  struct brick_seccomp *without = test_seccomp_from_string(TSYNC_PROFILE(""));

  tsync_prog = test_prepare(with);
  struct probe_result r = run_probe(NULL, p_tsync);   /* p_tsync installs by itself */
  assert_true(r.exited);
  assert_int_equal(r.value, -EXDEV);
  brick_seccomp_prog_free((struct brick_seccomp_prog *)tsync_prog);

  tsync_prog = test_prepare(without);
  r = run_probe(NULL, p_tsync);
  assert_true(r.exited);
  assert_true(r.value > 0);   /* the other thread kept running unfiltered */
  brick_seccomp_prog_free((struct brick_seccomp_prog *)tsync_prog);
  test_seccomp_free(with);
  test_seccomp_free(without);
}

/* ---- SCMP_ACT_NOTIFY and the listener hand-off ---------------------------------- */

static void notify_via_listener(void **state) {
  (void)state;
  char dir[] = "/tmp/brick-seccomp-XXXXXX";
  assert_non_null(mkdtemp(dir));
  _cleanup_free_ char *path = xasprintf("%s/agent.sock", dir);
  _cleanup_close_ int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, path);
  assert_int_equal(bind(lsock, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(lsock, 1), 0);

  struct brick_seccomp *cfg = test_seccomp_from_string(
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"hello\","
      " \"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
      " \"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
  struct brick_seccomp_prog *prog = test_prepare(cfg);
  assert_true(brick_seccomp_uses_notify(prog));

  int res[2];
  assert_int_equal(pipe2(res, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    probe_child_init();
    int nfd = -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || brick_seccomp_install(prog, &nfd, NULL) < 0 ||
        nfd < 0)
      _exit(10);
    json_t *st = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", "1.3.0", "id", "ctr1",
                           "status", "creating", "pid", (int)getpid(), "bundle", "/b");
    if (brick_seccomp_send_listener(path, "hello", nfd, 0, st, NULL) < 0)
      _exit(11);
    close(nfd);
    long v = SYSRET(SYS_getppid);
    if (write(res[1], &v, sizeof v) != (ssize_t)sizeof v)
      _exit(12);
    _exit(0);
  }
  close(res[1]);

  _cleanup_close_ int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  assert_true(conn >= 0);
  char buf[4096];
  union {
    char c[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.c,
                       .msg_controllen = sizeof ctl.c};
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  assert_true(n > 0);
  buf[n] = '\0';
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  int nfd = -1;
  if (!c || c->cmsg_type != SCM_RIGHTS)
    fail_msg("no SCM_RIGHTS message from the runtime side");
  else
    memcpy(&nfd, CMSG_DATA(c), sizeof nfd);
  _cleanup_close_ int notify = nfd;

  _cleanup_json_ json_t *m = json_loads(buf, 0, NULL);
  assert_non_null(m);
  assert_string_equal(json_string_value(json_object_get(m, "ociVersion")), "1.3.0");
  assert_string_equal(json_string_value(json_array_get(json_object_get(m, "fds"), 0)), "seccompFd");
  assert_int_equal(json_integer_value(json_object_get(m, "pid")), pid);
  assert_string_equal(json_string_value(json_object_get(m, "metadata")), "hello");
  assert_string_equal(json_string_value(json_object_get(json_object_get(m, "state"), "id")), "ctr1");

  /* Answer the trapped getppid() with a value the kernel would never give. */
  struct seccomp_notif req;
  memset(&req, 0, sizeof req);
  assert_int_equal(ioctl(notify, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
  assert_int_equal(req.data.nr, SYS_getppid);
  assert_int_equal(req.pid, pid);
  struct seccomp_notif_resp resp = {.id = req.id, .val = 4242, .error = 0, .flags = 0};
  assert_int_equal(ioctl(notify, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);

  long v = 0;
  assert_int_equal(read(res[0], &v, sizeof v), (ssize_t)sizeof v);
  close(res[0]);
  assert_int_equal(v, 4242);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  unlink(path);
  rmdir(dir);
  brick_seccomp_prog_free(prog);
  test_seccomp_free(cfg);
}

static void listener_errors(void **state) {
  (void)state;
  brick_err err = {0};
  json_t *st = json_pack("{s:i}", "pid", 1);
  assert_int_equal(brick_seccomp_send_listener("/nonexistent-brick/agent.sock", NULL, 0, 0, st, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.seccomp.listenerPath: connect to /nonexistent-brick/agent.sock"));
  brick_error_clear(&err);
  json_t *nopid = json_object();
  assert_int_equal(brick_seccomp_send_listener("/x", NULL, 0, 0, nopid, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "no pid"));
  brick_error_clear(&err);
  json_decref(st);
  json_decref(nopid);
}

/* The caller must ask for the listener when the profile notifies. */
static void install_refuses_lost_listener(void **state) {
  (void)state;
  struct brick_seccomp *cfg = test_seccomp_from_string(
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
      " \"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
  struct brick_seccomp_prog *prog = test_prepare(cfg);
  brick_err err = {0};
  assert_int_equal(brick_seccomp_install(prog, NULL, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "SCMP_ACT_NOTIFY"));
  brick_error_clear(&err);
  brick_seccomp_prog_free(prog);
  test_seccomp_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(default_profile_enforced),
    cmocka_unit_test(default_profile_with_caps),
    cmocka_unit_test(compat_abi_blocked),
    cmocka_unit_test(operators_enforced),
    cmocka_unit_test(actions_enforced),
    cmocka_unit_test(default_errno_is_eperm),
    cmocka_unit_test(tsync_reaches_threads),
    cmocka_unit_test(notify_via_listener),
    cmocka_unit_test(listener_errors),
    cmocka_unit_test(install_refuses_lost_listener),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
