/* Compiled programs cached by what determines them, so a container start skips
 * libseccomp when the same profile was compiled before on this host.
 *
 * File layout (native endianness; the cache never leaves the host):
 *   "BRICKBPF" | u32 version | u32 uses_notify | u32 n_insns | u32 reserved |
 *   SHA-256 of the instructions (32 bytes) | n_insns * struct sock_filter
 * A file that does not check out is ignored and rebuilt. */
#include "seccomp/seccomp.h"
#include "seccomp/seccomp_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/util.h"

#define CACHE_MAGIC "BRICKBPF"
#define CACHE_VERSION 1u

struct cache_header {
  char magic[8];
  uint32_t version;
  uint32_t uses_notify;
  uint32_t n_insns;
  uint32_t reserved;
  unsigned char digest[32];
};

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

static int digest_update_json(EVP_MD_CTX *md, json_t *j) {
  _cleanup_free_ char *s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY)
                             : xstrdup("null");
  if (!s)
    return -1;
  /* Length-prefixed so the concatenation of the parts is unambiguous. */
  char len[32];
  int n = snprintf(len, sizeof len, "%zu:", strlen(s));
  if (EVP_DigestUpdate(md, len, (size_t)n) != 1 || EVP_DigestUpdate(md, s, strlen(s)) != 1)
    return -1;
  return 0;
}

/* The parsed struct, fed to the digest field by field (length-prefixed, fixed-width):
 * serializing it to JSON first would cost more than loading the cached program. */
struct digest_writer {
  EVP_MD_CTX *md;
  bool ok;
};

static void put(struct digest_writer *w, const void *p, size_t n) {
  if (w->ok && EVP_DigestUpdate(w->md, p, n) != 1)
    w->ok = false;
}
static void put_u64(struct digest_writer *w, uint64_t v) { put(w, &v, sizeof v); }
static void put_str(struct digest_writer *w, const char *s) {
  size_t n = s ? strlen(s) : SIZE_MAX;
  put_u64(w, n);
  if (s)
    put(w, s, n);
}
static void put_strv(struct digest_writer *w, char *const *v) {
  size_t n = brick_strv_len(v);
  put_u64(w, n);
  for (size_t i = 0; i < n; i++)
    put_str(w, v[i]);
}

static void digest_struct(struct digest_writer *w, const struct brick_seccomp *cfg) {
  put_u64(w, cfg->default_action);
  put_u64(w, cfg->has_default_errno_ret);
  put_u64(w, cfg->default_errno_ret);
  put_strv(w, cfg->architectures);
  put_strv(w, cfg->flags);
  put_u64(w, cfg->n_syscalls);
  for (size_t i = 0; i < cfg->n_syscalls; i++) {
    const struct brick_seccomp_rule *r = &cfg->syscalls[i];
    put_strv(w, r->names);
    put_u64(w, r->action);
    put_u64(w, r->has_errno_ret);
    put_u64(w, r->errno_ret);
    put_u64(w, r->n_args);
    for (size_t k = 0; k < r->n_args; k++) {
      put_u64(w, r->args[k].index);
      put_u64(w, r->args[k].value);
      put_u64(w, r->args[k].value_two);
      put_u64(w, r->args[k].op);
    }
  }
}

int brick_seccomp_cache_key(const struct brick_seccomp *cfg, char hex[65], brick_err *err) {
  /* Only SHA-256 is needed: skip parsing openssl.cnf at every container start (~3 ms,
   * ~600 KiB). Has no effect if OpenSSL was initialised before. */
  OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!md)
    return brick_error(err, ENOMEM, "seccomp cache key: EVP_MD_CTX_new");
  const struct scmp_version *v = seccomp_version();
  char env[160];
  int n = snprintf(env, sizeof env, "brick-seccomp-v%u libseccomp=%u.%u.%u api=%u arch=%#x actions=%#x",
                   CACHE_VERSION, v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
                   seccomp_api_get(), seccomp_arch_native(), seccomp_kernel_actions());
  struct digest_writer w = {.md = md, .ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1};
  put(&w, env, (size_t)n);
  /* The raw object is what the user wrote; the parsed struct is what gets compiled (the
   * runtime may adjust it after parsing). Both go in. */
  if (w.ok && digest_update_json(md, cfg->raw) < 0)
    w.ok = false;
  digest_struct(&w, cfg);
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  bool ok = w.ok && EVP_DigestFinal_ex(md, d, &dlen) == 1;
  EVP_MD_CTX_free(md);
  if (!ok || dlen != 32)
    return brick_error(err, EIO, "seccomp cache key: SHA-256 failed");
  for (unsigned i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", d[i]);
  return 0;
}

static bool sha256(const void *data, size_t len, unsigned char out[32]) {
  unsigned int olen = 0;
  return EVP_Digest(data, len, out, &olen, EVP_sha256(), NULL) == 1 && olen == 32;
}

int seccomp_cache_load(const char *dir, const char *hex, struct brick_seccomp_prog **out) {
  _cleanup_free_ char *path = xasprintf("%s/%s.bpf", dir, hex);
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
  size_t max = sizeof(struct cache_header) + BPF_MAXINSNS * sizeof(struct sock_filter);
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
      h.uses_notify > 1 || h.n_insns == 0 || h.n_insns > BPF_MAXINSNS ||
      len != sizeof h + (size_t)h.n_insns * sizeof(struct sock_filter))
    goto corrupt;
  unsigned char d[32];
  if (!sha256(buf + sizeof h, len - sizeof h, d) || memcmp(d, h.digest, sizeof d) != 0)
    goto corrupt;

  struct brick_seccomp_prog *prog = xcalloc(1, sizeof *prog);
  prog->fprog.len = (unsigned short)h.n_insns;
  prog->fprog.filter = xmalloc(len - sizeof h);
  memcpy(prog->fprog.filter, buf + sizeof h, len - sizeof h);
  prog->uses_notify = h.uses_notify != 0;
  *out = prog;
  return 0;

corrupt:
  brick_debug("seccomp cache: %s: corrupt, rebuilding", path);
  return -1;
}

int seccomp_cache_store(const char *dir, const char *hex, const struct brick_seccomp_prog *prog,
                        brick_err *err) {
  if (brick_mkdir_p(dir, 0700, err) < 0)
    return -1;
  size_t body = (size_t)prog->fprog.len * sizeof(struct sock_filter);
  struct cache_header h = {.version = CACHE_VERSION,
                           .uses_notify = prog->uses_notify ? 1 : 0,
                           .n_insns = prog->fprog.len};
  memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
  if (!sha256(prog->fprog.filter, body, h.digest))
    return brick_error(err, EIO, "seccomp cache: SHA-256 failed");
  _cleanup_free_ char *buf = xmalloc(sizeof h + body);
  memcpy(buf, &h, sizeof h);
  memcpy(buf + sizeof h, prog->fprog.filter, body);
  _cleanup_free_ char *path = xasprintf("%s/%s.bpf", dir, hex);
  return brick_write_file_atomic(path, buf, sizeof h + body, 0600, err);
}
