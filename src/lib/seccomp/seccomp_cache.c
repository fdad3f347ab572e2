/* Compiled programs cached by what determines them, so a container start skips
 * libseccomp when the same profile was compiled before on this host.
 *
 * The cache is keyed on the profile's canonical text (below), stored in the file and
 * compared byte for byte on load: the file name is only a 64-bit FNV-1a of that text, so
 * a name collision, a stale file or a forged one whose text differs is a miss, never a
 * wrong filter. This keeps a cryptographic hash (and libcrypto's ~1.4 MiB and its
 * initialisation) out of every container start.
 *
 * File layout (native endianness; the cache never leaves the host):
 *   "BRICKBPF" | u32 version | u32 uses_notify | u32 n_insns | u32 text_len |
 *   u64 FNV-1a of text and instructions | text (text_len bytes) | n_insns * sock_filter
 * A file that does not check out is ignored and rebuilt.
 *
 * The cache holds at most SECCOMP_CACHE_MAX programs: storing one (a miss, which has just
 * paid for a compile) removes the oldest beyond that, and any file that is not a cache
 * entry of this layout (e.g. SHA-256 names of older brick builds). Hits never scan. */
#include "seccomp/seccomp.h"
#include "seccomp/seccomp_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <seccomp.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/util.h"

#define CACHE_MAGIC "BRICKBPF"
#define CACHE_VERSION 2u

struct cache_header {
  char magic[8];
  uint32_t version;
  uint32_t uses_notify;
  uint32_t n_insns;
  uint32_t text_len;
  uint64_t checksum;
};

#define FNV64_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV64_PRIME UINT64_C(0x100000001b3)

static uint64_t fnv1a64_update(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= FNV64_PRIME;
  }
  return h;
}

uint64_t seccomp_fnv1a64(const void *data, size_t len) {
  return fnv1a64_update(FNV64_OFFSET, data, len);
}

uint64_t seccomp_cache_checksum(const void *text, size_t text_len, const void *insns,
                                size_t insns_len) {
  return fnv1a64_update(fnv1a64_update(FNV64_OFFSET, text, text_len), insns, insns_len);
}

static json_t *args_to_json(const struct brick_seccomp_rule *r) {
  json_t *args = json_array();
  for (size_t k = 0; k < r->n_args; k++) {
    const struct brick_seccomp_arg *a = &r->args[k];
    const char *op = seccomp_op_name(a->op);
    json_array_append_new(args, json_pack("{s:I, s:I, s:I, s:s}", "index", (json_int_t)a->index,
                                          "value", (json_int_t)a->value, "valueTwo",
                                          (json_int_t)a->value_two, "op", op ? op : "?"));
  }
  return args;
}

static json_t *strv_to_json(char *const *v) {
  json_t *a = json_array();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

json_t *brick_seccomp_to_json(const struct brick_seccomp *cfg) {
  json_t *o = json_object();
  const char *def = seccomp_action_name(cfg->default_action);
  json_object_set_new(o, "defaultAction", json_string(def ? def : "?"));
  if (cfg->has_default_errno_ret)
    json_object_set_new(o, "defaultErrnoRet", json_integer(cfg->default_errno_ret));
  json_object_set_new(o, "architectures", strv_to_json(cfg->architectures));
  json_object_set_new(o, "flags", strv_to_json(cfg->flags));
  if (cfg->listener_path)
    json_object_set_new(o, "listenerPath", json_string(cfg->listener_path));
  if (cfg->listener_metadata)
    json_object_set_new(o, "listenerMetadata", json_string(cfg->listener_metadata));
  json_t *rules = json_array();
  for (size_t i = 0; i < cfg->n_syscalls; i++) {
    const struct brick_seccomp_rule *r = &cfg->syscalls[i];
    const char *act = seccomp_action_name(r->action);
    json_t *jr = json_object();
    json_object_set_new(jr, "names", strv_to_json(r->names));
    json_object_set_new(jr, "action", json_string(act ? act : "?"));
    if (r->has_errno_ret)
      json_object_set_new(jr, "errnoRet", json_integer(r->errno_ret));
    json_object_set_new(jr, "args", args_to_json(r));
    json_array_append_new(rules, jr);
  }
  json_object_set_new(o, "syscalls", rules);
  return o;
}

/* ---- canonical text ------------------------------------------------------------- */

/* Strings are length-prefixed ("<len>:<bytes>") and numbers are followed by a separator,
 * so two different inputs can never produce the same text. */
struct text {
  char *p;
  size_t len, cap;
};

static void text_put(struct text *t, const void *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    t->cap = (t->len + n + 1) * 2;
    t->p = xrealloc(t->p, t->cap);
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
  t->p[t->len] = '\0';
}

static void text_u64(struct text *t, uint64_t v, char sep) {
  char b[24];
  size_t i = sizeof b;
  b[--i] = sep;
  do {
    b[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  text_put(t, b + i, sizeof b - i);
}

static void text_str(struct text *t, const char *s) {
  if (!s) {
    text_put(t, "-;", 2);
    return;
  }
  size_t n = strlen(s);
  text_u64(t, n, ':');
  text_put(t, s, n);
}

static void text_strv(struct text *t, char *const *v) {
  size_t n = brick_strv_len(v);
  text_u64(t, n, '[');
  for (size_t i = 0; i < n; i++)
    text_str(t, v[i]);
  text_put(t, "]", 1);
}

/* The parsed struct, written field by field: serializing it to JSON would cost more than
 * loading the cached program. */
static void text_struct(struct text *t, const struct brick_seccomp *cfg) {
  text_put(t, "\ndefault ", 9);
  text_u64(t, cfg->default_action, ' ');
  text_u64(t, cfg->has_default_errno_ret, ' ');
  text_u64(t, cfg->default_errno_ret, ' ');
  text_put(t, "\narchitectures ", 15);
  text_strv(t, cfg->architectures);
  text_put(t, "\nflags ", 7);
  text_strv(t, cfg->flags);
  text_put(t, "\nsyscalls ", 10);
  text_u64(t, cfg->n_syscalls, '\n');
  for (size_t i = 0; i < cfg->n_syscalls; i++) {
    const struct brick_seccomp_rule *r = &cfg->syscalls[i];
    text_strv(t, r->names);
    text_put(t, " ", 1);
    text_u64(t, r->action, ' ');
    text_u64(t, r->has_errno_ret, ' ');
    text_u64(t, r->errno_ret, ' ');
    text_u64(t, r->n_args, '(');
    for (size_t k = 0; k < r->n_args; k++) {
      text_u64(t, r->args[k].index, ',');
      text_u64(t, r->args[k].value, ',');
      text_u64(t, r->args[k].value_two, ',');
      text_u64(t, r->args[k].op, ';');
    }
    text_put(t, ")\n", 2);
  }
}

char *brick_seccomp_cache_text(const struct brick_seccomp *cfg, size_t *len, brick_err *err) {
  const struct scmp_version *v = seccomp_version();
  _cleanup_free_ char *raw =
      cfg->raw ? json_dumps(cfg->raw, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY)
               : xstrdup("null");
  if (!raw) {
    brick_error(err, ENOMEM, "seccomp cache: serializing linux.seccomp failed");
    return NULL;
  }
  struct text t = {0};
  /* What libseccomp would produce depends on its version and API level, the native arch
   * and which actions this kernel accepts (unsupported ones are mapped at compile time). */
  char env[200];
  int n = snprintf(env, sizeof env,
                   "brick-seccomp-cache %u\nlibseccomp %u.%u.%u api %u arch %#x actions %#x\nraw ",
                   CACHE_VERSION, v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
                   seccomp_api_get(), seccomp_arch_native(), seccomp_kernel_actions());
  text_put(&t, env, (size_t)n);
  /* The raw object is what the user wrote; the parsed struct is what gets compiled (the
   * runtime may adjust it after parsing). Both go in. */
  text_str(&t, raw);
  text_struct(&t, cfg);
  *len = t.len;
  return t.p;
}

static void cache_name(const char *text, size_t len, char name[BRICK_SECCOMP_CACHE_NAME_LEN]) {
  snprintf(name, BRICK_SECCOMP_CACHE_NAME_LEN, "%016" PRIx64, seccomp_fnv1a64(text, len));
}

int brick_seccomp_cache_key(const struct brick_seccomp *cfg, char name[BRICK_SECCOMP_CACHE_NAME_LEN],
                            brick_err *err) {
  size_t len = 0;
  _cleanup_free_ char *text = brick_seccomp_cache_text(cfg, &len, err);
  if (!text)
    return -1;
  cache_name(text, len, name);
  return 0;
}

static char *cache_path(const char *dir, const char *text, size_t text_len) {
  char name[BRICK_SECCOMP_CACHE_NAME_LEN];
  cache_name(text, text_len, name);
  return xasprintf("%s/%s.bpf", dir, name);
}

int seccomp_cache_load(const char *dir, const char *text, size_t text_len,
                       struct brick_seccomp_prog **out) {
  _cleanup_free_ char *path = cache_path(dir, text, text_len);
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno != ENOENT)
      brick_debug("seccomp cache: %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  /* Whoever can write the cache decides the filter: only trust our own private files. */
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & 077) != 0) {
    brick_debug("seccomp cache: %s: not a private regular file of ours, ignored", path);
    return -1;
  }
  /* The only file that can match is one holding exactly our text. */
  size_t max = sizeof(struct cache_header) + text_len + BPF_MAXINSNS * sizeof(struct sock_filter);
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  if ((size_t)st.st_size > max || brick_read_fd(fd, &buf, &len, max, NULL) < 0) {
    brick_debug("seccomp cache: %s: unreadable or too large, ignored", path);
    return -1;
  }
  struct cache_header h;
  if (len < sizeof h)
    goto corrupt;
  memcpy(&h, buf, sizeof h);
  if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.version != CACHE_VERSION ||
      h.uses_notify > 1 || h.n_insns == 0 || h.n_insns > BPF_MAXINSNS)
    goto corrupt;
  size_t insns_len = (size_t)h.n_insns * sizeof(struct sock_filter);
  if (h.text_len != text_len || len != sizeof h + text_len + insns_len)
    goto other;
  const char *stored_text = buf + sizeof h;
  const char *insns = stored_text + text_len;
  if (seccomp_cache_checksum(stored_text, text_len, insns, insns_len) != h.checksum)
    goto corrupt;
  if (memcmp(stored_text, text, text_len) != 0)
    goto other;

  struct brick_seccomp_prog *prog = xcalloc(1, sizeof *prog);
  prog->fprog.len = (unsigned short)h.n_insns;
  prog->fprog.filter = xmalloc(insns_len);
  memcpy(prog->fprog.filter, insns, insns_len);
  prog->uses_notify = h.uses_notify != 0;
  *out = prog;
  return 0;

other:
  brick_debug("seccomp cache: %s: holds another profile, rebuilding", path);
  return -1;
corrupt:
  brick_debug("seccomp cache: %s: corrupt, rebuilding", path);
  return -1;
}

static bool is_entry_name(const char *name) {
  size_t n = strlen(name);
  if (n != BRICK_SECCOMP_CACHE_NAME_LEN - 1 + 4 || strcmp(name + n - 4, ".bpf"))
    return false;
  for (size_t i = 0; i + 4 < n; i++)
    if (!strchr("0123456789abcdef", name[i]))
      return false;
  return true;
}

struct aged {
  char name[64];
  struct timespec mtime;
};

static int older_first(const void *a, const void *b) {
  const struct timespec *x = &((const struct aged *)a)->mtime, *y = &((const struct aged *)b)->mtime;
  if (x->tv_sec != y->tv_sec)
    return x->tv_sec < y->tv_sec ? -1 : 1;
  return (x->tv_nsec > y->tv_nsec) - (x->tv_nsec < y->tv_nsec);
}

void seccomp_cache_prune(const char *dir, size_t max_entries, const char *keep) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct aged *entries = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    const char *name = de->d_name;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
      continue;
    struct stat st;
    if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
      continue;
    /* Temporary files of a concurrent store are left to it. */
    if (strstr(name, ".tmp"))
      continue;
    if (!is_entry_name(name)) {
      if (unlinkat(dirfd(d), name, 0) == 0)
        brick_debug("seccomp cache: removed %s/%s (not an entry of this layout)", dir, name);
      continue;
    }
    if (keep && !strcmp(name, keep))
      continue;
    if (n == cap)
      entries = xrealloc(entries, (cap = cap ? cap * 2 : 64) * sizeof *entries);
    snprintf(entries[n].name, sizeof entries[n].name, "%s", name);
    entries[n++].mtime = st.st_mtim;
  }
  /* keep itself counts toward the bound. */
  size_t limit = keep && max_entries ? max_entries - 1 : max_entries;
  if (n > limit) {
    qsort(entries, n, sizeof *entries, older_first);
    for (size_t i = 0; i < n - limit; i++)
      unlinkat(dirfd(d), entries[i].name, 0);
  }
  free(entries);
  closedir(d);
}

int seccomp_cache_store(const char *dir, const char *text, size_t text_len,
                        const struct brick_seccomp_prog *prog, brick_err *err) {
  if (text_len > UINT32_MAX)
    return brick_error(err, EFBIG, "seccomp cache: profile text too large (%zu bytes)", text_len);
  if (brick_mkdir_p(dir, 0700, err) < 0)
    return -1;
  size_t insns_len = (size_t)prog->fprog.len * sizeof(struct sock_filter);
  struct cache_header h = {
    .version = CACHE_VERSION,
    .uses_notify = prog->uses_notify ? 1 : 0,
    .n_insns = prog->fprog.len,
    .text_len = (uint32_t)text_len,
    .checksum = seccomp_cache_checksum(text, text_len, prog->fprog.filter, insns_len),
  };
  memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
  size_t total = sizeof h + text_len + insns_len;
  _cleanup_free_ char *buf = xmalloc(total);
  memcpy(buf, &h, sizeof h);
  memcpy(buf + sizeof h, text, text_len);
  memcpy(buf + sizeof h + text_len, prog->fprog.filter, insns_len);
  _cleanup_free_ char *path = cache_path(dir, text, text_len);
  /* No fsync: a file torn by a crash fails its checksum or its text compare and is
   * rebuilt, so durability buys nothing here. */
  if (brick_write_file_replace(path, buf, total, 0600, err) < 0)
    return -1;
  seccomp_cache_prune(dir, SECCOMP_CACHE_MAX, strrchr(path, '/') + 1);
  return 0;
}
