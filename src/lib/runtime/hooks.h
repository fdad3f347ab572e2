/* OCI hooks: each gets the container state on stdin, runs with its own args and env,
 * and is killed when its timeout passes. A failing hook fails the step it belongs to
 * (except poststart/poststop, which only warn, as the spec says). */
#ifndef BRICK_HOOKS_H
#define BRICK_HOOKS_H

#include <jansson.h>

#include "core/error.h"
#include "spec/spec.h"

int brick_hooks_run(const struct brick_hooks *hooks, enum brick_hook_kind kind, json_t *state,
                    brick_err *err);
const char *brick_hook_kind_name(enum brick_hook_kind kind);

#endif
