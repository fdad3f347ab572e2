/* Per-container state under --root: <root>/<id>/state.json (written atomically),
 * <root>/<id>/exec.fifo while the container waits for `start`, and a lock file so that
 * concurrent calls on one id are serialised. The status is derived, never stored alone:
 * a stored pid means nothing once that process is gone or the pid was reused, so the
 * process start time is kept beside it. */
#ifndef BRICK_STATE_H
#define BRICK_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

enum brick_status { BRICK_CREATING, BRICK_CREATED, BRICK_RUNNING, BRICK_PAUSED, BRICK_STOPPED };

struct brick_state {
  char *id;
  char *dir;              /* <root>/<id> */
  pid_t pid;              /* container init, host pid namespace; 0 before it exists */
  uint64_t pid_start;     /* /proc/<pid>/stat starttime, guards against pid reuse */
  char *bundle;
  char *rootfs;           /* absolute host path */
  char *config_path;
  char *cgroup_path;      /* as resolved by the cgroup module, NULL if none */
  char *created;          /* RFC 3339 */
  char *owner;
  bool started;           /* start has run (exec.fifo consumed) */
  bool systemd_cgroup;
  bool owned_bundle;      /* bundle made by `brick run IMAGE`: removed on delete */
  char *mcs_level;        /* allocated SELinux MCS level, NULL if none */
  uint32_t userns_base;   /* allocated host id range start (0 = none) */
  uint32_t hook_kinds;    /* bit per hook kind the config has (start and delete skip
                             re-reading config.json without one); all bits if unknown */
  json_t *annotations;    /* object, may be NULL */
};

/* Validate an id as runc does: [A-Za-z0-9_+.-]+, no "." or "..". */
int brick_state_check_id(const char *id, brick_err *err);
char *brick_state_dir(const char *root, const char *id);
/* Take the per-container lock (blocking, exclusive). Returns the fd or -1. */
int brick_state_lock(const char *root, const char *id, brick_err *err);
/* Remove the lock file; only while holding the lock, once the container is gone. */
void brick_state_lock_remove(const char *root, const char *id);
/* mkdir <root>/<id>; EEXIST gives "container \"id\" already exists". */
int brick_state_create_dir(const char *root, const char *id, brick_err *err);
int brick_state_save(const struct brick_state *st, brick_err *err);
/* ENOENT gives "container \"id\" does not exist". */
int brick_state_load(const char *root, const char *id, struct brick_state *st, brick_err *err);
void brick_state_clear(struct brick_state *st);
enum brick_status brick_state_status(const struct brick_state *st);
const char *brick_status_name(enum brick_status s);
/* The runtime-spec state document (what `state` prints and hooks get on stdin). */
json_t *brick_state_to_oci(const struct brick_state *st, enum brick_status status);
/* starttime field of /proc/<pid>/stat, 0 if the process is gone. */
uint64_t brick_proc_start_time(pid_t pid);
/* True when pid is alive (not a zombie) and started at start_time. */
bool brick_proc_alive(pid_t pid, uint64_t start_time);

#endif
