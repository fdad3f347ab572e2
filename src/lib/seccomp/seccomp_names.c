/* The OCI spellings of seccomp actions, operators, architectures and flags. */
#include "seccomp/seccomp_internal.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>

#include "core/util.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif

static const char *const action_names[] = {
  [BRICK_SCMP_KILL] = "SCMP_ACT_KILL",
  [BRICK_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
  [BRICK_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
  [BRICK_SCMP_TRAP] = "SCMP_ACT_TRAP",
  [BRICK_SCMP_ERRNO] = "SCMP_ACT_ERRNO",
  [BRICK_SCMP_TRACE] = "SCMP_ACT_TRACE",
  [BRICK_SCMP_ALLOW] = "SCMP_ACT_ALLOW",
  [BRICK_SCMP_LOG] = "SCMP_ACT_LOG",
  [BRICK_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const op_names[] = {
  [BRICK_SCMP_CMP_NE] = "SCMP_CMP_NE",
  [BRICK_SCMP_CMP_LT] = "SCMP_CMP_LT",
  [BRICK_SCMP_CMP_LE] = "SCMP_CMP_LE",
  [BRICK_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
  [BRICK_SCMP_CMP_GE] = "SCMP_CMP_GE",
  [BRICK_SCMP_CMP_GT] = "SCMP_CMP_GT",
  [BRICK_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

/* Only the architectures this libseccomp can build filters for; the OCI names of the
 * others (loongarch64, m68k, sh) appear once the library defines their tokens. */
static const struct {
  const char *name;
  uint32_t token;
} arches[] = {
  {"SCMP_ARCH_X86", SCMP_ARCH_X86},
  {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
  {"SCMP_ARCH_X32", SCMP_ARCH_X32},
  {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
  {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
  {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
  {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
  {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
  {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
  {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
  {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
  {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
  {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
  {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
  {"SCMP_ARCH_S390", SCMP_ARCH_S390},
  {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
  {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
  {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
  {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
  {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
  {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
#ifdef SCMP_ARCH_SH
  {"SCMP_ARCH_SH", SCMP_ARCH_SH},
  {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
};

const struct seccomp_flag_name seccomp_known_flags[] = {
  {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
  {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
  {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
  {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};
const size_t seccomp_n_known_flags = ARRAY_SIZE(seccomp_known_flags);

const char *seccomp_action_name(enum brick_seccomp_action a) {
  if ((size_t)a >= ARRAY_SIZE(action_names))
    return NULL;
  return action_names[a];
}

const char *seccomp_op_name(enum brick_seccomp_op op) {
  if ((size_t)op >= ARRAY_SIZE(op_names))
    return NULL;
  return op_names[op];
}

int seccomp_arch_token(const char *name, uint32_t *token) {
  for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
    if (strcmp(arches[i].name, name) == 0) {
      *token = arches[i].token;
      return 0;
    }
  return -1;
}

const char *seccomp_arch_name(uint32_t token) {
  for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
    if (arches[i].token == token)
      return arches[i].name;
  return NULL;
}

size_t seccomp_arch_count(void) { return ARRAY_SIZE(arches); }
const char *seccomp_arch_name_at(size_t i) { return i < ARRAY_SIZE(arches) ? arches[i].name : NULL; }

uint32_t seccomp_action_kernel_ret(enum brick_seccomp_action a) {
  switch (a) {
  case BRICK_SCMP_KILL:
  case BRICK_SCMP_KILL_THREAD: return SECCOMP_RET_KILL_THREAD;
  case BRICK_SCMP_KILL_PROCESS: return SECCOMP_RET_KILL_PROCESS;
  case BRICK_SCMP_TRAP: return SECCOMP_RET_TRAP;
  case BRICK_SCMP_ERRNO: return SECCOMP_RET_ERRNO;
  case BRICK_SCMP_TRACE: return SECCOMP_RET_TRACE;
  case BRICK_SCMP_ALLOW: return SECCOMP_RET_ALLOW;
  case BRICK_SCMP_LOG: return SECCOMP_RET_LOG;
  case BRICK_SCMP_NOTIFY: return SECCOMP_RET_USER_NOTIF;
  }
  return SECCOMP_RET_KILL_PROCESS;
}

int seccomp_install_flags(const struct brick_seccomp *cfg, bool uses_notify, unsigned int *flags,
                          brick_err *err) {
  unsigned int f = 0;
  size_t n = brick_strv_len(cfg->flags);
  for (size_t i = 0; i < n; i++) {
    const char *name = cfg->flags[i];
    size_t k;
    for (k = 0; k < seccomp_n_known_flags; k++)
      if (strcmp(seccomp_known_flags[k].name, name) == 0)
        break;
    if (k == seccomp_n_known_flags)
      return brick_error(err, EINVAL, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i, name);
    if (!seccomp_kernel_flag_supported(seccomp_known_flags[k].flag))
      return brick_error(err, EOPNOTSUPP,
                         "linux.seccomp.flags[%zu]: %s is not supported by this kernel", i, name);
    f |= seccomp_known_flags[k].flag;
  }
  if ((f & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) && !uses_notify)
    return brick_error(err, EINVAL,
                       "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a "
                       "SCMP_ACT_NOTIFY rule (it only changes how the listener waits)");
  if (uses_notify) {
    f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    /* The kernel refuses TSYNC with a listener unless a failed sync reports ESRCH
     * instead of a thread id (the return value is the listener fd). */
    if (f & SECCOMP_FILTER_FLAG_TSYNC)
      f |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  *flags = f;
  return 0;
}
