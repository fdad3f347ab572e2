/* The pty of a container process: made inside the container's devpts, its master
 * handed to the console socket (conmon and containerd expect exactly this), its slave
 * the caller's controlling terminal and stdio. */
#ifndef BRICK_TERMINAL_H
#define BRICK_TERMINAL_H

#include <stdbool.h>

#include "core/error.h"
#include "spec/spec.h"

/* bind_console: also bind the slave over /dev/console (the container init does; exec
 * does not). */
int brick_terminal_attach(int console_sock, const struct brick_console_size *size,
                          bool bind_console, brick_err *err);

#endif
