/* `exec`: a new process inside a running container. It joins every namespace and the
 * cgroup of the container's init and gets the same seccomp filter, capabilities, LSM
 * label and Landlock rules as the init unless the process JSON says otherwise. */
#ifndef BRICK_EXEC_H
#define BRICK_EXEC_H

#include <stdbool.h>

#include "core/error.h"
#include "spec/spec.h"

struct brick_exec_opts {
  const char *state_root;
  const char *id;
  const char *process_file;   /* --process */
  char **args;                /* positional command (NULL with --process) */
  char **env;                 /* --env, appended */
  const char *cwd;
  const char *user;           /* "uid[:gid]" */
  char **caps;                /* --cap, added */
  char **additional_gids;     /* --additional-gids */
  bool tty, detach, no_new_privs, ignore_paused;
  const char *console_socket;
  const char *pid_file;
  const char *process_label;
  const char *apparmor;
  int preserve_fds;
};

/* Parse runc's exec flags (argv[0] = "exec"). 0 ok, 2 usage error, -1 after --help. */
int brick_exec_parse_args(const char *state_root, int argc, char **argv, struct brick_exec_opts *o);
void brick_exec_opts_clear(struct brick_exec_opts *o);
/* Foreground: *exit_status is the process's status (128+N for a signal). */
int brick_container_exec(const struct brick_exec_opts *o, int *exit_status, brick_err *err);

/* Shared with run: reap as a subreaper, forward signals, proxy a pty master. */
int brick_supervise(pid_t pid, int master, int *exit_status, brick_err *err);

#endif
