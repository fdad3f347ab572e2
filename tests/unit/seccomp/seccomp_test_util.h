/* Test support: build struct brick_seccomp from OCI-form JSON (the spec module's parser
 * is not linked into these tests), run code in a forked child with or without a filter. */
#ifndef BRICK_SECCOMP_TEST_UTIL_H
#define BRICK_SECCOMP_TEST_UTIL_H

#include <jansson.h>
#include <stdbool.h>

#include "seccomp/seccomp.h"

/* Aborts the test (cmocka fail) on malformed input. Takes a reference on obj as ->raw. */
struct brick_seccomp *test_seccomp_from_json(json_t *obj);
struct brick_seccomp *test_seccomp_from_string(const char *json_text);
void test_seccomp_free(struct brick_seccomp *s);
/* Compile with no cache; fails the test on error. */
struct brick_seccomp_prog *test_prepare(const struct brick_seccomp *s);

/* How a probe ended in its child. */
struct probe_result {
  bool exited;     /* false: killed by signal */
  int signal;      /* when !exited */
  long value;      /* >= 0 success value, < 0 = -errno */
};

/* First thing in any forked test child: default handlers for fatal signals. */
void probe_child_init(void);

/* Fork; in the child set no_new_privs, install prog (when not NULL), run fn, report. */
struct probe_result run_probe(const struct brick_seccomp_prog *prog, long (*fn)(void));

/* syscall(2) returning -errno on failure. */
#define SYSRET(...)                                                                        \
  ({                                                                                       \
    long _r = syscall(__VA_ARGS__);                                                        \
    _r < 0 ? -(long)errno : _r;                                                            \
  })

#endif
