/* `brick check image`: what an image brings into a container before any runtime
 * setting applies: its default user, setuid/setgid programs, world-writable paths,
 * device nodes, and (when a scan ran) its known vulnerabilities. */
#include "check/check.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "core/util.h"

#define OK BRICK_CHECK_OK
#define INFO BRICK_CHECK_INFO
#define WARN BRICK_CHECK_WARN
#define HIGH BRICK_CHECK_HIGH
#define CRIT BRICK_CHECK_CRITICAL

/* Deep enough for any real image; stops a crafted tree from exhausting the stack. */
#define MAX_DEPTH 128

enum file_kind { KIND_SETUID, KIND_SETGID, KIND_WORLD_WRITABLE, KIND_DEVICE, KIND_MAX };

static const char *const kind_ids[KIND_MAX] = {"image.setuid", "image.setgid",
                                               "image.world-writable", "image.device"};

struct walk {
  struct brick_check_report *r;
  size_t max_per_kind;
  size_t count[KIND_MAX];
  size_t files;
};

static bool take(struct walk *w, enum file_kind k) {
  return ++w->count[k] <= w->max_per_kind;
}

static void inspect_entry(struct walk *w, const char *path, const struct stat *st) {
  mode_t m = st->st_mode;
  if (S_ISREG(m) && (m & S_ISUID) && take(w, KIND_SETUID))
    brick_check_report_add(w->r, (m & S_IWOTH) ? CRIT : WARN, kind_ids[KIND_SETUID], path,
                     "A setuid program runs with its owner's ids (usually root) whatever user "
                     "starts it; each one is a way up from a non-root container user. "
                     "noNewPrivileges neutralises them.",
                     "Remove the setuid bit (chmod u-s) in the image build unless needed; run "
                     "with noNewPrivileges.",
                     "setuid file %s (owner %u, mode %04o)%s", path, (unsigned)st->st_uid,
                     (unsigned)(m & 07777), (m & S_IWOTH) ? ", world-writable" : "");
  if (S_ISREG(m) && (m & S_ISGID) && take(w, KIND_SETGID))
    brick_check_report_add(w->r, (m & S_IWOTH) ? CRIT : WARN, kind_ids[KIND_SETGID], path,
                     "A setgid program runs with its group's privileges whatever user starts "
                     "it.",
                     "Remove the setgid bit (chmod g-s) unless needed; run with "
                     "noNewPrivileges.",
                     "setgid file %s (group %u, mode %04o)", path, (unsigned)st->st_gid,
                     (unsigned)(m & 07777));
  if (!S_ISLNK(m) && (m & S_IWOTH) && !(S_ISDIR(m) && (m & S_ISVTX)) &&
      take(w, KIND_WORLD_WRITABLE))
    brick_check_report_add(w->r, WARN, kind_ids[KIND_WORLD_WRITABLE], path,
                     "Any user in the container can change this path, e.g. replace a "
                     "program root will run.",
                     S_ISDIR(m) ? "chmod o-w (or +t for a shared scratch directory)."
                                : "chmod o-w in the image build.",
                     "world-writable %s %s (mode %04o)", S_ISDIR(m) ? "directory" : "file", path,
                     (unsigned)(m & 07777));
  if ((S_ISCHR(m) || S_ISBLK(m)) && take(w, KIND_DEVICE))
    brick_check_report_add(w->r, HIGH, kind_ids[KIND_DEVICE], path,
                     "A device node in an image opens a host device if the device cgroup and "
                     "nodev do not stop it; images have no reason to ship them (the runtime "
                     "creates /dev).",
                     "Remove device nodes from the image.",
                     "%s device %s (%u:%u)", S_ISCHR(m) ? "character" : "block", path,
                     major(st->st_rdev), minor(st->st_rdev));
}

static int walk_dir(struct walk *w, int dirfd, const char *rel, int depth, brick_err *err) {
  if (depth > MAX_DEPTH)
    return brick_error(err, ELOOP, "%s: directory tree deeper than %d", rel, MAX_DEPTH);
  int fd = dup(dirfd);
  if (fd < 0)
    return brick_errno(err, "%s", rel);
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return brick_errno(err, "%s", rel);
  }
  int rc = 0;
  struct dirent *de;
  errno = 0;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    _cleanup_free_ char *path = xasprintf("%s/%s", rel, de->d_name);
    struct stat st;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      rc = brick_errno(err, "%s", path);
      break;
    }
    w->files++;
    inspect_entry(w, path, &st);
    if (S_ISDIR(st.st_mode)) {
      _cleanup_close_ int sub =
          openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        rc = brick_errno(err, "%s", path);
        break;
      }
      if (walk_dir(w, sub, path, depth + 1, err) < 0) {
        rc = -1;
        break;
      }
    }
    errno = 0;
  }
  if (rc == 0 && errno != 0)
    rc = brick_errno(err, "%s", rel);
  closedir(d);
  return rc;
}

/* Docker and OCI image configs keep the user in config.User; docker inspect output
 * in Config.User; a bare container config at the top level. */
static json_t *image_user(json_t *cfg) {
  json_t *inner = json_object_get(cfg, "config");
  if (!json_is_object(inner))
    inner = json_object_get(cfg, "Config");
  if (json_is_object(inner))
    return json_object_get(inner, "User");
  return json_object_get(cfg, "User");
}

static bool user_is_root(const char *user) {
  if (!*user)
    return true;
  size_t n = strcspn(user, ":");
  return (n == 1 && user[0] == '0') || (n == 4 && !strncmp(user, "root", 4));
}

static void check_user(struct brick_check_report *r, json_t *cfg) {
  if (!cfg) {
    brick_check_report_add(r, INFO, "image.user-unknown", NULL,
                     "Without the image config the default user is unknown.",
                     "Pass the image config (--config FILE) or check the image by name.",
                     "image config not given; default user unknown");
    return;
  }
  json_t *u = image_user(cfg);
  const char *user = json_string_value(u);
  if (u && !user) {
    brick_check_report_add(r, WARN, "image.user-invalid", "config.User",
                     "The image config's User is not a string; runtimes treat it as root.",
                     "Set USER to a non-root user in the image build.", "config.User is not a string");
    return;
  }
  if (!user || user_is_root(user)) {
    brick_check_report_add(r, WARN, "image.user-root", "config.User",
                     "The image runs as root unless the caller overrides it; without a user "
                     "namespace that is the host's root in every file the process reaches.",
                     "Add a USER instruction with a non-root uid (e.g. USER 1000:1000) to the "
                     "image build.",
                     "image runs as root by default (User \"%s\")", user ? user : "");
    return;
  }
  brick_check_report_add(r, OK, "image.user", "config.User", NULL, NULL, "image runs as user %s",
                   user);
}

static void check_scan(struct brick_check_report *r, json_t *summary) {
  if (!json_is_object(summary)) {
    brick_check_report_add(r, INFO, "scan.none", NULL,
                     "No vulnerability data was available for this image.",
                     "Import vulnerability data (brick db import) and scan the image "
                     "(brick scan IMAGE).",
                     "no vulnerability scan data");
    return;
  }
  static const struct {
    const char *key;
    enum brick_check_level level;
  } sev[] = {{"critical", CRIT}, {"high", HIGH}, {"medium", WARN}, {"low", INFO}};
  json_object_set(r->facts, "vulnerabilities", summary);
  bool any = false;
  for (size_t i = 0; i < ARRAY_SIZE(sev); i++) {
    json_int_t n = json_integer_value(json_object_get(summary, sev[i].key));
    if (n <= 0)
      continue;
    any = true;
    _cleanup_free_ char *id = xasprintf("scan.%s", sev[i].key);
    brick_check_report_add(r, sev[i].level, id, NULL,
                     "Known vulnerabilities in the image's packages; the container is as "
                     "exposed as the oldest package it ships.",
                     "Rebuild the image on an updated base; brick scan lists the packages "
                     "and fixed versions.",
                     "%lld %s-severity vulnerabilities", (long long)n, sev[i].key);
  }
  if (!any)
    brick_check_report_add(r, OK, "scan.clean", NULL, NULL, NULL,
                     "no known vulnerabilities of low severity or above");
}

struct brick_check_report *brick_check_image(const struct brick_image_check_opts *opts,
                                       brick_err *err) {
  if (!opts || !opts->rootfs) {
    brick_error(err, EINVAL, "no root filesystem given");
    return NULL;
  }
  _cleanup_close_ int root = open(opts->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    brick_errno(err, "%s", opts->rootfs);
    return NULL;
  }
  struct brick_check_report *r = brick_check_report_new("image", opts->rootfs);
  struct walk w = {.r = r, .max_per_kind = opts->max_per_kind ? opts->max_per_kind : 50};
  check_user(r, opts->image_config);
  if (walk_dir(&w, root, "", 0, err) < 0) {
    brick_error_prefix(err, "%s", opts->rootfs);
    brick_check_report_free(r);
    return NULL;
  }
  json_object_set_new(r->facts, "files", json_integer((json_int_t)w.files));
  for (int k = 0; k < KIND_MAX; k++) {
    _cleanup_free_ char *key = xstrdup(kind_ids[k] + strlen("image."));
    json_object_set_new(r->facts, key, json_integer((json_int_t)w.count[k]));
    if (w.count[k] > w.max_per_kind) {
      _cleanup_free_ char *id = xasprintf("%s-more", kind_ids[k]);
      brick_check_report_add(r, INFO, id, NULL, NULL, NULL, "%zu more %s paths not listed",
                       w.count[k] - w.max_per_kind, kind_ids[k] + strlen("image."));
    }
  }
  if (!w.count[KIND_SETUID] && !w.count[KIND_SETGID] && !w.count[KIND_WORLD_WRITABLE] &&
      !w.count[KIND_DEVICE])
    brick_check_report_add(r, OK, "image.files", NULL, NULL, NULL,
                     "%zu paths: no setuid/setgid, world-writable or device files", w.files);
  check_scan(r, opts->scan_summary);
  return r;
}
