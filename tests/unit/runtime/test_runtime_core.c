/* Runtime logic that needs no container: ids and state, the user-namespace id pool,
 * path resolution inside a rootfs, hooks, and the pivot sequence through the syscall
 * seam. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/sys.h"
#include "core/util.h"
#include "runtime/hooks.h"
#include "runtime/rootfs.h"
#include "runtime/state.h"
#include "runtime/userns.h"

static char *tmpdir(void) {
  char tmpl[] = "/tmp/brick-rt-XXXXXX";
  char *d = mkdtemp(tmpl);
  assert_non_null(d);
  return xstrdup(d);
}

static void rmtree(const char *d) {
  brick_err err = {0};
  brick_rm_rf(d, &err);
  brick_error_clear(&err);
}

static void test_ids(void **state) {
  (void)state;
  brick_err err = {0};
  assert_int_equal(brick_state_check_id("abc-1.2_x+y", &err), 0);
  const char *bad[] = {"", ".", "..", "a/b", "a b", "../x", "x\n"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    assert_int_equal(brick_state_check_id(bad[i], &err), -1);
    assert_non_null(err.msg);
    brick_error_clear(&err);
  }
}

static void test_state_roundtrip_and_status(void **state) {
  (void)state;
  char *root = tmpdir();
  brick_err err = {0};
  assert_int_equal(brick_state_create_dir(root, "c1", &err), 0);
  assert_int_equal(brick_state_create_dir(root, "c1", &err), -1);
  assert_string_equal(err.msg, "container \"c1\" already exists");
  brick_error_clear(&err);

  struct brick_state st = {.id = "c1", .dir = brick_state_dir(root, "c1"), .pid = getpid(),
                           .pid_start = brick_proc_start_time(getpid()), .bundle = "/b",
                           .rootfs = "/b/rootfs", .cgroup_path = NULL, .created = "now",
                           .userns_base = 1000000000u};
  assert_int_equal(brick_state_save(&st, &err), 0);
  struct brick_state back;
  assert_int_equal(brick_state_load(root, "c1", &back, &err), 0);
  assert_int_equal(back.pid, getpid());
  assert_string_equal(back.bundle, "/b");
  assert_int_equal(back.userns_base, 1000000000u);
  /* Alive, not started, no fifo: running; with the fifo: created. */
  assert_int_equal(brick_state_status(&back), BRICK_RUNNING);
  char *fifo = xasprintf("%s/exec.fifo", st.dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  assert_int_equal(brick_state_status(&back), BRICK_CREATED);
  /* A recorded start time that does not match is a reused pid: stopped. */
  back.pid_start += 1;
  assert_int_equal(brick_state_status(&back), BRICK_STOPPED);
  json_t *oci = brick_state_to_oci(&back, BRICK_STOPPED);
  assert_int_equal(json_integer_value(json_object_get(oci, "pid")), 0);
  assert_string_equal(json_string_value(json_object_get(oci, "status")), "stopped");
  json_decref(oci);
  brick_state_clear(&back);

  assert_int_equal(brick_state_load(root, "nope", &back, &err), -1);
  assert_string_equal(err.msg, "container \"nope\" does not exist");
  brick_error_clear(&err);
  free(fifo);
  free(st.dir);
  rmtree(root);
  free(root);
}

static void test_userns_pool(void **state) {
  (void)state;
  char *root = tmpdir();
  brick_err err = {0};
  struct brick_id_pool pool = {.start = 200000, .count = 3 * BRICK_USERNS_RANGE};
  uint32_t a, b, c, again, d;
  assert_int_equal(brick_userns_allocate(root, "a", &pool, &a, &err), 0);
  assert_int_equal(brick_userns_allocate(root, "b", &pool, &b, &err), 0);
  assert_int_equal(brick_userns_allocate(root, "c", &pool, &c, &err), 0);
  assert_true(a != b && b != c && a != c);
  assert_int_equal(a % BRICK_USERNS_RANGE, 200000 % BRICK_USERNS_RANGE);
  assert_int_equal(brick_userns_allocate(root, "a", &pool, &again, &err), 0);
  assert_int_equal(again, a);
  assert_int_equal(brick_userns_allocate(root, "d", &pool, &d, &err), -1);
  assert_int_equal(err.errnum, ENOSPC);
  brick_error_clear(&err);
  assert_int_equal(brick_userns_release(root, "b", &err), 0);
  assert_int_equal(brick_userns_allocate(root, "d", &pool, &d, &err), 0);
  assert_int_equal(d, b);
  rmtree(root);
  free(root);
}

static void test_id_pool_file(void **state) {
  (void)state;
  char *dir = tmpdir();
  char *path = xasprintf("%s/subuid", dir);
  brick_err err = {0};
  struct brick_id_pool pool;
  FILE *f = fopen(path, "w");
  fputs("alice:100000:65536\ncontainers:2147483648:268435456\n", f);
  fclose(f);
  assert_int_equal(brick_id_pool_read(path, &pool, &err), 0);
  assert_int_equal(pool.start, 2147483648u);
  assert_int_equal(pool.count, 268435456u);
  f = fopen(path, "w");
  fputs("containers:5:10\n", f);
  fclose(f);
  assert_int_equal(brick_id_pool_read(path, &pool, &err), -1);
  assert_non_null(strstr(err.msg, "not a usable range"));
  brick_error_clear(&err);
  char *missing = xasprintf("%s/none", dir);
  assert_int_equal(brick_id_pool_read(missing, &pool, &err), 0);
  assert_int_equal(pool.start, 1000000000u);
  free(missing);
  free(path);
  rmtree(dir);
  free(dir);
}

/* A symlink planted in the rootfs must be followed only inside it: creating through
 * "evil/x" where evil -> <outside> lands in rootfs/<outside>/x, never in <outside>. */
static void test_open_in_root_contains_symlinks(void **state) {
  (void)state;
  char *root = tmpdir();
  char *outside = tmpdir();
  char *link = xasprintf("%s/evil", root);
  assert_int_equal(symlink(outside, link), 0);
  char *dotdot = xasprintf("%s/up", root);
  assert_int_equal(symlink("../../../../..", dotdot), 0);
  int rootfd = open(root, O_PATH | O_DIRECTORY);
  brick_err err = {0};
  /* Dangling inside the rootfs: refused, and nothing appears outside. */
  assert_int_equal(brick_open_in_root(rootfd, "/evil/planted", true, true, &err), -1);
  brick_error_clear(&err);
  char *outside_planted = xasprintf("%s/planted", outside);
  assert_int_equal(access(outside_planted, F_OK), -1);
  free(outside_planted);
  /* Once the link's target exists inside the rootfs, creation goes there. */
  char *inner_target = xasprintf("%s%s", root, outside);
  assert_int_equal(brick_mkdir_p(inner_target, 0755, &err), 0);
  free(inner_target);
  int fd = brick_open_in_root(rootfd, "/evil/planted", true, true, &err);
  assert_true(fd >= 0);
  close(fd);
  fd = brick_open_in_root(rootfd, "up/etc/made", true, false, &err);
  assert_true(fd >= 0);
  close(fd);
  char *escaped = xasprintf("%s/planted", outside);
  assert_int_equal(access(escaped, F_OK), -1);
  char *inside = xasprintf("%s%s/planted", root, outside);
  assert_int_equal(access(inside, F_OK), 0);
  char *made = xasprintf("%s/etc/made", root);
  assert_int_equal(access(made, F_OK), 0);
  assert_int_equal(brick_open_in_root(rootfd, "missing/thing", false, false, &err), -1);
  assert_non_null(err.msg);
  brick_error_clear(&err);
  close(rootfd);
  free(escaped);
  free(inside);
  free(made);
  free(link);
  free(dotdot);
  rmtree(root);
  rmtree(outside);
  free(root);
  free(outside);
}

/* The pivot through the seam: the calls and their order are the point. */
static char calls[8][96];
static int n_calls;
static int fake_mount(const char *src, const char *tgt, const char *fstype, unsigned long flags,
                      const void *data) {
  (void)src;
  (void)fstype;
  (void)data;
  snprintf(calls[n_calls++ % 8], sizeof calls[0], "mount %s %#lx", tgt ? tgt : "-", flags);
  return 0;
}
static int fake_pivot(const char *new_root, const char *put_old) {
  snprintf(calls[n_calls++ % 8], sizeof calls[0], "pivot_root %s %s", new_root, put_old);
  return 0;
}
static int fake_umount2(const char *tgt, int flags) {
  snprintf(calls[n_calls++ % 8], sizeof calls[0], "umount2 %s %#x", tgt, flags);
  return 0;
}
static int failing_pivot(const char *new_root, const char *put_old) {
  (void)new_root;
  (void)put_old;
  errno = EINVAL;
  return -1;
}

static void test_pivot_sequence(void **state) {
  (void)state;
  char *root = tmpdir();
  char cwd[4096];
  assert_non_null(getcwd(cwd, sizeof cwd));
  struct brick_sys fake = brick_sys_kernel;
  fake.mount = fake_mount;
  fake.pivot_root = fake_pivot;
  fake.umount2 = fake_umount2;
  brick_sys = &fake;
  n_calls = 0;
  struct brick_rootfs_ctx ctx = {.rootfs = root};
  brick_err err = {0};
  assert_int_equal(brick_rootfs_pivot(&ctx, &err), 0);
  assert_int_equal(n_calls, 3);
  assert_string_equal(calls[0], "pivot_root . .");
  char want[96];
  snprintf(want, sizeof want, "mount . %#lx", (unsigned long)(MS_SLAVE | MS_REC));
  assert_string_equal(calls[1], want);
  snprintf(want, sizeof want, "umount2 . %#x", MNT_DETACH);
  assert_string_equal(calls[2], want);

  fake.pivot_root = failing_pivot;
  assert_int_equal(chdir(cwd), 0);
  assert_int_equal(brick_rootfs_pivot(&ctx, &err), -1);
  assert_non_null(strstr(err.msg, "pivot_root"));
  assert_int_equal(err.errnum, EINVAL);
  brick_error_clear(&err);
  brick_sys = &brick_sys_kernel;
  assert_int_equal(chdir(cwd), 0);
  rmtree(root);
  free(root);
}

static void test_hooks_state_and_timeout(void **state) {
  (void)state;
  char *dir = tmpdir();
  char *out = xasprintf("%s/stdin", dir);
  char *script = xasprintf("cat > %s", out);
  char *args1[] = {"sh", "-c", script, NULL};
  char *args2[] = {"sh", "-c", "sleep 5", NULL};
  char *args3[] = {"sh", "-c", "exit 3", NULL};
  struct brick_hook ok = {.path = "/bin/sh", .args = args1};
  struct brick_hook slow = {.path = "/bin/sh", .args = args2, .has_timeout = true, .timeout = 1};
  struct brick_hook bad = {.path = "/bin/sh", .args = args3};
  struct brick_hooks hooks = {0};
  hooks.list[BRICK_HOOK_PRESTART] = &ok;
  hooks.n[BRICK_HOOK_PRESTART] = 1;
  hooks.list[BRICK_HOOK_POSTSTOP] = &slow;
  hooks.n[BRICK_HOOK_POSTSTOP] = 1;
  hooks.list[BRICK_HOOK_POSTSTART] = &bad;
  hooks.n[BRICK_HOOK_POSTSTART] = 1;
  json_t *st = json_pack("{s:s, s:s}", "id", "c1", "status", "creating");
  brick_err err = {0};
  assert_int_equal(brick_hooks_run(&hooks, BRICK_HOOK_PRESTART, st, &err), 0);
  char *text = NULL;
  assert_int_equal(brick_read_file(out, &text, NULL, &err), 0);
  assert_non_null(strstr(text, "\"id\":\"c1\""));
  free(text);
  assert_int_equal(brick_hooks_run(&hooks, BRICK_HOOK_POSTSTOP, st, &err), -1);
  assert_non_null(strstr(err.msg, "hooks.poststop[0]"));
  assert_non_null(strstr(err.msg, "timed out"));
  brick_error_clear(&err);
  assert_int_equal(brick_hooks_run(&hooks, BRICK_HOOK_POSTSTART, st, &err), -1);
  assert_non_null(strstr(err.msg, "exited with status 3"));
  brick_error_clear(&err);
  json_decref(st);
  free(out);
  free(script);
  rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ids),
      cmocka_unit_test(test_state_roundtrip_and_status),
      cmocka_unit_test(test_userns_pool),
      cmocka_unit_test(test_id_pool_file),
      cmocka_unit_test(test_open_in_root_contains_symlinks),
      cmocka_unit_test(test_pivot_sequence),
      cmocka_unit_test(test_hooks_state_and_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
