/* The store: import from a layout, names, removal, pruning, and failures that must leave
 * nothing behind (wrong digest, wrong size, bad media type, hostile layer, refused by the
 * policy hook), plus two concurrent imports of the same image. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "helpers.h"
#include "image/digest.h"
#include "image/store.h"

struct fx {
  char *dir, *store, *layout, *src;
  char *manifest;
  struct brick_store *s;
};

static int setup(void **state) {
  struct fx *f = xcalloc(1, sizeof *f);
  f->dir = t_tmpdir();
  f->store = xasprintf("%s/store", f->dir);
  f->layout = xasprintf("%s/layout", f->dir);
  f->src = xasprintf("oci:%s", f->layout);
  char *l1 = xasprintf("%s/l1.tar.gz", f->dir), *l2 = xasprintf("%s/l2.tar", f->dir);
  struct t_entry e1[] = {{T_DIR, "etc", NULL, 0, 0, 0, 0},
                         {T_FILE, "etc/passwd", "root:x:0:0::/:/bin/sh\n", 0, 0, 0, 0},
                         {T_FILE, "etc/old", "old", 0, 0, 0, 0}};
  struct t_entry e2[] = {{T_FILE, "etc/.wh.old", "", 0, 0, 0, 0},
                         {T_FILE, "etc/new", "new", 0, 0, 0, 0}};
  t_make_tar(l1, e1, 3, 1);
  t_make_tar(l2, e2, 2, 0);
  const char *layers[] = {l1, l2};
  int comp[] = {1, 0};
  f->manifest = t_make_layout(f->layout, layers, comp, 2, NULL);
  free(l1);
  free(l2);
  brick_err err = {0};
  if (brick_store_open(f->store, &f->s, &err) < 0)
    fail_msg("%s", brick_error_msg(&err));
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fx *f = *state;
  brick_store_close(f->s);
  t_rm_rf(f->dir);
  free(f->dir);
  free(f->store);
  free(f->layout);
  free(f->src);
  free(f->manifest);
  free(f);
  return 0;
}

static size_t count_dir(const char *store, const char *sub) {
  char *p = xasprintf("%s/%s", store, sub);
  DIR *d = opendir(p);
  free(p);
  if (!d)
    return 0;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (de->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

static void store_is_empty(struct fx *f) {
  assert_int_equal(count_dir(f->store, "images"), 0);
  assert_int_equal(count_dir(f->store, "rootfs"), 0);
  assert_int_equal(count_dir(f->store, "tmp"), 0);
  assert_int_equal(count_dir(f->store, "blobs/sha256"), 0);
}

static void test_import_lookup_tag_rm_prune(void **state) {
  struct fx *f = *state;
  struct brick_import_opts o = {.source = f->src, .name = "localhost/demo"};
  struct brick_image_info info;
  brick_err err = {0};
  if (brick_store_import(f->s, &o, &info, &err) < 0)
    fail_msg("%s", brick_error_msg(&err));
  assert_string_equal(info.manifest_digest, f->manifest);
  assert_string_equal(info.id, f->manifest + 7);
  assert_string_equal(info.names[0], "localhost/demo:latest");
  assert_int_equal(brick_strv_len(info.layer_blobs), 2);
  struct stat st;
  assert_int_equal(stat(info.layer_blobs[0], &st), 0);
  assert_int_equal(stat(info.manifest_path, &st), 0);
  char *p = xasprintf("%s/etc/new", info.rootfs);
  assert_int_equal(stat(p, &st), 0);
  free(p);
  p = xasprintf("%s/etc/old", info.rootfs);
  assert_int_equal(stat(p, &st), -1);
  free(p);
  assert_non_null(json_object_get(info.config, "rootfs"));
  assert_int_equal(count_dir(f->store, "tmp"), 0);

  struct brick_image_info l;
  assert_int_equal(brick_store_lookup(f->s, "localhost/demo", &l, &err), 0);
  brick_image_info_clear(&l);
  char prefix[13];
  memcpy(prefix, info.id, 12);
  prefix[12] = 0;
  assert_int_equal(brick_store_lookup(f->s, prefix, &l, &err), 0);
  assert_string_equal(l.id, info.id);
  brick_image_info_clear(&l);
  prefix[11] = 0; /* 11 hex digits: too short to be an id, and not a name */
  assert_int_equal(brick_store_lookup(f->s, prefix, &l, &err), -1);
  assert_int_equal(err.errnum, ENOENT);
  brick_error_clear(&err);

  assert_int_equal(brick_store_tag(f->s, info.id, "other:v2", &err), 0);
  assert_int_equal(brick_store_lookup(f->s, "other:v2", &l, &err), 0);
  assert_int_equal(brick_strv_len(l.names), 2);
  brick_image_info_clear(&l);
  /* rm of one of two names only untags */
  assert_int_equal(brick_store_remove(f->s, "other:v2", false, &err), 0);
  assert_int_equal(brick_store_lookup(f->s, "localhost/demo:latest", &l, &err), 0);
  assert_int_equal(brick_strv_len(l.names), 1);
  brick_image_info_clear(&l);

  /* a container bundle made from it blocks rm */
  char *cdir = xasprintf("%s/containers/c1", f->store);
  mkdir(cdir, 0700);
  char *marker = xasprintf("%s/%s", cdir, BRICK_BUNDLE_IMAGE_FILE);
  char *mj = xasprintf("{\"image\":\"%s\",\"rootfs\":\"%s\"}", info.id, info.config_digest + 7);
  FILE *mf = fopen(marker, "w");
  fputs(mj, mf);
  fclose(mf);
  assert_int_equal(brick_store_remove(f->s, "localhost/demo", false, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "used by container c1"));
  brick_error_clear(&err);
  /* --force removes the record but the rootfs stays while c1 exists */
  assert_int_equal(brick_store_remove(f->s, "localhost/demo", true, &err), 0);
  assert_int_equal(brick_store_lookup(f->s, info.id, &l, &err), -1);
  brick_error_clear(&err);
  assert_int_equal(stat(info.rootfs, &st), 0);
  struct brick_prune_report rep;
  assert_int_equal(brick_store_prune(f->s, &rep, &err), 0);
  assert_int_equal(stat(info.rootfs, &st), 0);
  t_rm_rf(cdir);
  assert_int_equal(brick_store_prune(f->s, &rep, &err), 0);
  assert_int_equal(rep.rootfs, 1);
  store_is_empty(f);
  free(cdir);
  free(marker);
  free(mj);
  brick_image_info_clear(&info);
}

/* Rewrite the layout's manifest through fn and repoint index.json at it. */
static void rewrite_manifest(struct fx *f, void (*fn)(json_t *m)) {
  char *mp = xasprintf("%s/blobs/sha256/%s", f->layout, f->manifest + 7);
  json_t *m = json_load_file(mp, 0, NULL);
  fn(m);
  char *mj = json_dumps(m, JSON_COMPACT);
  char d[72];
  brick_sha256_buf(mj, strlen(mj), d);
  char *np = xasprintf("%s/blobs/sha256/%s", f->layout, d + 7);
  FILE *fp = fopen(np, "w");
  fputs(mj, fp);
  fclose(fp);
  char *ip = xasprintf("%s/index.json", f->layout);
  json_t *idx = json_load_file(ip, 0, NULL);
  json_t *desc = json_array_get(json_object_get(idx, "manifests"), 0);
  json_object_set_new(desc, "digest", json_string(d));
  json_object_set_new(desc, "size", json_integer((json_int_t)strlen(mj)));
  json_dump_file(idx, ip, 0);
  json_decref(idx);
  json_decref(m);
  free(mj);
  free(mp);
  free(np);
  free(ip);
}

static void layer0_size_plus_one(json_t *m) {
  json_t *l = json_array_get(json_object_get(m, "layers"), 0);
  json_object_set_new(l, "size", json_integer(json_integer_value(json_object_get(l, "size")) + 1));
}
static void layer0_bad_media_type(json_t *m) {
  json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "mediaType",
                      json_string("application/vnd.oci.image.layer.v1.tar+lz4"));
}

static void expect_import_fails(struct fx *f, const char *what) {
  struct brick_import_opts o = {.source = f->src, .name = "bad"};
  struct brick_image_info info;
  brick_err err = {0};
  assert_int_equal(brick_store_import(f->s, &o, &info, &err), -1);
  if (!strstr(brick_error_msg(&err), what))
    fail_msg("expected \"%s\" in: %s", what, brick_error_msg(&err));
  brick_error_clear(&err);
  store_is_empty(f);
}

static void test_wrong_digest(void **state) {
  struct fx *f = *state;
  char *mp = xasprintf("%s/blobs/sha256/%s", f->layout, f->manifest + 7);
  json_t *m = json_load_file(mp, 0, NULL);
  const char *ld = json_string_value(json_object_get(json_array_get(json_object_get(m, "layers"), 1), "digest"));
  char *lp = xasprintf("%s/blobs/sha256/%s", f->layout, ld + 7);
  int fd = open(lp, O_WRONLY);
  assert_int_equal(pwrite(fd, "X", 1, 600), 1); /* same size, different bytes */
  close(fd);
  char *want = xasprintf("layer %s: digest mismatch", ld);
  expect_import_fails(f, want);
  free(want);
  free(lp);
  free(mp);
  json_decref(m);
}

static void test_wrong_size(void **state) {
  struct fx *f = *state;
  rewrite_manifest(f, layer0_size_plus_one);
  expect_import_fails(f, "size mismatch");
}

static void test_bad_media_type(void **state) {
  struct fx *f = *state;
  rewrite_manifest(f, layer0_bad_media_type);
  expect_import_fails(f, "layers[0].mediaType \"application/vnd.oci.image.layer.v1.tar+lz4\"");
}

static void test_hostile_layer_leaves_nothing(void **state) {
  struct fx *f = *state;
  char *l1 = xasprintf("%s/ok.tar", f->dir), *l2 = xasprintf("%s/evil.tar.gz", f->dir);
  struct t_entry e1[] = {{T_FILE, "fine", "fine", 0, 0, 0, 0}};
  struct t_entry e2[] = {{T_FILE, "more", "more", 0, 0, 0, 0},
                         {T_FILE, "../../escaped", "x", 0, 0, 0, 0}};
  t_make_tar(l1, e1, 1, 0);
  t_make_tar(l2, e2, 2, 1);
  char *layout = xasprintf("%s/evil-layout", f->dir);
  const char *layers[] = {l1, l2};
  int comp[] = {0, 1};
  free(t_make_layout(layout, layers, comp, 2, NULL));
  char ld[72];
  t_file_digest(l2, ld, NULL);
  char *src = xasprintf("oci:%s", layout);
  struct brick_import_opts o = {.source = src};
  brick_err err = {0};
  struct brick_image_info info;
  assert_int_equal(brick_store_import(f->s, &o, &info, &err), -1);
  char *want = xasprintf("layer %s: entry \"../../escaped\"", ld);
  if (!strstr(brick_error_msg(&err), want))
    fail_msg("expected \"%s\" in: %s", want, brick_error_msg(&err));
  brick_error_clear(&err);
  store_is_empty(f);
  struct stat st;
  char *esc = xasprintf("%s/escaped", f->store);
  assert_int_equal(lstat(esc, &st), -1);
  free(esc);
  esc = xasprintf("%s/escaped", f->dir);
  assert_int_equal(lstat(esc, &st), -1);
  free(esc);
  free(want);
  free(src);
  free(layout);
  free(l1);
  free(l2);
}

static int refuse(const struct brick_image_info *c, const char *source, void *ctx,
                  brick_err *err) {
  int *called = ctx;
  (*called)++;
  struct stat st;
  /* the candidate is complete: manifest and layers readable in staging, no rootfs yet */
  if (stat(c->manifest_path, &st) < 0 || stat(c->layer_blobs[0], &st) < 0 || c->rootfs)
    return brick_error(err, EINVAL, "candidate incomplete");
  return brick_error(err, EPERM, "policy says no to %s", c->manifest_digest);
}

static void test_verify_hook_refuses(void **state) {
  struct fx *f = *state;
  int called = 0;
  struct brick_import_opts o = {.source = f->src, .verify = refuse, .verify_ctx = &called};
  brick_err err = {0};
  struct brick_image_info info;
  assert_int_equal(brick_store_import(f->s, &o, &info, &err), -1);
  assert_int_equal(called, 1);
  assert_non_null(strstr(brick_error_msg(&err), "refused: policy says no"));
  brick_error_clear(&err);
  store_is_empty(f);
}

static void test_concurrent_imports(void **state) {
  struct fx *f = *state;
  pid_t kids[3];
  for (int i = 0; i < 3; i++) {
    kids[i] = fork();
    assert_true(kids[i] >= 0);
    if (kids[i] == 0) {
      struct brick_store *s;
      brick_err err = {0};
      if (brick_store_open(f->store, &s, &err) < 0)
        _exit(2);
      struct brick_import_opts o = {.source = f->src, .name = "same"};
      struct brick_image_info info;
      int r = brick_store_import(s, &o, &info, &err);
      if (r < 0)
        fprintf(stderr, "child: %s\n", brick_error_msg(&err));
      else
        brick_image_info_clear(&info);
      brick_store_close(s);
      _exit(r < 0 ? 1 : 0);
    }
  }
  for (int i = 0; i < 3; i++) {
    int status;
    assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  struct brick_image_info *list;
  size_t n;
  brick_err err = {0};
  assert_int_equal(brick_store_list(f->s, &list, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(brick_strv_len(list[0].names), 1);
  assert_string_equal(list[0].names[0], "same:latest");
  brick_image_info_list_free(list, n);
  assert_int_equal(count_dir(f->store, "rootfs"), 1);
  assert_int_equal(count_dir(f->store, "tmp"), 0);
  assert_int_equal(count_dir(f->store, "blobs/sha256"), 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_import_lookup_tag_rm_prune, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_digest, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_size, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_media_type, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hostile_layer_leaves_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_hook_refuses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_imports, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
