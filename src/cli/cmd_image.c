/* `brick image import|ls|inspect|rm|prune|tag` and the image form of run/create:
 * `brick run [options] IMAGE [CMD...]`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "core/util.h"
#include "image/bundle.h"
#include "image/store.h"
#include "runtime/container.h"
#include "runtime/defaults.h"
#include "trust/image_trust.h"

static int usage_error(const char *what, const char *msg) {
  fprintf(stderr, "brick: %s: %s (see brick %s --help)\n", what, msg, what);
  return 2;
}

static int open_store(const struct brick_global *g, struct brick_store **s, brick_err *err) {
  return brick_store_open(g->store, s, err);
}

static void human_size(uint64_t b, char *buf, size_t n) {
  const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)b;
  size_t i = 0;
  while (v >= 1024 && i < 4) {
    v /= 1024;
    i++;
  }
  snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static json_t *info_json(const struct brick_image_info *in, bool full) {
  json_t *names = json_array();
  for (size_t i = 0; in->names && in->names[i]; i++)
    json_array_append_new(names, json_string(in->names[i]));
  json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:I, s:I}", "id", in->id, "names", names,
                        "digest", in->manifest_digest, "config_digest", in->config_digest,
                        "size", (json_int_t)in->size, "created", (json_int_t)in->created);
  if (!full)
    return o;
  json_t *layers = json_array();
  for (size_t i = 0; in->layer_digests && in->layer_digests[i]; i++)
    json_array_append_new(layers, json_pack("{s:s, s:s, s:s}", "digest", in->layer_digests[i],
                                            "mediaType", in->layer_media_types[i], "path",
                                            in->layer_blobs[i]));
  json_object_set_new(o, "layers", layers);
  if (in->source_transport)
    json_object_set_new(o, "source", json_pack("{s:s, s:s}", "transport", in->source_transport,
                                               "reference", in->source_reference));
  json_object_set_new(o, "rootfs", json_string(in->rootfs));
  json_object_set_new(o, "manifest_path", json_string(in->manifest_path));
  json_object_set(o, "config", in->config);
  return o;
}

static void print_json(json_t *j) {
  char *s = json_dumps(j, JSON_INDENT(2));
  if (s) {
    puts(s);
    free(s);
  }
}

/* ---- image import ---- */

static int image_import(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                       {"platform", required_argument, NULL, 'p'},
                                       {"max-layer-size", required_argument, NULL, 'm'},
                                       {"policy", required_argument, NULL, 'P'},
                                       {"registries-d", required_argument, NULL, 'r'},
                                       {"signature", required_argument, NULL, 's'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  struct brick_import_opts io = {0};
  struct brick_trust_import trust = {0};
  _cleanup_strv_ char **sig_files = NULL;
  bool quiet = false;
  brick_err err = {0};
  int c;
  while ((c = getopt_long(argc, argv, "+n:p:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'n': io.name = optarg; break;
    case 'p': io.platform = optarg; break;
    case 'P': trust.settings.policy_path = optarg; break;
    case 'r': trust.settings.registries_d = optarg; break;
    case 's': brick_strv_push(&sig_files, optarg); break;
    case 'q': quiet = true; break;
    case 'm':
      if (brick_parse_size(optarg, &io.max_layer_bytes, &err) < 0) {
        fprintf(stderr, "brick: image import: --max-layer-size: %s\n", brick_error_msg(&err));
        brick_error_clear(&err);
        return 2;
      }
      break;
    case 'h':
      printf("usage: brick image import [--name NAME] [--platform OS/ARCH[/VARIANT]]\n"
             "                          [--max-layer-size N[kmg]] [--policy FILE]\n"
             "                          [--registries-d DIR] [--signature FILE]... [--quiet] SOURCE\n\n"
             "SOURCE: oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:NAME:TAG|:@N]\n"
             "        | dir:DIR, or a path (a directory with oci-layout or manifest.json, an\n"
             "        OCI archive, or a docker save tar)\n\n"
             "The trust policy (--policy, $BRICK_POLICY, ~/.config/containers/policy.json,\n"
             "/etc/containers/policy.json) must accept the image, with the --signature files,\n"
             "the signature-N files of a dir: image and registries.d's lookaside store for\n"
             "its names. The signatures it accepts are kept with the image: `brick run`\n"
             "checks them again.\n");
      return 0;
    default: return usage_error("image import", "bad option");
    }
  }
  if (optind + 1 != argc)
    return usage_error("image import", "expected exactly one SOURCE");
  io.source = argv[optind];
  io.progress = !quiet && isatty(STDERR_FILENO);
  io.verify = brick_trust_import_verify;
  io.verify_ctx = &trust;
  io.kept = &trust.kept;
  size_t nsf = brick_strv_len(sig_files);
  struct brick_sig_blob *given = xcalloc(nsf + 1, sizeof *given);
  int r = 0;
  for (size_t i = 0; i < nsf && r == 0; i++) {
    char *data = NULL;
    size_t len = 0;
    r = brick_read_file(sig_files[i], &data, &len, &err);
    if (r == 0)
      given[trust.n_given++] = (struct brick_sig_blob){(unsigned char *)data, len};
    else
      brick_error_prefix(&err, "--signature");
  }
  trust.given = given;
  struct brick_store *s = NULL;
  struct brick_image_info info;
  if (r == 0 && (r = open_store(g, &s, &err)) == 0) {
    r = brick_store_import(s, &io, &info, &err);
    brick_store_close(s);
  }
  brick_sig_blobs_free(given, trust.n_given);
  brick_import_kept_clear(&trust.kept);
  if (r < 0)
    return cli_fail(&err);
  printf("%s\n", info.id);
  brick_image_info_clear(&info);
  return 0;
}

/* ---- image ls ---- */

static int image_ls(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  bool json = false, quiet = false;
  int c;
  while ((c = getopt_long(argc, argv, "+f:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (!strcmp(optarg, "json"))
        json = true;
      else if (strcmp(optarg, "table") != 0)
        return usage_error("image ls", "--format: expected table or json");
      break;
    case 'q': quiet = true; break;
    case 'h':
      printf("usage: brick image ls [--format table|json] [--quiet]\n");
      return 0;
    default: return usage_error("image ls", "bad option");
    }
  }
  if (optind != argc)
    return usage_error("image ls", "no arguments expected");
  brick_err err = {0};
  struct brick_store *s = NULL;
  if (open_store(g, &s, &err) < 0)
    return cli_fail(&err);
  struct brick_image_info *list = NULL;
  size_t n = 0;
  int r = brick_store_list(s, &list, &n, &err);
  brick_store_close(s);
  if (r < 0)
    return cli_fail(&err);
  if (json) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
      json_array_append_new(a, info_json(&list[i], false));
    print_json(a);
    json_decref(a);
  } else if (quiet) {
    for (size_t i = 0; i < n; i++)
      printf("%s\n", list[i].id);
  } else {
    printf("%-12s  %-40s  %10s  %s\n", "ID", "NAMES", "SIZE", "CREATED");
    for (size_t i = 0; i < n; i++) {
      char size[32], when[32];
      human_size(list[i].size, size, sizeof size);
      time_t t = (time_t)list[i].created;
      struct tm tm;
      strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
      const char *first = list[i].names && list[i].names[0] ? list[i].names[0] : "<none>";
      printf("%.12s  %-40s  %10s  %s\n", list[i].id, first, size, when);
      for (size_t j = 1; list[i].names && list[i].names[j]; j++)
        printf("%-12s  %-40s\n", "", list[i].names[j]);
    }
  }
  brick_image_info_list_free(list, n);
  return 0;
}

/* ---- inspect / rm / tag / prune ---- */

static int image_inspect(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (c == 'h') {
      printf("usage: brick image inspect IMAGE...\n");
      return 0;
    }
    return usage_error("image inspect", "bad option");
  }
  if (optind >= argc)
    return usage_error("image inspect", "expected IMAGE");
  brick_err err = {0};
  struct brick_store *s = NULL;
  if (open_store(g, &s, &err) < 0)
    return cli_fail(&err);
  json_t *out = json_array();
  int ret = 0;
  for (int i = optind; i < argc; i++) {
    struct brick_image_info info;
    if (brick_store_lookup(s, argv[i], &info, &err) < 0) {
      ret = cli_fail(&err);
      continue;
    }
    json_array_append_new(out, info_json(&info, true));
    brick_image_info_clear(&info);
  }
  brick_store_close(s);
  if (json_array_size(out) == 1 && argc - optind == 1)
    print_json(json_array_get(out, 0));
  else if (json_array_size(out))
    print_json(out);
  json_decref(out);
  return ret;
}

static int image_rm(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
    switch (c) {
    case 'f': force = true; break;
    case 'h':
      printf("usage: brick image rm [--force] IMAGE...\n\n"
             "Removes a name, or the image when it is its last name or given by id.\n"
             "Refused while a container made from the image exists, unless --force.\n");
      return 0;
    default: return usage_error("image rm", "bad option");
    }
  }
  if (optind >= argc)
    return usage_error("image rm", "expected IMAGE");
  brick_err err = {0};
  struct brick_store *s = NULL;
  if (open_store(g, &s, &err) < 0)
    return cli_fail(&err);
  int ret = 0;
  for (int i = optind; i < argc; i++)
    if (brick_store_remove(s, argv[i], force, &err) < 0)
      ret = cli_fail(&err);
  brick_store_close(s);
  return ret;
}

static int image_tag(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (c == 'h') {
      printf("usage: brick image tag IMAGE NAME\n");
      return 0;
    }
    return usage_error("image tag", "bad option");
  }
  if (optind + 2 != argc)
    return usage_error("image tag", "expected IMAGE NAME");
  brick_err err = {0};
  struct brick_store *s = NULL;
  if (open_store(g, &s, &err) < 0)
    return cli_fail(&err);
  int r = brick_store_tag(s, argv[optind], argv[optind + 1], &err);
  brick_store_close(s);
  return r < 0 ? cli_fail(&err) : 0;
}

static int image_prune(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (c == 'h') {
      printf("usage: brick image prune\n\nRemoves blobs and unpacked rootfs no image "
             "references, and abandoned staging directories.\n");
      return 0;
    }
    return usage_error("image prune", "bad option");
  }
  if (optind != argc)
    return usage_error("image prune", "no arguments expected");
  brick_err err = {0};
  struct brick_store *s = NULL;
  if (open_store(g, &s, &err) < 0)
    return cli_fail(&err);
  struct brick_prune_report rep;
  int r = brick_store_prune(s, &rep, &err);
  brick_store_close(s);
  if (r < 0)
    return cli_fail(&err);
  char size[32];
  human_size(rep.bytes, size, sizeof size);
  printf("removed %zu blobs (%s), %zu rootfs, %zu staging directories\n", rep.blobs, size,
         rep.rootfs, rep.tmp);
  return 0;
}

int cmd_image(const struct brick_global *g, int argc, char **argv) {
  static const struct {
    const char *name;
    int (*fn)(const struct brick_global *, int, char **);
    const char *help;
  } subs[] = {
      {"import", image_import, "import an OCI layout, oci-archive or docker-archive"},
      {"ls", image_ls, "list images"},
      {"list", image_ls, NULL},
      {"inspect", image_inspect, "print an image's metadata as JSON"},
      {"rm", image_rm, "remove an image or one of its names"},
      {"tag", image_tag, "add a name to an image"},
      {"prune", image_prune, "remove unreferenced blobs and rootfs"},
  };
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
      !strcmp(argv[1], "help")) {
    FILE *out = argc < 2 ? stderr : stdout;
    fprintf(out, "usage: brick image COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
      if (subs[i].help)
        fprintf(out, "  %-8s %s\n", subs[i].name, subs[i].help);
    fprintf(out, "\nThe store is %s (--store or BRICK_STORE).\n", g->store);
    return argc < 2 ? 2 : 0;
  }
  for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
    if (!strcmp(argv[1], subs[i].name)) {
      optind = 0;
      return subs[i].fn(g, argc - 1, argv + 1);
    }
  }
  fprintf(stderr, "brick: image: unknown command \"%s\" (see brick image --help)\n", argv[1]);
  return 2;
}

/* ---- run / create IMAGE ---- */

enum {
  OPT_RM = 256, OPT_USER, OPT_MEMORY, OPT_PIDS, OPT_READ_ONLY, OPT_NAME, OPT_HOSTNAME,
  OPT_WORKDIR, OPT_ENTRYPOINT
};

static const struct option run_opts[] = {
    {"rm", no_argument, NULL, OPT_RM},
    {"detach", no_argument, NULL, 'd'},
    {"tty", no_argument, NULL, 't'},
    {"interactive", no_argument, NULL, 'i'},
    {"user", required_argument, NULL, 'u'},
    {"env", required_argument, NULL, 'e'},
    {"volume", required_argument, NULL, 'v'},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"pids-limit", required_argument, NULL, OPT_PIDS},
    {"read-only", no_argument, NULL, OPT_READ_ONLY},
    {"name", required_argument, NULL, OPT_NAME},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"workdir", required_argument, NULL, 'w'},
    {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
    {"help", no_argument, NULL, 'h'},
    {0, 0, 0, 0}};

static void run_usage(const char *verb) {
  printf("usage: brick %s [options] IMAGE [CMD...]\n\n"
         "  --rm                  remove the container when it exits (foreground runs always do)\n"
         "  -d, --detach          start and return (output: <store>/containers/ID/output.log)\n"
         "  -t, --tty             allocate a terminal\n"
         "  -i, --interactive     keep stdin open (otherwise it is /dev/null)\n"
         "  -u, --user U[:G]      user (names are looked up in the image)\n"
         "  -e, --env K=V         set an environment variable (K alone: copy from here)\n"
         "  -v, --volume S:D[:ro] bind-mount host path S at D\n"
         "  --memory N[kmg]       memory limit\n"
         "  --pids-limit N        process limit\n"
         "  --read-only           read-only root filesystem\n"
         "  --name NAME           container id (default: 12 random hex digits)\n"
         "  --hostname H, -w/--workdir DIR, --entrypoint CMD\n\n"
         "The OCI form `brick %s [--bundle DIR] ID` is used when --bundle/-b, --pid-file,\n"
         "--console-socket, --no-pivot or --preserve-fds is given, or when the only argument\n"
         "is an id and ./config.json exists.\n",
         verb, verb);
}

int cmd_image_run(const struct brick_global *g, int argc, char **argv, bool create_only) {
  const char *verb = argv[0];
  struct brick_run_opts ro = {0};
  _cleanup_strv_ char **env = NULL;
  _cleanup_strv_ char **vols = NULL;
  bool detach = false, interactive = false, rm = false;
  brick_err err = {0};
  int c;
  while ((c = getopt_long(argc, argv, "+dtiu:e:v:w:h", run_opts, NULL)) != -1) {
    switch (c) {
    case OPT_RM: rm = true; break;
    case 'd': detach = true; break;
    case 't': ro.tty = true; break;
    case 'i': interactive = true; break;
    case 'u': ro.user = optarg; break;
    case 'e': brick_strv_push(&env, optarg); break;
    case 'v': brick_strv_push(&vols, optarg); break;
    case 'w': ro.workdir = optarg; break;
    case OPT_MEMORY:
      if (brick_parse_size(optarg, &ro.memory, &err) < 0 || ro.memory == 0) {
        fprintf(stderr, "brick: %s: --memory: %s\n", verb,
                err.msg ? brick_error_msg(&err) : "must be positive");
        brick_error_clear(&err);
        return 2;
      }
      break;
    case OPT_PIDS: {
      char *end;
      errno = 0;
      long long v = strtoll(optarg, &end, 10);
      if (errno || *end || v == 0 || v < -1)
        return usage_error(verb, "--pids-limit: expected a positive number (or -1)");
      ro.pids_limit = v;
      break;
    }
    case OPT_READ_ONLY: ro.read_only = true; break;
    case OPT_NAME: ro.id = optarg; break;
    case OPT_HOSTNAME: ro.hostname = optarg; break;
    case OPT_ENTRYPOINT: ro.entrypoint = optarg; break;
    case 'h': run_usage(verb); return 0;
    default: return usage_error(verb, "bad option");
    }
  }
  if (optind >= argc)
    return usage_error(verb, "expected IMAGE");
  const char *image = argv[optind];
  ro.cmd = argv + optind + 1;
  ro.env = env;
  ro.volumes = vols;
  _cleanup_free_ char *rid = ro.id ? NULL : brick_random_id();
  if (!ro.id)
    ro.id = rid;
  if (rm && (detach || create_only))
    fprintf(stderr, "brick: warning: --rm with %s: the container is removed by `brick delete`\n",
            create_only ? "create" : "--detach");

  struct brick_store *s = NULL;
  if (open_store(g, &s, &err) < 0)
    return cli_fail(&err);
  struct brick_image_info img;
  if (brick_store_lookup(s, image, &img, &err) < 0) {
    brick_store_close(s);
    return cli_fail(&err);
  }
  struct brick_trust_settings trust = {0};
  if (brick_trust_check_start(s, &img, &trust, &err) < 0) {
    brick_image_info_clear(&img);
    brick_store_close(s);
    return cli_fail(&err);
  }
  json_t *base = brick_default_config(geteuid() != 0);
  if (!base) {
    brick_image_info_clear(&img);
    brick_store_close(s);
    fprintf(stderr, "brick: %s: cannot build the default configuration\n", verb);
    return 1;
  }
  _cleanup_free_ char *bundle = NULL;
  int r = brick_bundle_create(s, &img, base, &ro, &bundle, &err);
  json_decref(base);
  brick_image_info_clear(&img);
  brick_store_close(s);
  if (r < 0)
    return cli_fail(&err);

  struct brick_create_opts co = {
      .state_root = g->root,
      .id = ro.id,
      .bundle = bundle,
      .systemd_cgroup = g->systemd_cgroup,
  };
  int status = 0;
  if (create_only) {
    r = brick_container_create(&co, &err);
  } else {
    if (!interactive) {
      int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        if (dup2(fd, STDIN_FILENO) < 0)
          fprintf(stderr, "brick: warning: cannot detach stdin\n");
        close(fd);
      }
    }
    /* A detached container must not hold the caller's stdout/stderr open (a pipe would
     * never see EOF): its output goes to <bundle>/output.log instead. */
    int saved_out = -1, saved_err = -1;
    if (detach && !ro.tty) {
      _cleanup_free_ char *log = xasprintf("%s/output.log", bundle);
      _cleanup_close_ int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                                     0600);
      fflush(stdout);
      fflush(stderr);
      saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
      saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
      if (lfd < 0 || saved_out < 0 || saved_err < 0 || dup2(lfd, STDOUT_FILENO) < 0 ||
          dup2(lfd, STDERR_FILENO) < 0)
        fprintf(stderr, "brick: warning: cannot redirect the container's output to %s\n", log);
    }
    r = brick_container_run(&co, detach, &status, &err);
    if (saved_out >= 0) {
      (void)dup2(saved_out, STDOUT_FILENO);
      close(saved_out);
    }
    if (saved_err >= 0) {
      (void)dup2(saved_err, STDERR_FILENO);
      close(saved_err);
    }
  }
  if (r < 0) {
    int ret = cli_fail(&err);
    /* the runtime owns the bundle once the container exists; otherwise clean up here */
    brick_err derr = {0};
    if (brick_container_delete(g->root, ro.id, true, &derr) < 0)
      brick_error_clear(&derr);
    struct stat st;
    if (stat(bundle, &st) == 0 && brick_bundle_destroy(bundle, &derr) < 0)
      cli_fail(&derr);
    return ret;
  }
  if (create_only || detach) {
    printf("%s\n", ro.id);
    return 0;
  }
  return status;
}

/* The rule that tells the two forms of run/create apart (engines must never be
 * misread):
 *   OCI form   — any of --bundle/-b, --pid-file, --console-socket, --no-pivot,
 *                --preserve-fds is present; or there is exactly one positional argument
 *                and ./config.json exists in the current directory.
 *   image form — otherwise, when the first positional argument names an image in the
 *                store (by name or id).
 * Anything else stays the OCI form, whose own errors then apply. */
bool cli_is_image_run(const struct brick_global *g, int argc, char **argv) {
  const char *first = cli_run_form_image_candidate(argc, argv);
  if (!first)
    return false;
  struct stat st;
  /* only look: never create a store just to answer this */
  if (stat(g->store, &st) < 0)
    return false;
  brick_err err = {0};
  struct brick_store *s = NULL;
  if (brick_store_open(g->store, &s, &err) < 0) {
    brick_error_clear(&err);
    return false;
  }
  struct brick_image_info info;
  bool found = brick_store_lookup(s, first, &info, &err) == 0;
  if (found)
    brick_image_info_clear(&info);
  brick_error_clear(&err);
  brick_store_close(s);
  return found;
}
