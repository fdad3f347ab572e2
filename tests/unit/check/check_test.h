/* Shared helpers of the check unit tests. */
#ifndef BRICK_CHECK_TEST_H
#define BRICK_CHECK_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/check.h"

/* Print every finding at or above min (so a failing assertion shows the report). */
static inline void dump_report(const struct brick_check_report *r, enum brick_check_level min) {
  for (size_t i = 0; i < r->n_findings; i++)
    if (r->findings[i].level >= min)
      fprintf(stderr, "  [%s] %s @ %s: %s\n", brick_check_level_name(r->findings[i].level),
              r->findings[i].id, r->findings[i].where ? r->findings[i].where : "-",
              r->findings[i].title);
}

/* The finding with this id (and location); fails the test when absent. */
static inline const struct brick_check_finding *must_find(const struct brick_check_report *r,
                                                          const char *id, const char *where) {
  const struct brick_check_finding *f = brick_check_report_find(r, id, where);
  if (!f) {
    fprintf(stderr, "finding %s%s%s missing; report:\n", id, where ? " @ " : "",
            where ? where : "");
    dump_report(r, BRICK_CHECK_OK);
  }
  assert_non_null(f);
  return f;
}

static inline void must_not_find(const struct brick_check_report *r, const char *id) {
  const struct brick_check_finding *f = brick_check_report_find(r, id, NULL);
  if (f)
    fprintf(stderr, "unexpected finding %s @ %s: %s\n", id, f->where ? f->where : "-", f->title);
  assert_null(f);
}

#endif
