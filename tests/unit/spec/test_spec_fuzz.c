/* Mutated configs: truncation at every byte, every value swapped for values of other
 * types, every key deleted. The parser must never crash (ASan/UBSan builds check the
 * memory side) and every rejection must carry a message naming the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"
#include "spec/spec.h"

struct position {
  json_t *container;
  char *key;    /* object member, or NULL for an array element */
  size_t index;
};

struct positions {
  struct position *v;
  size_t n, cap;
};

static void collect(json_t *node, struct positions *out) {
  if (json_is_object(node)) {
    const char *k;
    json_t *v;
    json_object_foreach(node, k, v) {
      if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 64;
        out->v = xrealloc(out->v, out->cap * sizeof *out->v);
      }
      out->v[out->n++] = (struct position){node, xstrdup(k), 0};
      collect(v, out);
    }
  } else if (json_is_array(node)) {
    for (size_t i = 0; i < json_array_size(node); i++) {
      if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 64;
        out->v = xrealloc(out->v, out->cap * sizeof *out->v);
      }
      out->v[out->n++] = (struct position){node, NULL, i};
      collect(json_array_get(node, i), out);
    }
  }
}

static void positions_free(struct positions *p) {
  for (size_t i = 0; i < p->n; i++)
    free(p->v[i].key);
  free(p->v);
}

static json_t *get_at(const struct position *p) {
  return p->key ? json_object_get(p->container, p->key) : json_array_get(p->container, p->index);
}

static void set_at(const struct position *p, json_t *v) {
  if (p->key)
    json_object_set(p->container, p->key, v);
  else
    json_array_set(p->container, p->index, v);
}

static size_t accepted, rejected;

/* Parse and check the outcome is either a spec or a real, file-naming message. */
static void parse_and_check(json_t *doc, const char *what) {
  brick_err err = {0};
  struct brick_spec *spec = brick_spec_parse(doc, "config.json", &err);
  if (spec) {
    accepted++;
    brick_spec_free(spec);
    assert_null(err.msg);
    return;
  }
  rejected++;
  const char *msg = brick_error_msg(&err);
  if (err.msg == NULL || strncmp(msg, "config.json: ", 13) != 0 || strlen(msg) <= 13)
    fail_msg("%s: bad message \"%s\"", what, msg);
  brick_error_clear(&err);
}

static json_t *load_fixture(const char *name, char **text, size_t *len) {
  _cleanup_free_ char *path = xasprintf("%s/%s", FIXTURE_DIR, name);
  brick_err err = {0};
  if (brick_read_file(path, text, len, &err) < 0)
    fail_msg("%s", brick_error_msg(&err));
  json_error_t jerr;
  json_t *doc = json_loadb(*text, *len, 0, &jerr);
  assert_non_null(doc);
  return doc;
}

static void test_truncation(void **state) {
  const char *name = *state;
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  json_decref(load_fixture(name, &text, &len));
  accepted = rejected = 0;
  for (size_t off = 0; off < len; off++) {
    json_error_t jerr;
    json_t *doc = json_loadb(text, off, 0, &jerr);
    if (doc == NULL) {
      assert_true(jerr.text[0] != '\0');
      rejected++;
      continue;
    }
    char what[64];
    snprintf(what, sizeof what, "truncated at %zu", off);
    parse_and_check(doc, what);
    json_decref(doc);
  }
  assert_int_equal(accepted + rejected, len);
  assert_true(rejected > 0);

  /* The file path too, at a sample of offsets: messages carry line and column. */
  for (size_t off = 1; off < len; off += 97) {
    json_error_t jerr;
    json_t *valid = json_loadb(text, off, 0, &jerr);
    if (valid) { /* only trailing whitespace was cut */
      json_decref(valid);
      continue;
    }
    char path[] = "/tmp/brick-spec-fuzz-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, off), (ssize_t)off);
    close(fd);
    brick_err err = {0};
    struct brick_spec *spec = brick_spec_load(path, &err);
    unlink(path);
    assert_null(spec);
    _cleanup_free_ char *prefix = xasprintf("%s: line ", path);
    if (strncmp(brick_error_msg(&err), prefix, strlen(prefix)) != 0)
      fail_msg("offset %zu: %s", off, brick_error_msg(&err));
    brick_error_clear(&err);
  }
}

static void test_type_flips(void **state) {
  const char *name = *state;
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  _cleanup_json_ json_t *doc = load_fixture(name, &text, &len);
  static const char *const replacements[] = {
      "null", "true", "false", "0", "-1", "1.5", "4294967296", "-9223372036854775807",
      "\"\"", "\"x\"", "\"/x\"", "[]", "{}", "[\"x\"]", "[1]", "[{}]", "{\"x\":1}",
  };
  json_t *values[ARRAY_SIZE(replacements)];
  for (size_t r = 0; r < ARRAY_SIZE(replacements); r++) {
    json_error_t jerr;
    values[r] = json_loads(replacements[r], JSON_DECODE_ANY, &jerr);
    assert_non_null(values[r]);
  }
  struct positions pos = {0};
  collect(doc, &pos);
  assert_true(pos.n > 20);
  accepted = rejected = 0;
  for (size_t i = 0; i < pos.n; i++) {
    json_t *orig = json_incref(get_at(&pos.v[i]));
    for (size_t r = 0; r < ARRAY_SIZE(replacements); r++) {
      set_at(&pos.v[i], values[r]);
      char what[160];
      snprintf(what, sizeof what, "position %zu (%s) = %s", i,
               pos.v[i].key ? pos.v[i].key : "[]", replacements[r]);
      parse_and_check(doc, what);
    }
    set_at(&pos.v[i], orig);
    json_decref(orig);
  }
  /* Sanity: restored document still parses, and mutations were both kinds. */
  parse_and_check(doc, "restored");
  assert_true(accepted > 0);
  assert_true(rejected > pos.n);
  for (size_t r = 0; r < ARRAY_SIZE(replacements); r++)
    json_decref(values[r]);
  positions_free(&pos);
}

static void test_deletions(void **state) {
  const char *name = *state;
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  _cleanup_json_ json_t *doc = load_fixture(name, &text, &len);
  struct positions pos = {0};
  collect(doc, &pos);
  accepted = rejected = 0;
  for (size_t i = 0; i < pos.n; i++) {
    if (pos.v[i].key == NULL)
      continue;
    json_t *orig = json_incref(get_at(&pos.v[i]));
    json_object_del(pos.v[i].container, pos.v[i].key);
    parse_and_check(doc, pos.v[i].key);
    json_object_set_new(pos.v[i].container, pos.v[i].key, orig);
  }
  assert_true(accepted > 0);
  assert_true(rejected > 0);
  positions_free(&pos);
}

int main(void) {
  static const char full[] = "full.json", runc[] = "runc-spec.json";
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_prestate(test_truncation, (void *)full),
      cmocka_unit_test_prestate(test_truncation, (void *)runc),
      cmocka_unit_test_prestate(test_type_flips, (void *)full),
      cmocka_unit_test_prestate(test_type_flips, (void *)runc),
      cmocka_unit_test_prestate(test_deletions, (void *)full),
      cmocka_unit_test_prestate(test_deletions, (void *)runc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
