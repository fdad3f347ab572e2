/* The OCI lifecycle as a library: what the CLI verbs and `brick run IMAGE` call. */
#ifndef BRICK_CONTAINER_H
#define BRICK_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/error.h"

struct brick_create_opts {
  const char *state_root;      /* --root (default /run/brick) */
  const char *id;
  const char *bundle;          /* directory holding config.json; NULL = cwd */
  const char *config_path;     /* NULL = <bundle>/config.json */
  const char *pid_file;
  const char *console_socket;
  bool no_pivot;
  bool no_new_keyring;
  bool systemd_cgroup;
  int preserve_fds;            /* fds 3..3+n-1 are passed to the container process */
};

/* create: everything up to the point where the container process waits to exec. */
int brick_container_create(const struct brick_create_opts *o, brick_err *err);
/* create with a console socket already connected (console_fd, or -1 to use
 * o->console_socket); *init_pid gets the container init's pid. */
int brick_container_create_ex(const struct brick_create_opts *o, int console_fd, pid_t *init_pid,
                              brick_err *err);
int brick_container_start(const char *state_root, const char *id, brick_err *err);
/* run in the foreground: create + start + wait; *exit_status is the shell-style code
 * (128+N for signal N). With detach, returns after start. Deletes the container on exit
 * when not detached. */
int brick_container_run(const struct brick_create_opts *o, bool detach, int *exit_status,
                        brick_err *err);
int brick_container_delete(const char *state_root, const char *id, bool force, brick_err *err);
int brick_container_kill(const char *state_root, const char *id, int sig, bool all,
                         brick_err *err);
/* runtime-spec state JSON: ociVersion, id, status, pid, bundle, annotations (+ created, owner). */
int brick_container_state(const char *state_root, const char *id, json_t **out, brick_err *err);
/* Ids of all containers under state_root (sorted). */
int brick_container_list(const char *state_root, char ***ids, brick_err *err);

#endif
