#include "runtime/init.h"

#include <dirent.h>
#include <linux/capability.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "core/sys.h"
#include "core/util.h"
#include "lsm/lsm.h"
#include "runtime/defaults.h"
#include "runtime/hooks.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "seccomp/seccomp.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Report err to the parent and exit. Before READY the parent is listening; after it,
 * the caller of `start` is gone and stderr (the container's) is the only witness. */
static _Noreturn void die(const struct brick_init_args *a, brick_err *err, bool parent_listening) {
  if (parent_listening)
    brick_sync_send_error(a->sync_sock, err);
  else
    dprintf(STDERR_FILENO, "brick: %s\n", brick_error_msg(err));
  _exit(127);
}

static int join_namespaces(const struct brick_init_args *a, brick_err *err) {
  /* The user namespace first: joining the others needs the capabilities it grants. */
  static const enum brick_ns_type order[] = {BRICK_NS_USER, BRICK_NS_IPC, BRICK_NS_UTS,
                                             BRICK_NS_NETWORK, BRICK_NS_PID, BRICK_NS_CGROUP,
                                             BRICK_NS_TIME, BRICK_NS_MOUNT};
  for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
    enum brick_ns_type t = order[i];
    if (a->ns_fds[t] < 0)
      continue;
    if (brick_sys->setns(a->ns_fds[t], brick_ns_clone_flag(t)) < 0)
      return brick_errno(err, "join %s namespace %s", brick_ns_name(t),
                         a->spec->linux_.namespaces[t].path);
    close(a->ns_fds[t]);
  }
  return 0;
}

static int write_time_offsets(const struct brick_spec *spec, brick_err *err) {
  const struct brick_time_offset *o = spec->linux_.time_offsets;
  if (!o[0].present && !o[1].present)
    return 0;
  char buf[128];
  int len = 0;
  if (o[0].present)
    len += snprintf(buf + len, sizeof buf - (size_t)len, "monotonic %lld %u\n",
                    (long long)o[0].secs, o[0].nanosecs);
  if (o[1].present)
    len += snprintf(buf + len, sizeof buf - (size_t)len, "boottime %lld %u\n",
                    (long long)o[1].secs, o[1].nanosecs);
  /* Not dumpable, our /proc files belong to the host's root, which is not mapped in the
   * new user namespace. Nothing else lives in that namespace yet, so being dumpable for
   * this one write exposes nothing. */
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
    return brick_errno(err, "prctl dumpable");
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  bool ok = fd >= 0 && write(fd, buf, (size_t)len) == len;
  int saved = errno;
  if (fd >= 0)
    close(fd);
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return brick_errno(err, "prctl dumpable");
  if (!ok) {
    errno = saved;
    return brick_errno(err, "linux.timeOffsets");
  }
  return 0;
}

static int get_idmapped(void *opaque, int index, brick_err *err) {
  const struct brick_init_args *a = opaque;
  if (brick_sync_send(a->sync_sock, SYNC_IDMAP_REQUEST, index, -1, err) < 0)
    return -1;
  int fd = -1;
  if (brick_sync_expect(a->sync_sock, SYNC_IDMAP_FD, NULL, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return brick_error(err, 0, "no idmapped mount received");
  return fd;
}

static bool is_writable_mount(const struct brick_mount *m) {
  return !(m->flags & MS_RDONLY) && !(m->rec_attr_set & MOUNT_ATTR_RDONLY);
}

static bool under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

int brick_landlock_rules_for(const struct brick_spec *spec, struct brick_landlock_rule **rules,
                             size_t *n) {
  size_t cap = 64, len = 0;
  struct brick_landlock_rule *r = xcalloc(cap, sizeof *r);
#define ADD(p, w)                                                             \
  do {                                                                        \
    if (len == cap)                                                           \
      r = xrealloc(r, (cap *= 2) * sizeof *r);                                \
    r[len++] = (struct brick_landlock_rule){.path = xstrdup(p), .write = (w), .exec = true}; \
  } while (0)
  ADD("/", false);
  if (!spec->root.readonly) {
    /* Landlock grants rights to whole subtrees, so the writable rootfs is listed top
     * level by top level, leaving out the kernel's filesystems. */
    DIR *d = opendir("/");
    struct dirent *de;
    while (d && (de = readdir(d))) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, "proc") ||
          !strcmp(de->d_name, "sys") || !strcmp(de->d_name, "dev"))
        continue;
      _cleanup_free_ char *p = xasprintf("/%s", de->d_name);
      ADD(p, true);
    }
    if (d)
      closedir(d);
  }
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct brick_mount *m = &spec->mounts[i];
    if (!is_writable_mount(m) || under(m->destination, "/proc") || under(m->destination, "/sys") ||
        !strcmp(m->destination, "/dev"))
      continue;
    ADD(m->destination, true);
  }
  static const char *always[] = {"/tmp", "/dev/shm", "/dev/mqueue", "/dev/pts", "/dev/null",
                                 "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                                 "/dev/tty", "/dev/console", "/dev/ptmx"};
  for (size_t i = 0; i < ARRAY_SIZE(always); i++)
    if (access(always[i], F_OK) == 0)
      ADD(always[i], true);
  for (size_t i = 0; i < spec->linux_.n_devices; i++)
    ADD(spec->linux_.devices[i].path, true);
#undef ADD
  *rules = r;
  *n = len;
  return 0;
}

/* What capset would refuse (more than this process holds) is refused here, so that
 * create fails with a clear error, as crun's does, instead of the container dying
 * after start with the error only on its own stderr. */
static int check_caps_grantable(const struct brick_caps *c, brick_err *err) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0)
    return brick_errno(err, "capget");
  uint64_t held = d[0].permitted | (uint64_t)d[1].permitted << 32;
  uint64_t inheritable = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
  int last = brick_cap_last_cap();
  /* One read of CapBnd instead of a prctl per capability (the start path counts). */
  uint64_t bounding = 0;
  _cleanup_free_ char *status = NULL;
  const char *bnd = NULL;
  if (brick_read_file("/proc/self/status", &status, NULL, NULL) == 0 &&
      (bnd = strstr(status, "\nCapBnd:")) != NULL) {
    bounding = strtoull(bnd + strlen("\nCapBnd:"), NULL, 16);
  } else {
    for (int i = 0; i <= last && i < 64; i++)
      if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1)
        bounding |= UINT64_C(1) << i;
  }
  uint64_t valid = last >= 63 ? ~UINT64_C(0) : (UINT64_C(1) << (last + 1)) - 1;
  /* capset: permitted within what we hold; inheritable within the bounding set left
   * after the config's drops (in a new user namespace the host's is full again). */
  uint64_t ambient = c->ambient & c->permitted & c->inheritable;  /* the rest is left out */
  uint64_t missing = (((c->effective | c->permitted) & ~held) |
                      ((c->inheritable | ambient) & ~(inheritable | (bounding & c->bounding)))) &
                     valid;
  if (!missing)
    return 0;
  return brick_error(err, EPERM, "process.capabilities: %s cannot be granted: it is outside "
                     "the bounding set (this host's, or process.capabilities.bounding)",
                     brick_cap_name(__builtin_ctzll(missing)));
}

static _Noreturn void run_init(const struct brick_init_args *a) {
  const struct brick_spec *spec = a->spec;
  brick_err err = {0};
  struct brick_rootfs_ctx rctx = {
      .rootfs = a->rootfs,
      .new_userns = (a->unshare_flags & CLONE_NEWUSER) || a->ns_fds[BRICK_NS_USER] >= 0,
      .new_netns = (a->unshare_flags & CLONE_NEWNET) != 0,
      .no_pivot = a->no_pivot,
      .cgroup_path = a->cgroup_path,
      .mount_label = a->mount_label,
      .get_idmapped = a->idmap ? get_idmapped : NULL,
      .rootfs_preshifted = a->rootfs_preshifted,
      .opaque = (void *)a,
      .overlay_lower = brick_annotation(spec, BRICK_ANNOTATION_OVERLAY_LOWER),
      .overlay_upper = brick_annotation(spec, BRICK_ANNOTATION_OVERLAY_UPPER),
      .overlay_work = brick_annotation(spec, BRICK_ANNOTATION_OVERLAY_WORK),
  };
  if (rctx.overlay_lower && (!rctx.overlay_upper || !rctx.overlay_work)) {
    brick_error(&err, 0, "annotation %s needs %s and %s", BRICK_ANNOTATION_OVERLAY_LOWER,
                BRICK_ANNOTATION_OVERLAY_UPPER, BRICK_ANNOTATION_OVERLAY_WORK);
    die(a, &err, true);
  }
  /* The runtime's own memory (and /proc/<pid>/exe, i.e. the brick binary) must not be
   * reachable from the container while we are in it: CVE-2019-5736. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    brick_errno(&err, "prctl dumpable"), die(a, &err, true);
  if (setsid() < 0)
    brick_errno(&err, "setsid"), die(a, &err, true);

  if (spec->linux_.namespaces[BRICK_NS_MOUNT].present) {
    if (brick_rootfs_prepare(spec, &rctx, &err) < 0)
      die(a, &err, true);
  }
  if (spec->hooks.n[BRICK_HOOK_PRESTART] || spec->hooks.n[BRICK_HOOK_CREATE_RUNTIME]) {
    if (brick_sync_send(a->sync_sock, SYNC_PRE_PIVOT, 0, -1, &err) < 0 ||
        brick_sync_expect(a->sync_sock, SYNC_CONTINUE, NULL, NULL, &err) < 0)
      die(a, &err, true);
  }
  if (spec->hooks.n[BRICK_HOOK_CREATE_CONTAINER]) {
    _cleanup_json_ json_t *state = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", "1.3.0",
                                             "status", "creating", "id", a->id, "pid", 1,
                                             "bundle", a->bundle);
    if (brick_hooks_run(&spec->hooks, BRICK_HOOK_CREATE_CONTAINER, state, &err) < 0)
      die(a, &err, true);
  }
  int host_fd_dir = -1;
  if (spec->linux_.namespaces[BRICK_NS_MOUNT].present) {
    if (brick_rootfs_pivot(&rctx, &err) < 0 || brick_rootfs_finish(spec, &rctx, &err) < 0)
      die(a, &err, true);
  } else {
    /* The host's mount namespace is shared, so nothing can be pivoted; root.path is
     * still the process's root (as crun and runc do): chroot into it. The rootfs need
     * not have /proc mounted, so keep a way to reopen the exec fifo. */
    host_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (host_fd_dir < 0)
      brick_errno(&err, "open /proc/self/fd"), die(a, &err, true);
    if (chdir(a->rootfs) < 0)
      brick_errno(&err, "chdir %s", a->rootfs), die(a, &err, true);
    if (chroot(".") < 0)
      brick_errno(&err, "chroot %s", a->rootfs), die(a, &err, true);
    if (chdir("/") < 0)
      brick_errno(&err, "chdir /"), die(a, &err, true);
  }
  if (spec->linux_.namespaces[BRICK_NS_UTS].present) {
    if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
      brick_errno(&err, "hostname \"%s\"", spec->hostname), die(a, &err, true);
    if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
      brick_errno(&err, "domainname \"%s\"", spec->domainname), die(a, &err, true);
  }
  if (!a->no_new_keyring) {
    /* A fresh session keyring: the host's keys must not be reachable by name. It takes
     * the container's label, so the container may use it and no other container may. */
    if (brick_selinux_set_keycreate_label(spec->process->selinux_label, &err) < 0)
      die(a, &err, true);
    if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL) < 0 && errno != ENOSYS &&
        errno != EPERM && errno != EACCES)
      brick_errno(&err, "join session keyring"), die(a, &err, true);
  }
  const struct brick_process *proc = spec->process;
  if (proc->terminal && a->console_sock >= 0) {
    if (brick_terminal_attach(a->console_sock, &proc->console_size, true, &err) < 0)
      die(a, &err, true);
    close(a->console_sock);
  }
  if (proc->cwd && chdir(proc->cwd) < 0)
    brick_errno(&err, "process.cwd %s", proc->cwd), die(a, &err, true);
  _cleanup_free_ char *path = brick_process_find_exec(proc, &err);
  if (!path)
    die(a, &err, true);
  if (brick_process_apply_attrs(proc, &err) < 0)
    die(a, &err, true);
  if (check_caps_grantable(&proc->caps, &err) < 0)
    die(a, &err, true);
  if (spec->linux_.personality.present) {
    unsigned long persona = !strcmp(spec->linux_.personality.domain, "LINUX32") ? PER_LINUX32 : PER_LINUX;
    if (personality(persona) < 0)
      brick_errno(&err, "linux.personality"), die(a, &err, true);
  }
  struct brick_landlock_rule *rules = NULL;
  size_t n_rules = 0;
  if (a->landlock)
    brick_landlock_rules_for(spec, &rules, &n_rules);

  struct brick_process_ctx pctx = {
      .proc = proc, .seccomp = a->seccomp, .landlock = rules, .n_landlock = n_rules,
      .preserve_fds = a->preserve_fds};
  if (a->seccomp && brick_seccomp_uses_notify(a->seccomp)) {
    /* After READY nobody is left to take the listener fd to the agent: the filter goes
     * in now and the parent forwards the fd before it reports create done. */
    int notify_fd = brick_process_install_seccomp_early(&pctx, &err);
    if (notify_fd < 0)
      die(a, &err, true);
    int r = brick_sync_send(a->sync_sock, SYNC_SECCOMP_FD, 0, notify_fd, &err);
    close(notify_fd);
    if (r < 0 || brick_sync_expect(a->sync_sock, SYNC_CONTINUE, NULL, NULL, &err) < 0)
      die(a, &err, true);
    pctx.seccomp_installed = true;
  }

  if (brick_sync_send(a->sync_sock, SYNC_READY, 0, -1, &err) < 0)
    die(a, &err, false);
  close(a->sync_sock);

  /* Block until `start` opens the fifo for reading; the byte tells it we are past. */
  char fifo[64];
  snprintf(fifo, sizeof fifo, "/proc/self/fd/%d", a->fifo_fd);
  int wfd = host_fd_dir >= 0 ? openat(host_fd_dir, fifo + strlen("/proc/self/fd/"),
                                      O_WRONLY | O_CLOEXEC)
                             : open(fifo, O_WRONLY | O_CLOEXEC);
  if (host_fd_dir >= 0)
    close(host_fd_dir);
  if (wfd < 0)
    brick_errno(&err, "open exec fifo"), die(a, &err, false);
  if (write(wfd, "0", 1) != 1)
    brick_errno(&err, "write exec fifo"), die(a, &err, false);
  /* wfd stays open until execve closes it (O_CLOEXEC): `start` waits for that EOF, so
   * poststart hooks run after startContainer hooks and the exec, as the spec orders. */
  close(a->fifo_fd);

  if (spec->hooks.n[BRICK_HOOK_START_CONTAINER]) {
    _cleanup_json_ json_t *state = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", "1.3.0",
                                             "status", "created", "id", a->id, "pid", 1,
                                             "bundle", a->bundle);
    if (brick_hooks_run(&spec->hooks, BRICK_HOOK_START_CONTAINER, state, &err) < 0)
      die(a, &err, false);
  }
  brick_process_exec(&pctx, path, &err);
  die(a, &err, false);
}

_Noreturn void brick_init_stage1(const struct brick_init_args *a) {
  brick_err err = {0};
  /* flock belongs to the open file: our inherited copy would hold the container's lock
   * for as long as the container lives. */
  if (a->lock_fd >= 0)
    close(a->lock_fd);
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    brick_errno(&err, "prctl dumpable"), die(a, &err, true);
  /* Wait until the parent has put us in the container's cgroup: the cgroup namespace
   * we are about to create takes its root from where we stand. */
  if (brick_sync_expect(a->sync_sock, SYNC_CONTINUE, NULL, NULL, &err) < 0)
    _exit(1);
  if (brick_process_apply_oom_score(a->spec->process, &err) < 0)
    die(a, &err, true);
  if (join_namespaces(a, &err) < 0)
    die(a, &err, true);
  if (a->unshare_flags && brick_sys->unshare(a->unshare_flags) < 0)
    brick_errno(&err, "unshare namespaces"), die(a, &err, true);
  if (a->unshare_flags & CLONE_NEWUSER) {
    if (brick_sync_send(a->sync_sock, SYNC_UNSHARED, 0, -1, &err) < 0 ||
        brick_sync_expect(a->sync_sock, SYNC_MAPPED, NULL, NULL, &err) < 0)
      die(a, &err, true);
  }
  if ((a->unshare_flags & CLONE_NEWUSER) || a->ns_fds[BRICK_NS_USER] >= 0) {
    /* Become root of the new namespace: ids were overflow ids until the maps existed. */
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
      brick_errno(&err, "become root in the user namespace (is id 0 mapped?)"), die(a, &err, true);
  }
  if ((a->unshare_flags & CLONE_NEWTIME) && write_time_offsets(a->spec, &err) < 0)
    die(a, &err, true);
  /* The init shares our sync socket: it must not speak before the parent has its pid,
   * or the parent reads the init's first request where it expects SYNC_INIT_PID. The
   * init waits for EOF on this pipe, which comes when we exit. */
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) < 0)
    brick_errno(&err, "pipe"), die(a, &err, true);
  pid_t pid = fork();
  if (pid < 0)
    brick_errno(&err, "fork container init"), die(a, &err, true);
  if (pid == 0) {
    close(gate[1]);
    char c;
    while (read(gate[0], &c, 1) < 0 && errno == EINTR)
      ;
    close(gate[0]);
    run_init(a);
  }
  close(gate[0]);
  if (brick_sync_send(a->sync_sock, SYNC_INIT_PID, pid, -1, &err) < 0)
    _exit(1);
  _exit(0);
}
