/* linux.seccomp: compile an OCI seccomp object into a BPF program (libseccomp), cache
 * the result, install it right before execve, hand a SCMP_ACT_NOTIFY listener to the
 * engine's agent, and describe brick's own default profile and what this host supports.
 *
 * Compiling runs in the runtime's parent process before fork (it allocates and may be
 * slow); installing runs in the child between fork and execve and allocates nothing on
 * its success path. */
#ifndef BRICK_SECCOMP_H
#define BRICK_SECCOMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "spec/spec.h"

/* A compiled BPF program (struct sock_fprog + seccomp(2) flags + whether NOTIFY is used). */
struct brick_seccomp_prog;

/* Compile cfg (linux.seccomp) with libseccomp, or load it from cache_dir (NULL = no
 * cache). The cache is keyed on the profile's canonical text (brick_seccomp_cache_text:
 * the sorted-key compact JSON of cfg->raw, the parsed struct's fields, the libseccomp
 * version and API level, the native arch and the kernel's supported-actions set), which
 * each file stores and a load compares byte for byte; the file name cache_dir/<name>.bpf
 * is a 64-bit FNV-1a of that text and only picks the file. Files are written atomically
 * with mode 0600; one that is not ours and private, is corrupt, or holds another text
 * is ignored and rebuilt. */
int brick_seccomp_prepare(const struct brick_seccomp *cfg, const char *cache_dir,
                          struct brick_seccomp_prog **out, brick_err *err);

/* Install in the calling process: seccomp(SECCOMP_SET_MODE_FILTER) with the config's
 * flags (TSYNC, LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV), plus NEW_LISTENER when the profile
 * uses SCMP_ACT_NOTIFY: then *notify_fd receives the listener fd, else -1. The caller
 * must have set no_new_privs (or hold CAP_SYS_ADMIN). Allocates nothing unless it fails. */
int brick_seccomp_install(const struct brick_seccomp_prog *prog, int *notify_fd, brick_err *err);
bool brick_seccomp_uses_notify(const struct brick_seccomp_prog *prog);
void brick_seccomp_prog_free(struct brick_seccomp_prog *prog);

/* Send the listener fd to linux.seccomp.listenerPath as runc does: one SCM_RIGHTS
 * message over a unix stream socket, carrying the container process state JSON
 * {"ociVersion","fds":["seccompFd"],"pid","metadata","state":{...}}. metadata may be
 * NULL. "pid" is process_pid, the process the filter belongs to (an exec'd process's own
 * pid, as runc sends it), or container_state's "pid" when process_pid is 0. */
int brick_seccomp_send_listener(const char *listener_path, const char *metadata, int notify_fd,
                                pid_t process_pid, json_t *container_state, brick_err *err);

/* brick's default profile as a linux.seccomp JSON object (OCI form), given the
 * capability bounding set (bit n = CAP n) the container will have. New reference. */
json_t *brick_seccomp_default_profile(uint64_t bounding_caps);

/* The "seccomp" member of features.json:
 * {"enabled":true,"actions":[...],"operators":[...],"archs":[...],"knownFlags":[...],
 *  "supportedFlags":[...]} as the kernel and libseccomp here support. New reference. */
json_t *brick_seccomp_features(void);

/* ---- diagnostics (tests, `brick check`, benchmarks) ---------------------------- */

/* Number of instructions in the program and the seccomp(2) flags it will be installed with. */
size_t brick_seccomp_prog_len(const struct brick_seccomp_prog *prog);
unsigned int brick_seccomp_prog_flags(const struct brick_seccomp_prog *prog);
/* True when brick_seccomp_prepare() loaded the program from the cache. */
bool brick_seccomp_prog_from_cache(const struct brick_seccomp_prog *prog);
/* How many times this process has run the libseccomp compiler. */
unsigned long brick_seccomp_compile_count(void);
/* The canonical text the cache stores and compares for cfg (NUL-terminated, *len bytes
 * without the NUL). NULL on error. Caller frees. */
char *brick_seccomp_cache_text(const struct brick_seccomp *cfg, size_t *len, brick_err *err);
/* The cache file name stem prepare() would use for cfg: 16 hex digits and a NUL. */
#define BRICK_SECCOMP_CACHE_NAME_LEN 17
int brick_seccomp_cache_key(const struct brick_seccomp *cfg, char name[BRICK_SECCOMP_CACHE_NAME_LEN],
                            brick_err *err);
/* A parsed seccomp config back in OCI form (sorted-key dumps of it are canonical). */
json_t *brick_seccomp_to_json(const struct brick_seccomp *cfg);

#endif
