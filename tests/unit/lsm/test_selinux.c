/* SELinux label handling that does not need an active policy: context parsing and level
 * replacement, lxc_contexts lookup, mount option formatting and tree relabelling (the
 * kernel stores security.selinux unvalidated while SELinux is off). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <selinux/selinux.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "lsm/lsm.h"

#define LABEL "system_u:object_r:container_file_t:s0:c4,c77"
#define OTHER "system_u:object_r:other_t:s0"

static void test_parse(void **state) {
  (void)state;
  brick_err err = {0};
  struct brick_selinux_context c;
  assert_int_equal(brick_selinux_context_parse("u:r:t:s0-s0:c0.c1023", &c, &err), 0);
  assert_string_equal(c.user, "u");
  assert_string_equal(c.role, "r");
  assert_string_equal(c.type, "t");
  assert_string_equal(c.level, "s0-s0:c0.c1023");
  brick_selinux_context_free(&c);
  assert_int_equal(brick_selinux_context_parse("u:r:t", &c, &err), 0);
  assert_null(c.level);
  assert_string_equal(c.type, "t");
  brick_selinux_context_free(&c);

  static const char *const bad[] = {"", "u", "u:r", "u::t", ":r:t", "u:r:", "u:r:t:",
                                    "u:r:t :s0", "u:r:\"t\":s0", "u:r:t:s0\n"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    assert_int_equal(brick_selinux_context_parse(bad[i], &c, &err), -1);
    assert_int_equal(err.errnum, EINVAL);
    assert_null(c.user);
    brick_error_clear(&err);
  }
}

static void test_with_level(void **state) {
  (void)state;
  brick_err err = {0};
  static const struct { const char *ctx, *level, *out; } ok[] = {
      {"system_u:system_r:container_t:s0", "s0:c1,c2", "system_u:system_r:container_t:s0:c1,c2"},
      {"system_u:system_r:container_t:s0:c5,c6", "s0:c9,c8",
       "system_u:system_r:container_t:s0:c8,c9"},
      {"u:r:t:s0-s0:c0.c1023", "s0:c1,c2", "u:r:t:s0:c1,c2"},
      {"u:r:t", "s0:c1,c2", "u:r:t:s0:c1,c2"},
      {"u:r:t:s0:c1,c2", NULL, "u:r:t:s0:c1,c2"},
      {"u:r:t:s0", "s0-s0:c0.c1023", "u:r:t:s0-s0:c0.c1023"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
    _cleanup_free_ char *out = NULL;
    assert_int_equal(brick_selinux_context_with_level(ok[i].ctx, ok[i].level, &out, &err), 0);
    assert_string_equal(out, ok[i].out);
  }
  char *out = NULL;
  assert_int_equal(brick_selinux_context_with_level("u:r:t:s0", "s0:c2000", &out, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "s0:c2000"));
  brick_error_clear(&err);
  assert_int_equal(brick_selinux_context_with_level("u:r", "s0", &out, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "u:r"));
  brick_error_clear(&err);
  assert_null(out);
}

static char *write_tmp(const char *content) {
  char tmpl[] = "/tmp/brick-lxc-XXXXXX";
  int fd = mkstemp(tmpl);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
  close(fd);
  return xstrdup(tmpl);
}

static void test_lxc_contexts(void **state) {
  (void)state;
  brick_err err = {0};
  _cleanup_free_ char *path = write_tmp(
      "# container policy\n"
      "  process = \"system_u:system_r:spc_like_t:s0\"\n"
      "content = \"system_u:object_r:virt_var_lib_t:s0\"\n"
      "file=system_u:object_r:my_file_t:s0\n"
      "ro_file = \"system_u:object_r:container_ro_file_t:s0\"\n"
      "sandbox_kvm_process = \"system_u:system_r:container_kvm_t:s0\"\n");
  _cleanup_free_ char *p = NULL, *f = NULL;
  assert_int_equal(brick_selinux_labels_from_file(path, "s0:c1,c2", &p, &f, &err), 0);
  assert_string_equal(p, "system_u:system_r:spc_like_t:s0:c1,c2");
  assert_string_equal(f, "system_u:object_r:my_file_t:s0:c1,c2");
  unlink(path);

  /* A policy without the file, and the host's own (no policy installed here). */
  _cleanup_free_ char *p2 = NULL, *f2 = NULL, *p3 = NULL, *f3 = NULL;
  assert_int_equal(brick_selinux_labels_from_file("/nonexistent/lxc_contexts", "s0:c3,c9",
                                                  &p2, &f2, &err), 0);
  assert_string_equal(p2, "system_u:system_r:container_t:s0:c3,c9");
  assert_string_equal(f2, "system_u:object_r:container_file_t:s0:c3,c9");
  if (access(selinux_lxc_contexts_path(), F_OK) != 0) {
    assert_int_equal(brick_selinux_default_labels(NULL, &p3, &f3, &err), 0);
    assert_string_equal(p3, "system_u:system_r:container_t:s0");
    assert_string_equal(f3, "system_u:object_r:container_file_t:s0");
  }

  /* A broken entry names the file. */
  _cleanup_free_ char *bad = write_tmp("process = \"garbage\"\n");
  char *p4 = NULL, *f4 = NULL;
  assert_int_equal(brick_selinux_labels_from_file(bad, NULL, &p4, &f4, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), bad));
  assert_non_null(strstr(brick_error_msg(&err), "process"));
  brick_error_clear(&err);
  unlink(bad);
}

static void test_mount_option(void **state) {
  (void)state;
  _cleanup_free_ char *o = brick_selinux_context_mount_option(LABEL);
  assert_string_equal(o, "context=\"" LABEL "\"");
  assert_null(brick_selinux_context_mount_option(NULL));
}

static void test_disabled_noop(void **state) {
  (void)state;
  brick_err err = {0};
  assert_int_equal(brick_selinux_set_exec_label(NULL, &err), 0);
  assert_int_equal(brick_selinux_set_keycreate_label(NULL, &err), 0);
  if (is_selinux_enabled() > 0)
    skip();
  assert_false(brick_selinux_enabled());
  assert_false(brick_selinux_enforcing());
  /* Ignored (not an error) on a host without SELinux, as runc does; the exec attr
   * stays empty. */
  assert_int_equal(brick_selinux_set_exec_label("u:r:t:s0", &err), 0);
  assert_int_equal(brick_selinux_set_keycreate_label("u:r:t:s0", &err), 0);
  char *cur = NULL;
  if (getexeccon(&cur) == 0) {
    assert_null(cur);
  }
}

static char *label_of(const char *path) {
  char *c = NULL;
  if (lgetfilecon_raw(path, &c) < 0)
    return NULL;
  char *r = xstrdup(c);
  freecon(c);
  return r;
}

struct tree {
  char root[64];
  char outside[64];
};

static int setup_tree(void **state) {
  struct tree *t = xcalloc(1, sizeof *t);
  snprintf(t->root, sizeof t->root, "%s", "/tmp/brick-relabel-XXXXXX");
  snprintf(t->outside, sizeof t->outside, "%s", "/tmp/brick-outside-XXXXXX");
  assert_non_null(mkdtemp(t->root));
  assert_non_null(mkdtemp(t->outside));
  brick_err err = {0};
  _cleanup_free_ char *deep = xasprintf("%s/a/b/c", t->root);
  assert_int_equal(brick_mkdir_p(deep, 0755, &err), 0);
  const char *files[] = {"f1", "a/f2", "a/b/c/f3"};
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    _cleanup_free_ char *p = xasprintf("%s/%s", t->root, files[i]);
    assert_int_equal(brick_write_file_atomic(p, "x", 1, 0644, &err), 0);
  }
  _cleanup_free_ char *target = xasprintf("%s/secret", t->outside);
  assert_int_equal(brick_write_file_atomic(target, "s", 1, 0600, &err), 0);
  assert_int_equal(lsetfilecon_raw(target, OTHER), 0);
  assert_int_equal(lsetfilecon_raw(t->outside, OTHER), 0);
  _cleanup_free_ char *link = xasprintf("%s/a/link", t->root);
  assert_int_equal(symlink(target, link), 0);
  _cleanup_free_ char *dirlink = xasprintf("%s/dirlink", t->root);
  assert_int_equal(symlink(t->outside, dirlink), 0);
  *state = t;
  return 0;
}

static int teardown_tree(void **state) {
  struct tree *t = *state;
  _cleanup_free_ char *mnt = xasprintf("%s/mnt", t->root);
  umount2(mnt, MNT_DETACH); /* only mounted by test_relabel_mount */
  brick_err err = {0};
  assert_int_equal(brick_rm_rf(t->root, &err), 0);
  assert_int_equal(brick_rm_rf(t->outside, &err), 0);
  free(t);
  return 0;
}

static int set_immutable(const char *path, bool on) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int flags = 0;
  int r = ioctl(fd, FS_IOC_GETFLAGS, &flags);
  if (r == 0) {
    flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    r = ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
  close(fd);
  return r;
}

static void test_relabel_tree(void **state) {
  struct tree *t = *state;
  brick_err err = {0};
  assert_int_equal(brick_selinux_relabel_tree(t->root, LABEL, &err), 0);
  const char *inside[] = {"", "/f1", "/a", "/a/f2", "/a/b", "/a/b/c", "/a/b/c/f3", "/a/link",
                          "/dirlink"};
  for (size_t i = 0; i < ARRAY_SIZE(inside); i++) {
    _cleanup_free_ char *p = xasprintf("%s%s", t->root, inside[i]);
    _cleanup_free_ char *l = label_of(p);
    assert_non_null(l);
    assert_string_equal(l, LABEL);
  }
  /* Symlinks are labelled themselves, never followed. */
  _cleanup_free_ char *target = xasprintf("%s/secret", t->outside);
  _cleanup_free_ char *tl = label_of(target), *ol = label_of(t->outside);
  assert_string_equal(tl, OTHER);
  assert_string_equal(ol, OTHER);

  /* Already labelled files are not written again: an immutable file (setxattr would
   * fail with EPERM) carrying the label already does not stop the walk. */
  _cleanup_free_ char *f3 = xasprintf("%s/a/b/c/f3", t->root);
  if (set_immutable(f3, true) == 0) {
    int r = brick_selinux_relabel_tree(t->root, LABEL, &err);
    assert_int_equal(set_immutable(f3, false), 0);
    assert_int_equal(r, 0);
  }
  /* ... while a differently labelled one is relabelled. */
  assert_int_equal(lsetfilecon_raw(f3, OTHER), 0);
  assert_int_equal(brick_selinux_relabel_tree(t->root, LABEL, &err), 0);
  _cleanup_free_ char *l3 = label_of(f3);
  assert_string_equal(l3, LABEL);

  /* A single file works too. */
  _cleanup_free_ char *f1 = xasprintf("%s/f1", t->root);
  assert_int_equal(brick_selinux_relabel_tree(f1, OTHER, &err), 0);
  _cleanup_free_ char *l1 = label_of(f1);
  assert_string_equal(l1, OTHER);
}

static void test_relabel_mount(void **state) {
  struct tree *t = *state;
  brick_err err = {0};
  _cleanup_free_ char *mnt = xasprintf("%s/mnt", t->root);
  assert_int_equal(mkdir(mnt, 0755), 0);
  if (mount("brick-test", mnt, "tmpfs", 0, "size=1m") < 0)
    skip();
  _cleanup_free_ char *inner = xasprintf("%s/inner", mnt);
  int fd = open(inner, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  close(fd);
  if (lsetfilecon_raw(inner, OTHER) < 0) {
    umount2(mnt, MNT_DETACH);
    skip(); /* tmpfs without xattrs */
  }
  int r = brick_selinux_relabel_tree(t->root, LABEL, &err);
  _cleanup_free_ char *il = label_of(inner);
  umount2(mnt, MNT_DETACH);
  assert_int_equal(r, 0);
  assert_string_equal(il, OTHER); /* another mount's files are not ours */
}

static void test_relabel_refuses(void **state) {
  (void)state;
  brick_err err = {0};
  /* /proc cannot take labels at all, so a broken guard fails differently, never
   * relabels anything. */
  const char *paths[] = {"/proc", "/proc/../proc/", "/proc/self", "/sys/kernel"};
  for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
    assert_int_equal(brick_selinux_relabel_tree(paths[i], LABEL, &err), -1);
    assert_int_equal(err.errnum, EPERM);
    assert_non_null(strstr(brick_error_msg(&err), "refusing"));
    brick_error_clear(&err);
  }
  assert_int_equal(brick_selinux_relabel_tree("/nonexistent/x", LABEL, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "/nonexistent/x"));
  brick_error_clear(&err);
  assert_int_equal(brick_selinux_relabel_tree("/tmp", "bad label", &err), -1);
  assert_int_equal(err.errnum, EINVAL);
  brick_error_clear(&err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_with_level),
      cmocka_unit_test(test_lxc_contexts),
      cmocka_unit_test(test_mount_option),
      cmocka_unit_test(test_disabled_noop),
      cmocka_unit_test_setup_teardown(test_relabel_tree, setup_tree, teardown_tree),
      cmocka_unit_test_setup_teardown(test_relabel_mount, setup_tree, teardown_tree),
      cmocka_unit_test(test_relabel_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
