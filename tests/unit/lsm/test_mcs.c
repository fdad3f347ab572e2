/* MCS allocator: uniqueness, persistence, release/reuse, explicit reservations, the
 * exhaustion path and concurrent allocation from several processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/util.h"
#include "lsm/lsm.h"

static int setup_dir(void **state) {
  char tmpl[] = "/tmp/brick-mcs-XXXXXX";
  char *d = mkdtemp(tmpl);
  assert_non_null(d);
  *state = xstrdup(d);
  return 0;
}

static int teardown_dir(void **state) {
  brick_err err = {0};
  assert_int_equal(brick_rm_rf(*state, &err), 0);
  free(*state);
  return 0;
}

/* Parse "s0:cX,cY" strictly; returns X*1024+Y or -1. */
static long pair_of(const char *level) {
  unsigned x, y;
  int n = 0;
  if (sscanf(level, "s0:c%u,c%u%n", &x, &y, &n) != 2 || level[n] != '\0')
    return -1;
  if (x >= y || y > 1023)
    return -1;
  return (long)x * 1024 + y;
}

static void test_canonical(void **state) {
  (void)state;
  static const struct { const char *in, *out; } ok[] = {
      {"s0", "s0"},
      {"s0:c1,c2", "s0:c1,c2"},
      {"s0:c2,c1", "s0:c1,c2"},
      {"s0:c1,c2,c3", "s0:c1.c3"},
      {"s0:c0.c1023", "s0:c0.c1023"},
      {"s0-s0:c0.c1023", "s0-s0:c0.c1023"},
      {"s0:c5,c1.c3,c9", "s0:c1.c3,c5,c9"},
      {"s0:c7,c7", "s0:c7"},
      {"s0:c1,c2-s1:c1.c4", "s0:c1,c2-s1:c1.c4"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
    brick_err err = {0};
    _cleanup_free_ char *out = NULL;
    assert_int_equal(brick_mcs_level_canonical(ok[i].in, &out, &err), 0);
    assert_string_equal(out, ok[i].out);
  }
  static const char *const bad[] = {"",       "x0",      "s0:",       "s0:c1024", "s0:c01",
                                    "s0:c3.c1", "s0:c1,", "s0:c1;c2", "s1-s0",    "s0:c1-s0",
                                    "s0:c1 ",  "s",       "s0:1",      "s0::c1",   "s0-"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    brick_err err = {0};
    char *out = NULL;
    assert_int_equal(brick_mcs_level_canonical(bad[i], &out, &err), -1);
    assert_null(out);
    assert_int_equal(err.errnum, EINVAL);
    assert_non_null(strstr(brick_error_msg(&err), "MLS"));
    brick_error_clear(&err);
  }
}

static void test_unique_500(void **state) {
  const char *dir = *state;
  uint8_t *seen = xcalloc(1024 * 1024, 1);
  char *levels[500];
  for (int i = 0; i < 500; i++) {
    brick_err err = {0};
    _cleanup_free_ char *id = xasprintf("ctr-%d", i);
    assert_int_equal(brick_mcs_allocate(dir, id, &levels[i], &err), 0);
    long p = pair_of(levels[i]);
    assert_true(p >= 0);
    assert_int_equal(seen[p], 0);
    seen[p] = 1;
  }
  /* Idempotent, and persisted: every id reads back its own level. */
  for (int i = 0; i < 500; i++) {
    brick_err err = {0};
    _cleanup_free_ char *id = xasprintf("ctr-%d", i);
    _cleanup_free_ char *again = NULL, *looked = NULL;
    assert_int_equal(brick_mcs_allocate(dir, id, &again, &err), 0);
    assert_string_equal(again, levels[i]);
    assert_int_equal(brick_mcs_lookup(dir, id, &looked, &err), 0);
    assert_non_null(looked);
    assert_string_equal(looked, levels[i]);
    free(levels[i]);
  }
  free(seen);
  /* The table is a private file. */
  _cleanup_free_ char *path = xasprintf("%s/mcs.json", dir);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_release(void **state) {
  const char *dir = *state;
  brick_err err = {0};
  _cleanup_free_ char *a = NULL, *b = NULL, *gone = NULL, *a2 = NULL;
  assert_int_equal(brick_mcs_allocate(dir, "a", &a, &err), 0);
  assert_int_equal(brick_mcs_allocate(dir, "b", &b, &err), 0);
  assert_string_not_equal(a, b);
  assert_int_equal(brick_mcs_release(dir, "a", &err), 0);
  assert_int_equal(brick_mcs_lookup(dir, "a", &gone, &err), 0);
  assert_null(gone);
  /* Releasing an unknown id is not an error (delete after a failed create). */
  assert_int_equal(brick_mcs_release(dir, "a", &err), 0);
  assert_int_equal(brick_mcs_release(dir, "never", &err), 0);
  /* b is untouched, a can be allocated again. */
  _cleanup_free_ char *b2 = NULL;
  assert_int_equal(brick_mcs_lookup(dir, "b", &b2, &err), 0);
  assert_string_equal(b2, b);
  assert_int_equal(brick_mcs_allocate(dir, "a", &a2, &err), 0);
  assert_true(pair_of(a2) >= 0);
  assert_string_not_equal(a2, b);
}

static void test_bad_args(void **state) {
  const char *dir = *state;
  brick_err err = {0};
  char *l = NULL;
  assert_int_equal(brick_mcs_allocate(dir, "", &l, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "id"));
  brick_error_clear(&err);
  assert_int_equal(brick_mcs_allocate("", "x", &l, &err), -1);
  brick_error_clear(&err);
  assert_int_equal(brick_mcs_reserve(dir, "x", "s0:c9999", &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "s0:c9999"));
  brick_error_clear(&err);
  assert_null(l);
}

static void test_corrupt_table(void **state) {
  const char *dir = *state;
  brick_err err = {0};
  _cleanup_free_ char *path = xasprintf("%s/mcs.json", dir);
  assert_int_equal(brick_write_file_atomic(path, "{\"levels\": [", 12, 0600, &err), 0);
  char *l = NULL;
  assert_int_equal(brick_mcs_allocate(dir, "x", &l, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), path));
  brick_error_clear(&err);
  const char *wrong = "{\"levels\": {\"a\": 7}}";
  assert_int_equal(brick_write_file_atomic(path, wrong, strlen(wrong), 0600, &err), 0);
  assert_int_equal(brick_mcs_allocate(dir, "x", &l, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), ".levels[\"a\"]"));
  brick_error_clear(&err);
  assert_null(l);
}

/* Write a table holding every pair except those in free_pairs. */
static void write_nearly_full(const char *dir, const long *free_pairs, size_t nfree) {
  _cleanup_free_ char *path = xasprintf("%s/mcs.json", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("{\"levels\": {", f);
  bool first = true;
  for (unsigned x = 0; x < 1024; x++)
    for (unsigned y = x + 1; y < 1024; y++) {
      bool skip = false;
      for (size_t i = 0; i < nfree; i++)
        skip |= free_pairs[i] == (long)x * 1024 + y;
      if (skip)
        continue;
      fprintf(f, "%s\"f-%u-%u\": \"s0:c%u,c%u\"", first ? "" : ",", x, y, x, y);
      first = false;
    }
  fputs("}}\n", f);
  assert_int_equal(fclose(f), 0);
}

static void test_exhaustion_and_reservation(void **state) {
  const char *dir = *state;
  brick_err err = {0};
  /* Two free pairs; an explicit reservation (written unsorted) takes one of them, so
   * the random allocator must find exactly the other, then run out. */
  const long free_pairs[] = {17 * 1024 + 900, 3 * 1024 + 4};
  write_nearly_full(dir, free_pairs, 2);
  assert_int_equal(brick_mcs_reserve(dir, "explicit", "s0:c4,c3", &err), 0);
  _cleanup_free_ char *last = NULL;
  assert_int_equal(brick_mcs_allocate(dir, "last", &last, &err), 0);
  assert_string_equal(last, "s0:c17,c900");
  char *none = NULL;
  assert_int_equal(brick_mcs_allocate(dir, "one-too-many", &none, &err), -1);
  assert_int_equal(err.errnum, ENOSPC);
  brick_error_clear(&err);
  assert_null(none);
}

static void test_reserve_semantics(void **state) {
  const char *dir = *state;
  brick_err err = {0};
  assert_int_equal(brick_mcs_reserve(dir, "pod-a", "s0:c10,c20", &err), 0);
  /* Pods share a level on purpose. */
  assert_int_equal(brick_mcs_reserve(dir, "pod-b", "s0:c20,c10", &err), 0);
  /* Re-reserving replaces; allocate then returns the recorded level. */
  assert_int_equal(brick_mcs_reserve(dir, "pod-b", "s0-s0:c0.c1023", &err), 0);
  _cleanup_free_ char *b = NULL, *a = NULL;
  assert_int_equal(brick_mcs_allocate(dir, "pod-b", &b, &err), 0);
  assert_string_equal(b, "s0-s0:c0.c1023");
  assert_int_equal(brick_mcs_lookup(dir, "pod-a", &a, &err), 0);
  assert_string_equal(a, "s0:c10,c20");
}

/* Two processes allocating at once must neither hand out a pair twice nor lose an
 * entry: each child records what it got, the parent checks the table agrees. */
#define PER_CHILD 150
static void test_concurrent(void **state) {
  const char *dir = *state;
  pid_t pids[2];
  for (int c = 0; c < 2; c++) {
    pids[c] = fork();
    assert_true(pids[c] >= 0);
    if (pids[c] == 0) {
      _cleanup_free_ char *out = xasprintf("%s/child-%d.txt", dir, c);
      FILE *f = fopen(out, "w");
      if (!f)
        _exit(10);
      for (int i = 0; i < PER_CHILD; i++) {
        brick_err err = {0};
        char *id = xasprintf("c%d-%d", c, i), *level = NULL;
        if (brick_mcs_allocate(dir, id, &level, &err) < 0)
          _exit(11);
        fprintf(f, "%s %s\n", id, level);
        free(id);
        free(level);
      }
      _exit(fclose(f) == 0 ? 0 : 12);
    }
  }
  for (int c = 0; c < 2; c++) {
    int status;
    assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  uint8_t *seen = xcalloc(1024 * 1024, 1);
  int total = 0;
  for (int c = 0; c < 2; c++) {
    _cleanup_free_ char *out = xasprintf("%s/child-%d.txt", dir, c);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char id[64], level[64];
    while (fscanf(f, "%63s %63s", id, level) == 2) {
      long p = pair_of(level);
      assert_true(p >= 0);
      assert_int_equal(seen[p], 0);
      seen[p] = 1;
      brick_err err = {0};
      _cleanup_free_ char *stored = NULL;
      assert_int_equal(brick_mcs_lookup(dir, id, &stored, &err), 0);
      assert_non_null(stored); /* a lost update would drop it */
      assert_string_equal(stored, level);
      total++;
    }
    fclose(f);
  }
  free(seen);
  assert_int_equal(total, 2 * PER_CHILD);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_canonical),
      cmocka_unit_test_setup_teardown(test_unique_500, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_release, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_bad_args, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_corrupt_table, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_exhaustion_and_reservation, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_reserve_semantics, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_concurrent, setup_dir, teardown_dir),
  };
  /* meson runs the slow exhaustion case as its own test with a longer timeout. */
  if (getenv("LSM_TEST_FILTER"))
    cmocka_set_test_filter(getenv("LSM_TEST_FILTER"));
  if (getenv("LSM_TEST_SKIP"))
    cmocka_set_skip_filter(getenv("LSM_TEST_SKIP"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
