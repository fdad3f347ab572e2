/* linux.seccomp -> BPF with libseccomp, and the prepare() entry point that puts the
 * cache in front of it. */
#include "seccomp/seccomp.h"
#include "seccomp/seccomp_internal.h"

#include <errno.h>
#include <seccomp.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/util.h"

/* The largest errno the kernel hands back as an error (MAX_ERRNO). */
#define BRICK_MAX_ERRNO 4095u
#define BRICK_SCMP_MAX_ARGS 6u

static atomic_ulong compile_count;

unsigned long brick_seccomp_compile_count(void) { return atomic_load(&compile_count); }

static void release_ctx(scmp_filter_ctx *ctx) {
  if (*ctx)
    seccomp_release(*ctx);
}

static int libseccomp_action(enum brick_seccomp_action a, bool has_errno, unsigned errno_ret,
                             const char *where, uint32_t *out, brick_err *err) {
  const char *name = seccomp_action_name(a);
  if (!name)
    return brick_error(err, EINVAL, "%s: unknown action %d", where, (int)a);
  if (!(seccomp_kernel_actions() & (1u << a)))
    return brick_error(err, EOPNOTSUPP, "%s: %s is not supported by this kernel", where, name);
  /* OCI leaves errnoRet optional; EPERM is what runc and crun return without it. */
  unsigned e = has_errno ? errno_ret : EPERM;
  switch (a) {
  case BRICK_SCMP_KILL:
  case BRICK_SCMP_KILL_THREAD: *out = SCMP_ACT_KILL_THREAD; return 0;
  case BRICK_SCMP_KILL_PROCESS: *out = SCMP_ACT_KILL_PROCESS; return 0;
  case BRICK_SCMP_TRAP: *out = SCMP_ACT_TRAP; return 0;
  case BRICK_SCMP_ALLOW: *out = SCMP_ACT_ALLOW; return 0;
  case BRICK_SCMP_LOG: *out = SCMP_ACT_LOG; return 0;
  case BRICK_SCMP_NOTIFY: *out = SCMP_ACT_NOTIFY; return 0;
  case BRICK_SCMP_ERRNO:
    if (e > BRICK_MAX_ERRNO)
      return brick_error(err, ERANGE, "%s: errnoRet %u is out of range (0..%u)", where, e,
                         BRICK_MAX_ERRNO);
    *out = SCMP_ACT_ERRNO(e);
    return 0;
  case BRICK_SCMP_TRACE:
    if (e > 0xffffu)
      return brick_error(err, ERANGE, "%s: errnoRet %u is out of range (0..65535)", where, e);
    *out = SCMP_ACT_TRACE(e);
    return 0;
  }
  return brick_error(err, EINVAL, "%s: unknown action %d", where, (int)a);
}

static int libseccomp_cmp(const struct brick_seccomp_arg *a, const char *where, size_t k,
                          struct scmp_arg_cmp *out, brick_err *err) {
  if (a->index >= BRICK_SCMP_MAX_ARGS)
    return brick_error(err, EINVAL, "%s.args[%zu].index: %u is out of range (0..5)", where, k,
                       a->index);
  out->arg = a->index;
  out->datum_a = a->value;
  out->datum_b = 0;
  switch (a->op) {
  case BRICK_SCMP_CMP_NE: out->op = SCMP_CMP_NE; return 0;
  case BRICK_SCMP_CMP_LT: out->op = SCMP_CMP_LT; return 0;
  case BRICK_SCMP_CMP_LE: out->op = SCMP_CMP_LE; return 0;
  case BRICK_SCMP_CMP_EQ: out->op = SCMP_CMP_EQ; return 0;
  case BRICK_SCMP_CMP_GE: out->op = SCMP_CMP_GE; return 0;
  case BRICK_SCMP_CMP_GT: out->op = SCMP_CMP_GT; return 0;
  case BRICK_SCMP_CMP_MASKED_EQ:
    /* OCI: value is the mask, valueTwo the expected result, as libseccomp takes them. */
    out->op = SCMP_CMP_MASKED_EQ;
    out->datum_b = a->value_two;
    return 0;
  }
  return brick_error(err, EINVAL, "%s.args[%zu].op: unknown operator %d", where, k, (int)a->op);
}

/* One OCI rule. libseccomp allows one comparison per argument in a rule; when a rule
 * compares the same argument twice, each comparison becomes a rule of its own (an OR),
 * which is what runc does and what published profiles (personality, socket) rely on. */
static int add_rule(scmp_filter_ctx ctx, const struct brick_seccomp_rule *r, uint32_t act,
                    const char *where, bool *added_any, brick_err *err) {
  struct scmp_arg_cmp cmps[BRICK_SCMP_MAX_ARGS * 8];
  if (r->n_args > ARRAY_SIZE(cmps))
    return brick_error(err, E2BIG, "%s.args: %zu comparisons, at most %zu", where, r->n_args,
                       ARRAY_SIZE(cmps));
  unsigned per_index[BRICK_SCMP_MAX_ARGS] = {0};
  bool split = false;
  for (size_t k = 0; k < r->n_args; k++) {
    if (libseccomp_cmp(&r->args[k], where, k, &cmps[k], err) < 0)
      return -1;
    if (++per_index[cmps[k].arg] > 1)
      split = true;
  }

  size_t n_names = brick_strv_len(r->names);
  for (size_t j = 0; j < n_names; j++) {
    const char *name = r->names[j];
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
      /* Profiles list syscalls of other kernels and architectures. */
      brick_debug("seccomp: %s: syscall \"%s\" unknown to libseccomp, skipped", where, name);
      continue;
    }
    int rc = 0;
    if (r->n_args == 0) {
      rc = seccomp_rule_add(ctx, act, nr, 0);
    } else if (split) {
      for (size_t k = 0; k < r->n_args && rc >= 0; k++)
        rc = seccomp_rule_add_array(ctx, act, nr, 1, &cmps[k]);
    } else {
      rc = seccomp_rule_add_array(ctx, act, nr, (unsigned)r->n_args, cmps);
    }
    if (rc == -EEXIST)
      /* e.g. two socket() rules with different actions on i386, where libseccomp folds
       * both into the same socketcall(SYS_SOCKET) test. */
      return brick_error(err, EEXIST,
                         "%s: syscall \"%s\": conflicts with an earlier rule with another "
                         "action (on one of the listed architectures)",
                         where, name);
    if (rc < 0)
      return brick_error(err, -rc, "%s: syscall \"%s\": libseccomp refused the rule", where, name);
    *added_any = true;
  }
  return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct brick_seccomp_prog *prog, brick_err *err) {
  /* libseccomp 2.5 exports only to a file descriptor. */
  _cleanup_close_ int fd = memfd_create("brick-seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0)
    return brick_errno(err, "memfd_create");
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0)
    return brick_error(err, -rc, "seccomp: exporting the BPF program");
  struct stat st;
  if (fstat(fd, &st) < 0)
    return brick_errno(err, "seccomp: fstat of the exported program");
  size_t size = (size_t)st.st_size;
  if (size == 0 || size % sizeof(struct sock_filter) != 0)
    return brick_error(err, EINVAL, "seccomp: exported program has odd size %zu", size);
  size_t n = size / sizeof(struct sock_filter);
  if (n > BPF_MAXINSNS)
    return brick_error(err, E2BIG,
                       "seccomp: the profile compiles to %zu BPF instructions, the kernel takes "
                       "at most %d",
                       n, BPF_MAXINSNS);
  struct sock_filter *insns = xmalloc(size);
  size_t done = 0;
  while (done < size) {
    ssize_t r = pread(fd, (char *)insns + done, size - done, (off_t)done);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      free(insns);
      return r < 0 ? brick_errno(err, "seccomp: reading the exported program")
                   : brick_error(err, EIO, "seccomp: exported program truncated");
    }
    done += (size_t)r;
  }
  prog->fprog.filter = insns;
  prog->fprog.len = (unsigned short)n;
  return 0;
}

int seccomp_compile(const struct brick_seccomp *cfg, struct brick_seccomp_prog **out,
                    brick_err *err) {
  uint32_t def;
  if (libseccomp_action(cfg->default_action, cfg->has_default_errno_ret, cfg->default_errno_ret,
                        "linux.seccomp.defaultAction", &def, err) < 0)
    return -1;
  __attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx)
    return brick_error(err, EINVAL, "linux.seccomp.defaultAction: libseccomp refused %s",
                       seccomp_action_name(cfg->default_action));

  /* The runtime sets no_new_privs itself, at the point in the child where it belongs. */
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  /* A syscall from an ABI the profile does not list (i386 via int $0x80, x32) fails with
   * ENOSYS instead of killing the process: programs probing for a 32-bit path get an
   * ordinary ENOSYS and fall back, and nothing of the blocked ABI runs. */
  if (rc >= 0)
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
  if (rc < 0)
    return brick_error(err, -rc, "seccomp: setting filter attributes");
  /* A binary tree over syscall numbers: large allow-lists cost O(log n) per syscall.
   * Older libseccomp lacks the attribute; the linear filter is still correct. */
  if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
    brick_debug("seccomp: libseccomp cannot build a binary-tree filter, using a linear one");

  size_t n_arches = brick_strv_len(cfg->architectures);
  for (size_t i = 0; i < n_arches; i++) {
    uint32_t token;
    if (seccomp_arch_token(cfg->architectures[i], &token) < 0)
      return brick_error(err, EINVAL, "linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
                         i, cfg->architectures[i]);
    rc = seccomp_arch_add(ctx, token);
    if (rc == -EDOM)
      return brick_error(err, 0,
                         "linux.seccomp.architectures[%zu]: %s cannot share a filter with the "
                         "native architecture %s (different byte order)",
                         i, cfg->architectures[i], seccomp_arch_name(seccomp_arch_native()));
    if (rc < 0 && rc != -EEXIST)
      return brick_error(err, -rc, "linux.seccomp.architectures[%zu]: libseccomp refused %s", i,
                         cfg->architectures[i]);
  }

  bool uses_notify = cfg->default_action == BRICK_SCMP_NOTIFY;
  for (size_t i = 0; i < cfg->n_syscalls; i++) {
    const struct brick_seccomp_rule *r = &cfg->syscalls[i];
    char where[64];
    snprintf(where, sizeof where, "linux.seccomp.syscalls[%zu]", i);
    uint32_t act;
    if (libseccomp_action(r->action, r->has_errno_ret, r->errno_ret, where, &act, err) < 0)
      return -1;
    if (act == def) {
      /* libseccomp refuses rules that repeat the default; they change nothing. */
      brick_debug("seccomp: %s: same action as the default, skipped", where);
      continue;
    }
    bool added = false;
    if (add_rule(ctx, r, act, where, &added, err) < 0)
      return -1;
    if (added && r->action == BRICK_SCMP_NOTIFY)
      uses_notify = true;
  }

  struct brick_seccomp_prog *prog = xcalloc(1, sizeof *prog);
  if (export_bpf(ctx, prog, err) < 0) {
    free(prog);
    return -1;
  }
  prog->uses_notify = uses_notify;
  atomic_fetch_add(&compile_count, 1);
  *out = prog;
  return 0;
}

int brick_seccomp_prepare(const struct brick_seccomp *cfg, const char *cache_dir,
                          struct brick_seccomp_prog **out, brick_err *err) {
  *out = NULL;
  if (!cfg || !cfg->present)
    return brick_error(err, EINVAL, "linux.seccomp: no profile to compile");

  _cleanup_free_ char *text = NULL;
  size_t text_len = 0;
  struct brick_seccomp_prog *prog = NULL;
  if (cache_dir) {
    text = brick_seccomp_cache_text(cfg, &text_len, err);
    if (!text)
      return -1;
    if (seccomp_cache_load(cache_dir, text, text_len, &prog) == 0)
      prog->from_cache = true;
  }
  bool compiled = false;
  if (!prog) {
    if (seccomp_compile(cfg, &prog, err) < 0)
      return -1;
    compiled = true;
  }
  if (seccomp_install_flags(cfg, prog->uses_notify, &prog->flags, err) < 0) {
    brick_seccomp_prog_free(prog);
    return -1;
  }
  if (compiled && cache_dir) {
    brick_err cerr = {0};
    /* The cache only saves time: a read-only or full state dir must not stop a container. */
    if (seccomp_cache_store(cache_dir, text, text_len, prog, &cerr) < 0)
      brick_warn("seccomp cache: %s", brick_error_msg(&cerr));
    brick_error_clear(&cerr);
  }
  *out = prog;
  return 0;
}

bool brick_seccomp_uses_notify(const struct brick_seccomp_prog *prog) {
  return prog && prog->uses_notify;
}

size_t brick_seccomp_prog_len(const struct brick_seccomp_prog *prog) {
  return prog ? prog->fprog.len : 0;
}

unsigned int brick_seccomp_prog_flags(const struct brick_seccomp_prog *prog) {
  return prog ? prog->flags : 0;
}

bool brick_seccomp_prog_from_cache(const struct brick_seccomp_prog *prog) {
  return prog && prog->from_cache;
}

void brick_seccomp_prog_free(struct brick_seccomp_prog *prog) {
  if (!prog)
    return;
  free(prog->fprog.filter);
  free(prog);
}
