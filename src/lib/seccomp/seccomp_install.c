/* Installing the compiled program (in the container's init, between fork and execve)
 * and handing a SCMP_ACT_NOTIFY listener to the engine's seccomp agent. */
#include "seccomp/seccomp.h"
#include "seccomp/seccomp_internal.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/util.h"

int brick_seccomp_install(const struct brick_seccomp_prog *prog, int *notify_fd, brick_err *err) {
  if (notify_fd)
    *notify_fd = -1;
  if (!prog)
    return brick_error(err, EINVAL, "seccomp: no program to install");
  if (prog->uses_notify && !notify_fd)
    return brick_error(err, EINVAL, "seccomp: the profile uses SCMP_ACT_NOTIFY but the caller "
                                    "takes no listener fd");
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, prog->flags, &prog->fprog);
  if (r < 0) {
    if (errno == EACCES)
      return brick_error(err, EACCES, "seccomp: installing the filter needs no_new_privs or "
                                      "CAP_SYS_ADMIN");
    return brick_errno(err, "seccomp(SECCOMP_SET_MODE_FILTER, flags=%#x)", prog->flags);
  }
  if (prog->uses_notify) {
    *notify_fd = (int)r;
    return 0;
  }
  if (r > 0)
    /* TSYNC without a listener returns the id of a thread that could not follow. */
    return brick_error(err, ESRCH, "seccomp: thread %ld could not be synchronized (TSYNC)", r);
  return 0;
}

static int send_all_with_fd(int sock, const char *data, size_t len, int fd, brick_err *err) {
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  bool fd_sent = false;
  while (len > 0) {
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (!fd_sent) {
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t w = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return brick_errno(err, "sendmsg");
    }
    fd_sent = true;
    data += w;
    len -= (size_t)w;
  }
  return 0;
}

int brick_seccomp_send_listener(const char *listener_path, const char *metadata, int notify_fd,
                                pid_t process_pid, json_t *container_state, brick_err *err) {
  if (!listener_path || !*listener_path)
    return brick_error(err, EINVAL, "linux.seccomp.listenerPath: not set");
  if (notify_fd < 0)
    return brick_error(err, EBADF, "seccomp listener: no listener fd to send");
  if (!json_is_object(container_state))
    return brick_error(err, EINVAL, "seccomp listener: container state is not an object");
  json_t *pid = json_object_get(container_state, "pid");
  if (!json_is_integer(pid))
    return brick_error(err, EINVAL, "seccomp listener: container state has no pid");

  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(listener_path) >= sizeof sa.sun_path)
    return brick_error(err, ENAMETOOLONG, "linux.seccomp.listenerPath: \"%s\" is too long for a "
                                          "unix socket address", listener_path);
  strcpy(sa.sun_path, listener_path);

  /* runtime-spec "containerProcessState", as runc and crun send it. */
  _cleanup_json_ json_t *msg = json_object();
  json_object_set_new(msg, "ociVersion", json_string(BRICK_OCI_VERSION));
  json_object_set_new(msg, "fds", json_pack("[s]", "seccompFd"));
  if (process_pid > 0)
    json_object_set_new(msg, "pid", json_integer(process_pid));
  else
    json_object_set(msg, "pid", pid);
  if (metadata)
    json_object_set_new(msg, "metadata", json_string(metadata));
  json_object_set(msg, "state", container_state);
  _cleanup_free_ char *text = json_dumps(msg, JSON_COMPACT);
  if (!text)
    return brick_error(err, ENOMEM, "seccomp listener: encoding the container state");

  _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return brick_errno(err, "seccomp listener: socket");
  if (connect(sock, (struct sockaddr *)&sa, sizeof sa) < 0)
    return brick_errno(err, "linux.seccomp.listenerPath: connect to %s", listener_path);
  if (send_all_with_fd(sock, text, strlen(text), notify_fd, err) < 0)
    return brick_error_prefix(err, "linux.seccomp.listenerPath: %s", listener_path);
  return 0;
}
