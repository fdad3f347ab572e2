/* The OCI verbs with runc's flags and output, because engines parse them. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/cgroup/cgroup.h"
#include "../lib/core/log.h"
#include "../lib/core/util.h"
#include "../lib/runtime/container.h"
#include "../lib/runtime/defaults.h"
#include "../lib/runtime/exec.h"
#include "../lib/runtime/ops.h"
#include "../lib/seccomp/seccomp.h"
#include "cli.h"

static int usage_error(const char *verb, const char *msg) {
  fprintf(stderr, "brick %s: %s (see brick %s --help)\n", verb, msg, verb);
  return 2;
}

static bool want_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--"))
      break;
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
      return true;
  }
  return false;
}

/* ---- create / run --------------------------------------------------------------- */

static int parse_create(const struct brick_global *g, int argc, char **argv, bool run,
                        struct brick_create_opts *o, bool *detach) {
  enum { OPT_CONSOLE = 256, OPT_PIDFILE, OPT_NOPIVOT, OPT_NOKEYRING, OPT_PRESERVE, OPT_KEEP };
  static const struct option opts[] = {
      {"bundle", required_argument, NULL, 'b'},
      {"console-socket", required_argument, NULL, OPT_CONSOLE},
      {"pid-file", required_argument, NULL, OPT_PIDFILE},
      {"no-pivot", no_argument, NULL, OPT_NOPIVOT},
      {"no-new-keyring", no_argument, NULL, OPT_NOKEYRING},
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
      {"detach", no_argument, NULL, 'd'},
      {"keep", no_argument, NULL, OPT_KEEP},
      {"help", no_argument, NULL, 'h'},
      {0, 0, 0, 0}};
  *o = (struct brick_create_opts){.state_root = g->root, .systemd_cgroup = g->systemd_cgroup};
  int c;
  while ((c = getopt_long(argc, argv, run ? "+b:dh" : "+b:h", opts, NULL)) != -1) {
    switch (c) {
    case 'b': o->bundle = optarg; break;
    case OPT_CONSOLE: o->console_socket = optarg; break;
    case OPT_PIDFILE: o->pid_file = optarg; break;
    case OPT_NOPIVOT: o->no_pivot = true; break;
    case OPT_NOKEYRING: o->no_new_keyring = true; break;
    case OPT_PRESERVE: {
      char *end;
      long n = strtol(optarg, &end, 10);
      if (*end || n < 0 || n > 65536)
        return usage_error(argv[0], "--preserve-fds: expected a number");
      o->preserve_fds = (int)n;
      break;
    }
    case 'd': if (detach) *detach = true; break;
    case OPT_KEEP: break;
    case 'h':
      printf("usage: brick %s [options] CONTAINER-ID\n"
             "       brick %s [options] IMAGE [COMMAND...]   (see brick image --help)\n\n"
             "  -b, --bundle DIR         bundle directory (default: current directory)\n"
             "      --console-socket S   unix socket that receives the pty master\n"
             "      --pid-file FILE      write the container init's pid\n"
             "      --no-pivot           use MS_MOVE+chroot instead of pivot_root\n"
             "      --no-new-keyring     keep the caller's session keyring\n"
             "      --preserve-fds N     pass N extra fds (from fd 3)\n%s",
             argv[0], argv[0], run ? "  -d, --detach             do not wait for the container\n" : "");
      return -1;
    default: return 2;
    }
  }
  if (optind != argc - 1)
    return usage_error(argv[0], "expected exactly one container id");
  o->id = argv[optind];
  return 0;
}

int cmd_create(const struct brick_global *g, int argc, char **argv) {
  if (!want_help(argc, argv) && cli_is_image_run(g, argc, argv))
    return cmd_image_run(g, argc, argv, true);
  struct brick_create_opts o;
  int r = parse_create(g, argc, argv, false, &o, NULL);
  if (r)
    return r < 0 ? 0 : r;
  brick_err err = {0};
  if (brick_container_create(&o, &err) < 0)
    return cli_fail(&err);
  return 0;
}

int cmd_run(const struct brick_global *g, int argc, char **argv) {
  if (!want_help(argc, argv) && cli_is_image_run(g, argc, argv))
    return cmd_image_run(g, argc, argv, false);
  struct brick_create_opts o;
  bool detach = false;
  int r = parse_create(g, argc, argv, true, &o, &detach);
  if (r)
    return r < 0 ? 0 : r;
  brick_err err = {0};
  int status = 0;
  if (brick_container_run(&o, detach, &status, &err) < 0)
    return cli_fail(&err);
  return status;
}

/* ---- verbs on one container ----------------------------------------------------- */

/* Parse "[-h] ID" for verbs with no options of their own. */
static const char *single_id(int argc, char **argv, const char *help) {
  if (want_help(argc, argv)) {
    printf("usage: brick %s CONTAINER-ID\n\n%s\n", argv[0], help);
    return NULL;
  }
  if (argc != 2) {
    usage_error(argv[0], "expected exactly one container id");
    return NULL;
  }
  return argv[1];
}

int cmd_start(const struct brick_global *g, int argc, char **argv) {
  const char *id = single_id(argc, argv, "Start a created container.");
  if (!id)
    return want_help(argc, argv) ? 0 : 2;
  brick_err err = {0};
  return brick_container_start(g->root, id, &err) < 0 ? cli_fail(&err) : 0;
}

int cmd_state(const struct brick_global *g, int argc, char **argv) {
  const char *id = single_id(argc, argv, "Print the runtime-spec state of a container.");
  if (!id)
    return want_help(argc, argv) ? 0 : 2;
  brick_err err = {0};
  json_t *st = NULL;
  if (brick_container_state(g->root, id, &st, &err) < 0)
    return cli_fail(&err);
  json_dumpf(st, stdout, JSON_INDENT(2));
  putchar('\n');
  json_decref(st);
  return 0;
}

int cmd_pause(const struct brick_global *g, int argc, char **argv) {
  const char *id = single_id(argc, argv, "Freeze every process of a container.");
  if (!id)
    return want_help(argc, argv) ? 0 : 2;
  brick_err err = {0};
  return brick_container_pause(g->root, id, true, &err) < 0 ? cli_fail(&err) : 0;
}

int cmd_resume(const struct brick_global *g, int argc, char **argv) {
  const char *id = single_id(argc, argv, "Thaw a paused container.");
  if (!id)
    return want_help(argc, argv) ? 0 : 2;
  brick_err err = {0};
  return brick_container_pause(g->root, id, false, &err) < 0 ? cli_fail(&err) : 0;
}

static int parse_signal(const char *s) {
  char *end;
  long n = strtol(s, &end, 10);
  if (*s && *end == '\0')
    return (n > 0 && n <= SIGRTMAX) ? (int)n : -1;
  if (!strncasecmp(s, "SIG", 3))
    s += 3;
  for (int i = 1; i < SIGRTMIN; i++) {
    const char *abbr = sigabbrev_np(i);
    if (abbr && !strcasecmp(abbr, s))
      return i;
  }
  if (!strncasecmp(s, "RTMIN", 5)) {
    long k = s[5] ? strtol(s + 5, &end, 10) : 0;
    if ((!s[5] || *end == '\0') && SIGRTMIN + k <= SIGRTMAX && k >= 0)
      return SIGRTMIN + (int)k;
  }
  if (!strncasecmp(s, "RTMAX", 5)) {
    long k = s[5] ? strtol(s + 5, &end, 10) : 0;
    if ((!s[5] || *end == '\0') && SIGRTMAX + k >= SIGRTMIN && k <= 0)
      return SIGRTMAX + (int)k;
  }
  return -1;
}

int cmd_kill(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  bool all = false;
  int c;
  while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
    if (c == 'a')
      all = true;
    else if (c == 'h') {
      printf("usage: brick kill [--all] CONTAINER-ID [SIGNAL]\n\n"
             "SIGNAL is a name (TERM, SIGTERM) or a number; default SIGTERM.\n"
             "  -a, --all   signal every process in the container's cgroup\n");
      return 0;
    } else
      return 2;
  }
  int n = argc - optind;
  if (n < 1 || n > 2)
    return usage_error("kill", "expected CONTAINER-ID [SIGNAL]");
  int sig = SIGTERM;
  if (n == 2 && (sig = parse_signal(argv[optind + 1])) < 0) {
    fprintf(stderr, "brick: kill: unknown signal \"%s\"\n", argv[optind + 1]);
    return 2;
  }
  brick_err err = {0};
  return brick_container_kill(g->root, argv[optind], sig, all, &err) < 0 ? cli_fail(&err) : 0;
}

int cmd_delete(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
    if (c == 'f')
      force = true;
    else if (c == 'h') {
      printf("usage: brick delete [--force] CONTAINER-ID...\n\n"
             "  -f, --force   kill a running container first\n");
      return 0;
    } else
      return 2;
  }
  if (optind >= argc)
    return usage_error("delete", "expected a container id");
  int ret = 0;
  for (int i = optind; i < argc; i++) {
    brick_err err = {0};
    if (brick_container_delete(g->root, argv[i], force, &err) < 0) {
      /* --force on a container that is already gone succeeds, as with runc. */
      if (force && strstr(brick_error_msg(&err), "does not exist")) {
        brick_error_clear(&err);
        continue;
      }
      ret = cli_fail(&err);
    }
  }
  return ret;
}

/* ---- list / ps ------------------------------------------------------------------ */

static int parse_format(const char *s, bool *json) {
  if (!strcmp(s, "json"))
    *json = true;
  else if (!strcmp(s, "table"))
    *json = false;
  else
    return -1;
  return 0;
}

int cmd_list(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  bool json = false, quiet = false;
  int c;
  while ((c = getopt_long(argc, argv, "+f:qh", opts, NULL)) != -1) {
    if (c == 'f') {
      if (parse_format(optarg, &json) < 0)
        return usage_error("list", "--format: expected table or json");
    } else if (c == 'q')
      quiet = true;
    else if (c == 'h') {
      printf("usage: brick list [--format table|json] [--quiet]\n");
      return 0;
    } else
      return 2;
  }
  brick_err err = {0};
  _cleanup_strv_ char **ids = NULL;
  if (brick_container_list(g->root, &ids, &err) < 0)
    return cli_fail(&err);
  json_t *arr = json_array();
  if (!json && !quiet)
    printf("%-24s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  for (char **id = ids; *id; id++) {
    json_t *st = NULL;
    if (brick_container_state(g->root, *id, &st, NULL) < 0)
      continue;
    if (quiet)
      printf("%s\n", *id);
    else if (json)
      json_array_append(arr, st);
    else
      printf("%-24s %-8lld %-10s %-40s %-30s %s\n", *id,
             (long long)json_integer_value(json_object_get(st, "pid")),
             json_string_value(json_object_get(st, "status")),
             json_string_value(json_object_get(st, "bundle")),
             json_string_value(json_object_get(st, "created")),
             json_string_value(json_object_get(st, "owner")));
    json_decref(st);
  }
  if (json && !quiet) {
    /* runc prints "null" for no containers; engines accept both, an array is clearer. */
    json_dumpf(arr, stdout, JSON_COMPACT);
    putchar('\n');
  }
  json_decref(arr);
  return 0;
}

int cmd_ps(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  bool json = false;
  int c;
  while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
    if (c == 'f') {
      if (parse_format(optarg, &json) < 0)
        return usage_error("ps", "--format: expected table or json");
    } else if (c == 'h') {
      printf("usage: brick ps [--format table|json] CONTAINER-ID [ps options]\n");
      return 0;
    } else
      return 2;
  }
  if (optind >= argc)
    return usage_error("ps", "expected a container id");
  brick_err err = {0};
  pid_t *pids = NULL;
  size_t n = 0;
  if (brick_container_pids(g->root, argv[optind], &pids, &n, &err) < 0)
    return cli_fail(&err);
  if (json) {
    printf("[");
    for (size_t i = 0; i < n; i++)
      printf("%s%d", i ? "," : "", (int)pids[i]);
    printf("]\n");
    free(pids);
    return 0;
  }
  /* Table form: the system ps, filtered to our pids, as runc does. */
  fflush(stdout);
  char **args = xcalloc((size_t)(argc - optind) + 4, sizeof *args);
  size_t k = 0;
  args[k++] = "ps";
  if (argc - optind > 1)
    for (int i = optind + 1; i < argc; i++)
      args[k++] = argv[i];
  else
    args[k++] = "-ef";
  args[k] = NULL;
  int pfd[2];
  if (pipe(pfd) < 0) {
    free(pids);
    free(args);
    return 1;
  }
  pid_t child = fork();
  if (child == 0) {
    dup2(pfd[1], STDOUT_FILENO);
    close(pfd[0]);
    execvp("ps", args);
    _exit(127);
  }
  close(pfd[1]);
  FILE *f = fdopen(pfd[0], "r");
  char line[4096];
  int pid_col = -1;
  bool first = true;
  while (f && fgets(line, sizeof line, f)) {
    if (first) {
      first = false;
      fputs(line, stdout);
      _cleanup_free_ char *copy = xstrdup(line);
      int col = 0;
      for (char *s = NULL, *t = strtok_r(copy, " \t\n", &s); t; t = strtok_r(NULL, " \t\n", &s), col++)
        if (!strcmp(t, "PID"))
          pid_col = col;
      continue;
    }
    _cleanup_free_ char *copy = xstrdup(line);
    int col = 0;
    long pid = -1;
    for (char *s = NULL, *t = strtok_r(copy, " \t\n", &s); t; t = strtok_r(NULL, " \t\n", &s), col++)
      if (col == pid_col)
        pid = strtol(t, NULL, 10);
    for (size_t i = 0; i < n; i++)
      if (pids[i] == pid)
        fputs(line, stdout);
  }
  if (f)
    fclose(f);
  waitpid(child, NULL, 0);
  free(pids);
  free(args);
  return 0;
}

/* ---- spec / features ------------------------------------------------------------ */

int cmd_spec(const struct brick_global *g, int argc, char **argv) {
  (void)g;
  enum { OPT_ROOTLESS = 256 };
  static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
                                       {"rootless", no_argument, NULL, OPT_ROOTLESS},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  const char *bundle = ".";
  bool rootless = false;
  int c;
  while ((c = getopt_long(argc, argv, "+b:h", opts, NULL)) != -1) {
    if (c == 'b')
      bundle = optarg;
    else if (c == OPT_ROOTLESS)
      rootless = true;
    else if (c == 'h') {
      printf("usage: brick spec [--bundle DIR] [--rootless]\n\n"
             "Write a config.json with brick's secure defaults: every namespace incl. user\n"
             "(a private id range per container), podman's 11 capabilities at most,\n"
             "no_new_privs, read-only and masked kernel paths, a device allowlist, the\n"
             "default seccomp profile, Landlock, a pids limit, a read-only root.\n");
      return 0;
    } else
      return 2;
  }
  _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
  if (access(path, F_OK) == 0) {
    fprintf(stderr, "brick: spec: %s already exists\n", path);
    return 1;
  }
  json_t *cfg = brick_default_config(rootless);
  int r = json_dump_file(cfg, path, JSON_INDENT(2));
  json_decref(cfg);
  if (r < 0) {
    fprintf(stderr, "brick: spec: cannot write %s: %s\n", path, strerror(errno));
    return 1;
  }
  return 0;
}

int cmd_features(const struct brick_global *g, int argc, char **argv) {
  (void)g;
  if (want_help(argc, argv)) {
    printf("usage: brick features\n\nPrint runtime-spec features.json.\n");
    return 0;
  }
  json_t *f = brick_runtime_features();
  json_dumpf(f, stdout, JSON_INDENT(2));
  putchar('\n');
  json_decref(f);
  return 0;
}

/* ---- exec / update / events ----------------------------------------------------- */

int cmd_exec(const struct brick_global *g, int argc, char **argv) {
  struct brick_exec_opts o;
  int r = brick_exec_parse_args(g->root, argc, argv, &o);
  if (r)
    return r < 0 ? 0 : r;
  brick_err err = {0};
  int status = 0;
  if (brick_container_exec(&o, &status, &err) < 0) {
    brick_exec_opts_clear(&o);
    return cli_fail(&err);
  }
  brick_exec_opts_clear(&o);
  return status;
}

