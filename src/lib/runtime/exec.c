#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "core/log.h"
#include "core/util.h"
#include "lsm/lsm.h"
#include "runtime/defaults.h"
#include "runtime/floor.h"
#include "runtime/init.h"
#include "runtime/process.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "seccomp/seccomp.h"

int brick_exec_parse_args(const char *state_root, int argc, char **argv, struct brick_exec_opts *o) {
  enum { OPT_CONSOLE = 256, OPT_PIDFILE, OPT_LABEL, OPT_APPARMOR, OPT_NNP, OPT_PRESERVE,
         OPT_IGNORE_PAUSED, OPT_CGROUP };
  static const struct option opts[] = {
      {"console-socket", required_argument, NULL, OPT_CONSOLE},
      {"cwd", required_argument, NULL, 'w'},
      {"env", required_argument, NULL, 'e'},
      {"tty", no_argument, NULL, 't'},
      {"user", required_argument, NULL, 'u'},
      {"additional-gids", required_argument, NULL, 'g'},
      {"process", required_argument, NULL, 'p'},
      {"detach", no_argument, NULL, 'd'},
      {"pid-file", required_argument, NULL, OPT_PIDFILE},
      {"process-label", required_argument, NULL, OPT_LABEL},
      {"apparmor", required_argument, NULL, OPT_APPARMOR},
      {"no-new-privs", no_argument, NULL, OPT_NNP},
      {"cap", required_argument, NULL, 'c'},
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
      {"ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED},
      {"cgroup", required_argument, NULL, OPT_CGROUP},
      {"help", no_argument, NULL, 'h'},
      {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  o->state_root = state_root;
  int c;
  while ((c = getopt_long(argc, argv, "+w:e:tu:g:p:dc:h", opts, NULL)) != -1) {
    switch (c) {
    case OPT_CONSOLE: o->console_socket = optarg; break;
    case 'w': o->cwd = optarg; break;
    case 'e': brick_strv_push(&o->env, optarg); break;
    case 't': o->tty = true; break;
    case 'u': o->user = optarg; break;
    case 'g': brick_strv_push(&o->additional_gids, optarg); break;
    case 'p': o->process_file = optarg; break;
    case 'd': o->detach = true; break;
    case OPT_PIDFILE: o->pid_file = optarg; break;
    case OPT_LABEL: o->process_label = optarg; break;
    case OPT_APPARMOR: o->apparmor = optarg; break;
    case OPT_NNP: o->no_new_privs = true; break;
    case 'c': brick_strv_push(&o->caps, optarg); break;
    case OPT_PRESERVE: o->preserve_fds = atoi(optarg); break;
    case OPT_IGNORE_PAUSED: o->ignore_paused = true; break;
    case OPT_CGROUP: break; /* sub-cgroups of the container: the container's own is used */
    case 'h':
      printf("usage: brick exec [options] CONTAINER-ID [COMMAND [ARG...]]\n\n"
             "  -p, --process FILE       process.json (runtime-spec process object)\n"
             "  -t, --tty                allocate a terminal\n"
             "      --console-socket S   send the pty master to this socket\n"
             "  -d, --detach             do not wait for the process\n"
             "      --pid-file FILE      write the process's pid\n"
             "  -u, --user UID[:GID]     run as this user\n"
             "  -g, --additional-gids G  extra group (repeatable)\n"
             "  -e, --env K=V            extra environment (repeatable)\n"
             "  -w, --cwd DIR            working directory\n"
             "  -c, --cap CAP            add a capability (repeatable)\n"
             "      --no-new-privs       set no_new_privs\n"
             "      --process-label L    SELinux label\n"
             "      --apparmor P         AppArmor profile\n"
             "      --preserve-fds N     pass N extra fds (from fd 3)\n");
      brick_exec_opts_clear(o);
      return -1;
    default:
      brick_exec_opts_clear(o);
      return 2;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "brick exec: expected a container id\n");
    brick_exec_opts_clear(o);
    return 2;
  }
  o->id = argv[optind++];
  if (!o->process_file) {
    if (optind >= argc) {
      fprintf(stderr, "brick exec: expected a command or --process\n");
      brick_exec_opts_clear(o);
      return 2;
    }
    o->args = brick_strv_dup(argv + optind);
  }
  return 0;
}

void brick_exec_opts_clear(struct brick_exec_opts *o) {
  brick_strv_free(o->args);
  brick_strv_free(o->env);
  brick_strv_free(o->caps);
  brick_strv_free(o->additional_gids);
  memset(o, 0, sizeof *o);
}

static int parse_id(const char *s, uint32_t *out) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (!*s || *end || v > 0xFFFFFFFEul)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

/* The process to run: --process as given, or the container's own process with the
 * command-line overrides (what runc does). */
static struct brick_process *build_process(const struct brick_exec_opts *o,
                                           struct brick_spec *spec, brick_err *err) {
  struct brick_process *p;
  if (o->process_file) {
    json_error_t jerr;
    _cleanup_json_ json_t *doc = json_load_file(o->process_file, 0, &jerr);
    if (!doc)
      return brick_error(err, 0, "%s: line %d column %d: %s", o->process_file, jerr.line,
                         jerr.column, jerr.text), NULL;
    const char *base = strrchr(o->process_file, '/');
    return brick_process_parse(doc, base ? base + 1 : o->process_file, err);
  }
  if (!spec->process)
    return brick_error(err, 0, "container config has no process to base exec on"), NULL;
  p = TAKE_PTR(spec->process);
  brick_strv_free(p->args);
  p->args = brick_strv_dup(o->args);
  for (char **e = o->env; e && *e; e++)
    brick_strv_push(&p->env, *e);
  if (o->cwd) {
    free(p->cwd);
    p->cwd = xstrdup(o->cwd);
  }
  p->terminal = o->tty;
  if (o->user) {
    _cleanup_free_ char *u = xstrdup(o->user);
    char *colon = strchr(u, ':');
    if (colon)
      *colon++ = '\0';
    uint32_t uid, gid = 0;
    if (parse_id(u, &uid) < 0 || (colon && parse_id(colon, &gid) < 0)) {
      brick_process_free(p);
      return brick_error(err, 0, "--user: expected UID[:GID], got \"%s\"", o->user), NULL;
    }
    p->user.uid = uid;
    p->user.gid = colon ? gid : 0;
  }
  for (char **g = o->additional_gids; g && *g; g++) {
    uint32_t gid;
    if (parse_id(*g, &gid) < 0) {
      brick_process_free(p);
      return brick_error(err, 0, "--additional-gids: invalid group \"%s\"", *g), NULL;
    }
    p->user.additional_gids = xrealloc(p->user.additional_gids,
                                       (p->user.n_additional_gids + 1) * sizeof(gid_t));
    p->user.additional_gids[p->user.n_additional_gids++] = gid;
  }
  for (char **c = o->caps; c && *c; c++) {
    int cap = brick_cap_from_name(*c);
    if (cap < 0) {
      brick_process_free(p);
      return brick_error(err, 0, "--cap: unknown capability \"%s\"", *c), NULL;
    }
    uint64_t bit = 1ull << cap;
    p->caps.present = true;
    p->caps.bounding |= bit;
    p->caps.effective |= bit;
    p->caps.permitted |= bit;
    p->caps.inheritable |= bit;
    p->caps.ambient |= bit;
  }
  if (o->no_new_privs)
    p->no_new_privileges = true;
  if (o->process_label) {
    free(p->selinux_label);
    p->selinux_label = xstrdup(o->process_label);
  }
  if (o->apparmor) {
    free(p->apparmor_profile);
    p->apparmor_profile = xstrdup(o->apparmor);
  }
  return p;
}

static int connect_unix(const char *path, brick_err *err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path)
    return brick_error(err, 0, "--console-socket: path too long");
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return brick_error(err, e, "--console-socket: connect %s", path);
  }
  return fd;
}

struct exec_child {
  const struct brick_spec *spec;
  struct brick_process *proc;
  const struct brick_seccomp_prog *seccomp;
  int pidfd;
  int ns_flags;
  int sync;          /* error channel: EOF without a message = exec happened */
  int console;       /* console socket, -1 */
  bool landlock;
  int preserve_fds;
};

static _Noreturn void exec_fail(int sync, brick_err *err) {
  brick_sync_send_error(sync, err);
  _exit(127);
}

static _Noreturn void exec_grandchild(struct exec_child *c, int gate) {
  brick_err err = {0};
  /* We share the sync socket with our parent: nothing of ours may reach the runtime
   * before it has our pid. Its exit closes the gate's other end. */
  char g;
  while (read(gate, &g, 1) < 0 && errno == EINTR)
    ;
  close(gate);
  if (c->proc->terminal && c->console >= 0 &&
      brick_terminal_attach(c->console, &c->proc->console_size, false, &err) < 0)
    exec_fail(c->sync, &err);
  if (c->proc->cwd && chdir(c->proc->cwd) < 0)
    brick_errno(&err, "cwd %s", c->proc->cwd), exec_fail(c->sync, &err);
  _cleanup_free_ char *path = brick_process_find_exec(c->proc, &err);
  if (!path)
    exec_fail(c->sync, &err);
  if (brick_process_apply_attrs(c->proc, &err) < 0)
    exec_fail(c->sync, &err);
  struct brick_landlock_rule *rules = NULL;
  size_t n = 0;
  if (c->landlock)
    brick_landlock_rules_for(c->spec, &rules, &n);
  struct brick_process_ctx pctx = {.proc = c->proc, .seccomp = c->seccomp, .landlock = rules,
                                   .n_landlock = n, .preserve_fds = c->preserve_fds};
  if (c->seccomp && brick_seccomp_uses_notify(c->seccomp)) {
    /* The exec parent forwards the listener fd to linux.seccomp.listenerPath. */
    int notify_fd = brick_process_install_seccomp_early(&pctx, &err);
    if (notify_fd < 0)
      exec_fail(c->sync, &err);
    int r = brick_sync_send(c->sync, SYNC_SECCOMP_FD, 0, notify_fd, &err);
    close(notify_fd);
    if (r < 0 || brick_sync_expect(c->sync, SYNC_CONTINUE, NULL, NULL, &err) < 0)
      exec_fail(c->sync, &err);
    pctx.seccomp_installed = true;
  }
  brick_process_exec(&pctx, path, &err);
  exec_fail(c->sync, &err);
}

static _Noreturn void exec_child(struct exec_child *c) {
  brick_err err = {0};
  /* Not dumpable before we enter: the container must not reach our memory or
   * /proc/<pid>/exe (CVE-2019-5736). */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    brick_errno(&err, "prctl"), exec_fail(c->sync, &err);
  /* Until the parent has moved us into the container's cgroup, a fork would leave the
   * process outside the container's limits. */
  if (brick_sync_expect(c->sync, SYNC_CONTINUE, NULL, NULL, &err) < 0)
    _exit(1);
  if (brick_process_apply_oom_score(c->proc, &err) < 0)
    exec_fail(c->sync, &err);
  /* pidfd setns enters all namespaces at once, the user namespace first. */
  if (setns(c->pidfd, c->ns_flags) < 0)
    brick_errno(&err, "join the container's namespaces"), exec_fail(c->sync, &err);
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) < 0)
    brick_errno(&err, "pipe"), exec_fail(c->sync, &err);
  pid_t pid = fork();
  if (pid < 0)
    brick_errno(&err, "fork"), exec_fail(c->sync, &err);
  if (pid == 0) {
    close(gate[1]);
    exec_grandchild(c, gate[0]);
  }
  close(gate[0]);
  struct brick_sync_msg m = {.kind = SYNC_INIT_PID, .value = pid};
  (void)!write(c->sync, &m, sizeof m);
  _exit(0);
}

int brick_container_exec(const struct brick_exec_opts *o, int *exit_status, brick_err *err) {
  struct brick_state st;
  if (brick_state_load(o->state_root, o->id, &st, err) < 0)
    return -1;
  int ret = -1;
  struct brick_spec *spec = NULL;
  struct brick_process *proc = NULL;
  struct brick_seccomp_prog *prog = NULL;
  int pidfd = -1, console = -1, sp[2] = {-1, -1}, tsp[2] = {-1, -1};
  enum brick_status s = brick_state_status(&st);
  if (s == BRICK_STOPPED || s == BRICK_CREATED) {
    brick_error(err, 0, "cannot exec in a %s container", brick_status_name(s));
    goto out;
  }
  if (s == BRICK_PAUSED && !o->ignore_paused) {
    brick_error(err, 0, "cannot exec in a paused container (use --ignore-paused)");
    goto out;
  }
  spec = brick_spec_load(st.config_path, err);
  if (!spec)
    goto out;
  proc = build_process(o, spec, err);
  if (!proc)
    goto out;
  /* --cap and --process can ask for more than the container has: the host floor holds. */
  if (brick_floor_check_process(proc, o->process_file ? "process.json" : "exec", NULL, err) < 0)
    goto out;
  if (proc->terminal && !o->console_socket && o->detach) {
    brick_error(err, 0, "--tty with --detach needs --console-socket");
    goto out;
  }
  if (proc->apparmor_profile)
    brick_warn("AppArmor is not available on this host: profile \"%s\" ignored",
               proc->apparmor_profile);
  brick_warn_unraisable_ambient(&proc->caps);
  if (proc->selinux_label && !brick_selinux_enabled()) {
    free(proc->selinux_label);
    proc->selinux_label = NULL;
  } else if (!proc->selinux_label && st.mcs_level && brick_selinux_enabled()) {
    _cleanup_free_ char *fl = NULL;
    if (brick_selinux_default_labels(st.mcs_level, &proc->selinux_label, &fl, err) < 0)
      goto out;
  }
  if (spec->linux_.seccomp.present) {
    _cleanup_free_ char *cache = xasprintf("%s/.seccomp-cache", o->state_root);
    if (brick_seccomp_prepare(&spec->linux_.seccomp, cache, &prog, err) < 0)
      goto out;
  }
  pidfd = (int)syscall(SYS_pidfd_open, st.pid, 0);
  if (pidfd < 0 || brick_proc_start_time(st.pid) != st.pid_start) {
    brick_error(err, 0, "container \"%s\" is not running", o->id);
    goto out;
  }
  int ns_flags = 0;
  for (int t = 0; t < BRICK_NS_COUNT; t++)
    if (spec->linux_.namespaces[t].present)
      ns_flags |= brick_ns_clone_flag((enum brick_ns_type)t);
  if (o->console_socket && (console = connect_unix(o->console_socket, err)) < 0)
    goto out;
  if (proc->terminal && console < 0) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tsp) < 0) {
      brick_errno(err, "socketpair");
      goto out;
    }
    console = tsp[1];
  }
  if (!o->detach && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
    brick_errno(err, "subreaper");
    goto out;
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
    brick_errno(err, "socketpair");
    goto out;
  }
  const char *ll = brick_annotation(spec, BRICK_ANNOTATION_LANDLOCK);
  struct exec_child c = {.spec = spec, .proc = proc, .seccomp = prog, .pidfd = pidfd,
                         .ns_flags = ns_flags, .sync = sp[1], .console = console,
                         .landlock = ll && !strcmp(ll, "true") && !brick_selinux_enabled() &&
                                     brick_landlock_abi() > 0,
                         .preserve_fds = o->preserve_fds};
  pid_t child = fork();
  if (child < 0) {
    brick_errno(err, "fork");
    goto out;
  }
  if (child == 0) {
    close(sp[0]);
    exec_child(&c);
  }
  close(sp[1]);
  sp[1] = -1;
  /* Join the container's cgroup before the child forks the real process. */
  if (st.cgroup_path && brick_cgroup_join(st.cgroup_path, child, err) < 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    goto out;
  }
  if (brick_sync_send(sp[0], SYNC_CONTINUE, 0, -1, err) < 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    goto out;
  }
  struct brick_sync_msg m;
  int32_t pid = 0;
  if (brick_sync_recv(sp[0], &m, NULL, err) < 0 || m.kind != SYNC_INIT_PID) {
    waitpid(child, NULL, 0);
    goto out;
  }
  pid = m.value;
  waitpid(child, NULL, 0);
  /* EOF means the exec happened (the socket is close-on-exec); a message is an error,
   * or the listener fd of a SCMP_ACT_NOTIFY profile to forward to the agent. */
  for (;;) {
    ssize_t r = recv(sp[0], &m, sizeof m, MSG_PEEK);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    _cleanup_close_ int nfd = -1;
    if (brick_sync_recv(sp[0], &m, &nfd, err) < 0) {
      waitpid(pid, NULL, 0);
      goto out;
    }
    if (m.kind != SYNC_SECCOMP_FD || nfd < 0) {
      brick_error(err, 0, "exec sync: unexpected message %u", m.kind);
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      goto out;
    }
    /* The container's state keeps the init's pid; the message's own "pid" is the exec'd
     * process, whose filter this is (as runc sends it). */
    _cleanup_json_ json_t *state = brick_state_to_oci(&st, BRICK_RUNNING);
    const struct brick_seccomp *sc = &spec->linux_.seccomp;
    if (brick_seccomp_send_listener(sc->listener_path, sc->listener_metadata, nfd, pid, state,
                                    err) < 0) {
      brick_error_prefix(err, "config.json");
      brick_sync_send_error(sp[0], err);
      waitpid(pid, NULL, 0);
      goto out;
    }
    if (brick_sync_send(sp[0], SYNC_CONTINUE, 0, -1, err) < 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      goto out;
    }
  }
  if (o->pid_file) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d", (int)pid);
    if (brick_write_file_atomic(o->pid_file, buf, (size_t)n, 0644, err) < 0)
      goto out;
  }
  if (o->detach) {
    *exit_status = 0;
    ret = 0;
    goto out;
  }
  _cleanup_close_ int master = -1;
  if (tsp[0] >= 0) {
    struct pollfd p = {.fd = tsp[0], .events = POLLIN};
    if (poll(&p, 1, 1000) > 0)
      brick_recv_fd(tsp[0], &master, NULL);
  }
  ret = brick_supervise(pid, master, exit_status, err);
out:
  for (int i = 0; i < 2; i++) {
    if (sp[i] >= 0)
      close(sp[i]);
    if (tsp[i] >= 0)
      close(tsp[i]);
  }
  if (console >= 0 && console != tsp[1])
    close(console);
  if (pidfd >= 0)
    close(pidfd);
  if (prog)
    brick_seccomp_prog_free(prog);
  if (proc)
    brick_process_free(proc);
  brick_spec_free(spec);
  brick_state_clear(&st);
  return ret;
}
