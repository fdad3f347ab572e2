/* User namespaces: writing id maps for a child, and the per-container id pool.
 * The pool gives every container its own 65536 host ids, so root in one container is
 * a different unprivileged user from root in any other (the talk's "future goal":
 * protect containers from each other, not only the host). */
#ifndef BRICK_USERNS_H
#define BRICK_USERNS_H

#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "spec/spec.h"

#define BRICK_USERNS_RANGE 65536u

struct brick_id_pool {
  uint32_t start, count;   /* host ids available to brick */
};

/* The "containers" entry of /etc/subuid (path may be overridden for tests); without it
 * brick uses 1000000000:1000000000 (far above any normal account). */
int brick_id_pool_read(const char *subuid_path, struct brick_id_pool *pool, brick_err *err);
/* Allocate a free range for id (idempotent), persisted in <state_root>/userns.json under
 * a lock. Returns the base host id. */
int brick_userns_allocate(const char *state_root, const char *id, const struct brick_id_pool *pool,
                          uint32_t *base, brick_err *err);
int brick_userns_release(const char *state_root, const char *id, brick_err *err);

/* Write /proc/<pid>/{setgroups,uid_map,gid_map}. */
int brick_userns_write_maps(pid_t pid, const struct brick_id_mapping *uids, size_t n_uids,
                            const struct brick_id_mapping *gids, size_t n_gids, brick_err *err);

#endif
