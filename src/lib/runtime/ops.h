/* Operations on a running container that are thin over the cgroup module. */
#ifndef BRICK_OPS_H
#define BRICK_OPS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/error.h"

int brick_container_pause(const char *state_root, const char *id, bool pause, brick_err *err);
int brick_container_pids(const char *state_root, const char *id, pid_t **pids, size_t *n,
                         brick_err *err);
/* resources: a linux.resources JSON object. */
int brick_container_update(const char *state_root, const char *id, json_t *resources,
                           brick_err *err);
/* runc's `events --stats` record: {"type":"stats","id":...,"data":{...}}. */
int brick_container_stats(const char *state_root, const char *id, json_t **out, brick_err *err);
/* runtime-spec features.json. */
json_t *brick_runtime_features(void);

#endif
