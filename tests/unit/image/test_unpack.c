/* Layer extraction: the hostile corpus (each must fail with a message naming layer and
 * entry, and leave the canary directory next to the target untouched) and the OCI
 * semantics (whiteouts, opaque directories, links, metadata). The control tests extract
 * the same archives with libarchive's unguarded disk writer and show the canary check
 * does catch an escape — i.e. these tests fail when the safety layer is off. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/util.h"
#include "helpers.h"
#include "image/unpack.h"

struct fixture {
  char *dir, *root, *canary, *tar;
  char *fp_before;
};

static int setup(void **state) {
  struct fixture *f = xcalloc(1, sizeof *f);
  f->dir = t_tmpdir();
  f->root = xasprintf("%s/root", f->dir);
  f->canary = xasprintf("%s/canary", f->dir);
  f->tar = xasprintf("%s/layer", f->dir);
  mkdir(f->root, 0755);
  mkdir(f->canary, 0755);
  char *cf = xasprintf("%s/file", f->canary);
  FILE *fp = fopen(cf, "w");
  fputs("precious", fp);
  fclose(fp);
  free(cf);
  f->fp_before = t_tree_fingerprint(f->canary);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  t_rm_rf(f->dir);
  free(f->dir);
  free(f->root);
  free(f->canary);
  free(f->tar);
  free(f->fp_before);
  free(f);
  return 0;
}

static int unpack_file(struct fixture *f, int compress, struct brick_unpack_opts *o,
                       struct brick_unpack_result *res, brick_err *err) {
  char digest[72];
  t_file_digest(f->tar, digest, NULL);
  o->layer_digest = digest;
  o->compression = compress == 1 ? BRICK_COMPRESS_GZIP
                   : compress == 2 ? BRICK_COMPRESS_ZSTD : BRICK_COMPRESS_NONE;
  int rootfd = open(f->root, O_RDONLY | O_DIRECTORY);
  int fd = open(f->tar, O_RDONLY);
  assert_true(rootfd >= 0 && fd >= 0);
  int r = brick_unpack_layer(rootfd, fd, o, res, err);
  close(fd);
  close(rootfd);
  o->layer_digest = NULL;
  return r;
}

static void canary_untouched(struct fixture *f) {
  char *now = t_tree_fingerprint(f->canary);
  assert_string_equal(now, f->fp_before);
  free(now);
  char *cf = xasprintf("%s/file", f->canary);
  char *c = t_read(cf);
  assert_non_null(c);
  assert_string_equal(c, "precious");
  free(c);
  free(cf);
}

/* Build, unpack, expect failure naming the layer and `entry`. */
static void expect_hostile(struct fixture *f, const struct t_entry *e, size_t n, int compress,
                           const char *entry, const char *why) {
  t_make_tar(f->tar, e, n, compress);
  struct brick_unpack_opts o = {0};
  struct brick_unpack_result res;
  brick_err err = {0};
  int r = unpack_file(f, compress, &o, &res, &err);
  if (r == 0)
    fail_msg("hostile archive (%s) was accepted", entry);
  const char *msg = brick_error_msg(&err);
  char digest[72];
  t_file_digest(f->tar, digest, NULL);
  char *want_layer = xasprintf("layer %s", digest);
  char *want_entry = xasprintf("entry \"%s\"", entry);
  if (!strstr(msg, want_layer) || !strstr(msg, want_entry) || (why && !strstr(msg, why)))
    fail_msg("message does not name layer, entry \"%s\" and \"%s\": %s", entry, why ? why : "",
             msg);
  free(want_layer);
  free(want_entry);
  brick_error_clear(&err);
  brick_unpack_result_clear(&res);
  canary_untouched(f);
}

static void test_dotdot(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_FILE, "../canary/evil", "x", 0, 0, 0, 0}};
  expect_hostile(f, e, 1, 1, "../canary/evil", "..");
}

static void test_absolute(void **state) {
  struct fixture *f = *state;
  char *abs = xasprintf("%s/evil", f->canary);
  struct t_entry e[] = {{T_FILE, abs, "x", 0, 0, 0, 0}};
  expect_hostile(f, e, 1, 0, abs, "absolute");
  free(abs);
}

static void test_symlink_then_file(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_SYMLINK, "a", f->canary, 0, 0, 0, 0},
                        {T_FILE, "a/evil", "x", 0, 0, 0, 0}};
  expect_hostile(f, e, 2, 1, "a/evil", "outside");
}

static void test_symlink_relative_escape(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_SYMLINK, "a", "../canary", 0, 0, 0, 0},
                        {T_FILE, "a/evil", "x", 0, 0, 0, 0}};
  expect_hostile(f, e, 2, 0, "a/evil", "outside");
}

static void test_symlink_dotdot_chain(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_DIR, "d", NULL, 0, 0, 0, 0},
                        {T_SYMLINK, "d/up", "..", 0, 0, 0, 0},
                        {T_SYMLINK, "d/up2", "up/..", 0, 0, 0, 0},
                        {T_FILE, "d/up2/canary/evil", "x", 0, 0, 0, 0}};
  expect_hostile(f, e, 4, 1, "d/up2/canary/evil", "outside");
}

static void test_hardlink_dotdot(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_HARDLINK, "link", "../canary/file", 0, 0, 0, 0}};
  expect_hostile(f, e, 1, 0, "link", "..");
}

static void test_hardlink_absolute(void **state) {
  struct fixture *f = *state;
  char *abs = xasprintf("%s/file", f->canary);
  struct t_entry e[] = {{T_HARDLINK, "link", abs, 0, 0, 0, 0}};
  expect_hostile(f, e, 1, 0, "link", "absolute");
  free(abs);
  struct stat st;
  char *cf = xasprintf("%s/file", f->canary);
  assert_int_equal(stat(cf, &st), 0);
  assert_int_equal(st.st_nlink, 1);
  free(cf);
}

static void test_hardlink_through_symlink(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_SYMLINK, "s", f->canary, 0, 0, 0, 0},
                        {T_HARDLINK, "h", "s/file", 0, 0, 0, 0}};
  expect_hostile(f, e, 2, 0, "h", "outside");
  char *cf = xasprintf("%s/file", f->canary);
  struct stat st;
  assert_int_equal(stat(cf, &st), 0);
  assert_int_equal(st.st_nlink, 1);
  free(cf);
}

static void test_whiteout_dotdot(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_FILE, ".wh..", "", 0, 0, 0, 0}};
  expect_hostile(f, e, 1, 0, ".wh..", "whiteout");
  struct t_entry e2[] = {{T_DIR, "x", NULL, 0, 0, 0, 0}, {T_FILE, "x/.wh...", "", 0, 0, 0, 0}};
  expect_hostile(f, e2, 2, 0, "x/.wh...", "whiteout");
}

static void test_whiteout_escape(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_SYMLINK, "a", f->canary, 0, 0, 0, 0},
                        {T_FILE, "a/.wh.file", "", 0, 0, 0, 0}};
  expect_hostile(f, e, 2, 0, "a/.wh.file", "outside");
  struct t_entry e2[] = {{T_FILE, "../canary/.wh.file", "", 0, 0, 0, 0}};
  expect_hostile(f, e2, 1, 0, "../canary/.wh.file", "..");
  struct t_entry e3[] = {{T_SYMLINK, "o", "../canary", 0, 0, 0, 0},
                         {T_FILE, "o/.wh..wh..opq", "", 0, 0, 0, 0}};
  expect_hostile(f, e3, 2, 0, "o/.wh..wh..opq", "outside");
}

static void test_oversized_entry(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_FILE, "small", "ok", 0, 0, 0, 0},
                        {T_FILE, "big", NULL, 5000, 0, 0, 0}};
  t_make_tar(f->tar, e, 2, 1);
  struct brick_unpack_opts o = {.max_entry_bytes = 1000};
  struct brick_unpack_result res;
  brick_err err = {0};
  assert_int_equal(unpack_file(f, 1, &o, &res, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "entry \"big\""));
  assert_non_null(strstr(brick_error_msg(&err), "per-entry limit"));
  assert_non_null(strstr(brick_error_msg(&err), "layer sha256:"));
  brick_error_clear(&err);
  canary_untouched(f);
}

static void test_layer_bomb(void **state) {
  struct fixture *f = *state;
  /* 64 MiB of zeros compress to ~64 KiB: the limit applies to what comes out */
  struct t_entry e[] = {{T_FILE, "zeros", NULL, 64 << 20, 0, 0, 0}};
  t_make_tar(f->tar, e, 1, 1);
  struct stat st;
  stat(f->tar, &st);
  assert_true(st.st_size < (1 << 20));
  struct brick_unpack_opts o = {.max_layer_bytes = 8 << 20};
  struct brick_unpack_result res;
  brick_err err = {0};
  assert_int_equal(unpack_file(f, 1, &o, &res, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "layer limit"));
  assert_non_null(strstr(brick_error_msg(&err), "entry \"zeros\""));
  brick_error_clear(&err);
  /* and the partial file stayed within the limit */
  char *z = xasprintf("%s/zeros", f->root);
  if (stat(z, &st) == 0)
    assert_true(st.st_size <= (8 << 20));
  free(z);
}

static void test_entry_count(void **state) {
  struct fixture *f = *state;
  struct t_entry e[10];
  char names[10][16];
  for (int i = 0; i < 10; i++) {
    snprintf(names[i], sizeof names[i], "f%d", i);
    e[i] = (struct t_entry){T_FILE, names[i], "x", 0, 0, 0, 0};
  }
  t_make_tar(f->tar, e, 10, 0);
  struct brick_unpack_opts o = {.max_entries = 5};
  struct brick_unpack_result res;
  brick_err err = {0};
  assert_int_equal(unpack_file(f, 0, &o, &res, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "entry \"f5\""));
  assert_non_null(strstr(brick_error_msg(&err), "more than 5 entries"));
  brick_error_clear(&err);
}

static void test_truncated_gzip(void **state) {
  struct fixture *f = *state;
  char *data = xmalloc(300001);
  unsigned x = 12345;
  for (int i = 0; i < 300000; i++) {
    x = x * 1103515245 + 12345;
    data[i] = 'a' + (char)((x >> 16) % 26);
  }
  data[300000] = 0;
  struct t_entry e[] = {{T_FILE, "first", "ok", 0, 0, 0, 0},
                        {T_FILE, "random.txt", data, 0, 0, 0, 0},
                        {T_FILE, "last", "end", 0, 0, 0, 0}};
  t_make_tar(f->tar, e, 3, 1);
  free(data);
  struct stat st;
  stat(f->tar, &st);
  assert_int_equal(truncate(f->tar, st.st_size / 2), 0);
  struct brick_unpack_opts o = {0};
  struct brick_unpack_result res;
  brick_err err = {0};
  assert_int_equal(unpack_file(f, 1, &o, &res, &err), -1);
  const char *msg = brick_error_msg(&err);
  assert_non_null(strstr(msg, "layer sha256:"));
  if (!strstr(msg, "entry \"random.txt\""))
    fail_msg("truncation not attributed to the entry being read: %s", msg);
  brick_error_clear(&err);
  canary_untouched(f);
}

static void test_compression_mismatch(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_FILE, "a", "x", 0, 0, 0, 0}};
  t_make_tar(f->tar, e, 1, 1);
  struct brick_unpack_opts o = {0};
  struct brick_unpack_result res;
  brick_err err = {0};
  assert_int_equal(unpack_file(f, 0 /* promise: none */, &o, &res, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "gzip-compressed but the media type promises none"));
  brick_error_clear(&err);
}

static void test_diff_id_mismatch(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_FILE, "a", "x", 0, 0, 0, 0}};
  t_make_tar(f->tar, e, 1, 1);
  struct brick_unpack_opts o = {.expect_diff_id = "sha256:0000000000000000000000000000000000000000000000000000000000000000"};
  struct brick_unpack_result res;
  brick_err err = {0};
  assert_int_equal(unpack_file(f, 1, &o, &res, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "diff_ids"));
  brick_error_clear(&err);
}

static void test_devices_skipped(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_DIR, "dev", NULL, 0, 0, 0, 0},
                        {T_CHAR, "dev/mem", NULL, 0, 0, 0, 0},
                        {T_FIFO, "pipe", NULL, 0, 0600, 0, 0}};
  t_make_tar(f->tar, e, 3, 0);
  struct brick_unpack_opts o = {0};
  struct brick_unpack_result res;
  brick_err err = {0};
  assert_int_equal(unpack_file(f, 0, &o, &res, &err), 0);
  assert_non_null(res.devices);
  assert_string_equal(res.devices[0], "dev/mem");
  assert_null(res.devices[1]);
  struct stat st;
  char *p = xasprintf("%s/dev/mem", f->root);
  assert_int_equal(lstat(p, &st), -1);
  free(p);
  p = xasprintf("%s/pipe", f->root);
  assert_int_equal(lstat(p, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  free(p);
  brick_unpack_result_clear(&res);
}

/* ---- OCI semantics ---- */

static void unpack_ok(struct fixture *f, const struct t_entry *e, size_t n, int compress) {
  t_make_tar(f->tar, e, n, compress);
  struct brick_unpack_opts o = {0};
  struct brick_unpack_result res;
  brick_err err = {0};
  if (unpack_file(f, compress, &o, &res, &err) < 0)
    fail_msg("unpack failed: %s", brick_error_msg(&err));
  brick_unpack_result_clear(&res);
}

static bool exists(struct fixture *f, const char *rel) {
  char *p = xasprintf("%s/%s", f->root, rel);
  struct stat st;
  bool r = lstat(p, &st) == 0;
  free(p);
  return r;
}

static void test_layers_whiteouts(void **state) {
  struct fixture *f = *state;
  struct t_entry l1[] = {
      {T_DIR, "d", NULL, 0, 0, 0, 0},
      {T_FILE, "d/a", "a", 0, 0, 0, 0},
      {T_FILE, "d/b", "b", 0, 0, 0, 0},
      {T_FILE, "keep", "keep", 0, 0, 0, 0},
      {T_FILE, "gone", "gone", 0, 0, 0, 0},
      {T_DIR, "o", NULL, 0, 0, 0, 0},
      {T_FILE, "o/old", "old", 0, 0, 0, 0},
      {T_DIR, "usr/lib", NULL, 0, 0, 0, 0},
      {T_SYMLINK, "lib", "usr/lib", 0, 0, 0, 0},
      {T_HARDLINK, "hl", "keep", 0, 0, 0, 0},
      {T_FILE, "suid", "#!", 0, 04755, 0, 0},
      {T_FILE, "x", "xattrs", 0, 0, "user.brick", "yes"},
      {T_FILE, "t", "trusted", 0, 0, "trusted.brick", "no"},
  };
  unpack_ok(f, l1, ARRAY_SIZE(l1), 1);
  struct t_entry l2[] = {
      {T_FILE, "d/.wh.a", "", 0, 0, 0, 0},
      {T_FILE, ".wh.gone", "", 0, 0, 0, 0},
      {T_FILE, "o/new", "new", 0, 0, 0, 0},
      {T_FILE, "o/.wh..wh..opq", "", 0, 0, 0, 0},
      {T_FILE, "lib/libfoo.so", "elf", 0, 0, 0, 0},
      {T_FILE, ".wh.not-there", "", 0, 0, 0, 0},
  };
  unpack_ok(f, l2, ARRAY_SIZE(l2), 2);
  assert_false(exists(f, "d/a"));
  assert_true(exists(f, "d/b"));
  assert_false(exists(f, "gone"));
  assert_false(exists(f, "o/old"));
  assert_true(exists(f, "o/new")); /* same-layer sibling before the opaque marker stays */
  assert_false(exists(f, "d/.wh.a"));
  assert_false(exists(f, "o/.wh..wh..opq"));
  assert_true(exists(f, "usr/lib/libfoo.so")); /* through an in-root relative symlink */
  struct stat a, b;
  char *pk = xasprintf("%s/keep", f->root), *ph = xasprintf("%s/hl", f->root);
  assert_int_equal(stat(pk, &a), 0);
  assert_int_equal(stat(ph, &b), 0);
  assert_int_equal(a.st_ino, b.st_ino);
  assert_int_equal(a.st_mtime, 1000003);
  free(pk);
  free(ph);
  char *ps = xasprintf("%s/suid", f->root);
  assert_int_equal(stat(ps, &a), 0);
  assert_int_equal(a.st_mode & 07777, 04755);
  free(ps);
  char *px = xasprintf("%s/x", f->root), *pt = xasprintf("%s/t", f->root);
  char v[16] = {0};
  assert_int_equal(getxattr(px, "user.brick", v, sizeof v), 3);
  assert_string_equal(v, "yes");
  assert_int_equal(getxattr(pt, "trusted.brick", v, sizeof v), -1);
  free(px);
  free(pt);
  canary_untouched(f);
}

/* ---- controls: the same archives through an unguarded extractor do escape ---- */

static void unguarded_extract(struct fixture *f) {
  int cwd = open(".", O_RDONLY | O_DIRECTORY);
  assert_int_equal(chdir(f->root), 0);
  struct archive *a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_filename(a, f->tar, 65536), ARCHIVE_OK);
  struct archive *w = archive_write_disk_new();
  archive_write_disk_set_options(w, 0); /* no SECURE_* flags: the layer is "off" */
  struct archive_entry *e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    if (archive_write_header(w, e) == ARCHIVE_OK) {
      const void *buf;
      size_t len;
      la_int64_t off;
      while (archive_read_data_block(a, &buf, &len, &off) == ARCHIVE_OK)
        archive_write_data_block(w, buf, len, off);
    }
    archive_write_finish_entry(w);
  }
  archive_write_free(w);
  archive_read_free(a);
  assert_int_equal(fchdir(cwd), 0);
  close(cwd);
}

static void test_control_symlink_escape_is_detectable(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_SYMLINK, "a", f->canary, 0, 0, 0, 0},
                        {T_FILE, "a/evil", "x", 0, 0, 0, 0}};
  t_make_tar(f->tar, e, 2, 0);
  unguarded_extract(f);
  char *now = t_tree_fingerprint(f->canary);
  assert_string_not_equal(now, f->fp_before); /* the canary check sees the escape */
  free(now);
}

static void test_control_dotdot_is_detectable(void **state) {
  struct fixture *f = *state;
  struct t_entry e[] = {{T_FILE, "../canary/evil", "x", 0, 0, 0, 0}};
  t_make_tar(f->tar, e, 1, 0);
  unguarded_extract(f);
  char *now = t_tree_fingerprint(f->canary);
  assert_string_not_equal(now, f->fp_before);
  free(now);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_dotdot, setup, teardown),
      cmocka_unit_test_setup_teardown(test_absolute, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symlink_then_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symlink_relative_escape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symlink_dotdot_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hardlink_dotdot, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hardlink_absolute, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hardlink_through_symlink, setup, teardown),
      cmocka_unit_test_setup_teardown(test_whiteout_dotdot, setup, teardown),
      cmocka_unit_test_setup_teardown(test_whiteout_escape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_oversized_entry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_layer_bomb, setup, teardown),
      cmocka_unit_test_setup_teardown(test_entry_count, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_gzip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_compression_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_diff_id_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_devices_skipped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_layers_whiteouts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_control_symlink_escape_is_detectable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_control_dotdot_is_detectable, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
