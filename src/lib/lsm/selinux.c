/* SELinux labels for containers: the policy's default container contexts, the exec and
 * keyring labels of the init process, and file labels on rootfs and volumes. */
#include "lsm/lsm.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <selinux/selinux.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "core/util.h"

#ifndef SELINUX_MAGIC
#define SELINUX_MAGIC 0xf97cff8c
#endif

#define DEFAULT_PROCESS_LABEL "system_u:system_r:container_t:s0"
#define DEFAULT_FILE_LABEL "system_u:object_r:container_file_t:s0"

/* Decided once, on the host: the container init inherits the answer across fork and
 * asks again after pivot_root, where /sys/fs/selinux is masked and would read "off" --
 * silently skipping the exec label. */
bool brick_selinux_enabled(void) {
  static int cached = -1;
  if (cached >= 0)
    return cached;
  struct statfs sfs;
  cached = is_selinux_enabled() > 0 && statfs("/sys/fs/selinux", &sfs) == 0 &&
           (unsigned long)sfs.f_type == (unsigned long)SELINUX_MAGIC;
  return cached;
}

bool brick_selinux_enforcing(void) {
  return brick_selinux_enabled() && security_getenforce() == 1;
}

void brick_selinux_context_free(struct brick_selinux_context *ctx) {
  free(ctx->user);
  free(ctx->role);
  free(ctx->type);
  free(ctx->level);
  memset(ctx, 0, sizeof *ctx);
}

/* A context ends up in mount data and /proc attr files: no quotes, blanks or controls. */
static bool context_chars_ok(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p <= ' ' || *p == '"' || *p == '\'' || *p == 0x7f)
      return false;
  return true;
}

int brick_selinux_context_parse(const char *context, struct brick_selinux_context *out,
                                brick_err *err) {
  memset(out, 0, sizeof *out);
  if (!context || !*context)
    return brick_error(err, EINVAL, "empty SELinux context");
  if (!context_chars_ok(context))
    return brick_error(err, EINVAL, "SELinux context '%s' contains invalid characters",
                       context);
  char *fields[3];
  const char *p = context;
  for (int i = 0; i < 3; i++) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    if (len == 0 || (!colon && i < 2)) {
      for (int j = 0; j < i; j++)
        free(fields[j]);
      return brick_error(err, EINVAL, "SELinux context '%s' is not user:role:type[:level]",
                         context);
    }
    fields[i] = strndup(p, len);
    if (!fields[i])
      abort();
    p = colon ? colon + 1 : p + len;
    if (!colon && i == 2)
      p = NULL;
  }
  out->user = fields[0];
  out->role = fields[1];
  out->type = fields[2];
  if (p) {
    if (!*p) {
      brick_selinux_context_free(out);
      return brick_error(err, EINVAL, "SELinux context '%s' has an empty level", context);
    }
    out->level = xstrdup(p);
  }
  return 0;
}

int brick_selinux_context_with_level(const char *context, const char *level, char **out,
                                     brick_err *err) {
  struct brick_selinux_context ctx;
  if (brick_selinux_context_parse(context, &ctx, err) < 0)
    return -1;
  _cleanup_free_ char *canon = NULL;
  if (level) {
    if (brick_mcs_level_canonical(level, &canon, err) < 0) {
      brick_selinux_context_free(&ctx);
      return brick_error_prefix(err, "SELinux level");
    }
  }
  const char *lvl = canon ? canon : ctx.level;
  *out = lvl ? xasprintf("%s:%s:%s:%s", ctx.user, ctx.role, ctx.type, lvl)
             : xasprintf("%s:%s:%s", ctx.user, ctx.role, ctx.type);
  brick_selinux_context_free(&ctx);
  return 0;
}

/* lxc_contexts lines: key = "value" (quotes optional), '#' comments. */
static int lxc_contexts_lookup(const char *text, const char *key, char **value) {
  *value = NULL;
  size_t keylen = strlen(key);
  const char *line = text;
  while (line && *line) {
    const char *eol = strchr(line, '\n');
    const char *end = eol ? eol : line + strlen(line);
    const char *p = line;
    while (p < end && isspace((unsigned char)*p))
      p++;
    if (p < end && *p != '#' && (size_t)(end - p) > keylen && strncmp(p, key, keylen) == 0) {
      const char *q = p + keylen;
      while (q < end && isspace((unsigned char)*q))
        q++;
      if (q < end && *q == '=') {
        q++;
        while (q < end && isspace((unsigned char)*q))
          q++;
        const char *vend = end;
        while (vend > q && isspace((unsigned char)vend[-1]))
          vend--;
        if (vend - q >= 2 && *q == '"' && vend[-1] == '"') {
          q++;
          vend--;
        }
        if (vend > q) {
          *value = strndup(q, (size_t)(vend - q));
          if (!*value)
            abort();
          return 0;
        }
      }
    }
    line = eol ? eol + 1 : NULL;
  }
  return 0;
}

int brick_selinux_labels_from_file(const char *path, const char *mcs_level,
                                   char **process_label, char **file_label, brick_err *err) {
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *process = NULL, *file = NULL;
  if (path) {
    brick_err rerr = {0};
    if (brick_read_file(path, &text, NULL, &rerr) < 0) {
      if (rerr.errnum != ENOENT) {
        brick_error(err, rerr.errnum, "%s", brick_error_msg(&rerr));
        brick_error_clear(&rerr);
        return -1;
      }
      brick_error_clear(&rerr);
    }
  }
  if (text) {
    lxc_contexts_lookup(text, "process", &process);
    lxc_contexts_lookup(text, "file", &file);
  }
  _cleanup_free_ char *p = NULL, *f = NULL;
  if (brick_selinux_context_with_level(process ? process : DEFAULT_PROCESS_LABEL, mcs_level,
                                       &p, err) < 0)
    return brick_error_prefix(err, "%s: process", path ? path : "default");
  if (brick_selinux_context_with_level(file ? file : DEFAULT_FILE_LABEL, mcs_level, &f,
                                       err) < 0)
    return brick_error_prefix(err, "%s: file", path ? path : "default");
  *process_label = TAKE_PTR(p);
  *file_label = TAKE_PTR(f);
  return 0;
}

int brick_selinux_default_labels(const char *mcs_level, char **process_label,
                                 char **file_label, brick_err *err) {
  return brick_selinux_labels_from_file(selinux_lxc_contexts_path(), mcs_level,
                                        process_label, file_label, err);
}

/* The attr file holds the label followed by a NUL (and on some kernels a newline). */
static int attr_matches(const char *attr, const char *label, brick_err *err) {
  _cleanup_free_ char *path = xasprintf("/proc/thread-self/attr/%s", attr);
  _cleanup_free_ char *cur = NULL;
  size_t len = 0;
  if (brick_read_file(path, &cur, &len, err) < 0)
    return -1;
  while (len > 0 && (cur[len - 1] == '\0' || cur[len - 1] == '\n'))
    cur[--len] = '\0';
  if (strcmp(cur, label) != 0)
    return brick_error(err, EPERM, "%s reads back '%s' instead of '%s'", path, cur, label);
  return 0;
}

int brick_selinux_set_exec_label(const char *label, brick_err *err) {
  if (!label || !brick_selinux_enabled())
    return 0;
  if (!context_chars_ok(label))
    return brick_error(err, EINVAL, "SELinux label '%s' contains invalid characters", label);
  if (setexeccon_raw(label) < 0)
    return brick_errno(err, "set SELinux exec label '%s'", label);
  return attr_matches("exec", label, err);
}

int brick_selinux_set_keycreate_label(const char *label, brick_err *err) {
  if (!label || !brick_selinux_enabled())
    return 0;
  if (!context_chars_ok(label))
    return brick_error(err, EINVAL, "SELinux label '%s' contains invalid characters", label);
  if (setkeycreatecon_raw(label) < 0)
    return brick_errno(err, "set SELinux keyring label '%s'", label);
  return 0;
}

char *brick_selinux_context_mount_option(const char *file_label) {
  if (!file_label)
    return NULL;
  return xasprintf("context=\"%s\"", file_label);
}

/* Relabelling one of these would make the host unusable under enforcing policy. */
static const char *const protected_paths[] = {
    "/",         "/bin",    "/boot",       "/dev",     "/etc",      "/etc/passwd",
    "/etc/pki",  "/etc/shadow", "/home",   "/lib",     "/lib32",    "/lib64",
    "/media",    "/mnt",    "/opt",        "/proc",    "/root",     "/run",
    "/sbin",     "/srv",    "/sys",        "/tmp",     "/usr",      "/var",
    "/var/lib",  "/var/log", "/var/tmp",
};

/* Nothing below these belongs to a container: one host file (/etc/hosts, a library)
 * relabelled for a volume would be denied to the host's own services. */
static const char *const protected_trees[] = {"/boot", "/dev", "/etc", "/proc",
                                              "/sys",  "/usr", "/bin", "/sbin",
                                              "/lib",  "/lib64"};

static int label_one(const char *path, const char *label, brick_err *err) {
  char *cur = NULL;
  if (lgetfilecon_raw(path, &cur) >= 0) {
    bool same = strcmp(cur, label) == 0;
    freecon(cur);
    if (same)
      return 0;
  }
  if (lsetfilecon_raw(path, label) < 0)
    return brick_errno(err, "label %s as '%s'", path, label);
  /* A filesystem may accept the write and keep another label (context= mounts, policy
   * translation): the container would then run on files it cannot use or share. */
  char *now = NULL;
  if (lgetfilecon_raw(path, &now) < 0)
    return brick_errno(err, "read back the label of %s", path);
  bool landed = strcmp(now, label) == 0;
  int r = landed ? 0
                 : brick_error(err, EIO, "label %s as '%s': reads back '%s'", path, label, now);
  freecon(now);
  return r;
}

static int relabel_dir(const char *path, dev_t dev, const char *label, brick_err *err) {
  if (label_one(path, label, err) < 0)
    return -1;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return brick_errno(err, "open %s", path);
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    return brick_error(err, e, "opendir %s", path);
  }
  int r = 0;
  for (;;) {
    errno = 0;
    struct dirent *de = readdir(d);
    if (!de) {
      if (errno != 0)
        r = brick_errno(err, "readdir %s", path);
      break;
    }
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT)
        continue;
      r = brick_errno(err, "stat %s/%s", path, de->d_name);
      break;
    }
    if (st.st_dev != dev)
      continue; /* a mount point: somebody else's files */
    _cleanup_free_ char *child = strcmp(path, "/") == 0 ? xasprintf("/%s", de->d_name)
                                                        : xasprintf("%s/%s", path, de->d_name);
    r = S_ISDIR(st.st_mode) ? relabel_dir(child, dev, label, err)
                            : label_one(child, label, err);
    if (r < 0)
      break;
  }
  closedir(d);
  return r;
}

int brick_selinux_relabel_tree(const char *path, const char *file_label, brick_err *err) {
  if (!path || !*path)
    return brick_error(err, EINVAL, "relabel: empty path");
  if (!file_label || !*file_label)
    return brick_error(err, EINVAL, "relabel %s: empty label", path);
  if (!context_chars_ok(file_label))
    return brick_error(err, EINVAL, "relabel %s: label '%s' contains invalid characters",
                       path, file_label);
  char real[PATH_MAX];
  if (!realpath(path, real))
    return brick_errno(err, "relabel %s", path);
  for (size_t i = 0; i < ARRAY_SIZE(protected_paths); i++)
    if (strcmp(real, protected_paths[i]) == 0)
      return brick_error(err, EPERM, "relabel %s: refusing to relabel system directory %s",
                         path, real);
  for (size_t i = 0; i < ARRAY_SIZE(protected_trees); i++) {
    size_t n = strlen(protected_trees[i]);
    if (strncmp(real, protected_trees[i], n) == 0 && real[n] == '/')
      return brick_error(err, EPERM, "relabel %s: refusing to relabel %s inside %s", path,
                         real, protected_trees[i]);
  }
  struct stat st;
  if (lstat(real, &st) < 0)
    return brick_errno(err, "stat %s", real);
  if (!S_ISDIR(st.st_mode))
    return label_one(real, file_label, err);
  return relabel_dir(real, st.st_dev, file_label, err);
}
