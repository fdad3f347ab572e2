/* The compiled-program cache: hits skip libseccomp, anything odd is rebuilt. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
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
  char name[BRICK_SECCOMP_CACHE_NAME_LEN];
  assert_int_equal(brick_seccomp_cache_key(cfg, name, NULL), 0);
  return xasprintf("%s/%s.bpf", f->dir, name);
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
/* Inside the stored canonical text, right after the 32-byte header. */
static void flip_text_byte(char *buf, size_t *len) { (void)len; buf[32 + 5] ^= 0x01; }
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
    {"flipped canonical text byte", flip_text_byte, 0600},
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
  char a[BRICK_SECCOMP_CACHE_NAME_LEN], b[BRICK_SECCOMP_CACHE_NAME_LEN];
  char c[BRICK_SECCOMP_CACHE_NAME_LEN], d[BRICK_SECCOMP_CACHE_NAME_LEN];
  _cleanup_json_ json_t *p0 = brick_seccomp_default_profile(0);
  _cleanup_json_ json_t *p1 = brick_seccomp_default_profile(UINT64_C(1) << CAP_NET_RAW);
  struct brick_seccomp *s0 = test_seccomp_from_json(p0);
  struct brick_seccomp *s1 = test_seccomp_from_json(p1);
  assert_int_equal(brick_seccomp_cache_key(s0, a, NULL), 0);
  assert_int_equal(brick_seccomp_cache_key(s1, b, NULL), 0);
  assert_string_not_equal(a, b);
  assert_int_equal(strlen(a), BRICK_SECCOMP_CACHE_NAME_LEN - 1);
  size_t la = 0, lb = 0;
  _cleanup_free_ char *ta = brick_seccomp_cache_text(s0, &la, NULL);
  _cleanup_free_ char *tb = brick_seccomp_cache_text(s1, &lb, NULL);
  assert_non_null(ta);
  assert_non_null(tb);
  assert_int_equal(strlen(ta), la);
  assert_true(la != lb || memcmp(ta, tb, la) != 0);

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
  _cleanup_free_ char *pa = cache_path(f, f->cfg);
  _cleanup_free_ char *pb = cache_path(f, s1);
  assert_string_not_equal(pa, pb);
  /* Both entries stay: alternating between the profiles hits each time. */
  for (int i = 0; i < 2; i++) {
    struct brick_seccomp_prog *a2 = prepare_in(f->cfg, f->dir);
    struct brick_seccomp_prog *b2 = prepare_in(s1, f->dir);
    assert_true(brick_seccomp_prog_from_cache(a2));
    assert_true(brick_seccomp_prog_from_cache(b2));
    assert_same_program(a, a2);
    assert_same_program(b, b2);
    brick_seccomp_prog_free(a2);
    brick_seccomp_prog_free(b2);
  }
  assert_int_equal(brick_seccomp_compile_count(), c0 + 1);
  brick_seccomp_prog_free(a);
  brick_seccomp_prog_free(b);
  test_seccomp_free(s1);
}

/* A well-formed cache file (our own, 0600, valid header and checksum) holding an allow-all
 * program, under the requested profile's file name but with another canonical text:
 * what a file-name collision of two profiles, or a forged file, looks like. */
static void write_forged(const char *path, const char *text, size_t text_len) {
  struct sock_filter allow_all = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct {
    char magic[8];
    uint32_t version, uses_notify, n_insns, text_len;
    uint64_t checksum;
  } h = {.version = 2, .uses_notify = 0, .n_insns = 1, .text_len = (uint32_t)text_len};
  _Static_assert(sizeof h == 32, "cache header layout");
  memcpy(h.magic, "BRICKBPF", 8);
  h.checksum = seccomp_cache_checksum(text, text_len, &allow_all, sizeof allow_all);
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, &h, sizeof h), (ssize_t)sizeof h);
  assert_int_equal(write(fd, text, text_len), (ssize_t)text_len);
  assert_int_equal(write(fd, &allow_all, sizeof allow_all), (ssize_t)sizeof allow_all);
  close(fd);
}

static void forged_file_with_other_text_not_used(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *path = cache_path(f, f->cfg);
  size_t want_len = 0;
  _cleanup_free_ char *want = brick_seccomp_cache_text(f->cfg, &want_len, NULL);
  assert_non_null(want);

  /* Texts to forge: another profile's (other length), and ours with one byte changed
   * (same length: only the byte-for-byte compare tells it apart). */
  struct brick_seccomp *other = test_seccomp_from_string(
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]}");
  size_t other_len = 0;
  _cleanup_free_ char *other_text = brick_seccomp_cache_text(other, &other_len, NULL);
  assert_non_null(other_text);
  _cleanup_free_ char *near = xmalloc(want_len + 1);
  memcpy(near, want, want_len + 1);
  near[want_len / 2] ^= 0x20;
  struct {
    const char *what, *text;
    size_t len;
  } cases[] = {
    {"another profile's text", other_text, other_len},
    {"our text with one byte changed", near, want_len},
  };
  struct brick_seccomp_prog *real = test_prepare(f->cfg);
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    write_forged(path, cases[i].text, cases[i].len);
    unsigned long c0 = brick_seccomp_compile_count();
    struct brick_seccomp_prog *p = prepare_in(f->cfg, f->dir);
    if (brick_seccomp_prog_from_cache(p))
      fail_msg("%s: forged cache file was used", cases[i].what);
    assert_int_equal(brick_seccomp_compile_count(), c0 + 1);
    assert_same_program(real, p);
    struct probe_result r = run_probe(p, p_kexec);
    assert_true(r.exited);
    assert_int_equal(r.value, -EPERM);
    brick_seccomp_prog_free(p);
    /* The rebuilt file replaced the forged one and now hits. */
    p = prepare_in(f->cfg, f->dir);
    assert_true(brick_seccomp_prog_from_cache(p));
    assert_same_program(real, p);
    brick_seccomp_prog_free(p);
  }
  /* Control: the same forged file with our exact text is accepted, so the cases above
   * were rejected for their text and nothing else. */
  write_forged(path, want, want_len);
  struct brick_seccomp_prog *p = prepare_in(f->cfg, f->dir);
  assert_true(brick_seccomp_prog_from_cache(p));
  assert_int_equal(brick_seccomp_prog_len(p), 1);
  brick_seccomp_prog_free(p);
  brick_seccomp_prog_free(real);
  test_seccomp_free(other);
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

static void touch_at(const char *dir, const char *name, time_t mtime) {
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  close(fd);
  struct timespec times[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};
  assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static bool exists_in(const char *dir, const char *name) {
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

static void cache_is_bounded_and_sheds_old_layouts(void **state) {
  struct fixture *f = *state;
  static const char *legacy =
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.bpf";
  touch_at(f->dir, legacy, 1000);
  touch_at(f->dir, "notes.txt", 1000);
  touch_at(f->dir, "00000000000000aa.bpf.tmp.77", 1000);   /* a concurrent store's */
  touch_at(f->dir, "00000000000000a1.bpf", 1001);
  touch_at(f->dir, "00000000000000a2.bpf", 1002);
  touch_at(f->dir, "00000000000000a3.bpf", 1003);
  touch_at(f->dir, "00000000000000a0.bpf", 999);           /* the one being stored */
  seccomp_cache_prune(f->dir, 3, "00000000000000a0.bpf");
  assert_false(exists_in(f->dir, legacy));
  assert_false(exists_in(f->dir, "notes.txt"));
  assert_true(exists_in(f->dir, "00000000000000aa.bpf.tmp.77"));
  assert_true(exists_in(f->dir, "00000000000000a0.bpf"));    /* kept though oldest */
  assert_false(exists_in(f->dir, "00000000000000a1.bpf"));   /* oldest beyond the bound */
  assert_true(exists_in(f->dir, "00000000000000a2.bpf"));
  assert_true(exists_in(f->dir, "00000000000000a3.bpf"));
  /* Through the real path: a store (a miss) sheds an old-layout file and keeps itself. */
  touch_at(f->dir, legacy, 1000);
  struct brick_seccomp_prog *prog = prepare_in(f->cfg, f->dir);
  assert_false(brick_seccomp_prog_from_cache(prog));
  assert_false(exists_in(f->dir, legacy));
  _cleanup_free_ char *path = cache_path(f, f->cfg);
  assert_int_equal(access(path, F_OK), 0);
  brick_seccomp_prog_free(prog);
  /* ...and a hit does not scan: a file put there afterwards survives the next prepare. */
  touch_at(f->dir, legacy, 1000);
  prog = prepare_in(f->cfg, f->dir);
  assert_true(brick_seccomp_prog_from_cache(prog));
  assert_true(exists_in(f->dir, legacy));
  brick_seccomp_prog_free(prog);
}


int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(second_prepare_hits, setup, teardown),
    cmocka_unit_test_setup_teardown(corrupt_cache_is_rebuilt, setup, teardown),
    cmocka_unit_test(keys_follow_content),
    cmocka_unit_test_setup_teardown(different_profile_different_file, setup, teardown),
    cmocka_unit_test_setup_teardown(cache_is_bounded_and_sheds_old_layouts, setup, teardown),
    cmocka_unit_test_setup_teardown(forged_file_with_other_text_not_used, setup, teardown),
    cmocka_unit_test_setup_teardown(unwritable_cache_dir, setup, teardown),
    cmocka_unit_test_setup_teardown(compile_vs_cache_time, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
