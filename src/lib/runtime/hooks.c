#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

const char *brick_hook_kind_name(enum brick_hook_kind kind) {
  static const char *names[] = {"prestart", "createRuntime", "createContainer",
                                "startContainer", "poststart", "poststop"};
  return kind < BRICK_HOOK_KIND_COUNT ? names[kind] : "?";
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int run_one(const struct brick_hook *h, const char *state_text, brick_err *err) {
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0)
    return brick_errno(err, "pipe");
  pid_t pid = fork();
  if (pid < 0) {
    close(in[0]);
    close(in[1]);
    return brick_errno(err, "fork");
  }
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    char *const empty[] = {NULL};
    char *const *argv = h->args && h->args[0] ? h->args : (char *const[]){h->path, NULL};
    execve(h->path, argv, h->env ? h->env : empty);
    _exit(127);
  }
  close(in[0]);
  /* A hook that does not read stdin must not block us: ignore EPIPE. */
  size_t len = strlen(state_text);
  struct sigaction ign = {.sa_handler = SIG_IGN}, old;
  sigaction(SIGPIPE, &ign, &old);
  (void)!write(in[1], state_text, len);
  sigaction(SIGPIPE, &old, NULL);
  close(in[1]);

  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  long deadline = h->has_timeout ? now_ms() + h->timeout * 1000L : -1;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      break;
    if (r < 0 && errno != EINTR) {
      if (pidfd >= 0)
        close(pidfd);
      return brick_errno(err, "wait for hook %s", h->path);
    }
    long left = deadline < 0 ? 1000 : deadline - now_ms();
    if (deadline >= 0 && left <= 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      if (pidfd >= 0)
        close(pidfd);
      return brick_error(err, ETIMEDOUT, "hook %s timed out after %ds", h->path, h->timeout);
    }
    if (pidfd >= 0) {
      struct pollfd p = {.fd = pidfd, .events = POLLIN};
      poll(&p, 1, (int)(left > 1000 ? 1000 : left));
    } else {
      usleep(10000);
    }
  }
  if (pidfd >= 0)
    close(pidfd);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  if (WIFEXITED(status))
    return brick_error(err, 0, "hook %s exited with status %d", h->path, WEXITSTATUS(status));
  return brick_error(err, 0, "hook %s killed by signal %d", h->path, WTERMSIG(status));
}

int brick_hooks_run(const struct brick_hooks *hooks, enum brick_hook_kind kind, json_t *state,
                    brick_err *err) {
  if (hooks->n[kind] == 0)
    return 0;
  _cleanup_free_ char *text = json_dumps(state, JSON_COMPACT);
  for (size_t i = 0; i < hooks->n[kind]; i++)
    if (run_one(&hooks->list[kind][i], text, err) < 0)
      return brick_error_prefix(err, "hooks.%s[%zu]", brick_hook_kind_name(kind), i);
  return 0;
}
