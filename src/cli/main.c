/* brick: OCI runtime and image-trust toolkit. Global flags come before the verb, as
 * with runc and crun (engines call `brick --root R --log L --log-format json VERB ...`). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/core/error.h"
#include "../lib/core/log.h"
#include "cli.h"

struct verb {
  const char *name;
  brick_cmd_fn fn;
  const char *help;
};

static const struct verb verbs[] = {
    {"create", cmd_create, "create a container from a bundle (or an image)"},
    {"start", cmd_start, "start a created container"},
    {"run", cmd_run, "create and start a container (bundle or image)"},
    {"exec", cmd_exec, "run a process in a running container"},
    {"state", cmd_state, "print the state of a container"},
    {"kill", cmd_kill, "send a signal to a container's init (or all processes)"},
    {"delete", cmd_delete, "delete a container and everything it holds"},
    {"list", cmd_list, "list containers"},
    {"ps", cmd_ps, "list the processes of a container"},
    {"pause", cmd_pause, "freeze every process of a container"},
    {"resume", cmd_resume, "thaw a paused container"},
    {"update", cmd_update, "change a container's resource limits"},
    {"events", cmd_events, "print container events and resource statistics"},
    {"spec", cmd_spec, "write a secure default config.json"},
    {"features", cmd_features, "print the runtime's features (runtime-spec features.json)"},
    {"image", cmd_image, "import, list, inspect, tag and remove images"},
    {"scan", cmd_scan, "inventory packages and match them against vulnerability data"},
    {"db", cmd_db, "import vulnerability data (OSV)"},
    {"sign", cmd_sign, "sign an image (simple signing or key signature)"},
    {"verify", cmd_verify, "verify an image's signatures"},
    {"key", cmd_key, "generate signing keys"},
    {"policy", cmd_policy, "explain the trust policy that applies to an image"},
    {"check", cmd_check, "audit the host, a container config or an image"},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: brick [global options] COMMAND [options] [args]\n\n"
          "global options:\n"
          "  --root DIR            state directory (default /run/brick)\n"
          "  --log FILE            write logs to FILE\n"
          "  --log-format FORMAT   text or json\n"
          "  --debug               verbose logs\n"
          "  --systemd-cgroup      place cgroups through systemd (slice:prefix:name)\n"
          "  --version, --help\n\ncommands:\n");
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].help);
}

int main(int argc, char **argv) {
#ifdef BRICK_CLI_OCI_ONLY
  cli_save_argv(argc, argv);
#endif
  struct brick_global g = {.root = "/run/brick", .store = "/var/lib/brick"};
  const char *env_store = getenv("BRICK_STORE");
  if (env_store && *env_store)
    g.store = env_store;
  const char *env_root = getenv("BRICK_ROOT");
  if (env_root && *env_root)
    g.root = env_root;

  enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD, OPT_ROOTLESS,
         OPT_CRIU, OPT_STORE };
  static const struct option opts[] = {
      {"root", required_argument, NULL, OPT_ROOT},
      {"log", required_argument, NULL, OPT_LOG},
      {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
      {"debug", no_argument, NULL, OPT_DEBUG},
      {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
      {"rootless", required_argument, NULL, OPT_ROOTLESS},
      {"criu", required_argument, NULL, OPT_CRIU},
      {"store", required_argument, NULL, OPT_STORE},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'v'},
      {0, 0, 0, 0}};
  /* '+': stop at the verb; its own flags belong to it. */
  int c;
  while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
    switch (c) {
    case OPT_ROOT: g.root = optarg; break;
    case OPT_LOG: g.log_path = optarg; break;
    case OPT_LOG_FORMAT:
      if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
        fprintf(stderr, "brick: --log-format: expected text or json, got \"%s\"\n", optarg);
        return 2;
      }
      g.log_json = !strcmp(optarg, "json");
      break;
    case OPT_DEBUG: g.debug = true; break;
    case OPT_SYSTEMD: g.systemd_cgroup = true; break;
    case OPT_ROOTLESS: case OPT_CRIU: break;  /* accepted for runc compatibility */
    case OPT_STORE: g.store = optarg; break;
    case 'h': usage(stdout); return 0;
    case 'v':
      printf("brick version %s\nspec: 1.3.0\n", BRICK_VERSION);
      return 0;
    default: usage(stderr); return 2;
    }
  }
  if (brick_log_init(g.log_path, g.log_json, g.debug) < 0) {
    fprintf(stderr, "brick: --log %s: cannot open\n", g.log_path);
    return 1;
  }
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  int verb_index = optind;
  const char *verb = argv[verb_index];
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
    if (strcmp(verbs[i].name, verb) == 0) {
      optind = 0; /* full getopt reinitialisation for the verb's own flags (argv[0] = verb) */
      return verbs[i].fn(&g, argc - verb_index, argv + verb_index);
    }
  }
  if (!strcmp(verb, "help")) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "brick: unknown command \"%s\" (see brick --help)\n", verb);
  return 2;
}
