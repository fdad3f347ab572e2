/* The five capability sets of a container init, applied through libcap. Order matters:
 * the bounding set is trimmed while CAP_SETPCAP is still effective, the
 * inheritable/permitted/effective sets are set next (an inheritable cap must still be
 * in the bounding set), and ambient caps last (each must be permitted and inheritable). */
#include "lsm/lsm.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "core/util.h"

int brick_cap_last_cap(void) {
  static atomic_int cached = -1;
  int v = atomic_load(&cached);
  if (v >= 0)
    return v;
  _cleanup_free_ char *text = NULL;
  brick_err err = {0};
  if (brick_read_file("/proc/sys/kernel/cap_last_cap", &text, NULL, &err) == 0) {
    char *end;
    errno = 0;
    long l = strtol(text, &end, 10);
    if (errno == 0 && end != text && l >= 0 && l < 64)
      v = (int)l;
  }
  brick_error_clear(&err);
  if (v < 0)
    v = (int)cap_max_bits() - 1; /* no procfs (yet): libcap probes the kernel itself */
  if (v > 63)
    v = 63;
  atomic_store(&cached, v);
  return v;
}

/* "cap_chown" rather than "0" in messages. */
static int cap_error(brick_err *err, int errnum, const char *what, cap_value_t cap) {
  char *name = cap_to_name(cap);
  int r = brick_error(err, errnum, "%s %s", what, name ? name : "?");
  cap_free(name);
  return r;
}

static int set_flags(cap_t c, cap_flag_t flag, uint64_t mask, int last) {
  for (int i = 0; i <= last; i++) {
    if (!(mask >> i & 1))
      continue;
    cap_value_t v = i;
    if (cap_set_flag(c, flag, 1, &v, CAP_SET) < 0)
      return -1;
  }
  return 0;
}

int brick_caps_apply(uint64_t bounding, uint64_t effective, uint64_t inheritable,
                     uint64_t permitted, uint64_t ambient, brick_err *err) {
  int last = brick_cap_last_cap();
  uint64_t valid = last >= 63 ? ~0ull : (1ull << (last + 1)) - 1;
  bounding &= valid;
  effective &= valid;
  inheritable &= valid;
  permitted &= valid;
  ambient &= valid;

  /* After setresuid under KEEPCAPS the effective set is empty: raise it back to what
   * is permitted so CAP_SETPCAP is usable for the bounding-set drops. */
  cap_t cur = cap_get_proc();
  if (!cur)
    return brick_errno(err, "capabilities: read current sets");
  int r = cap_fill(cur, CAP_EFFECTIVE, CAP_PERMITTED);
  if (r == 0)
    r = cap_set_proc(cur);
  int e = errno;
  cap_free(cur);
  if (r < 0)
    return brick_error(err, e, "capabilities: raise effective set");

  for (int i = 0; i <= last; i++) {
    if (bounding >> i & 1)
      continue;
    /* Dropping what is already out is a no-op, so no PR_CAPBSET_READ first (one
     * syscall per cap instead of two); EINVAL: unknown to this kernel. */
    if (cap_drop_bound(i) < 0 && errno != EINVAL && cap_get_bound(i) != 0)
      return cap_error(err, errno, "capabilities: drop from bounding set:", i);
  }

  cap_t want = cap_init();
  if (!want)
    return brick_errno(err, "capabilities: cap_init");
  r = set_flags(want, CAP_EFFECTIVE, effective, last);
  if (r == 0)
    r = set_flags(want, CAP_PERMITTED, permitted, last);
  if (r == 0)
    r = set_flags(want, CAP_INHERITABLE, inheritable, last);
  if (r < 0) {
    e = errno;
    cap_free(want);
    return brick_error(err, e, "capabilities: build sets");
  }
  r = cap_set_proc(want);
  e = errno;
  cap_free(want);
  if (r < 0)
    return brick_error(err, e,
                       "capabilities: set effective=%#llx permitted=%#llx inheritable=%#llx",
                       (unsigned long long)effective, (unsigned long long)permitted,
                       (unsigned long long)inheritable);

  /* One PR_CAP_AMBIENT_CLEAR_ALL: libcap's cap_reset_ambient first probes every cap
   * with PR_CAP_AMBIENT_IS_SET (~40 syscalls at each container start). */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
    if (ambient == 0 && errno == EINVAL)
      return 0; /* kernel without ambient caps: nothing was asked of it */
    return brick_errno(err, "capabilities: clear ambient set");
  }
  /* The kernel raises only what is both permitted and inheritable; the rest is left out,
   * as runc (with a warning, see brick_caps_unraisable_ambient) and crun do: `crun spec`
   * itself asks for ambient caps with an empty inheritable set. */
  ambient &= permitted & inheritable;
  for (int i = 0; i <= last; i++) {
    if (!(ambient >> i & 1))
      continue;
    if (cap_set_ambient(i, CAP_SET) < 0)
      return cap_error(err, errno, "capabilities: raise ambient", i);
  }
  return 0;
}

uint64_t brick_caps_unraisable_ambient(uint64_t permitted, uint64_t inheritable,
                                       uint64_t ambient) {
  return ambient & ~(permitted & inheritable);
}

int brick_caps_keep(bool keep, brick_err *err) {
  if (prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0)
    return brick_errno(err, "prctl(PR_SET_KEEPCAPS, %d)", keep ? 1 : 0);
  return 0;
}
