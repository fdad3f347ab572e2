/* `brick check image` on crafted root filesystems. */
#include "check_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/util.h"

struct fixture {
  char dir[64];
};

static int setup(void **state) {
  struct fixture *f = xcalloc(1, sizeof *f);
  strcpy(f->dir, "/tmp/brick-check-rootfs-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  chmod(f->dir, 0755);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  brick_rm_rf(f->dir, NULL);
  free(f);
  return 0;
}

static char *mkfile(struct fixture *f, const char *rel, mode_t mode) {
  char *p = xasprintf("%s/%s", f->dir, rel);
  _cleanup_free_ char *parent = xstrdup(p);
  *strrchr(parent, '/') = 0;
  assert_int_equal(brick_mkdir_p(parent, 0755, NULL), 0);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(chmod(p, mode), 0);
  return p;
}

static struct brick_check_report *check(struct fixture *f, json_t *config, json_t *summary) {
  struct brick_image_check_opts o = {.rootfs = f->dir, .image_config = config,
                                     .scan_summary = summary};
  brick_err err = {0};
  struct brick_check_report *r = brick_check_image(&o, &err);
  if (!r)
    fprintf(stderr, "%s\n", brick_error_msg(&err));
  assert_non_null(r);
  return r;
}

static void test_clean_rootfs(void **state) {
  struct fixture *f = *state;
  free(mkfile(f, "usr/bin/tool", 0755));
  free(mkfile(f, "etc/passwd", 0644));
  struct brick_check_report *r = check(f, NULL, NULL);
  must_find(r, "image.files", NULL);
  must_find(r, "image.user-unknown", NULL);
  must_find(r, "scan.none", NULL);
  assert_true(brick_check_report_worst(r) <= BRICK_CHECK_INFO);
  brick_check_report_free(r);
}

static void test_setuid_appears_and_disappears(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *p = mkfile(f, "usr/bin/su", 04755);
  struct brick_check_report *r = check(f, NULL, NULL);
  const struct brick_check_finding *x = must_find(r, "image.setuid", "/usr/bin/su");
  assert_int_equal(x->level, BRICK_CHECK_WARN);
  brick_check_report_free(r);
  assert_int_equal(chmod(p, 0755), 0);
  r = check(f, NULL, NULL);
  must_not_find(r, "image.setuid");
  brick_check_report_free(r);
  /* setuid and world-writable: anyone can replace what runs as root. */
  assert_int_equal(chmod(p, 04777), 0);
  r = check(f, NULL, NULL);
  assert_int_equal(must_find(r, "image.setuid", NULL)->level, BRICK_CHECK_CRITICAL);
  brick_check_report_free(r);
}

static void test_setgid(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *p = mkfile(f, "usr/bin/wall", 02755);
  struct brick_check_report *r = check(f, NULL, NULL);
  must_find(r, "image.setgid", "/usr/bin/wall");
  must_not_find(r, "image.setuid");
  brick_check_report_free(r);
  assert_int_equal(chmod(p, 0755), 0);
  r = check(f, NULL, NULL);
  must_not_find(r, "image.setgid");
  brick_check_report_free(r);
}

static void test_world_writable(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *file = mkfile(f, "etc/profile", 0666);
  _cleanup_free_ char *dir = xasprintf("%s/tmp", f->dir);
  assert_int_equal(mkdir(dir, 0777), 0);
  assert_int_equal(chmod(dir, 01777), 0);
  _cleanup_free_ char *link = xasprintf("%s/etc/link", f->dir);
  assert_int_equal(symlink("profile", link), 0);
  struct brick_check_report *r = check(f, NULL, NULL);
  must_find(r, "image.world-writable", "/etc/profile");
  /* Sticky directories and symlinks (always 0777) are fine. */
  assert_null(brick_check_report_find(r, "image.world-writable", "/tmp"));
  assert_null(brick_check_report_find(r, "image.world-writable", "/etc/link"));
  brick_check_report_free(r);
  assert_int_equal(chmod(dir, 0777), 0);
  assert_int_equal(chmod(file, 0644), 0);
  r = check(f, NULL, NULL);
  must_find(r, "image.world-writable", "/tmp");
  assert_null(brick_check_report_find(r, "image.world-writable", "/etc/profile"));
  brick_check_report_free(r);
}

static void test_device_nodes(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *dev = xasprintf("%s/dev", f->dir);
  assert_int_equal(mkdir(dev, 0755), 0);
  _cleanup_free_ char *node = xasprintf("%s/dev/sda", f->dir);
  if (mknod(node, S_IFBLK | 0600, makedev(8, 0)) < 0)
    skip(); /* needs CAP_MKNOD */
  struct brick_check_report *r = check(f, NULL, NULL);
  const struct brick_check_finding *x = must_find(r, "image.device", "/dev/sda");
  assert_int_equal(x->level, BRICK_CHECK_HIGH);
  assert_non_null(strstr(x->title, "8:0"));
  brick_check_report_free(r);
  assert_int_equal(unlink(node), 0);
  r = check(f, NULL, NULL);
  must_not_find(r, "image.device");
  brick_check_report_free(r);
}

static void test_user_root_by_default(void **state) {
  struct fixture *f = *state;
  static const char *const root_users[] = {"", "0", "root", "0:0", "root:wheel"};
  for (size_t i = 0; i < sizeof root_users / sizeof root_users[0]; i++) {
    json_t *cfg = json_pack("{s:{s:s}}", "config", "User", root_users[i]);
    struct brick_check_report *r = check(f, cfg, NULL);
    assert_int_equal(must_find(r, "image.user-root", "config.User")->level, BRICK_CHECK_WARN);
    brick_check_report_free(r);
    json_decref(cfg);
  }
  /* No User member at all is root too. */
  json_t *cfg = json_pack("{s:{s:[s]}}", "config", "Cmd", "sh");
  struct brick_check_report *r = check(f, cfg, NULL);
  must_find(r, "image.user-root", NULL);
  brick_check_report_free(r);
  json_decref(cfg);

  static const char *const users[] = {"1000", "app", "1000:1000", "nobody"};
  for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
    /* Docker inspect's "Config" spelling as well. */
    cfg = json_pack("{s:{s:s}}", i % 2 ? "Config" : "config", "User", users[i]);
    r = check(f, cfg, NULL);
    must_not_find(r, "image.user-root");
    must_find(r, "image.user", NULL);
    brick_check_report_free(r);
    json_decref(cfg);
  }
}

static void test_scan_summary(void **state) {
  struct fixture *f = *state;
  json_t *s = json_pack("{s:i,s:i,s:i,s:i}", "critical", 2, "high", 0, "medium", 5, "low", 1);
  struct brick_check_report *r = check(f, NULL, s);
  assert_int_equal(must_find(r, "scan.critical", NULL)->level, BRICK_CHECK_CRITICAL);
  assert_non_null(strstr(must_find(r, "scan.critical", NULL)->title, "2 critical"));
  must_not_find(r, "scan.high");
  assert_int_equal(must_find(r, "scan.medium", NULL)->level, BRICK_CHECK_WARN);
  must_not_find(r, "scan.none");
  brick_check_report_free(r);
  json_decref(s);
  s = json_pack("{s:i,s:i}", "critical", 0, "high", 0);
  r = check(f, NULL, s);
  must_find(r, "scan.clean", NULL);
  must_not_find(r, "scan.critical");
  brick_check_report_free(r);
  json_decref(s);
}

static void test_listing_is_capped(void **state) {
  struct fixture *f = *state;
  for (int i = 0; i < 5; i++) {
    _cleanup_free_ char *rel = xasprintf("bin/s%d", i);
    free(mkfile(f, rel, 04755));
  }
  struct brick_image_check_opts o = {.rootfs = f->dir, .max_per_kind = 2};
  struct brick_check_report *r = brick_check_image(&o, NULL);
  assert_non_null(r);
  size_t n = 0;
  for (size_t i = 0; i < r->n_findings; i++)
    n += !strcmp(r->findings[i].id, "image.setuid");
  assert_int_equal(n, 2);
  assert_non_null(strstr(must_find(r, "image.setuid-more", NULL)->title, "3 more"));
  assert_int_equal(json_integer_value(json_object_get(r->facts, "setuid")), 5);
  brick_check_report_free(r);
}

static void test_missing_rootfs(void **state) {
  (void)state;
  struct brick_image_check_opts o = {.rootfs = "/nonexistent/rootfs"};
  brick_err err = {0};
  assert_null(brick_check_image(&o, &err));
  assert_non_null(strstr(brick_error_msg(&err), "/nonexistent/rootfs"));
  brick_error_clear(&err);
  o.rootfs = NULL;
  assert_null(brick_check_image(&o, &err));
  brick_error_clear(&err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_clean_rootfs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_setuid_appears_and_disappears, setup, teardown),
      cmocka_unit_test_setup_teardown(test_setgid, setup, teardown),
      cmocka_unit_test_setup_teardown(test_world_writable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_device_nodes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_user_root_by_default, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan_summary, setup, teardown),
      cmocka_unit_test_setup_teardown(test_listing_is_capped, setup, teardown),
      cmocka_unit_test(test_missing_rootfs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
