#include "core/log.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int log_fd = STDERR_FILENO;
static bool log_json;
static bool log_debug;

int brick_log_init(const char *path, bool json, bool debug) {
  log_json = json;
  log_debug = debug;
  if (path && *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
      return -1;
    log_fd = fd;
  }
  return 0;
}

static const char *level_name(enum brick_log_level l) {
  switch (l) {
  case BRICK_LOG_ERROR: return "error";
  case BRICK_LOG_WARNING: return "warning";
  case BRICK_LOG_INFO: return "info";
  case BRICK_LOG_DEBUG: return "debug";
  }
  return "info";
}

static void emit(enum brick_log_level level, const char *msg) {
  if (log_json) {
    char ts[64];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *o = json_pack("{s:s, s:s, s:s}", "level", level_name(level), "msg", msg, "time", ts);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (line)
      dprintf(log_fd, "%s\n", line);
    free(line);
    json_decref(o);
  } else {
    if (level == BRICK_LOG_ERROR)
      dprintf(log_fd, "brick: %s\n", msg);
    else
      dprintf(log_fd, "brick: %s: %s\n", level_name(level), msg);
  }
}

static void vlog(enum brick_log_level level, const char *fmt, va_list ap) {
  if (level == BRICK_LOG_DEBUG && !log_debug)
    return;
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    return;
  emit(level, msg);
  free(msg);
}

void brick_log(enum brick_log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(level, fmt, ap);
  va_end(ap);
}

void brick_log_error(const char *fmt, ...) {
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (r < 0)
    return;
  emit(BRICK_LOG_ERROR, msg);
  if (log_fd != STDERR_FILENO)
    dprintf(STDERR_FILENO, "brick: %s\n", msg);
  free(msg);
}
