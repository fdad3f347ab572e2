#include "image/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "core/util.h"
#include "image/path.h"
#include "runtime/defaults.h"

char *brick_random_id(void) {
  unsigned char b[6];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
    abort(); /* the kernel's CSPRNG does not fail once booted */
  return xasprintf("%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

static int append_string_array(json_t *dst, json_t *src, const char *what, brick_err *err) {
  if (!src || json_is_null(src))
    return 0;
  if (!json_is_array(src))
    return brick_error(err, EINVAL, "image config: %s: not an array", what);
  for (size_t i = 0; i < json_array_size(src); i++) {
    if (!json_is_string(json_array_get(src, i)))
      return brick_error(err, EINVAL, "image config: %s[%zu]: not a string", what, i);
    json_array_append(dst, json_array_get(src, i));
  }
  return 0;
}

/* Set K=V in an env array, replacing an existing K. */
static void env_set(json_t *env, const char *kv) {
  const char *eq = strchr(kv, '=');
  size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
  for (size_t i = 0; i < json_array_size(env); i++) {
    const char *e = json_string_value(json_array_get(env, i));
    if (e && !strncmp(e, kv, klen) && e[klen] == '=') {
      json_array_set_new(env, i, json_string(kv));
      return;
    }
  }
  json_array_append_new(env, json_string(kv));
}

static bool env_has(json_t *env, const char *key) {
  size_t klen = strlen(key);
  for (size_t i = 0; i < json_array_size(env); i++) {
    const char *e = json_string_value(json_array_get(env, i));
    if (e && !strncmp(e, key, klen) && e[klen] == '=')
      return true;
  }
  return false;
}

static int add_volume(json_t *mounts, const char *spec, brick_err *err) {
  _cleanup_free_ char *copy = xstrdup(spec);
  char *parts[3] = {0};
  size_t n = 0;
  for (char *save = NULL, *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
    if (n == 3)
      return brick_error(err, EINVAL, "-v %s: expected SRC:DST[:ro]", spec);
    parts[n++] = t;
  }
  if (n < 2)
    return brick_error(err, EINVAL, "-v %s: expected SRC:DST[:ro]", spec);
  bool ro = false;
  if (n == 3) {
    if (!strcmp(parts[2], "ro"))
      ro = true;
    else if (strcmp(parts[2], "rw") != 0)
      return brick_error(err, EINVAL, "-v %s: unknown option \"%s\" (ro or rw)", spec, parts[2]);
  }
  char real[PATH_MAX];
  if (!realpath(parts[0], real))
    return brick_errno(err, "-v %s: source %s", spec, parts[0]);
  if (parts[1][0] != '/')
    return brick_error(err, EINVAL, "-v %s: destination must be an absolute path", spec);
  _cleanup_free_ char *clean = NULL;
  if (brick_path_clean(parts[1] + 1, &clean, err) < 0)
    return brick_error_prefix(err, "-v %s: destination", spec);
  if (!*clean)
    return brick_error(err, EINVAL, "-v %s: cannot mount over /", spec);
  json_t *opts = json_pack("[s,s,s,s]", "rbind", "rprivate", "nosuid", "nodev");
  json_array_append_new(opts, json_string(ro ? "ro" : "rw"));
  _cleanup_free_ char *dst = xasprintf("/%s", clean);
  json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type",
                                          "bind", "source", real, "options", opts));
  return 0;
}

int brick_bundle_fill_config(json_t *base, json_t *img_config, int rootfd, const char *root_path,
                             const char *image_id, const struct brick_run_opts *o,
                             brick_err *err) {
  if (!json_is_object(base))
    return brick_error(err, EINVAL, "base config is not an object");
  json_t *ic = json_object_get(img_config, "config");
  if (ic && !json_is_object(ic) && !json_is_null(ic))
    return brick_error(err, EINVAL, "image config: config: not an object");
  json_t *process = json_object_get(base, "process");
  if (!json_is_object(process)) {
    process = json_object();
    json_object_set_new(base, "process", process);
  }

  /* args, as docker composes them: --entrypoint replaces the image's Entrypoint and drops
   * its Cmd; CMD... on the command line replaces Cmd */
  json_t *args = json_array();
  bool has_cmd = o->cmd && o->cmd[0];
  if (o->entrypoint) {
    if (*o->entrypoint)
      json_array_append_new(args, json_string(o->entrypoint));
  } else if (append_string_array(args, json_object_get(ic, "Entrypoint"), "Entrypoint", err) < 0) {
    json_decref(args);
    return -1;
  }
  if (has_cmd) {
    for (size_t i = 0; o->cmd[i]; i++)
      json_array_append_new(args, json_string(o->cmd[i]));
  } else if (!o->entrypoint &&
             append_string_array(args, json_object_get(ic, "Cmd"), "Cmd", err) < 0) {
    json_decref(args);
    return -1;
  }
  if (json_array_size(args) == 0) {
    json_decref(args);
    return brick_error(err, EINVAL, "the image has no Entrypoint or Cmd: give a command");
  }
  json_object_set_new(process, "args", args);

  /* env: the image's, else brick's default PATH; -e wins */
  json_t *env = json_array();
  json_t *img_env = json_object_get(ic, "Env");
  if (img_env && json_array_size(img_env)) {
    if (append_string_array(env, img_env, "Env", err) < 0) {
      json_decref(env);
      return -1;
    }
  } else {
    append_string_array(env, json_object_get(process, "env"), "env", NULL);
  }
  if (!env_has(env, "PATH"))
    env_set(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (o->tty && !env_has(env, "TERM"))
    env_set(env, "TERM=xterm");
  for (size_t i = 0; o->env && o->env[i]; i++) {
    const char *kv = o->env[i];
    if (!*kv || kv[0] == '=') {
      json_decref(env);
      return brick_error(err, EINVAL, "-e \"%s\": expected KEY=VALUE", kv);
    }
    if (strchr(kv, '=')) {
      env_set(env, kv);
    } else {
      const char *v = getenv(kv);
      if (v) {
        _cleanup_free_ char *full = xasprintf("%s=%s", kv, v);
        env_set(env, full);
      }
    }
  }
  json_object_set_new(process, "env", env);

  const char *cwd = o->workdir;
  if (!cwd || !*cwd)
    cwd = json_string_value(json_object_get(ic, "WorkingDir"));
  if (!cwd || !*cwd)
    cwd = "/";
  if (cwd[0] != '/')
    return brick_error(err, EINVAL, "working directory \"%s\" is not absolute", cwd);
  json_object_set_new(process, "cwd", json_string(cwd));

  const char *user = o->user;
  if (!user || !*user)
    user = json_string_value(json_object_get(ic, "User"));
  uid_t uid;
  gid_t gid;
  _cleanup_free_ gid_t *gids = NULL;
  size_t ngids;
  if (brick_user_resolve(rootfd, user, &uid, &gid, &gids, &ngids, err) < 0)
    return -1;
  json_t *ju = json_pack("{s:I, s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid);
  if (ngids) {
    json_t *ag = json_array();
    for (size_t i = 0; i < ngids; i++)
      json_array_append_new(ag, json_integer(gids[i]));
    json_object_set_new(ju, "additionalGids", ag);
  }
  json_t *old_user = json_object_get(process, "user");
  json_t *umask = old_user ? json_object_get(old_user, "umask") : NULL;
  if (umask)
    json_object_set(ju, "umask", umask);
  json_object_set_new(process, "user", ju);
  json_object_set_new(process, "terminal", json_boolean(o->tty));

  json_t *root = json_object_get(base, "root");
  if (!json_is_object(root)) {
    root = json_object();
    json_object_set_new(base, "root", root);
  }
  json_object_set_new(root, "path", json_string(root_path));
  json_object_set_new(root, "readonly", json_boolean(o->read_only));
  json_object_set_new(base, "hostname",
                      json_string(o->hostname && *o->hostname ? o->hostname : o->id));

  json_t *mounts = json_object_get(base, "mounts");
  if (!json_is_array(mounts)) {
    mounts = json_array();
    json_object_set_new(base, "mounts", mounts);
  }
  for (size_t i = 0; o->volumes && o->volumes[i]; i++)
    if (add_volume(mounts, o->volumes[i], err) < 0)
      return -1;

  if (o->memory || o->pids_limit) {
    json_t *linux_ = json_object_get(base, "linux");
    if (!json_is_object(linux_)) {
      linux_ = json_object();
      json_object_set_new(base, "linux", linux_);
    }
    json_t *res = json_object_get(linux_, "resources");
    if (!json_is_object(res)) {
      res = json_object();
      json_object_set_new(linux_, "resources", res);
    }
    if (o->memory) {
      if (o->memory > INT64_MAX)
        return brick_error(err, ERANGE, "--memory too large");
      json_t *mem = json_object_get(res, "memory");
      if (!json_is_object(mem)) {
        mem = json_object();
        json_object_set_new(res, "memory", mem);
      }
      json_object_set_new(mem, "limit", json_integer((json_int_t)o->memory));
    }
    if (o->pids_limit)
      json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t)o->pids_limit));
  }

  json_t *ann = json_object_get(base, "annotations");
  if (!json_is_object(ann)) {
    ann = json_object();
    json_object_set_new(base, "annotations", ann);
  }
  json_object_set_new(ann, BRICK_ANNOTATION_BUNDLE_OWNED, json_string("true"));
  json_object_set_new(ann, BRICK_ANNOTATION_IMAGE, json_string(image_id));
  const char *stop = json_string_value(json_object_get(ic, "StopSignal"));
  if (stop && *stop)
    json_object_set_new(ann, BRICK_ANNOTATION_STOP_SIGNAL, json_string(stop));
  return 0;
}

static bool id_ok(const char *id) {
  if (!id || !*id || strlen(id) > 128 || id[0] == '.' || id[0] == '-')
    return false;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '-' || *p == '.'))
      return false;
  return true;
}

static bool overlay_path_ok(const char *p) {
  /* overlayfs options are comma-separated and lowerdir uses ':' between layers */
  return !strpbrk(p, ",:\\");
}

/* Nothing is mounted on the host for an image bundle (the runtime assembles the overlay
 * inside the container's mount namespace), so removing the directory is all there is. */
int brick_bundle_destroy(const char *bundle, brick_err *err) {
  return brick_rm_rf(bundle, err);
}

int brick_bundle_create(struct brick_store *s, const struct brick_image_info *img, json_t *base,
                        const struct brick_run_opts *o, char **bundle_out, brick_err *err) {
  if (!id_ok(o->id))
    return brick_error(err, EINVAL, "container name \"%s\": use letters, digits, '_', '-', '.'",
                       o->id ? o->id : "");
  _cleanup_free_ char *bundle = xasprintf("%s/containers/%s", brick_store_dir(s), o->id);
  /* 0711: the container's root (an unprivileged id on the host) must reach rootfs/, upper/
   * and work/ by path when it mounts the overlay; config.json itself stays 0600 */
  if (mkdir(bundle, 0711) < 0) {
    if (errno == EEXIST)
      return brick_error(err, EEXIST, "container \"%s\" already exists (%s)", o->id, bundle);
    return brick_errno(err, "mkdir %s", bundle);
  }
  _cleanup_free_ char *upper = xasprintf("%s/upper", bundle);
  _cleanup_free_ char *work = xasprintf("%s/work", bundle);
  _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", bundle);
  _cleanup_free_ char *cfg = NULL, *marker = NULL, *data = NULL;
  _cleanup_close_ int imgroot = -1;
  if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(rootfs, 0755) < 0) {
    brick_errno(err, "create bundle directories in %s", bundle);
    goto out;
  }
  /* the bundle records which image it came from: `image rm` and `prune` honour it */
  marker = xasprintf("%s/%s", bundle, BRICK_BUNDLE_IMAGE_FILE);
  {
    _cleanup_json_ json_t *m = json_pack("{s:s, s:s}", "image", img->id, "rootfs",
                                         img->config_digest + 7);
    _cleanup_free_ char *mj = json_dumps(m, JSON_COMPACT);
    if (brick_write_file_atomic(marker, mj, strlen(mj), 0644, err) < 0)
      goto out;
  }
  imgroot = open(img->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (imgroot < 0) {
    brick_errno(err, "image rootfs %s", img->rootfs);
    goto out;
  }
  if (brick_bundle_fill_config(base, img->config, imgroot, rootfs, img->id, o, err) < 0)
    goto out;
  if (!overlay_path_ok(img->rootfs) || !overlay_path_ok(bundle)) {
    brick_error(err, EINVAL, "store path %s contains ',', ':' or '\\', which overlayfs cannot "
                "take", brick_store_dir(s));
    goto out;
  }
  /* root.path stays an empty directory: an overlay cannot be idmapped, so the runtime
   * mounts it inside the container's mount namespace over an idmapped lower layer */
  json_t *ann = json_object_get(base, "annotations");
  json_object_set_new(ann, BRICK_ANNOTATION_OVERLAY_LOWER, json_string(img->rootfs));
  json_object_set_new(ann, BRICK_ANNOTATION_OVERLAY_UPPER, json_string(upper));
  json_object_set_new(ann, BRICK_ANNOTATION_OVERLAY_WORK, json_string(work));
  cfg = xasprintf("%s/config.json", bundle);
  data = json_dumps(base, JSON_INDENT(2));
  if (brick_write_file_atomic(cfg, data, strlen(data), 0600, err) < 0)
    goto out;
  *bundle_out = TAKE_PTR(bundle);
  return 0;
out:
  brick_rm_rf(bundle, NULL);
  return -1;
}
