/* Errors are values: a failing call fills a brick_err and returns -1, and every
 * caller on the way up may prefix context ("config.json: linux.namespaces[2].type: ...").
 * Nothing in the library prints or exits; the CLI decides how to report. */
#ifndef BRICK_ERROR_H
#define BRICK_ERROR_H

#include <stdarg.h>

typedef struct brick_err {
  int errnum;   /* errno of the root cause, 0 when it is not a system error */
  char *msg;    /* full message, already including strerror(errnum) */
} brick_err;

/* Set *err (if err != NULL) and return -1. With errnum != 0 appends ": strerror". */
int brick_error(brick_err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, taking errno. */
#define brick_errno(err, ...) brick_error((err), errno, __VA_ARGS__)
/* Prefix "<context>: " to an existing message; returns -1 so it can end a return. */
int brick_error_prefix(brick_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void brick_error_clear(brick_err *err);
/* The message or "unknown error"; never NULL. */
const char *brick_error_msg(const brick_err *err);

#endif
