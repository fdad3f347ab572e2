/* The parent side of the lifecycle: create forks the namespace stage, answers its
 * requests (id maps, idmapped mounts, hooks), records state; start releases it; delete
 * undoes every piece from any point. */
#include "runtime/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "lsm/lsm.h"
#include "runtime/defaults.h"
#include "runtime/floor.h"
#include "runtime/hooks.h"
#include "runtime/init.h"
#include "runtime/process.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/userns.h"
#include "seccomp/seccomp.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static char *now_rfc3339(void) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return xstrdup(buf);
}

static char *abs_path(const char *base, const char *p) {
  if (p[0] == '/')
    return xstrdup(p);
  return xasprintf("%s/%s", base, p);
}

/* Everything create made, so one function can undo it from any point. */
struct create_job {
  const struct brick_create_opts *o;
  struct brick_spec *spec;
  struct brick_state st;
  struct brick_seccomp_prog *seccomp;
  pid_t stage1, init;
  int sock;
  bool made_dir, made_cgroup, made_userns;
  bool rootfs_preshifted;
  struct brick_id_mapping uid_auto, gid_auto;
};

static void undo_create(struct create_job *j) {
  if (j->init > 0)
    kill(j->init, SIGKILL);
  if (j->stage1 > 0) {
    kill(j->stage1, SIGKILL);
    waitpid(j->stage1, NULL, 0);
  }
  if (j->init > 0)
    waitpid(j->init, NULL, __WALL | WNOHANG);
  if (j->made_cgroup && j->st.cgroup_path)
    brick_cgroup_destroy(j->st.cgroup_path, j->st.systemd_cgroup, NULL);
  if (j->made_userns)
    brick_userns_release(j->o->state_root, j->o->id, NULL);
  if (j->st.mcs_level)
    brick_mcs_release(j->o->state_root, j->o->id, NULL);
  if (j->made_dir && j->st.dir)
    brick_rm_rf(j->st.dir, NULL);
}

static int open_ns_paths(const struct brick_spec *spec, int fds[BRICK_NS_COUNT], int *flags,
                         brick_err *err) {
  *flags = 0;
  for (int t = 0; t < BRICK_NS_COUNT; t++) {
    fds[t] = -1;
    const struct brick_namespace *ns = &spec->linux_.namespaces[t];
    if (!ns->present)
      continue;
    if (ns->path && *ns->path) {
      fds[t] = open(ns->path, O_RDONLY | O_CLOEXEC);
      if (fds[t] < 0)
        return brick_errno(err, "linux.namespaces: %s path %s", brick_ns_name((enum brick_ns_type)t),
                           ns->path);
    } else {
      *flags |= brick_ns_clone_flag((enum brick_ns_type)t);
    }
  }
  return 0;
}

/* The user namespace maps: given by the config, or allocated from the pool when the
 * config asks for it (brick's default) or gives a user namespace without maps. */
static int plan_userns(struct create_job *j, brick_err *err) {
  struct brick_linux *l = &j->spec->linux_;
  if (!l->namespaces[BRICK_NS_USER].present || l->namespaces[BRICK_NS_USER].path)
    return 0;
  const char *mode = brick_annotation(j->spec, BRICK_ANNOTATION_USERNS_AUTO);
  bool want_auto = mode && !strcmp(mode, "auto");
  if (l->n_uid_mappings && l->n_gid_mappings && !want_auto)
    return 0;
  if (!want_auto && (l->n_uid_mappings || l->n_gid_mappings))
    return brick_error(err, 0, "config.json: linux.uidMappings and linux.gidMappings must both be set");
  if (!want_auto)
    return brick_error(err, 0, "config.json: linux.namespaces: user namespace without "
                               "linux.uidMappings (set annotation %s=auto to have brick allocate a range)",
                       BRICK_ANNOTATION_USERNS_AUTO);
  struct brick_id_pool pool;
  uint32_t base;
  if (brick_id_pool_read(NULL, &pool, err) < 0 ||
      brick_userns_allocate(j->o->state_root, j->o->id, &pool, &base, err) < 0)
    return -1;
  j->made_userns = true;
  j->st.userns_base = base;
  j->uid_auto = (struct brick_id_mapping){0, base, BRICK_USERNS_RANGE};
  j->gid_auto = j->uid_auto;
  l->uid_mappings = &j->uid_auto;
  l->n_uid_mappings = 1;
  l->gid_mappings = &j->gid_auto;
  l->n_gid_mappings = 1;
  return 0;
}

/* The host id that container id 0 maps to (0 when unmapped: leave ownership alone). */
static uint32_t root_host_id(const struct brick_id_mapping *m, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (m[i].container_id == 0)
      return m[i].host_id;
  return 0;
}

/* The overlay's upper and work directories belong to the container's root, so the
 * overlay it mounts in its own user namespace can write them. Only their top level. */
static int prepare_overlay_dirs(struct create_job *j, brick_err *err) {
  const char *lower = brick_annotation(j->spec, BRICK_ANNOTATION_OVERLAY_LOWER);
  if (!lower)
    return 0;
  static const char *const keys[] = {BRICK_ANNOTATION_OVERLAY_UPPER, BRICK_ANNOTATION_OVERLAY_WORK};
  const struct brick_linux *l = &j->spec->linux_;
  for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
    const char *dir = brick_annotation(j->spec, keys[i]);
    if (!dir || dir[0] != '/')
      return brick_error(err, 0, "config.json: annotations.%s: expected an absolute path", keys[i]);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
      return brick_errno(err, "mkdir %s", dir);
    if (l->namespaces[BRICK_NS_USER].present &&
        chown(dir, root_host_id(l->uid_mappings, l->n_uid_mappings),
              root_host_id(l->gid_mappings, l->n_gid_mappings)) < 0)
      return brick_errno(err, "chown %s", dir);
  }
  return 0;
}

static bool userns_is_new(const struct brick_spec *spec) {
  return spec->linux_.namespaces[BRICK_NS_USER].present && !spec->linux_.namespaces[BRICK_NS_USER].path;
}

/* An idmapped clone of `source` whose ids are shifted by the container's user
 * namespace, so files owned by 0 on disk are owned by the container's root. */
static int make_idmapped_mount(pid_t init, const char *source, bool recursive, bool idmap,
                               brick_err *err) {
  /* Opened here, by the host's root: the container's root may not be able to reach the
   * path at all (a bundle under a 0700 directory). */
  _cleanup_close_ int fd = brick_sys->open_tree(AT_FDCWD, source,
                                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                                    (recursive ? AT_RECURSIVE : 0));
  if (fd < 0)
    return brick_errno(err, "open_tree %s", source);
  if (!idmap)
    return TAKE_FD(fd);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)init);
  _cleanup_close_ int userns = open(path, O_RDONLY | O_CLOEXEC);
  if (userns < 0)
    return brick_errno(err, "open %s", path);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
  if (brick_sys->mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                               sizeof attr) < 0)
    return brick_errno(err, "idmap %s (filesystem without idmapped-mount support?)", source);
  return TAKE_FD(fd);
}

static int serve_init(struct create_job *j, const char *rootfs, brick_err *err) {
  for (;;) {
    struct brick_sync_msg m;
    _cleanup_close_ int mfd = -1;
    if (brick_sync_recv(j->sock, &m, &mfd, err) < 0)
      return -1;
    switch (m.kind) {
    case SYNC_SECCOMP_FD: {
      if (mfd < 0)
        return brick_error(err, 0, "container sync: seccomp listener fd missing");
      /* "creating", as runc sends it: the init exists, the user's process does not yet. */
      _cleanup_json_ json_t *state = brick_state_to_oci(&j->st, BRICK_CREATING);
      json_object_set_new(state, "pid", json_integer(j->init));
      const struct brick_seccomp *sc = &j->spec->linux_.seccomp;
      if (brick_seccomp_send_listener(sc->listener_path, sc->listener_metadata, mfd, j->init,
                                      state, err) < 0) {
        brick_error_prefix(err, "config.json");
        brick_sync_send_error(j->sock, err);
        return -1;
      }
      if (brick_sync_send(j->sock, SYNC_CONTINUE, 0, -1, err) < 0)
        return -1;
      break;
    }
    case SYNC_IDMAP_REQUEST: {
      /* -1: the rootfs (idmapped unless the engine pre-chowned it), -2: the image
       * layer of an overlay rootfs, N: mounts[N] (idmapped only when it asks). */
      const char *src = rootfs;
      bool rec = true, idmap = !j->rootfs_preshifted;
      _cleanup_free_ char *parent_dir = NULL;
      if (m.value == -2) {
        src = brick_annotation(j->spec, BRICK_ANNOTATION_OVERLAY_LOWER);
        rec = false;
        idmap = true;
      } else if (m.value == -3) {
        /* The directory holding the overlay's upper and work (one mount: overlay wants
         * both under the same one), not idmapped: the container's root owns them. */
        parent_dir = xstrdup(brick_annotation(j->spec, BRICK_ANNOTATION_OVERLAY_UPPER));
        *strrchr(parent_dir, '/') = '\0';
        src = parent_dir;
        rec = false;
        idmap = false;
      } else if (m.value >= 0 && (size_t)m.value < j->spec->n_mounts) {
        const struct brick_mount *mnt = &j->spec->mounts[m.value];
        src = mnt->source;
        rec = mnt->recursive_bind || mnt->recursive_idmap;
        idmap = mnt->idmap;
      }
      brick_err e2 = {0};
      int fd = make_idmapped_mount(j->init, src, rec, idmap, &e2);
      if (fd < 0) {
        brick_sync_send_error(j->sock, &e2);
        brick_error(err, e2.errnum, "%s", brick_error_msg(&e2));
        brick_error_clear(&e2);
        return -1;
      }
      int r = brick_sync_send(j->sock, SYNC_IDMAP_FD, 0, fd, err);
      close(fd);
      if (r < 0)
        return -1;
      break;
    }
    case SYNC_PRE_PIVOT: {
      /* "created", as crun reports and the runtime-tools suite (hooks_stdin) expects:
       * the environment the hooks act on exists by now. */
      _cleanup_json_ json_t *state = brick_state_to_oci(&j->st, BRICK_CREATED);
      json_object_set_new(state, "pid", json_integer(j->init));
      if (brick_hooks_run(&j->spec->hooks, BRICK_HOOK_PRESTART, state, err) < 0 ||
          brick_hooks_run(&j->spec->hooks, BRICK_HOOK_CREATE_RUNTIME, state, err) < 0) {
        brick_sync_send_error(j->sock, err);
        return -1;
      }
      if (brick_sync_send(j->sock, SYNC_CONTINUE, 0, -1, err) < 0)
        return -1;
      break;
    }
    case SYNC_READY:
      return 0;
    default:
      return brick_error(err, 0, "container sync: unexpected message %u", m.kind);
    }
  }
}

/* True when the config allows exactly this rule and denies nothing after it. */
static bool already_allowed(const struct brick_device_rule *rules, size_t n,
                            const struct brick_device_rule *want) {
  bool found = false;
  for (size_t i = 0; i < n; i++) {
    if (!rules[i].allow)
      found = false;
    else if (rules[i].type == want->type && rules[i].major == want->major &&
             rules[i].minor == want->minor && !strcmp(rules[i].access, want->access))
      found = true;
  }
  return found;
}

/* The device cgroup rules: the config's, then the devices a container always needs
 * (as runc appends its AllowedDevices, so a config's deny-all cannot take /dev/null
 * away), then every node the config asks to create. brick's always-allowed set is the
 * talk's list and nothing more: no wildcard mknod. */
static struct brick_device_rule *device_rules(const struct brick_spec *spec, size_t *n) {
  static const struct { char type; int64_t major, minor; } always[] = {
      {'c', 1, 3}, {'c', 1, 5}, {'c', 1, 7}, {'c', 1, 8}, {'c', 1, 9}, {'c', 5, 0},
      {'c', 5, 1}, {'c', 5, 2}, {'c', 136, -1}, {'c', 10, 229}};
  const struct brick_linux *l = &spec->linux_;
  size_t total = l->resources.n_devices + ARRAY_SIZE(always) + l->n_devices;
  struct brick_device_rule *r = xcalloc(total, sizeof *r);
  size_t k = 0;
  for (size_t i = 0; i < l->resources.n_devices; i++)
    r[k++] = l->resources.devices[i];
  for (size_t i = 0; i < ARRAY_SIZE(always); i++) {
    struct brick_device_rule rule = {.allow = true, .type = always[i].type,
                                     .major = always[i].major, .minor = always[i].minor,
                                     .access = "rwm"};
    /* brick's own configs list these already: each rule is one cgroup write. */
    if (!already_allowed(l->resources.devices, l->resources.n_devices, &rule))
      r[k++] = rule;
  }
  for (size_t i = 0; i < l->n_devices; i++) {
    char t = l->devices[i].type == 'b' ? 'b' : 'c';
    if (l->devices[i].type == 'p')
      continue; /* fifos are not devices to the cgroup */
    r[k++] = (struct brick_device_rule){.allow = true, .type = t, .major = l->devices[i].major,
                                        .minor = l->devices[i].minor, .access = "rwm"};
  }
  *n = k;
  return r;
}

static int connect_console(const char *path, brick_err *err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path)
    return brick_error(err, 0, "--console-socket: path too long: %s", path);
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return brick_errno(err, "socket");
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    close(fd);
    return brick_errno(err, "--console-socket: connect %s", path);
  }
  return fd;
}

static int write_pid_file(const char *path, pid_t pid, brick_err *err) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%d", (int)pid);
  return brick_write_file_replace(path, buf, (size_t)n, 0644, err);
}

/* brick picked the labels, so nobody else labelled the files: the entrypoint must be the
 * container's file type and its MCS pair keeps other containers out. Writable volumes
 * get the same label; a volume the lsm module refuses (a system directory) keeps its
 * host label, so the container cannot write it -- a warning, not an error. */
static int label_container_files(const struct brick_spec *spec, const char *rootfs,
                                 const char *label, brick_err *err) {
  if (brick_selinux_relabel_tree(rootfs, label, err) < 0)
    return brick_error_prefix(err, "config.json: root.path");
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct brick_mount *m = &spec->mounts[i];
    if (!m->bind || !m->source || (m->flags & MS_RDONLY) ||
        (m->rec_attr_set & MOUNT_ATTR_RDONLY))
      continue;
    brick_err e = {0};
    if (brick_selinux_relabel_tree(m->source, label, &e) < 0) {
      brick_warn("config.json: mounts[%zu] (%s): %s; the container keeps the host label",
                 i, m->destination, brick_error_msg(&e));
      brick_error_clear(&e);
    }
  }
  return 0;
}

static int run_create(struct create_job *j, int console_fd, int lock_fd, brick_err *err) {
  const struct brick_create_opts *o = j->o;
  struct brick_spec *spec = j->spec;
  _cleanup_free_ char *bundle = NULL;
  if (o->bundle) {
    bundle = realpath(o->bundle, NULL);
    if (!bundle)
      return brick_errno(err, "--bundle %s", o->bundle);
  } else {
    bundle = getcwd(NULL, 0);
  }
  _cleanup_free_ char *rootfs_raw = abs_path(bundle, spec->root.path);
  _cleanup_free_ char *rootfs = realpath(rootfs_raw, NULL);
  struct stat st;
  if (!rootfs || stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
    return brick_error(err, 0, "config.json: root.path: %s is not a directory", rootfs_raw);
  if (!spec->process)
    return brick_error(err, 0, "config.json: process: required to create a container");
  if (spec->process->terminal && !o->console_socket && console_fd < 0)
    return brick_error(err, 0, "config.json: process.terminal is true but no --console-socket was given");
  if (spec->linux_.has_intel_rdt)
    brick_warn("config.json: linux.intelRdt is not supported and is ignored");
  /* Without a UTS namespace of its own the container would rename the host (runc
   * refuses this too). */
  if ((spec->hostname || spec->domainname) && !spec->linux_.namespaces[BRICK_NS_UTS].present)
    return brick_error(err, 0, "config.json: %s is set but linux.namespaces has no uts namespace",
                       spec->hostname ? "hostname" : "domainname");
  if (spec->process->apparmor_profile)
    brick_warn("AppArmor is not available on this host: process.apparmorProfile \"%s\" is ignored",
               spec->process->apparmor_profile);
  brick_warn_unraisable_ambient(&spec->process->caps);

  j->st.id = xstrdup(o->id);
  j->st.dir = brick_state_dir(o->state_root, o->id);
  j->st.bundle = xstrdup(bundle);
  j->st.rootfs = xstrdup(rootfs);
  j->st.created = now_rfc3339();
  struct passwd *pw = getpwuid(getuid());
  j->st.owner = xstrdup(pw ? pw->pw_name : "");
  j->st.systemd_cgroup = o->systemd_cgroup;
  const char *owned = brick_annotation(spec, BRICK_ANNOTATION_OWNED_BUNDLE);
  j->st.owned_bundle = owned && !strcmp(owned, "true");
  for (int k = 0; k < BRICK_HOOK_KIND_COUNT; k++)
    if (spec->hooks.n[k])
      j->st.hook_kinds |= 1u << k;
  if (spec->n_annotations) {
    j->st.annotations = json_object();
    for (size_t i = 0; i < spec->n_annotations; i++)
      json_object_set_new(j->st.annotations, spec->annotations[i].key,
                          json_string(spec->annotations[i].value));
  }

  if (brick_state_create_dir(o->state_root, o->id, err) < 0)
    return -1;
  j->made_dir = true;
  j->st.config_path = xasprintf("%s/config.json", j->st.dir);
  if (json_dump_file(spec->json, j->st.config_path, JSON_COMPACT) < 0)
    return brick_error(err, 0, "write %s", j->st.config_path);
  j->st.cgroup_path = brick_cgroup_resolve_path(spec->linux_.cgroups_path, o->id,
                                                o->systemd_cgroup, err);
  if (!j->st.cgroup_path)
    return -1;
  /* State exists from here on, so a delete after a crash finds what to clean. */
  if (brick_state_save(&j->st, err) < 0)
    return -1;

  if (plan_userns(j, err) < 0)
    return -1;
  if (prepare_overlay_dirs(j, err) < 0)
    return -1;
  if (spec->linux_.seccomp.present) {
    _cleanup_free_ char *cache = xasprintf("%s/.seccomp-cache", o->state_root);
    if (brick_seccomp_prepare(&spec->linux_.seccomp, cache, &j->seccomp, err) < 0)
      return brick_error_prefix(err, "config.json: linux.seccomp");
  }
  const char *mount_label = spec->linux_.mount_label;
  if (brick_selinux_enabled()) {
    _cleanup_free_ char *proc_label = NULL, *file_label = NULL;
    if (!spec->process->selinux_label) {
      char *level = NULL;
      if (brick_mcs_allocate(o->state_root, o->id, &level, err) < 0)
        return -1;
      j->st.mcs_level = level;
      if (brick_selinux_default_labels(level, &proc_label, &file_label, err) < 0)
        return -1;
      spec->process->selinux_label = TAKE_PTR(proc_label);
      if (!mount_label)
        spec->linux_.mount_label = TAKE_PTR(file_label);
      mount_label = spec->linux_.mount_label;
      if (label_container_files(spec, rootfs, mount_label, err) < 0)
        return -1;
    }
  } else if (spec->process->selinux_label) {
    brick_warn("SELinux is disabled on this host: process.selinuxLabel is ignored");
    free(spec->process->selinux_label);
    spec->process->selinux_label = NULL;
    mount_label = NULL;
  } else {
    mount_label = NULL;
  }

  _cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", j->st.dir);
  if (mkfifo(fifo, 0622) < 0)
    return brick_errno(err, "mkfifo %s", fifo);
  /* The init may run as an unmapped host id: it opens the fifo as "other". */
  if (chmod(fifo, 0622) < 0)
    return brick_errno(err, "chmod %s", fifo);
  _cleanup_close_ int fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
  if (fifo_fd < 0)
    return brick_errno(err, "open %s", fifo);

  struct brick_init_args a = {
      .spec = spec, .rootfs = rootfs, .fifo_fd = fifo_fd, .console_sock = console_fd,
      .seccomp = j->seccomp, .no_pivot = o->no_pivot, .no_new_keyring = o->no_new_keyring,
      .preserve_fds = o->preserve_fds, .cgroup_path = j->st.cgroup_path,
      .mount_label = mount_label, .id = o->id, .bundle = bundle, .lock_fd = lock_fd};
  if (open_ns_paths(spec, a.ns_fds, &a.unshare_flags, err) < 0)
    return -1;
  a.idmap = userns_is_new(spec);
  /* A rootfs already owned by the id that container root maps to was prepared for these
   * maps by the engine (podman --uidmap chowns its layers): use it as it is, as runc does. */
  uint32_t mapped_root = root_host_id(spec->linux_.uid_mappings, spec->linux_.n_uid_mappings);
  a.rootfs_preshifted = a.idmap && mapped_root != 0 && !brick_annotation(spec, BRICK_ANNOTATION_OVERLAY_LOWER) &&
                        st.st_uid == mapped_root;
  j->rootfs_preshifted = a.rootfs_preshifted;
  const char *ll = brick_annotation(spec, BRICK_ANNOTATION_LANDLOCK);
  a.landlock = ll && !strcmp(ll, "true") && !brick_selinux_enabled() && brick_landlock_abi() > 0;

  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return brick_errno(err, "socketpair");
  a.sync_sock = sp[1];
  j->sock = sp[0];
  j->stage1 = fork();
  if (j->stage1 < 0)
    return brick_errno(err, "fork");
  if (j->stage1 == 0) {
    close(sp[0]);
    brick_init_stage1(&a);
  }
  close(sp[1]);
  for (int t = 0; t < BRICK_NS_COUNT; t++)
    if (a.ns_fds[t] >= 0)
      close(a.ns_fds[t]);

  struct brick_resources res = spec->linux_.resources;
  _cleanup_free_ struct brick_device_rule *rules = device_rules(spec, &res.n_devices);
  res.devices = rules;
  /* enter undoes its own directories when it fails; what remains ours to remove is the
   * cgroup once it succeeded, or a systemd unit it made before failing (undo_create
   * stops it after killing stage1). A cgroup or unit that already existed may belong to
   * someone else and is never removed here. */
  struct brick_cgroup_systemd sd = {.annotations = spec->annotations,
                                    .n_annotations = spec->n_annotations};
  bool unit_left = false;
  if (brick_cgroup_enter(j->st.cgroup_path, j->st.systemd_cgroup ? &sd : NULL, &res, j->stage1,
                         &unit_left, err) < 0) {
    j->made_cgroup = unit_left;
    return -1;
  }
  j->made_cgroup = true;
  if (brick_sync_send(j->sock, SYNC_CONTINUE, 0, -1, err) < 0)
    return -1;
  if (a.unshare_flags & CLONE_NEWUSER) {
    if (brick_sync_expect(j->sock, SYNC_UNSHARED, NULL, NULL, err) < 0)
      return -1;
    const struct brick_linux *l = &spec->linux_;
    if (brick_userns_write_maps(j->stage1, l->uid_mappings, l->n_uid_mappings, l->gid_mappings,
                                l->n_gid_mappings, err) < 0)
      return -1;
    if (brick_sync_send(j->sock, SYNC_MAPPED, 0, -1, err) < 0)
      return -1;
  }
  int32_t init_pid = 0;
  if (brick_sync_expect(j->sock, SYNC_INIT_PID, &init_pid, NULL, err) < 0)
    return -1;
  j->init = init_pid;
  int status;
  waitpid(j->stage1, &status, 0);
  j->stage1 = 0;
  if (serve_init(j, rootfs, err) < 0)
    return -1;

  j->st.pid = j->init;
  j->st.pid_start = brick_proc_start_time(j->init);
  if (brick_state_save(&j->st, err) < 0)
    return -1;
  if (o->pid_file && write_pid_file(o->pid_file, j->init, err) < 0)
    return brick_error_prefix(err, "--pid-file");
  return 0;
}

int brick_container_create_ex(const struct brick_create_opts *o, int console_fd, pid_t *init_pid,
                              brick_err *err) {
  if (brick_state_check_id(o->id, err) < 0)
    return -1;
  _cleanup_free_ char *cfg = o->config_path ? xstrdup(o->config_path)
                                            : xasprintf("%s/config.json", o->bundle ? o->bundle : ".");
  struct create_job j = {.o = o, .sock = -1};
  j.spec = brick_spec_load(cfg, err);
  if (!j.spec)
    return -1;
  if (brick_floor_check(j.spec, NULL, err) < 0) {
    brick_spec_free(j.spec);
    return -1;
  }
  _cleanup_close_ int lock = brick_state_lock(o->state_root, o->id, err);
  if (lock < 0) {
    brick_spec_free(j.spec);
    return -1;
  }
  _cleanup_close_ int cfd = console_fd;
  if (cfd < 0 && o->console_socket) {
    cfd = connect_console(o->console_socket, err);
    if (cfd < 0) {
      brick_spec_free(j.spec);
      return -1;
    }
  }
  int r = run_create(&j, cfd, lock, err);
  if (r < 0) {
    /* "container already exists" must not delete the other container's state. */
    if (!j.made_dir)
      j.st.dir = (free(j.st.dir), NULL);
    undo_create(&j);
    /* The lock file is ours unless another container of this id exists. */
    _cleanup_free_ char *dir = brick_state_dir(o->state_root, o->id);
    if (access(dir, F_OK) < 0 && errno == ENOENT)
      brick_state_lock_remove(o->state_root, o->id);
  } else if (init_pid) {
    *init_pid = j.init;
  }
  if (j.sock >= 0)
    close(j.sock);
  /* The auto maps point into j; detach them before the spec is freed. */
  if (j.made_userns) {
    j.spec->linux_.uid_mappings = NULL;
    j.spec->linux_.gid_mappings = NULL;
    j.spec->linux_.n_uid_mappings = j.spec->linux_.n_gid_mappings = 0;
  }
  if (j.seccomp)
    brick_seccomp_prog_free(j.seccomp);
  brick_state_clear(&j.st);
  brick_spec_free(j.spec);
  return r;
}

int brick_container_create(const struct brick_create_opts *o, brick_err *err) {
  return brick_container_create_ex(o, -1, NULL, err);
}

/* Open exec.fifo without blocking on a dead init, wait for its byte, then remove it. */
static int release_init(struct brick_state *st, brick_err *err) {
  _cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", st->dir);
  _cleanup_close_ int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return brick_errno(err, "open %s", fifo);
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, 100);
    if (r > 0) {
      char c;
      ssize_t n = read(fd, &c, 1);
      if (n == 1)
        break;
      if (n < 0 && errno != EAGAIN)
        return brick_errno(err, "read %s", fifo);
    }
    if (!brick_proc_alive(st->pid, st->pid_start))
      return brick_error(err, 0, "container \"%s\" init exited before start", st->id);
  }
  /* The init keeps its end open until its execve (or death): EOF means the
   * startContainer hooks ran and the process is the container's. */
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      return brick_errno(err, "poll %s", fifo);
    }
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      break;
  }
  unlink(fifo);
  return 0;
}

static struct brick_spec *load_state_spec(const struct brick_state *st, brick_err *err) {
  return brick_spec_load(st->config_path, err);
}

int brick_container_start(const char *state_root, const char *id, brick_err *err) {
  if (brick_state_check_id(id, err) < 0)
    return -1;
  _cleanup_close_ int lock = brick_state_lock(state_root, id, err);
  if (lock < 0)
    return -1;
  struct brick_state st;
  if (brick_state_load(state_root, id, &st, err) < 0)
    return -1;
  int ret = -1;
  enum brick_status s = brick_state_status(&st);
  if (s != BRICK_CREATED) {
    brick_error(err, 0, "cannot start a container that is %s", brick_status_name(s));
    goto out;
  }
  if (release_init(&st, err) < 0)
    goto out;
  st.started = true;
  if (brick_state_save(&st, err) < 0)
    goto out;
  ret = 0;
  struct brick_spec *spec = NULL;
  if (st.config_path && (st.hook_kinds & (1u << BRICK_HOOK_POSTSTART))) {
    brick_err e2 = {0};
    spec = load_state_spec(&st, &e2);
    if (spec && spec->hooks.n[BRICK_HOOK_POSTSTART]) {
      _cleanup_json_ json_t *state = brick_state_to_oci(&st, BRICK_RUNNING);
      if (brick_hooks_run(&spec->hooks, BRICK_HOOK_POSTSTART, state, &e2) < 0)
        brick_warn("%s", brick_error_msg(&e2));
    }
    brick_error_clear(&e2);
    brick_spec_free(spec);
  }
out:
  brick_state_clear(&st);
  return ret;
}

static void wait_gone(pid_t pid, uint64_t start, int ms) {
  for (int i = 0; i < ms / 5 && brick_proc_alive(pid, start); i++)
    usleep(5000);
}

int brick_container_delete(const char *state_root, const char *id, bool force, brick_err *err) {
  if (brick_state_check_id(id, err) < 0)
    return -1;
  _cleanup_close_ int lock = brick_state_lock(state_root, id, err);
  if (lock < 0)
    return -1;
  struct brick_state st;
  _cleanup_free_ char *dir = brick_state_dir(state_root, id);
  if (brick_state_load(state_root, id, &st, err) < 0) {
    /* A create killed before it wrote any state leaves a bare directory: --force
     * removes it; without it, say what is there. */
    if (force && access(dir, F_OK) == 0) {
      brick_error_clear(err);
      brick_userns_release(state_root, id, NULL);
      if (brick_rm_rf(dir, err) < 0)
        return -1;
      brick_state_lock_remove(state_root, id);
      return 0;
    }
    if (access(dir, F_OK) < 0 && errno == ENOENT)
      brick_state_lock_remove(state_root, id); /* ours: taken just now for nothing */
    return -1;
  }
  int ret = -1;
  enum brick_status s = brick_state_status(&st);
  if (s != BRICK_STOPPED) {
    if (!force && s != BRICK_CREATED) {
      brick_error(err, 0, "cannot delete container %s that is not stopped: %s", id,
                  brick_status_name(s));
      goto out;
    }
    /* A created container is deleted without --force, as runc does: nothing ran yet. */
    if (st.cgroup_path)
      brick_cgroup_kill_all(st.cgroup_path, SIGKILL, NULL);
    if (st.pid > 0 && brick_proc_alive(st.pid, st.pid_start))
      kill(st.pid, SIGKILL);
    wait_gone(st.pid, st.pid_start, 2000);
  }
  brick_err e2 = {0};
  struct brick_spec *spec = st.config_path && (st.hook_kinds & (1u << BRICK_HOOK_POSTSTOP))
                                ? load_state_spec(&st, &e2)
                                : NULL;
  if (spec && spec->hooks.n[BRICK_HOOK_POSTSTOP]) {
    _cleanup_json_ json_t *state = brick_state_to_oci(&st, BRICK_STOPPED);
    if (brick_hooks_run(&spec->hooks, BRICK_HOOK_POSTSTOP, state, &e2) < 0)
      brick_warn("%s", brick_error_msg(&e2));
  }
  brick_spec_free(spec);
  brick_error_clear(&e2);
  if (st.cgroup_path && brick_cgroup_destroy(st.cgroup_path, st.systemd_cgroup, err) < 0)
    goto out;
  /* Even without a recorded base: a create killed between allocating the range and
   * saving the state leaves the range in the pool under this id. */
  brick_userns_release(state_root, id, NULL);
  if (st.mcs_level)
    brick_mcs_release(state_root, id, NULL);
  if (st.owned_bundle && st.bundle) {
    /* `brick run IMAGE` made this bundle (overlay rootfs included): it goes too. */
    if (st.rootfs)
      umount2(st.rootfs, MNT_DETACH);
    brick_rm_rf(st.bundle, NULL);
  }
  ret = brick_rm_rf(dir, err);
  if (ret == 0)
    brick_state_lock_remove(state_root, id);
out:
  brick_state_clear(&st);
  return ret;
}

int brick_container_kill(const char *state_root, const char *id, int sig, bool all,
                         brick_err *err) {
  struct brick_state st;
  if (brick_state_load(state_root, id, &st, err) < 0)
    return -1;
  int ret = 0;
  enum brick_status s = brick_state_status(&st);
  if (s == BRICK_STOPPED && !(all && st.cgroup_path)) {
    ret = brick_error(err, 0, "container not running");
  } else if (all && st.cgroup_path) {
    /* Also after the init exited: without a pid namespace of its own its children live
     * on in the cgroup, and containerd's shim reaps them with kill --all (as runc). */
    ret = brick_cgroup_kill_all(st.cgroup_path, sig, err);
  } else {
    /* pidfd: the signal reaches the process we recorded even if the pid was reused. */
    int pidfd = (int)syscall(SYS_pidfd_open, st.pid, 0);
    if (pidfd >= 0 && brick_proc_start_time(st.pid) == st.pid_start) {
      if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        ret = brick_errno(err, "kill container %s", id);
    } else {
      ret = brick_error(err, 0, "container not running");
    }
    if (pidfd >= 0)
      close(pidfd);
  }
  brick_state_clear(&st);
  return ret;
}

int brick_container_state(const char *state_root, const char *id, json_t **out, brick_err *err) {
  struct brick_state st;
  if (brick_state_load(state_root, id, &st, err) < 0)
    return -1;
  *out = brick_state_to_oci(&st, brick_state_status(&st));
  brick_state_clear(&st);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int brick_container_list(const char *state_root, char ***ids, brick_err *err) {
  *ids = xcalloc(1, sizeof **ids);
  DIR *d = opendir(state_root);
  if (!d)
    return errno == ENOENT ? 0 : brick_errno(err, "open %s", state_root);
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *p = xasprintf("%s/%s/state.json", state_root, de->d_name);
    if (access(p, F_OK) == 0)
      brick_strv_push(ids, de->d_name);
  }
  closedir(d);
  qsort(*ids, brick_strv_len(*ids), sizeof **ids, cmp_str);
  return 0;
}

