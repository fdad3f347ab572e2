/* Shared between the seccomp module's files; not part of the public API. */
#ifndef BRICK_SECCOMP_INTERNAL_H
#define BRICK_SECCOMP_INTERNAL_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "spec/spec.h"

struct brick_seccomp_prog {
  struct sock_fprog fprog;   /* filter owned by the prog */
  unsigned int flags;        /* SECCOMP_FILTER_FLAG_*, NEW_LISTENER included when notifying */
  bool uses_notify;
  bool from_cache;
};

/* OCI names <-> values. NULL / -1 when unknown. */
const char *seccomp_action_name(enum brick_seccomp_action a);
const char *seccomp_op_name(enum brick_seccomp_op op);
int seccomp_arch_token(const char *name, uint32_t *token);
const char *seccomp_arch_name(uint32_t token);
size_t seccomp_arch_count(void);
const char *seccomp_arch_name_at(size_t i);

struct seccomp_flag_name {
  const char *name;
  unsigned int flag;
};
extern const struct seccomp_flag_name seccomp_known_flags[];
extern const size_t seccomp_n_known_flags;

/* The SECCOMP_RET_* value of an action as the kernel sees it (for GET_ACTION_AVAIL). */
uint32_t seccomp_action_kernel_ret(enum brick_seccomp_action a);
/* Bit n set = the kernel accepts action n (enum brick_seccomp_action). Probed once. */
uint32_t seccomp_kernel_actions(void);
/* Whether seccomp(2) accepts this SECCOMP_FILTER_FLAG_* here. */
bool seccomp_kernel_flag_supported(unsigned int flag);

/* Config flags -> seccomp(2) flags; adds NEW_LISTENER (and TSYNC_ESRCH next to TSYNC)
 * when uses_notify. */
int seccomp_install_flags(const struct brick_seccomp *cfg, bool uses_notify, unsigned int *flags,
                          brick_err *err);

/* Run libseccomp: a prog with filter, uses_notify set (flags left 0). */
int seccomp_compile(const struct brick_seccomp *cfg, struct brick_seccomp_prog **out,
                    brick_err *err);

/* 0 and *out on a hit; -1 on a miss or an unusable file (never an error: the caller
 * compiles instead). text is brick_seccomp_cache_text()'s. */
int seccomp_cache_load(const char *dir, const char *text, size_t text_len,
                       struct brick_seccomp_prog **out);
/* Store, then prune (below) to SECCOMP_CACHE_MAX entries keeping the one just stored. */
int seccomp_cache_store(const char *dir, const char *text, size_t text_len,
                        const struct brick_seccomp_prog *prog, brick_err *err);
#define SECCOMP_CACHE_MAX 256
/* Remove from dir every regular file that is not a cache entry of this layout, then the
 * oldest entries (by mtime) beyond max_entries; keep (a file name, may be NULL) stays
 * and counts. Best effort: errors leave files behind, never fail a container. */
void seccomp_cache_prune(const char *dir, size_t max_entries, const char *keep);
/* 64-bit FNV-1a: picks cache file names; not a security boundary (the stored text is). */
uint64_t seccomp_fnv1a64(const void *data, size_t len);
/* The checksum a cache file carries over its text and instructions (torn writes). */
uint64_t seccomp_cache_checksum(const void *text, size_t text_len, const void *insns,
                                size_t insns_len);

#endif
