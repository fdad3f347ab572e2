#include "core/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int brick_error(brick_err *err, int errnum, const char *fmt, ...) {
  if (err == NULL)
    return -1;
  char *base = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&base, fmt, ap);
  va_end(ap);
  free(err->msg);
  err->msg = NULL;
  err->errnum = errnum;
  if (r < 0)
    return -1;
  if (errnum != 0) {
    if (asprintf(&err->msg, "%s: %s", base, strerror(errnum)) < 0)
      err->msg = NULL;
    free(base);
  } else {
    err->msg = base;
  }
  return -1;
}

int brick_error_prefix(brick_err *err, const char *fmt, ...) {
  if (err == NULL)
    return -1;
  char *prefix = NULL, *joined = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&prefix, fmt, ap);
  va_end(ap);
  if (r < 0)
    return -1;
  if (asprintf(&joined, "%s: %s", prefix, err->msg ? err->msg : "unknown error") >= 0) {
    free(err->msg);
    err->msg = joined;
  }
  free(prefix);
  return -1;
}

void brick_error_clear(brick_err *err) {
  if (err == NULL)
    return;
  free(err->msg);
  err->msg = NULL;
  err->errnum = 0;
}

const char *brick_error_msg(const brick_err *err) {
  return err && err->msg ? err->msg : "unknown error";
}
