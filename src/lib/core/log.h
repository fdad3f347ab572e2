/* Runtime logging as engines expect it: --log FILE and --log-format text|json.
 * containerd's shim and conmon read the last "error" line of a json log to report
 * why a runtime call failed, in runc's shape: {"level":"error","msg":"...","time":"..."}. */
#ifndef BRICK_LOG_H
#define BRICK_LOG_H

#include <stdbool.h>

enum brick_log_level { BRICK_LOG_ERROR, BRICK_LOG_WARNING, BRICK_LOG_INFO, BRICK_LOG_DEBUG };

/* path == NULL logs to stderr. Returns -1 (errno set) when the file cannot be opened. */
int brick_log_init(const char *path, bool json, bool debug);
void brick_log(enum brick_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define brick_warn(...) brick_log(BRICK_LOG_WARNING, __VA_ARGS__)
#define brick_debug(...) brick_log(BRICK_LOG_DEBUG, __VA_ARGS__)
/* Also echo errors to stderr when a log file is set (engines show stderr too). */
void brick_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
