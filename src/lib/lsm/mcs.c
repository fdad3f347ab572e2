/* MCS category allocation: each container gets its own pair of categories so that
 * under the container policy one container's processes cannot touch another's files,
 * even though all run as container_t. The table of who holds what is shared by every
 * brick process on the host, so it is a file updated under flock. */
#include "lsm/lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "core/util.h"

#define MCS_CATEGORIES 1024u
#define MCS_MAX_SENSITIVITY 1023u
#define MCS_RANDOM_TRIES 4096

struct mls_level {
  unsigned sens;
  uint64_t cats[MCS_CATEGORIES / 64];
  unsigned ncats;
};

static int parse_number(const char **p, const char *end, unsigned max, unsigned *out) {
  const char *s = *p;
  unsigned v = 0;
  if (s >= end || *s < '0' || *s > '9')
    return -1;
  if (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
    return -1; /* no leading zeros: "c01" is not a category name */
  while (s < end && *s >= '0' && *s <= '9') {
    v = v * 10 + (unsigned)(*s - '0');
    if (v > max)
      return -1;
    s++;
  }
  *p = s;
  *out = v;
  return 0;
}

static void set_cat(struct mls_level *l, unsigned c) {
  uint64_t bit = 1ull << (c % 64);
  if (!(l->cats[c / 64] & bit)) {
    l->cats[c / 64] |= bit;
    l->ncats++;
  }
}

static bool has_cat(const struct mls_level *l, unsigned c) {
  return (l->cats[c / 64] >> (c % 64)) & 1;
}

/* sN[:cats] with cats = cX | cX.cY, comma separated. */
static int parse_level(const char *s, const char *end, struct mls_level *out) {
  memset(out, 0, sizeof *out);
  if (s >= end || *s++ != 's')
    return -1;
  if (parse_number(&s, end, MCS_MAX_SENSITIVITY, &out->sens) < 0)
    return -1;
  if (s == end)
    return 0;
  if (*s++ != ':')
    return -1;
  for (;;) {
    unsigned lo, hi;
    if (s >= end || *s++ != 'c' || parse_number(&s, end, MCS_CATEGORIES - 1, &lo) < 0)
      return -1;
    hi = lo;
    if (s < end && *s == '.') {
      s++;
      if (s >= end || *s++ != 'c' || parse_number(&s, end, MCS_CATEGORIES - 1, &hi) < 0 ||
          hi <= lo)
        return -1;
    }
    for (unsigned c = lo; c <= hi; c++)
      set_cat(out, c);
    if (s == end)
      return 0;
    if (*s++ != ',')
      return -1;
  }
}

static void format_level(const struct mls_level *l, FILE *f) {
  fprintf(f, "s%u", l->sens);
  char sep = ':';
  for (unsigned c = 0; c < MCS_CATEGORIES;) {
    if (!has_cat(l, c)) {
      c++;
      continue;
    }
    unsigned end = c;
    while (end + 1 < MCS_CATEGORIES && has_cat(l, end + 1))
      end++;
    if (end - c >= 2)
      fprintf(f, "%cc%u.c%u", sep, c, end);
    else if (end == c)
      fprintf(f, "%cc%u", sep, c);
    else
      fprintf(f, "%cc%u,c%u", sep, c, end);
    sep = ',';
    c = end + 1;
  }
}

int brick_mcs_level_canonical(const char *level, char **out, brick_err *err) {
  if (!level || !*level)
    return brick_error(err, EINVAL, "empty MLS level");
  const char *end = level + strlen(level);
  const char *dash = strchr(level, '-');
  struct mls_level low, high;
  if (parse_level(level, dash ? dash : end, &low) < 0 ||
      (dash && parse_level(dash + 1, end, &high) < 0))
    return brick_error(err, EINVAL,
                       "invalid MLS level '%s' (expected sN[:cX[.cY],...][-sM[:...]])", level);
  if (dash) {
    /* The high end of a range must dominate the low end. */
    bool dominates = high.sens >= low.sens;
    for (unsigned i = 0; i < ARRAY_SIZE(low.cats) && dominates; i++)
      dominates = (low.cats[i] & ~high.cats[i]) == 0;
    if (!dominates)
      return brick_error(err, EINVAL, "invalid MLS range '%s': high does not dominate low",
                         level);
  }
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    abort();
  format_level(&low, f);
  if (dash) {
    fputc('-', f);
    format_level(&high, f);
  }
  if (fclose(f) != 0)
    abort();
  *out = buf;
  return 0;
}

/* ---- the shared table ---- */

struct mcs_table {
  char *dir;
  char *path;
  int lock_fd;
  json_t *root;   /* {"levels": {id: level}} */
  json_t *levels; /* borrowed from root */
};

static void table_close(struct mcs_table *t) {
  if (t->lock_fd >= 0)
    close(t->lock_fd); /* drops the flock */
  json_decref(t->root);
  free(t->path);
  free(t->dir);
  memset(t, 0, sizeof *t);
  t->lock_fd = -1;
}

static int table_open(const char *state_dir, struct mcs_table *t, brick_err *err) {
  memset(t, 0, sizeof *t);
  t->lock_fd = -1;
  if (!state_dir || !*state_dir)
    return brick_error(err, EINVAL, "MCS: empty state directory");
  if (brick_mkdir_p(state_dir, 0700, err) < 0)
    return brick_error_prefix(err, "MCS state");
  t->dir = xstrdup(state_dir);
  t->path = xasprintf("%s/mcs.json", state_dir);
  _cleanup_free_ char *lock = xasprintf("%s/mcs.lock", state_dir);
  t->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (t->lock_fd < 0) {
    int e = errno;
    table_close(t);
    return brick_error(err, e, "open %s", lock);
  }
  while (flock(t->lock_fd, LOCK_EX) < 0) {
    if (errno == EINTR)
      continue;
    int e = errno;
    table_close(t);
    return brick_error(err, e, "lock %s", lock);
  }
  _cleanup_free_ char *text = NULL;
  brick_err rerr = {0};
  if (brick_read_file(t->path, &text, NULL, &rerr) < 0) {
    if (rerr.errnum != ENOENT) {
      brick_error(err, rerr.errnum, "%s", brick_error_msg(&rerr));
      brick_error_clear(&rerr);
      table_close(t);
      return -1;
    }
    brick_error_clear(&rerr);
    t->root = json_object();
    t->levels = json_object();
    json_object_set_new(t->root, "levels", t->levels);
    return 0;
  }
  json_error_t jerr;
  t->root = json_loads(text, 0, &jerr);
  if (!t->root || !json_is_object(t->root)) {
    int r = brick_error(err, EINVAL, "%s: line %d: %s", t->path, jerr.line,
                        t->root ? "not a JSON object" : jerr.text);
    table_close(t);
    return r;
  }
  t->levels = json_object_get(t->root, "levels");
  if (!json_is_object(t->levels)) {
    table_close(t);
    return brick_error(err, EINVAL, "%s: .levels is not an object", t->path);
  }
  const char *id;
  json_t *v;
  json_object_foreach(t->levels, id, v) {
    if (!json_is_string(v)) {
      int r = brick_error(err, EINVAL, "%s: .levels[\"%s\"] is not a string", t->path, id);
      table_close(t);
      return r;
    }
  }
  return 0;
}

static int table_save(struct mcs_table *t, brick_err *err) {
  _cleanup_free_ char *text = json_dumps(t->root, JSON_INDENT(2));
  if (!text)
    return brick_error(err, ENOMEM, "%s: serialise", t->path);
  _cleanup_free_ char *withnl = xasprintf("%s\n", text);
  return brick_write_file_atomic(t->path, withnl, strlen(withnl), 0600, err);
}

static int check_id(const char *id, brick_err *err) {
  if (!id || !*id)
    return brick_error(err, EINVAL, "MCS: empty container id");
  if (strlen(id) > 1024)
    return brick_error(err, EINVAL, "MCS: container id longer than 1024 bytes");
  return 0;
}

static size_t pair_index(unsigned x, unsigned y) { return (size_t)x * MCS_CATEGORIES + y; }

/* Bitmap over (X, Y) of the two-category s0 levels in use by anyone. */
static uint8_t *used_pairs(struct mcs_table *t) {
  uint8_t *used = xcalloc(MCS_CATEGORIES * MCS_CATEGORIES / 8, 1);
  const char *id;
  json_t *v;
  json_object_foreach(t->levels, id, v) {
    const char *s = json_string_value(v);
    struct mls_level l;
    if (strchr(s, '-') || parse_level(s, s + strlen(s), &l) < 0 || l.ncats != 2)
      continue;
    unsigned x = MCS_CATEGORIES, y = MCS_CATEGORIES;
    for (unsigned c = 0; c < MCS_CATEGORIES; c++)
      if (has_cat(&l, c)) {
        if (x == MCS_CATEGORIES)
          x = c;
        else
          y = c;
      }
    size_t i = pair_index(x, y);
    used[i / 8] |= (uint8_t)(1u << (i % 8));
  }
  return used;
}

static int random_u32(uint32_t *out, brick_err *err) {
  for (;;) {
    ssize_t r = getrandom(out, sizeof *out, 0);
    if (r == (ssize_t)sizeof *out)
      return 0;
    if (r < 0 && errno != EINTR)
      return brick_errno(err, "getrandom");
  }
}

static int pick_pair(struct mcs_table *t, unsigned *x, unsigned *y, brick_err *err) {
  _cleanup_free_ uint8_t *used = used_pairs(t);
  for (int i = 0; i < MCS_RANDOM_TRIES; i++) {
    uint32_t r;
    if (random_u32(&r, err) < 0)
      return -1;
    /* 2^32 is a multiple of 1024*1024: no modulo bias. */
    unsigned a = r % MCS_CATEGORIES, b = (r / MCS_CATEGORIES) % MCS_CATEGORIES;
    if (a == b)
      continue;
    if (a > b) {
      unsigned tmp = a;
      a = b;
      b = tmp;
    }
    size_t idx = pair_index(a, b);
    if (!(used[idx / 8] & (1u << (idx % 8)))) {
      *x = a;
      *y = b;
      return 0;
    }
  }
  /* Nearly full: scan every pair from a random start rather than give up early. */
  uint32_t start;
  if (random_u32(&start, err) < 0)
    return -1;
  size_t total = (size_t)MCS_CATEGORIES * MCS_CATEGORIES;
  for (size_t k = 0; k < total; k++) {
    size_t idx = (start + k) % total;
    unsigned a = (unsigned)(idx / MCS_CATEGORIES), b = (unsigned)(idx % MCS_CATEGORIES);
    if (a < b && !(used[idx / 8] & (1u << (idx % 8)))) {
      *x = a;
      *y = b;
      return 0;
    }
  }
  return brick_error(err, ENOSPC, "MCS: every category pair is in use");
}

int brick_mcs_allocate(const char *state_dir, const char *id, char **level, brick_err *err) {
  if (check_id(id, err) < 0)
    return -1;
  struct mcs_table t;
  if (table_open(state_dir, &t, err) < 0)
    return -1;
  json_t *have = json_object_get(t.levels, id);
  if (have) {
    *level = xstrdup(json_string_value(have));
    table_close(&t);
    return 0;
  }
  unsigned x = 0, y = 0;
  if (pick_pair(&t, &x, &y, err) < 0) {
    table_close(&t);
    return -1;
  }
  _cleanup_free_ char *l = xasprintf("s0:c%u,c%u", x, y);
  json_object_set_new(t.levels, id, json_string(l));
  int r = table_save(&t, err);
  table_close(&t);
  if (r < 0)
    return -1;
  *level = TAKE_PTR(l);
  return 0;
}

int brick_mcs_reserve(const char *state_dir, const char *id, const char *level,
                      brick_err *err) {
  if (check_id(id, err) < 0)
    return -1;
  _cleanup_free_ char *canon = NULL;
  if (brick_mcs_level_canonical(level, &canon, err) < 0)
    return -1;
  struct mcs_table t;
  if (table_open(state_dir, &t, err) < 0)
    return -1;
  json_t *have = json_object_get(t.levels, id);
  int r = 0;
  if (!have || strcmp(json_string_value(have), canon) != 0) {
    json_object_set_new(t.levels, id, json_string(canon));
    r = table_save(&t, err);
  }
  table_close(&t);
  return r;
}

int brick_mcs_release(const char *state_dir, const char *id, brick_err *err) {
  if (check_id(id, err) < 0)
    return -1;
  struct mcs_table t;
  if (table_open(state_dir, &t, err) < 0)
    return -1;
  int r = 0;
  if (json_object_get(t.levels, id)) {
    json_object_del(t.levels, id);
    r = table_save(&t, err);
  }
  table_close(&t);
  return r;
}

int brick_mcs_lookup(const char *state_dir, const char *id, char **level, brick_err *err) {
  if (check_id(id, err) < 0)
    return -1;
  struct mcs_table t;
  if (table_open(state_dir, &t, err) < 0)
    return -1;
  json_t *have = json_object_get(t.levels, id);
  *level = have ? xstrdup(json_string_value(have)) : NULL;
  table_close(&t);
  return 0;
}
