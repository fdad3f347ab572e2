/* Landlock: an unprivileged, stackable filesystem sandbox. A container init confines
 * itself to its rootfs and volumes, so even a process that escapes the mount namespace
 * cannot open host paths. Rights the running kernel does not know are masked off, the
 * "best effort" mode Landlock's documentation recommends. */
#include "lsm/lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"

/* Newer than the installed UAPI header (linux-libc-dev 6.1 stops at REFER). */
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REFER (1ULL << 13)
#define LL_FS_TRUNCATE (1ULL << 14)
#define LL_FS_IOCTL_DEV (1ULL << 15)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* ABI 1 rights: bits 0 (EXECUTE) .. 12 (MAKE_SYM). */
#define LL_FS_ABI1 ((1ULL << 13) - 1)
/* Rights meaningful on a file (the kernel rejects directory rights on one). */
#define LL_FS_FILE_RIGHTS \
  (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* The kernel's struct landlock_ruleset_attr as of ABI 6; its size tells the kernel which
 * fields we pass. */
struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

static int ll_create_ruleset(const struct ll_ruleset_attr *attr, size_t size, uint32_t flags) {
  return (int)syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

int brick_landlock_abi(void) {
  int abi = ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : abi;
}

static uint64_t handled_fs_for_abi(int abi) {
  uint64_t fs = LL_FS_ABI1;
  if (abi >= 2)
    fs |= LL_FS_REFER;
  if (abi >= 3)
    fs |= LL_FS_TRUNCATE;
  if (abi >= 5)
    fs |= LL_FS_IOCTL_DEV;
  return fs;
}

static int add_rule(int ruleset, const struct brick_landlock_rule *rule, uint64_t handled,
                    brick_err *err) {
  int fd = open(rule->path, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0; /* documented: a missing path grants nothing and is skipped */
    return brick_errno(err, "landlock: open %s", rule->path);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    return brick_error(err, e, "landlock: stat %s", rule->path);
  }
  uint64_t allowed = rule->write ? handled
                                 : (LL_FS_READ_FILE | LL_FS_READ_DIR |
                                    (rule->exec ? LL_FS_EXECUTE : 0));
  allowed &= handled;
  if (!S_ISDIR(st.st_mode))
    allowed &= LL_FS_FILE_RIGHTS;
  struct landlock_path_beneath_attr pb = {.allowed_access = allowed, .parent_fd = fd};
  int r = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
  int e = errno;
  close(fd);
  if (r < 0)
    return brick_error(err, e, "landlock: add rule for %s", rule->path);
  return 0;
}

int brick_landlock_apply(const struct brick_landlock_rule *rules, size_t n, bool *applied,
                         brick_err *err) {
  *applied = false;
  int abi = brick_landlock_abi();
  if (abi <= 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!rules[i].path || !*rules[i].path)
      return brick_error(err, EINVAL, "landlock: rule %zu has an empty path", i);

  struct ll_ruleset_attr attr = {.handled_access_fs = handled_fs_for_abi(abi)};
  size_t size = sizeof attr.handled_access_fs;
  if (abi >= 4)
    size = offsetof(struct ll_ruleset_attr, scoped); /* handled_access_net stays 0 */
  if (abi >= 6) {
    attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
    size = sizeof attr;
  }
  _cleanup_close_ int ruleset = ll_create_ruleset(&attr, size, 0);
  if (ruleset < 0)
    return brick_errno(err, "landlock: create ruleset (ABI %d)", abi);
  for (size_t i = 0; i < n; i++)
    if (add_rule(ruleset, &rules[i], attr.handled_access_fs, err) < 0)
      return -1;
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
    if (errno == EPERM)
      return brick_error(err, EPERM,
                         "landlock: restrict self: needs no_new_privs or CAP_SYS_ADMIN");
    return brick_errno(err, "landlock: restrict self");
  }
  *applied = true;
  return 0;
}
