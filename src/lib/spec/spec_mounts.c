/* config.json "mounts": each entry's options resolved the way runc and crun read them
 * into MS_* flags, propagation, recursive mount_setattr() attributes and the
 * filesystem-specific data string. */
#include <string.h>
#include <sys/mount.h>

#include "core/util.h"
#include "spec/spec_internal.h"

enum opt_kind {
  OPT_NONE,        /* accepted, no effect ("defaults") */
  OPT_FLAG_SET,    /* MS_* to set */
  OPT_FLAG_CLEAR,  /* MS_* to clear */
  OPT_PROPAGATION, /* MS_SHARED etc., last one wins */
  OPT_ATTR_SET,    /* recursive MOUNT_ATTR_* to set */
  OPT_ATTR_CLEAR,  /* recursive MOUNT_ATTR_* to clear */
  OPT_BIND,
  OPT_RBIND,
  OPT_IDMAP,
  OPT_RIDMAP,
  OPT_COPY_UP,
};

static const struct {
  const char *name;
  enum opt_kind kind;
  unsigned long value;
} mount_options[] = {
    {"defaults", OPT_NONE, 0},
    {"rw", OPT_FLAG_CLEAR, MS_RDONLY},
    {"ro", OPT_FLAG_SET, MS_RDONLY},
    {"suid", OPT_FLAG_CLEAR, MS_NOSUID},
    {"nosuid", OPT_FLAG_SET, MS_NOSUID},
    {"dev", OPT_FLAG_CLEAR, MS_NODEV},
    {"nodev", OPT_FLAG_SET, MS_NODEV},
    {"exec", OPT_FLAG_CLEAR, MS_NOEXEC},
    {"noexec", OPT_FLAG_SET, MS_NOEXEC},
    {"async", OPT_FLAG_CLEAR, MS_SYNCHRONOUS},
    {"sync", OPT_FLAG_SET, MS_SYNCHRONOUS},
    {"dirsync", OPT_FLAG_SET, MS_DIRSYNC},
    {"remount", OPT_FLAG_SET, MS_REMOUNT},
    {"nomand", OPT_FLAG_CLEAR, MS_MANDLOCK},
    {"mand", OPT_FLAG_SET, MS_MANDLOCK},
    {"atime", OPT_FLAG_CLEAR, MS_NOATIME},
    {"noatime", OPT_FLAG_SET, MS_NOATIME},
    {"diratime", OPT_FLAG_CLEAR, MS_NODIRATIME},
    {"nodiratime", OPT_FLAG_SET, MS_NODIRATIME},
    {"norelatime", OPT_FLAG_CLEAR, MS_RELATIME},
    {"relatime", OPT_FLAG_SET, MS_RELATIME},
    {"nostrictatime", OPT_FLAG_CLEAR, MS_STRICTATIME},
    {"strictatime", OPT_FLAG_SET, MS_STRICTATIME},
    {"nolazytime", OPT_FLAG_CLEAR, MS_LAZYTIME},
    {"lazytime", OPT_FLAG_SET, MS_LAZYTIME},
    {"loud", OPT_FLAG_CLEAR, MS_SILENT},
    {"silent", OPT_FLAG_SET, MS_SILENT},
    {"symfollow", OPT_FLAG_CLEAR, MS_NOSYMFOLLOW},
    {"nosymfollow", OPT_FLAG_SET, MS_NOSYMFOLLOW},
    {"bind", OPT_BIND, 0},
    {"rbind", OPT_RBIND, 0},
    {"shared", OPT_PROPAGATION, MS_SHARED},
    {"rshared", OPT_PROPAGATION, MS_SHARED | MS_REC},
    {"slave", OPT_PROPAGATION, MS_SLAVE},
    {"rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC},
    {"private", OPT_PROPAGATION, MS_PRIVATE},
    {"rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC},
    {"unbindable", OPT_PROPAGATION, MS_UNBINDABLE},
    {"runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC},
    {"rro", OPT_ATTR_SET, MOUNT_ATTR_RDONLY},
    {"rrw", OPT_ATTR_CLEAR, MOUNT_ATTR_RDONLY},
    {"rnosuid", OPT_ATTR_SET, MOUNT_ATTR_NOSUID},
    {"rsuid", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSUID},
    {"rnodev", OPT_ATTR_SET, MOUNT_ATTR_NODEV},
    {"rdev", OPT_ATTR_CLEAR, MOUNT_ATTR_NODEV},
    {"rnoexec", OPT_ATTR_SET, MOUNT_ATTR_NOEXEC},
    {"rexec", OPT_ATTR_CLEAR, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", OPT_ATTR_SET, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", OPT_ATTR_CLEAR, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", OPT_ATTR_SET, MOUNT_ATTR_RELATIME},
    {"rnorelatime", OPT_ATTR_CLEAR, MOUNT_ATTR_RELATIME},
    {"rnoatime", OPT_ATTR_SET, MOUNT_ATTR_NOATIME},
    {"ratime", OPT_ATTR_CLEAR, MOUNT_ATTR_NOATIME},
    {"rstrictatime", OPT_ATTR_SET, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", OPT_ATTR_CLEAR, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", OPT_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSYMFOLLOW},
    {"idmap", OPT_IDMAP, 0},
    {"ridmap", OPT_RIDMAP, 0},
    {"tmpcopyup", OPT_COPY_UP, 0},
    {"copy-symlink", OPT_COPY_UP, 0},
};

/* Filesystem options one edit away from a flag name that are nonetheless real. */
static const char *const near_miss_allowed[] = {"nouuid"};

/* The access-time attributes are one 3-bit field in mount_setattr(): changing it at
 * all requires MOUNT_ATTR__ATIME in attr_clr, and "clearing" noatime/strictatime means
 * going back to the default, relatime. */
static void apply_attr(struct brick_mount *m, bool set, uint64_t attr, bool atime_field) {
  if (atime_field) {
    m->rec_attr_clr |= MOUNT_ATTR__ATIME;
    m->rec_attr_set &= ~(uint64_t)MOUNT_ATTR__ATIME;
    if (set)
      m->rec_attr_set |= attr;
    return;
  }
  if (set) {
    m->rec_attr_set |= attr;
    m->rec_attr_clr &= ~attr;
  } else {
    m->rec_attr_clr |= attr;
    m->rec_attr_set &= ~attr;
  }
}

static void append_data(struct brick_mount *m, const char *opt) {
  if (m->data == NULL) {
    m->data = xstrdup(opt);
    return;
  }
  char *joined = xasprintf("%s,%s", m->data, opt);
  free(m->data);
  m->data = joined;
}

/* True when a and b differ by one insertion, deletion, substitution or swap of
 * neighbours: the typos worth catching ("nosuidd", "noexex", "rpirvate"). */
static bool one_edit_apart(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > lb)
    return one_edit_apart(b, a);
  if (lb - la > 1)
    return false;
  size_t i = 0;
  while (i < la && a[i] == b[i])
    i++;
  if (i == la)
    return lb == la + 1;
  if (la == lb) {
    if (strcmp(a + i + 1, b + i + 1) == 0)
      return true;
    return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
           strcmp(a + i + 2, b + i + 2) == 0;
  }
  return strcmp(a + i, b + i + 1) == 0;
}

static bool looks_like_misspelled_flag(const char *opt) {
  if (strchr(opt, '=') || strlen(opt) < 5)
    return false;
  for (size_t i = 0; i < ARRAY_SIZE(near_miss_allowed); i++)
    if (strcmp(opt, near_miss_allowed[i]) == 0)
      return false;
  for (size_t i = 0; i < ARRAY_SIZE(mount_options); i++)
    if (strlen(mount_options[i].name) >= 5 && one_edit_apart(opt, mount_options[i].name))
      return true;
  return false;
}

static bool apply_known_option(struct brick_mount *m, const char *opt) {
  for (size_t i = 0; i < ARRAY_SIZE(mount_options); i++) {
    if (strcmp(mount_options[i].name, opt) != 0)
      continue;
    unsigned long v = mount_options[i].value;
    switch (mount_options[i].kind) {
    case OPT_NONE:
      break;
    case OPT_FLAG_SET:
      m->flags |= v;
      m->clear_flags &= ~v;
      break;
    case OPT_FLAG_CLEAR:
      m->flags &= ~v;
      m->clear_flags |= v;
      break;
    case OPT_PROPAGATION:
      m->propagation = v;
      break;
    case OPT_ATTR_SET:
    case OPT_ATTR_CLEAR: {
      bool atime = v == MOUNT_ATTR_RELATIME || (v & MOUNT_ATTR__ATIME) != 0;
      apply_attr(m, mount_options[i].kind == OPT_ATTR_SET, v, atime);
      break;
    }
    case OPT_BIND:
    case OPT_RBIND:
      m->bind = true;
      m->flags |= MS_BIND;
      if (mount_options[i].kind == OPT_RBIND) {
        m->recursive_bind = true;
        m->flags |= MS_REC;
      }
      break;
    case OPT_IDMAP:
    case OPT_RIDMAP:
      m->idmap = true;
      if (mount_options[i].kind == OPT_RIDMAP)
        m->recursive_idmap = true;
      break;
    case OPT_COPY_UP:
      m->copy_up = true;
      break;
    }
    return true;
  }
  return false;
}


static int parse_mount(json_t *o, const char *path, struct brick_mount *m, brick_err *err) {
  if (spec_get_string(o, path, "destination", true, &m->destination, err) < 0)
    return -1;
  if (m->destination[0] == '\0') {
    _cleanup_free_ char *dpath = spec_path_key(path, "destination");
    return spec_error(err, dpath, "must not be empty");
  }
  /* runc resolves a relative destination against the container's "/". */
  if (!spec_path_is_absolute(m->destination)) {
    char *abs = xasprintf("/%s", m->destination);
    free(m->destination);
    m->destination = abs;
  }
  if (spec_get_string(o, path, "type", false, &m->type, err) < 0 ||
      spec_get_string(o, path, "source", false, &m->source, err) < 0 ||
      spec_get_strv(o, path, "options", &m->options, err) < 0 ||
      spec_get_id_mappings(o, path, "uidMappings", &m->uid_mappings, &m->n_uid_mappings,
                           err) < 0 ||
      spec_get_id_mappings(o, path, "gidMappings", &m->gid_mappings, &m->n_gid_mappings,
                           err) < 0)
    return -1;

  if (m->type && strcmp(m->type, "bind") == 0) {
    m->bind = true;
    m->flags |= MS_BIND;
  }
  for (size_t i = 0; m->options && m->options[i]; i++) {
    const char *opt = m->options[i];
    if (apply_known_option(m, opt))
      continue;
    if (opt[0] == '\0' || looks_like_misspelled_flag(opt)) {
      _cleanup_free_ char *opath = spec_path_key(path, "options");
      _cleanup_free_ char *ipath = spec_path_index(opath, i);
      if (opt[0] == '\0')
        return spec_error(err, ipath, "empty mount option");
      return spec_error(err, ipath, "unknown mount option \"%s\"", opt);
    }
    append_data(m, opt);
  }
  return 0;
}

int spec_parse_mounts(json_t *doc, struct brick_spec *spec, brick_err *err) {
  json_t *arr;
  if (spec_get_array(doc, "", "mounts", &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  size_t n = json_array_size(arr);
  spec->mounts = xcalloc(n, sizeof *spec->mounts);
  spec->n_mounts = n;
  for (size_t i = 0; i < n; i++) {
    json_t *o;
    if (spec_array_object(arr, "mounts", i, &o, err) < 0)
      return -1;
    _cleanup_free_ char *ipath = spec_path_index("mounts", i);
    if (parse_mount(o, ipath, &spec->mounts[i], err) < 0)
      return -1;
  }
  return 0;
}

void spec_mount_clear(struct brick_mount *m) {
  free(m->destination);
  free(m->type);
  free(m->source);
  brick_strv_free(m->options);
  free(m->data);
  free(m->uid_mappings);
  free(m->gid_mappings);
  memset(m, 0, sizeof *m);
}
