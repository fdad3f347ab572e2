#include "runtime/sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int brick_send_fd(int sock, int fd, const char *payload, size_t len, brick_err *err) {
  char dummy = 0;
  struct iovec iov = {.iov_base = payload ? (void *)payload : &dummy, .iov_len = payload ? len : 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    memset(&u, 0, sizeof u);
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t r;
  do
    r = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return brick_errno(err, "sendmsg");
  return 0;
}

static ssize_t recv_with_fd(int sock, void *buf, size_t len, int *fd) {
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                      .msg_controllen = sizeof u.buf};
  *fd = -1;
  ssize_t r;
  do
    r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r > 0) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(c), sizeof(int));
  }
  return r;
}

int brick_recv_fd(int sock, int *fd, brick_err *err) {
  char buf[4096];
  ssize_t r = recv_with_fd(sock, buf, sizeof buf, fd);
  if (r < 0)
    return brick_errno(err, "recvmsg");
  if (*fd < 0)
    return brick_error(err, 0, "no file descriptor received");
  return 0;
}

int brick_sync_send(int sock, enum brick_sync_kind kind, int32_t value, int fd, brick_err *err) {
  struct brick_sync_msg m = {.kind = kind, .value = value};
  return brick_send_fd(sock, fd, (const char *)&m, sizeof m, err);
}

int brick_sync_send_error(int sock, const brick_err *e) {
  struct brick_sync_msg m = {.kind = SYNC_ERROR, .errnum = e ? e->errnum : 0};
  snprintf(m.text, sizeof m.text, "%s", brick_error_msg(e));
  return brick_send_fd(sock, -1, (const char *)&m, sizeof m, NULL);
}

int brick_sync_recv(int sock, struct brick_sync_msg *msg, int *fd, brick_err *err) {
  int tmp = -1;
  ssize_t r = recv_with_fd(sock, msg, sizeof *msg, &tmp);
  if (fd)
    *fd = tmp;
  else if (tmp >= 0)
    close(tmp);
  if (r < 0)
    return brick_errno(err, "container sync");
  if (r == 0)
    return brick_error(err, 0, "container process exited during setup");
  if ((size_t)r != sizeof *msg)
    return brick_error(err, 0, "container sync: short message");
  msg->text[sizeof msg->text - 1] = '\0';
  if (msg->kind == SYNC_ERROR) {
    brick_error(err, 0, "%s", msg->text);
    if (err)
      err->errnum = msg->errnum;
    return -1;
  }
  return 0;
}

int brick_sync_expect(int sock, enum brick_sync_kind kind, int32_t *value, int *fd,
                      brick_err *err) {
  struct brick_sync_msg m;
  if (brick_sync_recv(sock, &m, fd, err) < 0)
    return -1;
  if (m.kind != kind)
    return brick_error(err, 0, "container sync: expected message %d, got %u", kind, m.kind);
  if (value)
    *value = m.value;
  return 0;
}
