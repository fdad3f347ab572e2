/* `run` in the foreground: brick stays the container init's parent (as a subreaper,
 * since the namespace stage in between has exited), forwards signals to it, proxies a
 * terminal when the config asks for one, and returns its exit status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "runtime/sync.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
                                SIGCONT, SIGTSTP};

static int status_code(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 255;
}

static void copy_once(int from, int to, bool *eof) {
  char buf[8192];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) {
    if (n == 0 || (errno != EAGAIN && errno != EINTR))
      *eof = true;
    return;
  }
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      return;
    }
    off += w;
  }
}

int brick_supervise(pid_t init, int master, int *exit_status, brick_err *err) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
    sigaddset(&set, forwarded[i]);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    return brick_errno(err, "sigprocmask");
  _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0)
    return brick_errno(err, "signalfd");

  struct termios saved;
  bool raw = false;
  if (master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
    struct termios t = saved;
    cfmakeraw(&t);
    raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
      ioctl(master, TIOCSWINSZ, &ws);
  }
  bool in_eof = master < 0, out_eof = master < 0;
  for (;;) {
    /* Reap everything (we are a subreaper); stop when the init is gone. */
    int status;
    pid_t r;
    bool done = false;
    while ((r = waitpid(-1, &status, WNOHANG)) > 0)
      if (r == init) {
        *exit_status = status_code(status);
        done = true;
      }
    if (done) {
      while (!out_eof) {
        struct pollfd p = {.fd = master, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
          break;
        copy_once(master, STDOUT_FILENO, &out_eof);
      }
      break;
    }
    struct pollfd p[3] = {{.fd = sfd, .events = POLLIN},
                          {.fd = in_eof ? -1 : STDIN_FILENO, .events = POLLIN},
                          {.fd = out_eof ? -1 : master, .events = POLLIN}};
    if (poll(p, 3, -1) < 0 && errno != EINTR)
      break;
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD) {
        if (si.ssi_signo == SIGWINCH && master >= 0) {
          struct winsize ws;
          if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
            ioctl(master, TIOCSWINSZ, &ws);
        } else {
          kill(init, (int)si.ssi_signo);
        }
      }
    }
    if (p[1].revents & (POLLIN | POLLHUP))
      copy_once(STDIN_FILENO, master, &in_eof);
    if (p[2].revents & (POLLIN | POLLHUP))
      copy_once(master, STDOUT_FILENO, &out_eof);
  }
  if (raw)
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  return 0;
}

int brick_container_run(const struct brick_create_opts *o, bool detach, int *exit_status,
                        brick_err *err) {
  if (!detach && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    return brick_errno(err, "set child subreaper");
  /* Without --console-socket a terminal is ours to proxy: hand the init one end of a
   * socketpair as its console socket and take the pty master from the other. */
  int sp[2] = {-1, -1};
  if (!o->console_socket && !detach &&
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
    return brick_errno(err, "socketpair");
  pid_t init = 0;
  /* create takes ownership of sp[1]. */
  int r = brick_container_create_ex(o, sp[1], &init, err);
  if (r < 0) {
    if (sp[0] >= 0)
      close(sp[0]);
    return -1;
  }
  if (brick_container_start(o->state_root, o->id, err) < 0) {
    if (sp[0] >= 0)
      close(sp[0]);
    brick_container_delete(o->state_root, o->id, true, NULL);
    return -1;
  }
  if (detach) {
    *exit_status = 0;
    return 0;
  }
  _cleanup_close_ int master = -1;
  if (sp[0] >= 0) {
    /* Only a terminal config sends a master; otherwise the peer just closes. */
    struct pollfd p = {.fd = sp[0], .events = POLLIN};
    if (poll(&p, 1, 0) > 0 && (p.revents & POLLIN))
      brick_recv_fd(sp[0], &master, NULL);
    close(sp[0]);
  }
  r = brick_supervise(init, master, exit_status, err);
  brick_err e2 = {0};
  if (brick_container_delete(o->state_root, o->id, true, &e2) < 0)
    brick_warn("%s", brick_error_msg(&e2));
  brick_error_clear(&e2);
  return r;
}
