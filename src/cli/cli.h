/* The CLI is a thin layer: parse flags, call the library, print, pick an exit code.
 * Each area owns one cmd_<area>.c file. */
#ifndef BRICK_CLI_H
#define BRICK_CLI_H

#include <stdbool.h>

struct brick_global {
  const char *root;          /* --root: state directory, default /run/brick */
  const char *log_path;      /* --log */
  bool log_json;             /* --log-format json */
  bool debug;                /* --debug */
  bool systemd_cgroup;       /* --systemd-cgroup */
  const char *store;         /* image store, default /var/lib/brick (BRICK_STORE overrides) */
};

/* Report a library error the way engines read it (--log/--log-format, and stderr), clear
 * it, and return exit code 1. */
struct brick_err;
int cli_fail(struct brick_err *err);

typedef int (*brick_cmd_fn)(const struct brick_global *g, int argc, char **argv);

/* OCI verbs (cmd_oci.c). argv[0] is the verb name. */
int cmd_create(const struct brick_global *g, int argc, char **argv);
int cmd_start(const struct brick_global *g, int argc, char **argv);
int cmd_run(const struct brick_global *g, int argc, char **argv);
int cmd_exec(const struct brick_global *g, int argc, char **argv);
int cmd_state(const struct brick_global *g, int argc, char **argv);
int cmd_kill(const struct brick_global *g, int argc, char **argv);
int cmd_delete(const struct brick_global *g, int argc, char **argv);
int cmd_list(const struct brick_global *g, int argc, char **argv);
int cmd_ps(const struct brick_global *g, int argc, char **argv);
int cmd_pause(const struct brick_global *g, int argc, char **argv);
int cmd_resume(const struct brick_global *g, int argc, char **argv);
int cmd_update(const struct brick_global *g, int argc, char **argv);
int cmd_events(const struct brick_global *g, int argc, char **argv);
int cmd_spec(const struct brick_global *g, int argc, char **argv);
int cmd_features(const struct brick_global *g, int argc, char **argv);

/* Images (cmd_image.c): `brick image import|ls|inspect|rm|prune|tag`, and the
 * image form of run/create: `brick run [opts] IMAGE [CMD...]`. */
int cmd_image(const struct brick_global *g, int argc, char **argv);
int cmd_image_run(const struct brick_global *g, int argc, char **argv, bool create_only);
/* True when `run`/`create` argv is the image form rather than the OCI bundle form. */
bool cli_is_image_run(const struct brick_global *g, int argc, char **argv);
/* The arguments alone (run_form.c): the first positional when the image form is
 * possible, NULL when they are the OCI form whatever the store holds. */
const char *cli_run_form_image_candidate(int argc, char **argv);

/* brick itself links only the runtime's libraries; the other verbs run in brick-tools
 * (tools_exec.c, built into brick only), which gets the original command line. */
void cli_save_argv(int argc, char **argv);

/* Scanning (cmd_scan.c): `brick scan ...`, `brick db import ...`. */
int cmd_scan(const struct brick_global *g, int argc, char **argv);
int cmd_db(const struct brick_global *g, int argc, char **argv);

/* Trust (cmd_trust.c): `brick sign`, `brick verify`, `brick key generate`, `brick policy show`. */
int cmd_sign(const struct brick_global *g, int argc, char **argv);
int cmd_verify(const struct brick_global *g, int argc, char **argv);
int cmd_key(const struct brick_global *g, int argc, char **argv);
int cmd_policy(const struct brick_global *g, int argc, char **argv);

/* Audit (cmd_check.c): `brick check host|config|image`. */
int cmd_check(const struct brick_global *g, int argc, char **argv);

#endif
