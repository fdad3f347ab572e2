/* The compiled-program cache: hits skip libseccomp, anything odd is rebuilt. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"
#include "seccomp/seccomp.h"
#include "seccomp/seccomp_internal.h"
#include "seccomp_test_util.h"

struct fixture {
  char dir[64];
  struct brick_seccomp *cfg;
};

static int setup(void **state) {
  struct fixture *f = xcalloc(1, sizeof *f);
  strcpy(f->dir, "/tmp/brick-seccomp-cache-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  _cleanup_json_ json_t *p = brick_seccomp_default_profile(0);
  f->cfg = test_seccomp_from_json(p);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  brick_rm_rf(f->dir, NULL);
  test_seccomp_free(f->cfg);
  free(f);
  return 0;
}

static struct brick_seccomp_prog *prepare_in(const struct brick_seccomp *cfg, const char *dir) {
  brick_err err = {0};
  struct brick_seccomp_prog *prog = NULL;
  if (brick_seccomp_prepare(cfg, dir, &prog, &err) < 0)
    fail_msg("prepare: %s", brick_error_msg(&err));
  return prog;
}

static char *cache_path(struct fixture *f, const struct brick_seccomp *cfg) {
  char hex[65];
  assert_int_equal(brick_seccomp_cache_key(cfg, hex, NULL), 0);
  return xasprintf("%s/%s.bpf", f->dir, hex);
}

static void assert_same_program(const struct brick_seccomp_prog *a,
                                const struct brick_seccomp_prog *b) {
  assert_int_equal(a->fprog.len, b->fprog.len);
  assert_memory_equal(a->fprog.filter, b->fprog.filter, a->fprog.len * sizeof(struct sock_filter));
  assert_int_equal(a->uses_notify, b->uses_notify);
  assert_int_equal(a->flags, b->flags);
}

static long p_kexec(void) { return SYSRET(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL); }

static void second_prepare_hits(void **state) {
  struct fixture *f = *state;
  unsigned long c0 = brick_seccomp_compile_count();
  struct brick_seccomp_prog *first = prepare_in(f->cfg, f->dir);
  assert_false(brick_seccomp_prog_from_cache(first));
  assert_int_equal(brick_seccomp_compile_count(), c0 + 1);

  _cleanup_free_ char *path = cache_path(f, f->cfg);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(st.st_uid, geteuid());

  struct brick_seccomp_prog *second = prepare_in(f->cfg, f->dir);
  assert_true(brick_seccomp_prog_from_cache(second));
  assert_int_equal(brick_seccomp_compile_count(), c0 + 1);   /* libseccomp not run */
  assert_same_program(first, second);

  /* The cached program is the real filter. */
  struct probe_result r = run_probe(second, p_kexec);
  assert_true(r.exited);
  assert_int_equal(r.value, -EPERM);
  brick_seccomp_prog_free(first);
  brick_seccomp_prog_free(second);
}

static void rewrite(const char *path, void (*mangle)(char *buf, size_t *len), mode_t mode) {
  char *buf = NULL;
  size_t len = 0;
  assert_int_equal(brick_read_file(path, &buf, &len, NULL), 0);
  mangle(buf, &len);
  assert_int_equal(unlink(path), 0);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  assert_true(fd >= 0);
  assert_int_equal(fchmod(fd, mode), 0);
  assert_int_equal(write(fd, buf, len), (ssize_t)len);
  close(fd);
  free(buf);
}

static void flip_body_byte(char *buf, size_t *len) { buf[*len - 3] ^= 0x40; }
static void flip_header_count(char *buf, size_t *len) { (void)len; buf[16] ^= 0x01; }
static void truncate_half(char *buf, size_t *len) { (void)buf; *len /= 2; }
static void garbage(char *buf, size_t *len) { memset(buf, 'x', *len); }
static void unchanged(char *buf, size_t *len) { (void)buf; (void)len; }

static void corrupt_cache_is_rebuilt(void **state) {
  struct fixture *f = *state;
  struct brick_seccomp_prog *good = prepare_in(f->cfg, f->dir);
  _cleanup_free_ char *path = cache_path(f, f->cfg);
  struct {
    const char *what;
    void (*mangle)(char *, size_t *);
    mode_t mode;
  } cases[] = {
    {"flipped instruction byte", flip_body_byte, 0600},
    {"wrong instruction count", flip_header_count, 0600},
    {"truncated", truncate_half, 0600},
    {"garbage", garbage, 0600},
    {"valid but group/world readable", unchanged, 0644},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    rewrite(path, cases[i].mangle, cases[i].mode);
    unsigned long c0 = brick_seccomp_compile_count();
    struct brick_seccomp_prog *p = prepare_in(f->cfg, f->dir);
    if (brick_seccomp_prog_from_cache(p))
      fail_msg("%s: cache file was trusted", cases[i].what);
    assert_int_equal(brick_seccomp_compile_count(), c0 + 1);
    assert_same_program(good, p);
    brick_seccomp_prog_free(p);
    /* ... and the rebuilt file is good again. */
    p = prepare_in(f->cfg, f->dir);
    if (!brick_seccomp_prog_from_cache(p))
      fail_msg("%s: cache not rewritten", cases[i].what);
    assert_same_program(good, p);
    brick_seccomp_prog_free(p);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
  }
  brick_seccomp_prog_free(good);
}

static void keys_follow_content(void **state) {
  (void)state;
  char a[65], b[65], c[65], d[65];
  _cleanup_json_ json_t *p0 = brick_seccomp_default_profile(0);
  _cleanup_json_ json_t *p1 = brick_seccomp_default_profile(UINT64_C(1) << CAP_NET_RAW);
  struct brick_seccomp *s0 = test_seccomp_from_json(p0);
  struct brick_seccomp *s1 = test_seccomp_from_json(p1);
  assert_int_equal(brick_seccomp_cache_key(s0, a, NULL), 0);
  assert_int_equal(brick_seccomp_cache_key(s1, b, NULL), 0);
  assert_string_not_equal(a, b);
  assert_int_equal(strlen(a), 64);

  /* Same profile, keys written in another order: same key. */
  struct brick_seccomp *x = test_seccomp_from_string(
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
      "\"action\":\"SCMP_ACT_ERRNO\"}]}");
  struct brick_seccomp *y = test_seccomp_from_string(
      "{\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\",\"names\":[\"getppid\"]}],"
      "\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
  assert_int_equal(brick_seccomp_cache_key(x, c, NULL), 0);
  assert_int_equal(brick_seccomp_cache_key(y, d, NULL), 0);
  assert_string_equal(c, d);
  /* A change made to the parsed struct after parsing changes the key too. */
  x->syscalls[0].has_errno_ret = true;
  x->syscalls[0].errno_ret = 5;
  assert_int_equal(brick_seccomp_cache_key(x, d, NULL), 0);
  assert_string_not_equal(c, d);
  test_seccomp_free(s0);
  test_seccomp_free(s1);
  test_seccomp_free(x);
  test_seccomp_free(y);
}

static void different_profile_different_file(void **state) {
  struct fixture *f = *state;
  _cleanup_json_ json_t *p1 = brick_seccomp_default_profile(UINT64_C(1) << CAP_SYS_ADMIN);
  struct brick_seccomp *s1 = test_seccomp_from_json(p1);
  struct brick_seccomp_prog *a = prepare_in(f->cfg, f->dir);
  unsigned long c0 = brick_seccomp_compile_count();
  struct brick_seccomp_prog *b = prepare_in(s1, f->dir);
  assert_false(brick_seccomp_prog_from_cache(b));
  assert_int_equal(brick_seccomp_compile_count(), c0 + 1);
  assert_true(a->fprog.len != b->fprog.len ||
              memcmp(a->fprog.filter, b->fprog.filter, a->fprog.len * sizeof(struct sock_filter)));
  brick_seccomp_prog_free(a);
  brick_seccomp_prog_free(b);
  test_seccomp_free(s1);
}

/* The cache only saves time: an unusable directory must not fail the container. */
static void unwritable_cache_dir(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *file = xasprintf("%s/plain-file", f->dir);
  assert_int_equal(brick_write_file_atomic(file, "x", 1, 0600, NULL), 0);
  _cleanup_free_ char *dir = xasprintf("%s/sub", file);
  struct brick_seccomp_prog *p = prepare_in(f->cfg, dir);
  assert_false(brick_seccomp_prog_from_cache(p));
  brick_seccomp_prog_free(p);
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void compile_vs_cache_time(void **state) {
  struct fixture *f = *state;
  enum { N_COMPILE = 20, N_LOAD = 200 };
  double t0 = now_us();
  for (int i = 0; i < N_COMPILE; i++)
    brick_seccomp_prog_free(test_prepare(f->cfg));
  double compile = (now_us() - t0) / N_COMPILE;
  brick_seccomp_prog_free(prepare_in(f->cfg, f->dir));   /* populate */
  t0 = now_us();
  for (int i = 0; i < N_LOAD; i++) {
    struct brick_seccomp_prog *p = prepare_in(f->cfg, f->dir);
    assert_true(brick_seccomp_prog_from_cache(p));
    brick_seccomp_prog_free(p);
  }
  double load = (now_us() - t0) / N_LOAD;
  struct brick_seccomp_prog *p = prepare_in(f->cfg, f->dir);
  print_message("  default profile: %zu BPF instructions; compile %.0f us, cache load %.0f us "
                "(%.1fx)\n",
                brick_seccomp_prog_len(p), compile, load, compile / load);
  brick_seccomp_prog_free(p);
  assert_true(load < compile);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(second_prepare_hits, setup, teardown),
    cmocka_unit_test_setup_teardown(corrupt_cache_is_rebuilt, setup, teardown),
    cmocka_unit_test(keys_follow_content),
    cmocka_unit_test_setup_teardown(different_profile_different_file, setup, teardown),
    cmocka_unit_test_setup_teardown(unwritable_cache_dir, setup, teardown),
    cmocka_unit_test_setup_teardown(compile_vs_cache_time, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
