/* Pure helpers: digests, media types, platform selection, path cleaning, names, users. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "helpers.h"
#include "image/bundle.h"
#include "image/digest.h"
#include "image/media.h"
#include "image/path.h"
#include "image/source.h"
#include "image/store.h"

static const char *ABC = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static int pipe_with(const char *data) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], data, strlen(data)), (ssize_t)strlen(data));
  close(p[1]);
  return p[0];
}

static void test_digest(void **state) {
  char d[BRICK_DIGEST_STR_LEN];
  brick_sha256_buf("abc", 3, d);
  assert_string_equal(d, ABC);
  assert_true(brick_digest_valid(ABC));
  assert_false(brick_digest_valid("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  assert_false(brick_digest_valid("sha256:ba78"));
  assert_false(brick_digest_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  brick_err err = {0};
  const char *hex;
  assert_int_equal(brick_digest_hex("sha512:00", &hex, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "unsupported algorithm"));
  brick_error_clear(&err);

  int fd = pipe_with("abc");
  assert_int_equal(brick_digest_copy_verify(fd, -1, ABC, 3, "blob", &err), 0);
  close(fd);
  fd = pipe_with("abd");
  assert_int_equal(brick_digest_copy_verify(fd, -1, ABC, 3, "blob X", &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "blob X: digest mismatch"));
  brick_error_clear(&err);
  close(fd);
  fd = pipe_with("abcd");
  assert_int_equal(brick_digest_copy_verify(fd, -1, ABC, 3, "blob", &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "size mismatch"));
  brick_error_clear(&err);
  close(fd);
  fd = pipe_with("ab");
  assert_int_equal(brick_digest_copy_verify(fd, -1, ABC, 3, "blob", &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "size mismatch: 2 bytes"));
  brick_error_clear(&err);
  close(fd);
}

static void test_media_types(void **state) {
  enum brick_compression c;
  assert_int_equal(brick_media_kind(BRICK_MT_OCI_INDEX, NULL), BRICK_MEDIA_INDEX);
  assert_int_equal(brick_media_kind(BRICK_MT_DOCKER_LIST, NULL), BRICK_MEDIA_INDEX);
  assert_int_equal(brick_media_kind(BRICK_MT_DOCKER_MANIFEST, NULL), BRICK_MEDIA_MANIFEST);
  assert_int_equal(brick_media_kind(BRICK_MT_DOCKER_CONFIG, NULL), BRICK_MEDIA_CONFIG);
  assert_int_equal(brick_media_kind(BRICK_MT_OCI_LAYER_ZSTD, &c), BRICK_MEDIA_LAYER);
  assert_int_equal(c, BRICK_COMPRESS_ZSTD);
  assert_int_equal(brick_media_kind(BRICK_MT_DOCKER_LAYER_GZIP, &c), BRICK_MEDIA_LAYER);
  assert_int_equal(c, BRICK_COMPRESS_GZIP);
  assert_int_equal(brick_media_kind(BRICK_MT_OCI_LAYER, &c), BRICK_MEDIA_LAYER);
  assert_int_equal(c, BRICK_COMPRESS_NONE);
  assert_int_equal(brick_media_kind("application/vnd.oci.image.layer.v1.tar+bzip2", NULL),
                   BRICK_MEDIA_UNKNOWN);
  assert_int_equal(brick_media_kind("application/vnd.oci.empty.v1+json", NULL), BRICK_MEDIA_UNKNOWN);
  const unsigned char gz[] = {0x1f, 0x8b, 8, 0}, zs[] = {0x28, 0xb5, 0x2f, 0xfd}, t[] = "abcd";
  assert_int_equal(brick_compression_sniff(gz, 4), BRICK_COMPRESS_GZIP);
  assert_int_equal(brick_compression_sniff(zs, 4), BRICK_COMPRESS_ZSTD);
  assert_int_equal(brick_compression_sniff(t, 4), BRICK_COMPRESS_NONE);
}

static void test_manifest_check(void **state) {
  brick_err err = {0};
  char *good = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                         "\"digest\":\"%s\",\"size\":3},\"layers\":[{\"mediaType\":\"%s\","
                         "\"digest\":\"%s\",\"size\":3}]}",
                         BRICK_MT_OCI_MANIFEST, BRICK_MT_OCI_CONFIG, ABC, BRICK_MT_OCI_LAYER_GZIP, ABC);
  json_t *m = json_loads(good, 0, NULL);
  assert_int_equal(brick_manifest_check(m, BRICK_MT_OCI_MANIFEST, &err), 0);
  /* descriptor says docker, document says OCI */
  assert_int_equal(brick_manifest_check(m, BRICK_MT_DOCKER_MANIFEST, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "differs from its descriptor"));
  brick_error_clear(&err);
  json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "mediaType",
                      json_string("application/x-evil"));
  assert_int_equal(brick_manifest_check(m, BRICK_MT_OCI_MANIFEST, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "layers[0].mediaType \"application/x-evil\""));
  brick_error_clear(&err);
  json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "mediaType",
                      json_string(BRICK_MT_OCI_LAYER));
  json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "size", json_integer(-1));
  assert_int_equal(brick_manifest_check(m, BRICK_MT_OCI_MANIFEST, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "layers[0]: size"));
  brick_error_clear(&err);
  json_decref(m);
  free(good);

  json_t *cfg = json_pack("{s:{s:s,s:[s]}}", "rootfs", "type", "layers", "diff_ids", ABC);
  assert_int_equal(brick_config_check(cfg, 1, &err), 0);
  assert_int_equal(brick_config_check(cfg, 2, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "1 entries for 2 layers"));
  brick_error_clear(&err);
  json_decref(cfg);
}

static json_t *desc(const char *os, const char *arch, const char *variant) {
  json_t *p = json_pack("{s:s,s:s}", "os", os, "architecture", arch);
  if (variant)
    json_object_set_new(p, "variant", json_string(variant));
  return json_pack("{s:s,s:s,s:i,s:o}", "mediaType", BRICK_MT_OCI_MANIFEST, "digest", ABC,
                   "size", 1, "platform", p);
}

static void test_platform_selection(void **state) {
  brick_err err = {0};
  struct brick_platform want;
  json_t *list = json_array();
  json_array_append_new(list, desc("linux", "arm", "v7"));
  json_array_append_new(list, desc("linux", "arm64", "v8"));
  json_array_append_new(list, desc("linux", "amd64", NULL));
  json_array_append_new(list, desc("windows", "amd64", NULL));

  assert_int_equal(brick_platform_parse("linux/amd64", &want, &err), 0);
  assert_ptr_equal(brick_index_select(list, &want, &err), json_array_get(list, 2));
  brick_platform_clear(&want);
  assert_int_equal(brick_platform_parse("linux/arm64", &want, &err), 0);
  assert_ptr_equal(brick_index_select(list, &want, &err), json_array_get(list, 1));
  brick_platform_clear(&want);
  assert_int_equal(brick_platform_parse("linux/arm/v7", &want, &err), 0);
  assert_ptr_equal(brick_index_select(list, &want, &err), json_array_get(list, 0));
  brick_platform_clear(&want);
  assert_int_equal(brick_platform_parse("linux/arm/v6", &want, &err), 0);
  assert_null(brick_index_select(list, &want, &err));
  assert_non_null(strstr(brick_error_msg(&err), "no image for platform linux/arm/v6"));
  assert_non_null(strstr(brick_error_msg(&err), "linux/arm/v7"));
  brick_error_clear(&err);
  brick_platform_clear(&want);
  assert_int_equal(brick_platform_parse("linux/s390x", &want, &err), 0);
  assert_null(brick_index_select(list, &want, &err));
  brick_error_clear(&err);
  brick_platform_clear(&want);
  /* default = this host */
  assert_int_equal(brick_platform_parse(NULL, &want, &err), 0);
  assert_string_equal(want.os, "linux");
  assert_string_equal(want.arch, brick_platform_host_arch());
  brick_platform_clear(&want);
  assert_int_equal(brick_platform_parse("linux", &want, &err), -1);
  brick_error_clear(&err);
  assert_int_equal(brick_platform_parse("linux/amd64/v2/x", &want, &err), -1);
  brick_error_clear(&err);
  assert_int_equal(brick_platform_parse("linux/AMD64", &want, &err), -1);
  brick_error_clear(&err);
  json_decref(list);

  /* one entry without platform: taken; several: ambiguous */
  json_t *plain = json_pack("[{s:s,s:s,s:i}]", "mediaType", BRICK_MT_OCI_MANIFEST, "digest", ABC,
                            "size", 1);
  brick_platform_parse("linux/amd64", &want, &err);
  assert_ptr_equal(brick_index_select(plain, &want, &err), json_array_get(plain, 0));
  json_array_append(plain, json_array_get(plain, 0));
  assert_null(brick_index_select(plain, &want, &err));
  assert_non_null(strstr(brick_error_msg(&err), "choose one with :TAG"));
  brick_error_clear(&err);
  brick_platform_clear(&want);
  json_decref(plain);
}

static void expect_clean(const char *in, const char *out) {
  char *res = NULL;
  brick_err err = {0};
  if (brick_path_clean(in, &res, &err) < 0)
    fail_msg("%s: %s", in, brick_error_msg(&err));
  assert_string_equal(res, out);
  free(res);
}

static void expect_unclean(const char *in, const char *why) {
  char *res = NULL;
  brick_err err = {0};
  assert_int_equal(brick_path_clean(in, &res, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), why));
  brick_error_clear(&err);
}

static void test_path_clean(void **state) {
  expect_clean("a/b", "a/b");
  expect_clean("./a//b/./c/", "a/b/c");
  expect_clean("./", "");
  expect_clean(".", "");
  expect_clean("a/...", "a/...");
  expect_clean("..a/b..", "..a/b..");
  expect_unclean("/etc/passwd", "absolute");
  expect_unclean("../x", "\"..\"");
  expect_unclean("a/../../x", "\"..\"");
  expect_unclean("a/..", "\"..\"");
  expect_unclean("./..", "\"..\"");

  char *parent, *base;
  brick_path_split("a/b/c", &parent, &base);
  assert_string_equal(parent, "a/b");
  assert_string_equal(base, "c");
  free(parent);
  free(base);
  brick_path_split("c", &parent, &base);
  assert_string_equal(parent, "");
  free(parent);
  free(base);

  /* brick_open_beneath: inside ok, escapes refused */
  char *dir = t_tmpdir();
  char *root = xasprintf("%s/root", dir);
  mkdir(root, 0755);
  char *p = xasprintf("%s/usr", root);
  mkdir(p, 0755);
  free(p);
  p = xasprintf("%s/lib", root);
  assert_int_equal(symlink("usr", p), 0);
  free(p);
  p = xasprintf("%s/out", root);
  assert_int_equal(symlink("/tmp", p), 0);
  free(p);
  int rootfd = open(root, O_RDONLY | O_DIRECTORY);
  brick_err err = {0};
  int fd = brick_open_beneath(rootfd, "lib", false, &err);
  assert_true(fd >= 0);
  close(fd);
  fd = brick_open_beneath(rootfd, "lib/new/deeper", true, &err);
  assert_true(fd >= 0);
  close(fd);
  p = xasprintf("%s/usr/new/deeper", root);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  free(p);
  assert_int_equal(brick_open_beneath(rootfd, "out", false, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "outside the rootfs"));
  brick_error_clear(&err);
  assert_int_equal(brick_open_beneath(rootfd, "out/x", true, &err), -1);
  brick_error_clear(&err);
  close(rootfd);
  t_rm_rf(dir);
  free(root);
  free(dir);
}

static void test_names(void **state) {
  char *out;
  brick_err err = {0};
  assert_int_equal(brick_image_name_normalize("demo", &out, &err), 0);
  assert_string_equal(out, "demo:latest");
  free(out);
  assert_int_equal(brick_image_name_normalize("localhost:5000/a/b", &out, &err), 0);
  assert_string_equal(out, "localhost:5000/a/b:latest");
  free(out);
  assert_int_equal(brick_image_name_normalize("localhost/demo:V1.0", &out, &err), 0);
  assert_string_equal(out, "localhost/demo:V1.0");
  free(out);
  const char *bad[] = {"", "Demo", "a b", "/x", "x/", "a//b", "a;b",
                       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    if (brick_image_name_normalize(bad[i], &out, &err) == 0)
      fail_msg("accepted bad name \"%s\"", bad[i]);
    brick_error_clear(&err);
  }
}

static void test_sizes_and_users(void **state) {
  uint64_t v;
  brick_err err = {0};
  assert_int_equal(brick_parse_size("512m", &v, &err), 0);
  assert_int_equal(v, 512ULL << 20);
  assert_int_equal(brick_parse_size("1G", &v, &err), 0);
  assert_int_equal(v, 1ULL << 30);
  assert_int_equal(brick_parse_size("100", &v, &err), 0);
  assert_int_equal(v, 100);
  assert_int_equal(brick_parse_size("10x", &v, &err), -1);
  brick_error_clear(&err);
  assert_int_equal(brick_parse_size("-1", &v, &err), -1);
  brick_error_clear(&err);

  char *dir = t_tmpdir();
  char *etc = xasprintf("%s/etc", dir);
  mkdir(etc, 0755);
  char *pw = xasprintf("%s/passwd", etc), *gr = xasprintf("%s/group", etc);
  FILE *f = fopen(pw, "w");
  fputs("root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/app:/bin/sh\n", f);
  fclose(f);
  f = fopen(gr, "w");
  fputs("root:x:0:\napp:x:1001:\nwheel:x:10:app,other\naudio:x:29:other\n", f);
  fclose(f);
  int rootfd = open(dir, O_RDONLY | O_DIRECTORY);
  uid_t uid;
  gid_t gid, *gids;
  size_t n;
  assert_int_equal(brick_user_resolve(rootfd, "app", &uid, &gid, &gids, &n, &err), 0);
  assert_int_equal(uid, 1000);
  assert_int_equal(gid, 1001);
  assert_int_equal(n, 1);
  assert_int_equal(gids[0], 10);
  free(gids);
  assert_int_equal(brick_user_resolve(rootfd, "app:wheel", &uid, &gid, &gids, &n, &err), 0);
  assert_int_equal(gid, 10);
  assert_int_equal(n, 0);
  free(gids);
  assert_int_equal(brick_user_resolve(rootfd, "4242:7", &uid, &gid, &gids, &n, &err), 0);
  assert_int_equal(uid, 4242);
  assert_int_equal(gid, 7);
  free(gids);
  assert_int_equal(brick_user_resolve(rootfd, "nobody", &uid, &gid, &gids, &n, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "image's /etc/passwd"));
  brick_error_clear(&err);
  /* an absolute symlink in the image means the image's file, not the host's */
  unlink(pw);
  char *pw2 = xasprintf("%s/passwd2", etc);
  f = fopen(pw2, "w");
  fputs("root:x:0:0::/root:/bin/sh\nsym:x:77:77::/:/bin/sh\n", f);
  fclose(f);
  assert_int_equal(symlink("/etc/passwd2", pw), 0);
  assert_int_equal(brick_user_resolve(rootfd, "sym", &uid, &gid, &gids, &n, &err), 0);
  assert_int_equal(uid, 77);
  free(gids);
  close(rootfd);
  t_rm_rf(dir);
  free(dir);
  free(etc);
  free(pw);
  free(pw2);
  free(gr);
}

static void test_fill_config(void **state) {
  char *dir = t_tmpdir();
  int rootfd = open(dir, O_RDONLY | O_DIRECTORY);
  json_t *base = json_pack("{s:{s:[s],s:s,s:[s]},s:{s:s}}", "process", "args", "sh", "cwd", "/",
                           "env", "PATH=/bin", "root", "path", "rootfs");
  json_t *img = json_pack("{s:{s:[s],s:[s,s],s:[s],s:s,s:s}}", "config", "Entrypoint", "/ep",
                          "Cmd", "a", "b", "Env", "FOO=1", "WorkingDir", "/work", "StopSignal",
                          "SIGQUIT");
  char *env[] = {"FOO=2", "BAR=3", NULL};
  char *cmd[] = {"x", NULL};
  struct brick_run_opts o = {.id = "c1", .env = env, .cmd = cmd, .memory = 1 << 20,
                             .pids_limit = 50, .read_only = true};
  brick_err err = {0};
  assert_int_equal(brick_bundle_fill_config(base, img, rootfd, "/b/rootfs", "abc", &o, &err), 0);
  json_t *p = json_object_get(base, "process");
  assert_string_equal(json_string_value(json_array_get(json_object_get(p, "args"), 0)), "/ep");
  assert_string_equal(json_string_value(json_array_get(json_object_get(p, "args"), 1)), "x");
  assert_int_equal(json_array_size(json_object_get(p, "args")), 2);
  assert_string_equal(json_string_value(json_object_get(p, "cwd")), "/work");
  char *envs = json_dumps(json_object_get(p, "env"), JSON_COMPACT);
  assert_non_null(strstr(envs, "\"FOO=2\""));
  assert_null(strstr(envs, "FOO=1"));
  assert_non_null(strstr(envs, "BAR=3"));
  assert_non_null(strstr(envs, "PATH="));
  free(envs);
  assert_string_equal(json_string_value(json_object_get(json_object_get(base, "root"), "path")),
                      "/b/rootfs");
  assert_true(json_is_true(json_object_get(json_object_get(base, "root"), "readonly")));
  assert_string_equal(json_string_value(json_object_get(base, "hostname")), "c1");
  json_t *ann = json_object_get(base, "annotations");
  assert_string_equal(json_string_value(json_object_get(ann, BRICK_ANNOTATION_IMAGE)), "abc");
  assert_string_equal(json_string_value(json_object_get(ann, BRICK_ANNOTATION_BUNDLE_OWNED)), "true");
  assert_string_equal(json_string_value(json_object_get(ann, BRICK_ANNOTATION_STOP_SIGNAL)), "SIGQUIT");
  json_t *res = json_object_get(json_object_get(base, "linux"), "resources");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "memory"), "limit")), 1 << 20);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "pids"), "limit")), 50);
  /* --entrypoint "" with no command and no Cmd: an error, not an empty args */
  struct brick_run_opts o2 = {.id = "c2", .entrypoint = ""};
  assert_int_equal(brick_bundle_fill_config(base, img, rootfd, "/b", "abc", &o2, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "give a command"));
  brick_error_clear(&err);
  char *vols[] = {"/nonexistent-brick-src:/x", NULL};
  struct brick_run_opts o3 = {.id = "c3", .volumes = vols};
  assert_int_equal(brick_bundle_fill_config(base, img, rootfd, "/b", "abc", &o3, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "-v /nonexistent-brick-src:/x"));
  brick_error_clear(&err);
  char *vols2[] = {"/tmp:relative", NULL};
  o3.volumes = vols2;
  assert_int_equal(brick_bundle_fill_config(base, img, rootfd, "/b", "abc", &o3, &err), -1);
  brick_error_clear(&err);
  json_decref(base);
  json_decref(img);
  close(rootfd);
  t_rm_rf(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_digest),          cmocka_unit_test(test_media_types),
      cmocka_unit_test(test_manifest_check),  cmocka_unit_test(test_platform_selection),
      cmocka_unit_test(test_path_clean),      cmocka_unit_test(test_names),
      cmocka_unit_test(test_sizes_and_users), cmocka_unit_test(test_fill_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
