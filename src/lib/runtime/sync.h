/* The parent and the container init talk over a socketpair in fixed-size messages, so
 * every step of create is acknowledged and an error inside the container reaches the
 * caller as text instead of a bare exit status. Fds travel with SCM_RIGHTS. */
#ifndef BRICK_SYNC_H
#define BRICK_SYNC_H

#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

enum brick_sync_kind {
  SYNC_UNSHARED = 1,   /* child: namespaces created, write my id maps */
  SYNC_MAPPED,         /* parent: maps written */
  SYNC_INIT_PID,       /* child: the container init's pid (value) */
  SYNC_IDMAP_REQUEST,  /* init: send me the idmapped rootfs mount */
  SYNC_IDMAP_FD,       /* parent: here it is (fd attached, or value=0 for none) */
  SYNC_PRE_PIVOT,      /* init: mounts done, run createRuntime/prestart hooks now */
  SYNC_CONTINUE,       /* parent: go on */
  SYNC_READY,          /* init: waiting for start on exec.fifo */
  SYNC_SECCOMP_FD,     /* init/exec: SCMP_ACT_NOTIFY listener attached, for listenerPath;
                          answered with SYNC_CONTINUE once the agent has it */
  SYNC_ERROR,          /* either side: text follows in the message */
};

struct brick_sync_msg {
  uint32_t kind;
  int32_t value;
  int32_t errnum;
  char text[2048];
};

int brick_sync_send(int sock, enum brick_sync_kind kind, int32_t value, int fd, brick_err *err);
int brick_sync_send_error(int sock, const brick_err *e);
/* Receive one message; *fd gets an attached fd or -1. A SYNC_ERROR is turned into err. */
int brick_sync_recv(int sock, struct brick_sync_msg *msg, int *fd, brick_err *err);
/* Receive and require a kind. */
int brick_sync_expect(int sock, enum brick_sync_kind kind, int32_t *value, int *fd, brick_err *err);

/* SCM_RIGHTS on any unix socket (console socket, seccomp listener). */
int brick_send_fd(int sock, int fd, const char *payload, size_t len, brick_err *err);
int brick_recv_fd(int sock, int *fd, brick_err *err);

#endif
