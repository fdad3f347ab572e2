/* `update` and `events`: runc's flags mapped onto a linux.resources document. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/core/log.h"
#include "../lib/core/util.h"
#include "../lib/runtime/ops.h"
#include "cli.h"

/* "512m", "1g", "-1", "1024" → bytes (runc's units are binary). */
static int parse_bytes(const char *s, json_int_t *out) {
  char *end;
  long long v = strtoll(s, &end, 10);
  if (end == s)
    return -1;
  long long mult = 1;
  switch (*end) {
  case '\0': break;
  case 'k': case 'K': mult = 1LL << 10; end++; break;
  case 'm': case 'M': mult = 1LL << 20; end++; break;
  case 'g': case 'G': mult = 1LL << 30; end++; break;
  default: return -1;
  }
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end)
    return -1;
  *out = v < 0 ? v : v * mult;
  return 0;
}

static json_t *section(json_t *res, const char *name) {
  json_t *o = json_object_get(res, name);
  if (!o) {
    o = json_object();
    json_object_set_new(res, name, o);
  }
  return o;
}

int cmd_update(const struct brick_global *g, int argc, char **argv) {
  enum { O_MEM = 256, O_MEMRES, O_MEMSWAP, O_KMEM, O_KMEMTCP, O_SHARES, O_QUOTA, O_PERIOD,
         O_RTRT, O_RTPER, O_CPUSET, O_MEMS, O_PIDS, O_BLKIO, O_IDLE, O_BURST };
  static const struct option opts[] = {
      {"resources", required_argument, NULL, 'r'},
      {"memory", required_argument, NULL, O_MEM},
      {"memory-reservation", required_argument, NULL, O_MEMRES},
      {"memory-swap", required_argument, NULL, O_MEMSWAP},
      {"kernel-memory", required_argument, NULL, O_KMEM},
      {"kernel-memory-tcp", required_argument, NULL, O_KMEMTCP},
      {"cpu-shares", required_argument, NULL, O_SHARES},
      {"cpu-quota", required_argument, NULL, O_QUOTA},
      {"cpu-period", required_argument, NULL, O_PERIOD},
      {"cpu-rt-runtime", required_argument, NULL, O_RTRT},
      {"cpu-rt-period", required_argument, NULL, O_RTPER},
      {"cpuset-cpus", required_argument, NULL, O_CPUSET},
      {"cpuset-mems", required_argument, NULL, O_MEMS},
      {"pids-limit", required_argument, NULL, O_PIDS},
      {"blkio-weight", required_argument, NULL, O_BLKIO},
      {"cpu-idle", required_argument, NULL, O_IDLE},
      {"cpu-burst", required_argument, NULL, O_BURST},
      {"help", no_argument, NULL, 'h'},
      {0, 0, 0, 0}};
  _cleanup_json_ json_t *res = json_object();
  const char *file = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
    json_int_t v = 0;
    const char *key = NULL, *sect = NULL;
    bool bytes = false, str = false;
    switch (c) {
    case 'r': file = optarg; continue;
    case O_MEM: sect = "memory"; key = "limit"; bytes = true; break;
    case O_MEMRES: sect = "memory"; key = "reservation"; bytes = true; break;
    case O_MEMSWAP: sect = "memory"; key = "swap"; bytes = true; break;
    case O_KMEM: sect = "memory"; key = "kernel"; bytes = true; break;
    case O_KMEMTCP: sect = "memory"; key = "kernelTCP"; bytes = true; break;
    case O_SHARES: sect = "cpu"; key = "shares"; break;
    case O_QUOTA: sect = "cpu"; key = "quota"; break;
    case O_PERIOD: sect = "cpu"; key = "period"; break;
    case O_RTRT: sect = "cpu"; key = "realtimeRuntime"; break;
    case O_RTPER: sect = "cpu"; key = "realtimePeriod"; break;
    case O_CPUSET: sect = "cpu"; key = "cpus"; str = true; break;
    case O_MEMS: sect = "cpu"; key = "mems"; str = true; break;
    case O_PIDS: sect = "pids"; key = "limit"; break;
    case O_BLKIO: sect = "blockIO"; key = "weight"; break;
    case O_IDLE: sect = "cpu"; key = "idle"; break;
    case O_BURST: sect = "cpu"; key = "burst"; break;
    case 'h':
      printf("usage: brick update [--resources FILE|-] [--memory N] [--memory-swap N]\n"
             "       [--memory-reservation N] [--cpu-shares N] [--cpu-quota N] [--cpu-period N]\n"
             "       [--cpuset-cpus L] [--cpuset-mems L] [--pids-limit N] [--blkio-weight N]\n"
             "       CONTAINER-ID\n");
      return 0;
    default: return 2;
    }
    if (str) {
      json_object_set_new(section(res, sect), key, json_string(optarg));
      continue;
    }
    char *end;
    if (bytes ? parse_bytes(optarg, &v) < 0 : (v = strtoll(optarg, &end, 10), *end != '\0')) {
      fprintf(stderr, "brick update: --%s: invalid value \"%s\"\n", opts[c - 256 + 1].name, optarg);
      return 2;
    }
    json_object_set_new(section(res, sect), key, json_integer(v));
  }
  if (optind != argc - 1) {
    fprintf(stderr, "brick update: expected exactly one container id\n");
    return 2;
  }
  if (file) {
    json_error_t jerr;
    json_t *doc = !strcmp(file, "-") ? json_loadf(stdin, 0, &jerr) : json_load_file(file, 0, &jerr);
    if (!doc || !json_is_object(doc)) {
      fprintf(stderr, "brick: update: --resources %s: %s\n", file, doc ? "expected an object" : jerr.text);
      json_decref(doc);
      return 1;
    }
    /* Flags given beside the file win, as with runc. */
    json_object_update_recursive(doc, res);
    json_decref(res);
    res = doc;
  }
  brick_err err = {0};
  return brick_container_update(g->root, argv[optind], res, &err) < 0 ? cli_fail(&err) : 0;
}

static volatile sig_atomic_t stop_events;
static void on_stop(int sig) { (void)sig; stop_events = 1; }

int cmd_events(const struct brick_global *g, int argc, char **argv) {
  enum { O_STATS = 256, O_INTERVAL };
  static const struct option opts[] = {{"stats", no_argument, NULL, O_STATS},
                                       {"interval", required_argument, NULL, O_INTERVAL},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  bool once = false;
  double interval = 5;
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (c == O_STATS)
      once = true;
    else if (c == O_INTERVAL) {
      char *end;
      interval = strtod(optarg, &end);
      if (!strcmp(end, "ms"))
        interval /= 1000;
      else if (!strcmp(end, "m"))
        interval *= 60;
      else if (*end && strcmp(end, "s")) {
        fprintf(stderr, "brick events: --interval: expected a duration like 5s, got \"%s\"\n", optarg);
        return 2;
      }
      if (interval <= 0) {
        fprintf(stderr, "brick events: --interval must be positive\n");
        return 2;
      }
    } else if (c == 'h') {
      printf("usage: brick events [--stats] [--interval 5s] CONTAINER-ID\n\n"
             "Print resource statistics as JSON lines (runc's format); --stats prints once.\n");
      return 0;
    } else
      return 2;
  }
  if (optind != argc - 1) {
    fprintf(stderr, "brick events: expected exactly one container id\n");
    return 2;
  }
  signal(SIGINT, on_stop);
  signal(SIGTERM, on_stop);
  do {
    brick_err err = {0};
    json_t *ev = NULL;
    if (brick_container_stats(g->root, argv[optind], &ev, &err) < 0)
      return once ? cli_fail(&err) : (brick_error_clear(&err), 0);
    json_dumpf(ev, stdout, JSON_COMPACT);
    putchar('\n');
    fflush(stdout);
    json_decref(ev);
    if (once)
      break;
    struct timespec ts = {.tv_sec = (time_t)interval,
                          .tv_nsec = (long)((interval - (double)(time_t)interval) * 1e9)};
    nanosleep(&ts, NULL);
  } while (!stop_events);
  return 0;
}
