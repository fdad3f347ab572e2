/* `brick check host|config|image`: audits of the host, a container config and an
 * image. Thin over src/lib/check: parse flags, run the audit, print, pick the exit
 * code (0, or 1 when --fail-on LEVEL is given and a finding reaches it). */
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/check.h"
#include "cli.h"
#include "core/util.h"

#ifdef BRICK_CHECK_HAVE_STORE
#include "image/store.h"
#endif
#ifdef BRICK_CHECK_HAVE_SCAN
#include "scan/scan.h"
#endif

struct output_opts {
  bool json;
  bool fail_on_set;
  enum brick_check_level fail_on;
  enum brick_check_level min_level;
};

static void usage(FILE *out) {
  fputs("usage: brick check host [--root-dir DIR] [--store DIR] [--runtime PATH] [--containers N]\n"
        "       brick check config FILE|BUNDLE|ID\n"
        "       brick check image [--config FILE] [--scan-summary FILE] IMAGE|ROOTFS_DIR\n"
        "\n"
        "Audit the host, an OCI config or an image for what weakens container separation.\n"
        "\n"
        "common options:\n"
        "  --format text|json    output format (default text)\n"
        "  --fail-on LEVEL       exit 1 if a finding is at LEVEL or worse\n"
        "                        (ok, info, warn, high, critical; default: always exit 0)\n"
        "  --min-level LEVEL     show only findings at LEVEL or worse (text output)\n"
        "host options:\n"
        "  --root-dir DIR        read /proc, /sys and /etc under DIR (default /)\n"
        "  --store DIR           image store to probe for idmapped mounts\n"
        "  --runtime PATH        runtime binary to check (default: this brick)\n"
        "  --containers N        size the id pool check for N containers (default 1)\n"
        "image options:\n"
        "  --config FILE         image config JSON (for a ROOTFS_DIR)\n"
        "  --scan-summary FILE   vulnerability summary JSON {\"critical\":n,\"high\":n,...}\n",
        out);
}

enum {
  OPT_FORMAT = 256, OPT_FAIL_ON, OPT_MIN_LEVEL, OPT_ROOT_DIR, OPT_STORE, OPT_RUNTIME,
  OPT_CONTAINERS, OPT_CONFIG, OPT_SCAN_SUMMARY,
};

static const struct option long_opts[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"min-level", required_argument, NULL, OPT_MIN_LEVEL},
    {"root-dir", required_argument, NULL, OPT_ROOT_DIR},
    {"store", required_argument, NULL, OPT_STORE},
    {"runtime", required_argument, NULL, OPT_RUNTIME},
    {"containers", required_argument, NULL, OPT_CONTAINERS},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"scan-summary", required_argument, NULL, OPT_SCAN_SUMMARY},
    {"help", no_argument, NULL, 'h'},
    {0, 0, 0, 0}};

static int emit(const struct brick_check_report *r, const struct output_opts *o) {
  if (o->json) {
    _cleanup_json_ json_t *doc = brick_check_report_to_json(r);
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!s) {
      fputs("brick: check: cannot serialise the report\n", stderr);
      return 1;
    }
    puts(s);
    free(s);
  } else {
    brick_check_report_print(r, stdout, isatty(STDOUT_FILENO), o->min_level);
  }
  if (fflush(stdout) != 0) {
    perror("brick: check: stdout");
    return 1;
  }
  if (o->fail_on_set && brick_check_report_worst(r) >= o->fail_on)
    return 1;
  return 0;
}

static int load_json_file(const char *flag, const char *path, json_t **out, brick_err *err) {
  json_error_t jerr;
  *out = json_load_file(path, 0, &jerr);
  if (!*out)
    return brick_error(err, 0, "%s %s:%d:%d: %s", flag, path, jerr.line, jerr.column, jerr.text);
  return 0;
}

static int check_config(const struct brick_global *g, const char *arg, const struct output_opts *o) {
  brick_err err = {0};
  _cleanup_free_ char *path = NULL;
  struct stat st;
  if (stat(arg, &st) == 0)
    path = S_ISDIR(st.st_mode) ? xasprintf("%s/config.json", arg) : xstrdup(arg);
  else if (!strchr(arg, '/'))
    path = brick_check_config_path_for_id(g->root, arg, &err);
  else
    brick_errno(&err, "%s", arg);
  if (!path)
    return cli_fail(&err);
  struct brick_check_report *r = brick_check_config_file(path, &err);
  if (!r)
    return cli_fail(&err);
  int rc = emit(r, o);
  brick_check_report_free(r);
  return rc;
}

#ifdef BRICK_CHECK_HAVE_SCAN
static json_t *scan_summary_json(const struct brick_scan_summary *s) {
  return json_pack("{s:I,s:I,s:I,s:I}", "critical", (json_int_t)s->counts[BRICK_SEV_CRITICAL],
                   "high", (json_int_t)s->counts[BRICK_SEV_HIGH], "medium",
                   (json_int_t)s->counts[BRICK_SEV_MEDIUM], "low",
                   (json_int_t)s->counts[BRICK_SEV_LOW]);
}
#endif

static int check_image(const struct brick_global *g, const char *arg, const char *config_path,
                       const char *summary_path, const struct output_opts *o) {
  brick_err err = {0};
  _cleanup_json_ json_t *config = NULL;
  _cleanup_json_ json_t *summary = NULL;
  if (config_path && load_json_file("--config", config_path, &config, &err) < 0)
    return cli_fail(&err);
  if (summary_path && load_json_file("--scan-summary", summary_path, &summary, &err) < 0)
    return cli_fail(&err);

  struct brick_image_check_opts opts = {.rootfs = arg, .image_config = config,
                                        .scan_summary = summary};
  struct stat st;
  bool is_dir = stat(arg, &st) == 0 && S_ISDIR(st.st_mode);
#ifdef BRICK_CHECK_HAVE_STORE
  struct brick_image_info info = {0};
  struct brick_store *store = NULL;
  if (!is_dir) {
    if (brick_store_open(g->store, &store, &err) < 0)
      return cli_fail(&err);
    if (brick_store_lookup(store, arg, &info, &err) < 0) {
      brick_store_close(store);
      return cli_fail(&err);
    }
    opts.rootfs = info.rootfs;
    if (!config)
      opts.image_config = info.config;
#ifdef BRICK_CHECK_HAVE_SCAN
    struct brick_scan_summary s = {0};
    if (!summary && brick_scan_last_summary(g->store, info.id, &s, NULL) == 0)
      summary = scan_summary_json(&s);
    opts.scan_summary = summary;
#endif
  }
#else
  (void)g;
  if (!is_dir) {
    fprintf(stderr, "brick: check: %s: not a root filesystem directory (this build cannot "
                    "look images up in the store)\n", arg);
    return 1;
  }
#endif
  struct brick_check_report *r = brick_check_image(&opts, &err);
#ifdef BRICK_CHECK_HAVE_STORE
  if (store) {
    /* Report the image by name, not by its store path. */
    if (r) {
      free(r->subject);
      r->subject = xstrdup(arg);
    }
    brick_image_info_clear(&info);
    brick_store_close(store);
  }
#endif
  if (!r)
    return cli_fail(&err);
  int rc = emit(r, o);
  brick_check_report_free(r);
  return rc;
}

int cmd_check(const struct brick_global *g, int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *sub = argv[1];
  if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
    usage(stdout);
    return 0;
  }
  if (strcmp(sub, "host") && strcmp(sub, "config") && strcmp(sub, "image")) {
    fprintf(stderr, "brick: check: unknown subcommand \"%s\" (host, config or image)\n", sub);
    return 2;
  }
  struct output_opts o = {.min_level = BRICK_CHECK_OK};
  struct brick_host_opts host = {.store_dir = g->store, .state_dir = g->root};
  const char *config_path = NULL, *summary_path = NULL;
  optind = 0;
  int c;
  while ((c = getopt_long(argc - 1, argv + 1, "h", long_opts, NULL)) != -1) {
    switch (c) {
    case OPT_FORMAT:
      if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
        fprintf(stderr, "brick: check: --format: expected text or json, got \"%s\"\n", optarg);
        return 2;
      }
      o.json = !strcmp(optarg, "json");
      break;
    case OPT_FAIL_ON:
    case OPT_MIN_LEVEL: {
      enum brick_check_level l;
      if (brick_check_level_from_name(optarg, &l) < 0) {
        fprintf(stderr, "brick: check: --%s: unknown level \"%s\" (ok, info, warn, high, "
                        "critical)\n", c == OPT_FAIL_ON ? "fail-on" : "min-level", optarg);
        return 2;
      }
      if (c == OPT_FAIL_ON) {
        o.fail_on = l;
        o.fail_on_set = true;
      } else {
        o.min_level = l;
      }
      break;
    }
    case OPT_ROOT_DIR: host.root_dir = optarg; break;
    case OPT_STORE: host.store_dir = optarg; break;
    case OPT_RUNTIME: host.runtime_path = optarg; break;
    case OPT_CONTAINERS: {
      char *end;
      unsigned long n = strtoul(optarg, &end, 10);
      if (!*optarg || *end || n == 0 || n > 1000000) {
        fprintf(stderr, "brick: check: --containers: expected a number 1..1000000, got \"%s\"\n",
                optarg);
        return 2;
      }
      host.containers = (unsigned)n;
      break;
    }
    case OPT_CONFIG: config_path = optarg; break;
    case OPT_SCAN_SUMMARY: summary_path = optarg; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  char **args = argv + 1 + optind;
  int nargs = argc - 1 - optind;
  bool host_only = host.root_dir || host.runtime_path || host.containers;
  bool image_only = config_path || summary_path;
  if ((host_only && strcmp(sub, "host")) || (image_only && strcmp(sub, "image"))) {
    fprintf(stderr, "brick: check %s: option not valid for this subcommand (see --help)\n", sub);
    return 2;
  }

  if (!strcmp(sub, "host")) {
    if (nargs != 0) {
      fprintf(stderr, "brick: check host: unexpected argument \"%s\"\n", args[0]);
      return 2;
    }
    brick_err err = {0};
    struct brick_check_report *r = brick_check_host(&host, &err);
    if (!r)
      return cli_fail(&err);
    int rc = emit(r, &o);
    brick_check_report_free(r);
    return rc;
  }
  if (nargs != 1) {
    fprintf(stderr, "brick: check %s: expected exactly one %s\n", sub,
            !strcmp(sub, "config") ? "FILE, bundle directory or container ID"
                                   : "IMAGE or ROOTFS_DIR");
    return 2;
  }
  if (!strcmp(sub, "config"))
    return check_config(g, args[0], &o);
  return check_image(g, args[0], config_path, summary_path, &o);
}
