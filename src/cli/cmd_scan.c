/* `brick scan` and `brick db`: thin over src/lib/scan. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/core/util.h"
#include "../lib/scan/scan.h"
#include "cli.h"

static char *default_db(const struct brick_global *g, const char *flag) {
  if (flag)
    return xstrdup(flag);
  const char *env = getenv("BRICK_VULNDB");
  if (env && *env)
    return xstrdup(env);
  return xasprintf("%s/vulndb.sqlite", g->store);
}

/* ---- brick db ----------------------------------------------------------------------- */

static void progress_bar(void *ctx, size_t done, size_t total) {
  (void)ctx;
  if (!total)
    return;
  int pct = (int)(done * 100 / total);
  if (pct > 100)
    pct = 100;
  int fill = pct * 30 / 100;
  fprintf(stderr, "\rimporting [%.*s%*s] %3d%%", fill, "##############################",
          30 - fill, "", pct);
  fflush(stderr);
}

static void db_usage(FILE *out) {
  fputs("usage: brick db import [--db PATH] SOURCE...\n"
        "       brick db info [--db PATH]\n\n"
        "Import OSV vulnerability records into the local index (default <store>/vulndb.sqlite,\n"
        "or $BRICK_VULNDB). SOURCE is a directory of *.json, a .zip of them, a JSON file\n"
        "(one record or an array) or JSON lines. A record replaces the stored one with the\n"
        "same id only when its `modified` time is newer.\n\n"
        "  --db PATH       the index to write\n"
        "  --no-progress   no progress bar (default: shown on a terminal)\n",
        out);
}

int cmd_db(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                       {"no-progress", no_argument, NULL, 'P'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  const char *db_flag = NULL;
  bool progress = isatty(STDERR_FILENO);
  int c;
  /* `brick db import --db X ...`: skip the sub-verb for getopt */
  if (argc < 2) {
    db_usage(stderr);
    return 2;
  }
  const char *sub = argv[1];
  if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
    db_usage(stdout);
    return 0;
  }
  argc--, argv++;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': db_flag = optarg; break;
    case 'P': progress = false; break;
    case 'h': db_usage(stdout); return 0;
    default: db_usage(stderr); return 2;
    }
  }
  _cleanup_free_ char *path = default_db(g, db_flag);
  brick_err err = {0};
  if (!strcmp(sub, "info")) {
    struct brick_vulndb *db = NULL;
    if (brick_vulndb_open(path, false, &db, &err) < 0)
      return cli_fail(&err);
    printf("%s: %zu records\n", path, brick_vulndb_count(db));
    brick_vulndb_close(db);
    return 0;
  }
  if (strcmp(sub, "import")) {
    fprintf(stderr, "brick: db: unknown subcommand \"%s\" (import, info)\n", sub);
    return 2;
  }
  if (optind >= argc) {
    fputs("brick: db import: no SOURCE given\n", stderr);
    return 2;
  }
  _cleanup_free_ char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    if (brick_mkdir_p(dir, 0755, &err) < 0)
      return cli_fail(&err);
  }
  struct brick_vulndb *db = NULL;
  if (brick_vulndb_open(path, true, &db, &err) < 0)
    return cli_fail(&err);
  struct brick_import_stats st;
  int r = brick_vulndb_import(db, argv + optind, (size_t)(argc - optind),
                              progress ? progress_bar : NULL, NULL, &st, &err);
  if (progress)
    fputc('\n', stderr);
  size_t total = r == 0 ? brick_vulndb_count(db) : 0;
  brick_vulndb_close(db);
  if (r < 0)
    return cli_fail(&err);
  printf("imported %zu of %zu records (%zu skipped: older or no supported ecosystem); %zu in %s\n",
         st.stored, st.records, st.skipped, total, path);
  return 0;
}

/* ---- brick scan --------------------------------------------------------------------- */

static void scan_usage(FILE *out) {
  fputs("usage: brick scan [options] ROOTFS_DIR|IMAGE\n"
        "       brick scan [options] --container ID | --host | --all\n"
        "       brick scan --package NAME | --vuln ID   (which images and containers carry it)\n\n"
        "  --db PATH             vulnerability index (default <store>/vulndb.sqlite, $BRICK_VULNDB)\n"
        "  --format FORMAT       table (default), json, sarif, cyclonedx\n"
        "  --no-color            no colours in the table\n"
        "  --ignore-unfixed      leave out vulnerabilities without a fixed version\n"
        "  --ignore-file FILE    accepted risks: JSON, or lines \"ID [package] [until=YYYY-MM-DD] # reason\"\n"
        "  --show-ignored        list ignored findings in the table too\n"
        "  --fail-on SEVERITY    exit non-zero when a finding is at least SEVERITY\n"
        "  --exit-code N         the exit code for such findings (default 1 with --fail-on)\n"
        "  --container ID        scan a container's rootfs (state in --root)\n"
        "  --host                scan this host's /\n"
        "  --all                 every image in the store and every container\n"
        "  --package NAME        fleet: where is package NAME installed\n"
        "  --vuln ID             fleet: which targets are affected by ID (CVE or advisory)\n",
        out);
}

enum target_kind { T_DIR, T_IMAGE, T_CONTAINER };

struct scan_cli {
  const struct brick_global *g;
  char *db_path;
  const char *format;
  bool color, ignore_unfixed, show_ignored;
  struct brick_ignore ignore;
  int exit_code;
  int fail_on;  /* -1 = none */
};

static int vercmp_filter(const char *eco) {
  int kind = brick_pkg_kind_parse(eco);
  if (kind < 0) {
    fprintf(stderr, "brick: scan vercmp: unknown ecosystem \"%s\" (dpkg, rpm, apk)\n", eco);
    return 2;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) > 0) {
    char *save = NULL;
    char *a = strtok_r(line, " \t\n", &save), *b = strtok_r(NULL, " \t\n", &save);
    if (!a || !b) {
      puts("?");
      continue;
    }
    int r = brick_vercmp((enum brick_pkg_kind)kind, a, b);
    printf("%d\n", r < 0 ? -1 : r > 0);
  }
  free(line);
  return 0;
}

static int add_dir_target(struct brick_scan_result **res, size_t *n, const char *dir,
                          const char *name, brick_err *err) {
  *res = xrealloc(*res, (*n + 1) * sizeof **res);
  struct brick_scan_result *x = &(*res)[*n];
  memset(x, 0, sizeof *x);
  x->target = xstrdup(name);
  (*n)++;
  return brick_inventory_rootfs(dir, &x->inv, err);
}

static int add_container(struct brick_scan_result **res, size_t *n, const char *root,
                         const char *id, brick_err *err) {
  _cleanup_free_ char *rootfs = NULL;
  if (brick_scan_container_rootfs(root, id, &rootfs, err) < 0)
    return -1;
  _cleanup_free_ char *name = xasprintf("container %s", id);
  return add_dir_target(res, n, rootfs, name, err);
}

static int add_all(struct brick_scan_result **res, size_t *n, const struct brick_global *g,
                   brick_err *err) {
  struct stat st;
  if (stat(g->store, &st) == 0 && brick_scan_load_all_images(g->store, res, n, err) < 0)
    return -1;
  _cleanup_strv_ char **ids = NULL;
  if (brick_scan_list_containers(g->root, &ids, err) < 0)
    return -1;
  for (size_t i = 0; ids && ids[i]; i++) {
    brick_err e = {0};
    /* a container that went away between listing and reading is not an error */
    if (add_container(res, n, g->root, ids[i], &e) < 0) {
      if (e.errnum != ENOENT) {
        *err = e;
        return -1;
      }
      brick_error_clear(&e);
      brick_scan_result_free(&(*res)[--(*n)]);
    }
  }
  return 0;
}

static void free_results(struct brick_scan_result *res, size_t n) {
  for (size_t i = 0; i < n; i++)
    brick_scan_result_free(&res[i]);
  free(res);
}

static int write_stdout(const char *buf, size_t n, void *ctx) {
  (void)ctx;
  return fwrite_unlocked(buf, 1, n, stdout) == n ? 0 : -1;
}

/* jansson's own file writer takes the stdio lock per token; a scan report has hundreds
 * of thousands of them. stdout is fully buffered in 1 MiB blocks (cmd_scan). */
static int print_json(json_t *j) {
  if (!j)
    return -1;
  int r = json_dump_callback(j, write_stdout, NULL, JSON_INDENT(2) | JSON_SORT_KEYS);
  json_decref(j);
  if (fputc('\n', stdout) == EOF)
    r = -1;
  return r;
}

static int fleet_package(struct brick_scan_result *res, size_t n, const char *name,
                         const char *format) {
  json_t *rows = json_array();
  size_t copies = 0, targets = 0;
  for (size_t i = 0; i < n; i++) {
    bool hit = false;
    for (size_t p = 0; p < res[i].inv.n_pkgs; p++) {
      const struct brick_package *k = &res[i].inv.pkgs[p];
      if (strcmp(k->name, name) && strcmp(k->source, name))
        continue;
      copies++;
      hit = true;
      json_array_append_new(
          rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "target", res[i].target, "kind",
                          res[i].image_id ? "image" : "container", "package", k->name,
                          "version", k->version, "type", brick_pkg_kind_name(k->kind),
                          "image_id", res[i].image_id));
    }
    targets += hit;
  }
  if (!strcmp(format, "json")) {
    json_t *doc = json_pack("{s:s, s:I, s:I, s:o}", "package", name, "copies",
                            (json_int_t)copies, "targets", (json_int_t)targets, "found", rows);
    return print_json(doc) < 0;
  }
  size_t i;
  json_t *x;
  if (copies)
    printf("%-40s  %-9s  %-30s  %s\n", "TARGET", "KIND", "PACKAGE", "VERSION");
  json_array_foreach(rows, i, x)
    printf("%-40s  %-9s  %-30s  %s\n", json_string_value(json_object_get(x, "target")),
           json_string_value(json_object_get(x, "kind")),
           json_string_value(json_object_get(x, "package")),
           json_string_value(json_object_get(x, "version")));
  printf("%s: %zu cop%s in %zu of %zu targets\n", name, copies, copies == 1 ? "y" : "ies",
         targets, n);
  json_decref(rows);
  return 0;
}

static bool finding_is(const struct brick_finding *f, const char *id) {
  if (!strcasecmp(f->vuln_id, id))
    return true;
  for (size_t a = 0; f->aliases && f->aliases[a]; a++)
    if (!strcasecmp(f->aliases[a], id))
      return true;
  return false;
}

static int fleet_vuln(struct brick_scan_result *res, size_t n, const char *id,
                      const char *format) {
  json_t *rows = json_array();
  size_t targets = 0, copies = 0;
  for (size_t i = 0; i < n; i++) {
    bool hit = false;
    for (size_t k = 0; k < res[i].n_findings; k++) {
      const struct brick_finding *f = &res[i].findings[k];
      if (!finding_is(f, id))
        continue;
      hit = true;
      copies++;
      json_array_append_new(
          rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:b}", "target", res[i].target,
                          "kind", res[i].image_id ? "image" : "container", "vulnerability",
                          f->vuln_id, "package", f->pkg_name, "installed", f->installed,
                          "fixed", f->fixed, "severity", brick_severity_name(f->severity),
                          "ignored", f->ignored));
    }
    targets += hit;
  }
  if (!strcmp(format, "json"))
    return print_json(json_pack("{s:s, s:I, s:I, s:o}", "vulnerability", id, "copies",
                                (json_int_t)copies, "targets", (json_int_t)targets, "found",
                                rows)) < 0;
  size_t i;
  json_t *x;
  if (copies)
    printf("%-40s  %-9s  %-20s  %-24s  %-24s  %s\n", "TARGET", "KIND", "VULNERABILITY",
           "PACKAGE", "INSTALLED", "FIXED");
  json_array_foreach(rows, i, x) {
    const char *fixed = json_string_value(json_object_get(x, "fixed"));
    printf("%-40s  %-9s  %-20s  %-24s  %-24s  %s\n",
           json_string_value(json_object_get(x, "target")),
           json_string_value(json_object_get(x, "kind")),
           json_string_value(json_object_get(x, "vulnerability")),
           json_string_value(json_object_get(x, "package")),
           json_string_value(json_object_get(x, "installed")), fixed ? fixed : "-");
  }
  printf("%s: %zu affected package%s in %zu of %zu targets\n", id, copies,
         copies == 1 ? "" : "s", targets, n);
  json_decref(rows);
  return 0;
}

int cmd_scan(const struct brick_global *g, int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "vercmp"))
    return vercmp_filter(argv[2]);
  enum { O_DB = 256, O_FORMAT, O_NOCOLOR, O_IGN_UNFIXED, O_IGN_FILE, O_SHOW_IGN, O_FAIL_ON,
         O_EXIT, O_CONTAINER, O_HOST, O_ALL, O_PACKAGE, O_VULN };
  static const struct option opts[] = {
      {"db", required_argument, NULL, O_DB},
      {"format", required_argument, NULL, O_FORMAT},
      {"no-color", no_argument, NULL, O_NOCOLOR},
      {"ignore-unfixed", no_argument, NULL, O_IGN_UNFIXED},
      {"ignore-file", required_argument, NULL, O_IGN_FILE},
      {"show-ignored", no_argument, NULL, O_SHOW_IGN},
      {"fail-on", required_argument, NULL, O_FAIL_ON},
      {"exit-code", required_argument, NULL, O_EXIT},
      {"container", required_argument, NULL, O_CONTAINER},
      {"host", no_argument, NULL, O_HOST},
      {"all", no_argument, NULL, O_ALL},
      {"package", required_argument, NULL, O_PACKAGE},
      {"vuln", required_argument, NULL, O_VULN},
      {"help", no_argument, NULL, 'h'},
      {0, 0, 0, 0}};
  struct scan_cli o = {.g = g, .format = "table", .color = isatty(STDOUT_FILENO),
                       .exit_code = -1, .fail_on = -1};
  const char *db_flag = NULL, *ignore_file = NULL, *container = NULL, *package = NULL,
             *vuln = NULL;
  bool host = false, all = false;
  brick_err err = {0};
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_DB: db_flag = optarg; break;
    case O_FORMAT:
      if (strcmp(optarg, "table") && strcmp(optarg, "json") && strcmp(optarg, "sarif") &&
          strcmp(optarg, "cyclonedx")) {
        fprintf(stderr, "brick: scan: --format: expected table, json, sarif or cyclonedx, got \"%s\"\n",
                optarg);
        return 2;
      }
      o.format = optarg;
      break;
    case O_NOCOLOR: o.color = false; break;
    case O_IGN_UNFIXED: o.ignore_unfixed = true; break;
    case O_IGN_FILE: ignore_file = optarg; break;
    case O_SHOW_IGN: o.show_ignored = true; break;
    case O_FAIL_ON: {
      enum brick_severity s = brick_severity_parse(optarg);
      if (s == BRICK_SEV_UNKNOWN && strcasecmp(optarg, "unknown")) {
        fprintf(stderr, "brick: scan: --fail-on: expected LOW, MEDIUM, HIGH or CRITICAL, got \"%s\"\n",
                optarg);
        return 2;
      }
      o.fail_on = (int)s;
      break;
    }
    case O_EXIT: {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 0 || v > 255) {
        fprintf(stderr, "brick: scan: --exit-code: expected 0..255, got \"%s\"\n", optarg);
        return 2;
      }
      o.exit_code = (int)v;
      break;
    }
    case O_CONTAINER: container = optarg; break;
    case O_HOST: host = true; break;
    case O_ALL: all = true; break;
    case O_PACKAGE: package = optarg; break;
    case O_VULN: vuln = optarg; break;
    case 'h': scan_usage(stdout); return 0;
    default: scan_usage(stderr); return 2;
    }
  }
  int positional = argc - optind;
  int modes = (positional > 0) + (container != NULL) + host + (all || package || vuln);
  if (modes != 1 || positional > 1) {
    fputs("brick: scan: give exactly one target: ROOTFS_DIR|IMAGE, --container, --host, --all "
          "(or --package/--vuln)\n",
          stderr);
    return 2;
  }
  if (ignore_file && brick_ignore_load(ignore_file, &o.ignore, &err) < 0)
    return cli_fail(&err);
  /* reports are large: write them in few, big blocks (before any output) */
  static char out_buffer[1 << 20];
  setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);

  struct brick_scan_result *res = NULL;
  size_t n = 0;
  int rc = 0;
  if (positional) {
    const char *t = argv[optind];
    struct stat st;
    if (stat(t, &st) == 0 && S_ISDIR(st.st_mode)) {
      rc = add_dir_target(&res, &n, t, t, &err);
    } else {
      res = xcalloc(1, sizeof *res);
      rc = brick_scan_load_image(g->store, t, res, &err);
      if (rc == 0)
        n = 1;
      else if (err.errnum == ENOENT)
        brick_error_prefix(&err, "%s is neither a directory nor an image in %s", t, g->store);
    }
  } else if (container) {
    rc = add_container(&res, &n, g->root, container, &err);
  } else if (host) {
    rc = add_dir_target(&res, &n, "/", "host", &err);
  } else {
    rc = add_all(&res, &n, g, &err);
  }
  if (rc < 0) {
    free_results(res, n);
    brick_ignore_free(&o.ignore);
    return cli_fail(&err);
  }

  /* --package needs no vulnerability data */
  if (package && !vuln) {
    int r = fleet_package(res, n, package, o.format);
    free_results(res, n);
    brick_ignore_free(&o.ignore);
    return r;
  }

  o.db_path = default_db(g, db_flag);
  struct brick_vulndb *db = NULL;
  if (brick_vulndb_open(o.db_path, false, &db, &err) < 0) {
    free(o.db_path);
    free_results(res, n);
    brick_ignore_free(&o.ignore);
    return cli_fail(&err);
  }
  /* table and JSON reports are written target by target, each target's findings freed
   * once written: a fleet's findings never all sit in memory. The other formats (and
   * --vuln) gather across targets. */
  bool stream = !vuln && (!strcmp(o.format, "table") || !strcmp(o.format, "json"));
  bool json_stream = stream && !strcmp(o.format, "json");
  struct brick_report_opts ro = {.color = o.color, .show_ignored = o.show_ignored};
  struct brick_json_stream js;
  int threshold = o.fail_on >= 0 ? o.fail_on : BRICK_SEV_UNKNOWN;
  bool gate = o.fail_on >= 0 || o.exit_code >= 0, hit = false, write_failed = false;
  if (json_stream && brick_report_json_begin(&js, stdout) < 0)
    write_failed = true;
  struct brick_match_opts mo = {.ignore_unfixed = false, .ignore = &o.ignore};
  for (size_t i = 0; i < n && rc == 0; i++) {
    rc = brick_scan_match(db, &res[i], &mo, &err);
    if (rc == 0 && res[i].image_id) {
      struct brick_scan_summary sum;
      brick_scan_summarize(&res[i], &sum);
      brick_err e = {0};
      if (brick_scan_cache_save(g->store, res[i].image_id, NULL, &sum, &e) < 0)
        brick_error_clear(&e); /* the gate then sees the older scan; the scan itself stands */
    }
    if (rc == 0 && o.ignore_unfixed)
      brick_scan_drop_unfixed(&res[i]);
    if (rc < 0 || !stream)
      continue;
    for (size_t k = 0; gate && k < res[i].n_findings && !hit; k++)
      hit = !res[i].findings[k].ignored && (int)res[i].findings[k].severity >= threshold;
    if (json_stream ? brick_report_json_add(&js, &res[i]) < 0
                    : brick_report_table(stdout, &res[i], 1, &ro, &err) < 0)
      write_failed = true;
    brick_scan_result_free(&res[i]);
  }
  if (json_stream && rc == 0 && brick_report_json_end(&js) < 0)
    write_failed = true;
  brick_vulndb_close(db);
  free(o.db_path);
  if (rc < 0) {
    free_results(res, n);
    brick_ignore_free(&o.ignore);
    return cli_fail(&err);
  }

  int exit_status = 0;
  if (stream) {
    if (write_failed) {
      brick_error_clear(&err);
      fputs("brick: scan: cannot write the report\n", stderr);
      exit_status = 1;
    }
  } else if (vuln) {
    exit_status = fleet_vuln(res, n, vuln, o.format);
  } else {
    json_t *doc = !strcmp(o.format, "sarif") ? brick_report_sarif(res, n)
                                             : brick_report_cyclonedx(res, n);
    if (print_json(doc) < 0) {
      fputs("brick: scan: cannot write the report\n", stderr);
      exit_status = 1;
    }
  }
  if (exit_status == 0 && gate) {
    for (size_t i = 0; i < n && !hit; i++)
      for (size_t k = 0; k < res[i].n_findings && !hit; k++)
        hit = !res[i].findings[k].ignored && (int)res[i].findings[k].severity >= threshold;
    if (hit)
      exit_status = o.exit_code >= 0 ? o.exit_code : 1;
  }
  fflush(stdout);
  free_results(res, n);
  brick_ignore_free(&o.ignore);
  return exit_status;
}
