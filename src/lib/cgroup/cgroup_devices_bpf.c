/* cgroup v2 has no devices controller: device access is decided by an eBPF program of
 * type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. brick emits it with raw
 * bpf(2) instructions (no libbpf) from the spec's rules.
 *
 * Semantics are those of the v1 controller the rules were written for: each requested
 * access bit (m, r, w) must be granted by the last rule that matches the device and
 * names that bit; a device no rule matches is denied. So the program checks each
 * requested bit in turn, walking the rules from last to first. */
#include "cgroup/cgroup_internal.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/util.h"

#define BRICK_BPF_PROG_NAME "brick_devices"

static const struct {
  char letter;
  int bit;
} access_bits[] = {
  {'m', BPF_DEVCG_ACC_MKNOD}, {'r', BPF_DEVCG_ACC_READ}, {'w', BPF_DEVCG_ACC_WRITE},
};

static const char *rule_access(const struct brick_device_rule *r) {
  return r->access[0] ? r->access : "rwm";
}

static bool rule_matches_device(const struct brick_device_rule *r, char type, int64_t major,
                                int64_t minor) {
  return (r->type == 'a' || r->type == type) && (r->major < 0 || r->major == major) &&
         (r->minor < 0 || r->minor == minor);
}

bool brick_cgroup_device_allowed(const struct brick_device_rule *rules, size_t n, char type,
                                 int64_t major, int64_t minor, const char *access) {
  for (const char *a = access; *a; a++) {
    bool decided = false, allowed = false;
    for (size_t i = n; i-- > 0 && !decided;) {
      if (strchr(rule_access(&rules[i]), *a) && rule_matches_device(&rules[i], type, major, minor)) {
        decided = true;
        allowed = rules[i].allow;
      }
    }
    if (!allowed)
      return false;
  }
  return true;
}

/* ---- emitter ---- */

struct emitter {
  struct bpf_insn *insns;
  size_t n, cap;
  size_t *label_pos;          /* per label id */
  size_t n_labels;
  struct { size_t insn, label; } *fixups;
  size_t n_fixups;
};

static void emit(struct emitter *e, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
                 int32_t imm) {
  if (e->n == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 64;
    e->insns = xrealloc(e->insns, e->cap * sizeof(*e->insns));
  }
  e->insns[e->n++] = (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src,
                                       .off = off, .imm = imm};
}

static size_t new_label(struct emitter *e) {
  e->label_pos = xrealloc(e->label_pos, (e->n_labels + 1) * sizeof(*e->label_pos));
  e->label_pos[e->n_labels] = SIZE_MAX;
  return e->n_labels++;
}

static void place_label(struct emitter *e, size_t label) { e->label_pos[label] = e->n; }

/* A 32-bit compare of register dst with imm that jumps to label (offset fixed up later). */
static void emit_jump(struct emitter *e, uint8_t op, uint8_t dst, int32_t imm, size_t label) {
  e->fixups = xrealloc(e->fixups, (e->n_fixups + 1) * sizeof(*e->fixups));
  e->fixups[e->n_fixups].insn = e->n;
  e->fixups[e->n_fixups++].label = label;
  uint8_t cls = op == BPF_JA ? BPF_JMP : BPF_JMP32;
  emit(e, cls | op | BPF_K, dst, 0, 0, imm);
}

static void emit_return(struct emitter *e, int32_t v) {
  emit(e, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, v);
  emit(e, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

enum { R_CTX = BPF_REG_1, R_TYPE = BPF_REG_3, R_ACC = BPF_REG_4, R_MAJOR = BPF_REG_5,
       R_MINOR = BPF_REG_6, R_TMP = BPF_REG_7, R_RAW = BPF_REG_2 };

int cg_bpf_devices_program(const struct brick_device_rule *rules, size_t n,
                           struct bpf_insn **insns, size_t *n_insns, brick_err *err) {
  for (size_t i = 0; i < n; i++) {
    char t = rules[i].type;
    if (t != 'a' && t != 'b' && t != 'c')
      return brick_error(err, 0, "linux.resources.devices[%zu].type: \"%c\" is not a, b "
                                      "or c", i, t ? t : ' ');
    if (rules[i].major > UINT32_MAX || rules[i].minor > UINT32_MAX)
      return brick_error(err, 0, "linux.resources.devices[%zu]: device number out of "
                                      "range", i);
    for (const char *a = rules[i].access; *a; a++)
      if (!strchr("rwm", *a))
        return brick_error(err, 0, "linux.resources.devices[%zu].access: \"%s\" is not "
                                        "a subset of \"rwm\"", i, rules[i].access);
  }
  struct emitter e = {0};
  /* ctx is struct bpf_cgroup_dev_ctx: access_type = (access << 16) | type, major, minor. */
  emit(&e, BPF_LDX | BPF_MEM | BPF_W, R_RAW, R_CTX,
       (int16_t)offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
  emit(&e, BPF_ALU | BPF_MOV | BPF_X, R_TYPE, R_RAW, 0, 0);
  emit(&e, BPF_ALU | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
  emit(&e, BPF_ALU | BPF_MOV | BPF_X, R_ACC, R_RAW, 0, 0);
  emit(&e, BPF_ALU | BPF_RSH | BPF_K, R_ACC, 0, 0, 16);
  emit(&e, BPF_LDX | BPF_MEM | BPF_W, R_MAJOR, R_CTX,
       (int16_t)offsetof(struct bpf_cgroup_dev_ctx, major), 0);
  emit(&e, BPF_LDX | BPF_MEM | BPF_W, R_MINOR, R_CTX,
       (int16_t)offsetof(struct bpf_cgroup_dev_ctx, minor), 0);

  for (size_t b = 0; b < ARRAY_SIZE(access_bits); b++) {
    size_t bit_done = new_label(&e);
    emit(&e, BPF_ALU | BPF_MOV | BPF_X, R_TMP, R_ACC, 0, 0);
    emit(&e, BPF_ALU | BPF_AND | BPF_K, R_TMP, 0, 0, access_bits[b].bit);
    emit_jump(&e, BPF_JEQ, R_TMP, 0, bit_done);     /* this bit was not requested */
    bool decided = false;
    for (size_t i = n; i-- > 0 && !decided;) {
      const struct brick_device_rule *r = &rules[i];
      if (!strchr(rule_access(r), access_bits[b].letter))
        continue;
      /* A rule for every device decides this bit outright; the rules before it could
       * never be reached, and the verifier refuses unreachable instructions. */
      decided = r->type == 'a' && r->major < 0 && r->minor < 0;
      size_t next = new_label(&e);
      if (r->type != 'a')
        emit_jump(&e, BPF_JNE, R_TYPE, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR,
                  next);
      if (r->major >= 0)
        emit_jump(&e, BPF_JNE, R_MAJOR, (int32_t)(uint32_t)r->major, next);
      if (r->minor >= 0)
        emit_jump(&e, BPF_JNE, R_MINOR, (int32_t)(uint32_t)r->minor, next);
      if (r->allow)
        emit_jump(&e, BPF_JA, 0, 0, bit_done);
      else
        emit_return(&e, 0);
      place_label(&e, next);
    }
    if (!decided)
      emit_return(&e, 0);                            /* no rule grants this bit */
    place_label(&e, bit_done);
  }
  emit_return(&e, 1);

  for (size_t f = 0; f < e.n_fixups; f++) {
    size_t at = e.fixups[f].insn, to = e.label_pos[e.fixups[f].label];
    e.insns[at].off = (int16_t)((long)to - (long)at - 1);
  }
  bool too_far = e.n > INT16_MAX;
  free(e.label_pos);
  free(e.fixups);
  if (too_far) {
    free(e.insns);
    return brick_error(err, 0, "linux.resources.devices: %zu rules are too many for one "
                                   "device program", n);
  }
  *insns = e.insns;
  *n_insns = e.n;
  return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load_program(const struct bpf_insn *insns, size_t n, brick_err *err) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uintptr_t)insns;
  a.insn_cnt = (uint32_t)n;
  a.license = (uintptr_t) "Apache-2.0";
  snprintf(a.prog_name, sizeof(a.prog_name), "%s", BRICK_BPF_PROG_NAME);
  int fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  int e = errno;
  if (e != EINVAL && e != EACCES)
    return brick_error(err, e, "linux.resources.devices: load the device eBPF program");
  /* Load again with the verifier log to say why it was refused. */
  _cleanup_free_ char *log = xcalloc(1, 65536);
  a.log_buf = (uintptr_t)log;
  a.log_size = 65536;
  a.log_level = 1;
  fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  size_t l = strlen(log);
  const char *tail = l > 300 ? log + l - 300 : log;
  return brick_error(err, e, "linux.resources.devices: the kernel refused the device eBPF "
                             "program (verifier: %s)", tail);
}

/* Ids of brick's device programs attached directly to the cgroup. */
static int brick_programs(int cgfd, uint32_t **ids, size_t *n, brick_err *err) {
  uint32_t buf[64];
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.query.target_fd = (uint32_t)cgfd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uintptr_t)buf;
  a.query.prog_cnt = ARRAY_SIZE(buf);
  *ids = NULL;
  *n = 0;
  if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
    return brick_errno(err, "linux.resources.devices: query attached device programs");
  for (uint32_t i = 0; i < a.query.prog_cnt && i < ARRAY_SIZE(buf); i++) {
    union bpf_attr g;
    memset(&g, 0, sizeof(g));
    g.prog_id = buf[i];
    _cleanup_close_ int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
    if (fd < 0)
      continue;  /* detached meanwhile */
    struct bpf_prog_info info;
    memset(&info, 0, sizeof(info));
    union bpf_attr q;
    memset(&q, 0, sizeof(q));
    q.info.bpf_fd = (uint32_t)fd;
    q.info.info_len = sizeof(info);
    q.info.info = (uintptr_t)&info;
    if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &q) < 0 || strcmp(info.name, BRICK_BPF_PROG_NAME))
      continue;
    *ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
    (*ids)[(*n)++] = buf[i];
  }
  return 0;
}

int cg_bpf_devices_apply(const char *dir, const struct brick_device_rule *rules, size_t n,
                         brick_err *err) {
  _cleanup_free_ struct bpf_insn *insns = NULL;
  size_t n_insns;
  if (cg_bpf_devices_program(rules, n, &insns, &n_insns, err) < 0)
    return -1;
  _cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    return brick_errno(err, "linux.resources.devices: open %s", dir);
  _cleanup_free_ uint32_t *old = NULL;
  size_t n_old = 0;
  if (brick_programs(cgfd, &old, &n_old, err) < 0)
    return -1;
  _cleanup_close_ int prog = load_program(insns, n_insns, err);
  if (prog < 0)
    return -1;
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
    return brick_errno(err, "linux.resources.devices: attach the device eBPF program to %s", dir);
  /* The new program is in force before the old ones go, so there is no moment in which
   * the container's device access is unrestricted. */
  for (size_t i = 0; i < n_old; i++) {
    union bpf_attr g;
    memset(&g, 0, sizeof(g));
    g.prog_id = old[i];
    _cleanup_close_ int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
    if (fd < 0)
      continue;
    union bpf_attr d;
    memset(&d, 0, sizeof(d));
    d.target_fd = (uint32_t)cgfd;
    d.attach_bpf_fd = (uint32_t)fd;
    d.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_DETACH, &d) < 0 && errno != ENOENT)
      return brick_errno(err, "linux.resources.devices: detach the previous device program");
  }
  return 0;
}
