/* What every command shares. */
#include "../lib/core/error.h"
#include "../lib/core/log.h"
#include "cli.h"

int cli_fail(brick_err *err) {
  brick_log_error("%s", brick_error_msg(err));
  brick_error_clear(err);
  return 1;
}
