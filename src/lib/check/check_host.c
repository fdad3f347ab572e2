/* `brick check host`: which of brick's separation layers this host can give a
 * container, and what weakens them. Every file is read under a configurable root so
 * tests can describe a host as a directory tree; the few facts only a syscall can
 * tell (Landlock ABI, idmapped mounts, SELinux policy queries, own seccomp mode) go
 * through a replaceable probe table. */
#include "check/check.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <selinux/selinux.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "core/sys.h"
#include "core/util.h"

#define OK BRICK_CHECK_OK
#define INFO BRICK_CHECK_INFO
#define WARN BRICK_CHECK_WARN
#define HIGH BRICK_CHECK_HIGH
#define CRIT BRICK_CHECK_CRITICAL

#define CONTAINER_CONTEXT "system_u:system_r:container_t:s0"
#define IDS_PER_CONTAINER 65536UL

/* ---------------------------------------------------------------- kernel probes */

static int kernel_landlock_abi(void) {
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi >= 0)
    return (int)abi;
  if (errno == ENOSYS || errno == EOPNOTSUPP)
    return 0;
  return -1;
}

static int kernel_seccomp_mode(void) {
  return prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
}

static int kernel_selinux_context_valid(const char *ctx) {
  if (is_selinux_enabled() <= 0) {
    errno = ENOTSUP;
    return -1;
  }
  if (security_check_context(ctx) == 0)
    return 1;
  return errno == EINVAL ? 0 : -1;
}

/* A child in a new user namespace with a fixed mapping, to lend its namespace to
 * MOUNT_ATTR_IDMAP. It waits on a pipe and exits when the pipe closes. */
static pid_t spawn_userns_holder(int *keepalive_fd) {
  int ready[2], hold[2];
  if (pipe2(ready, O_CLOEXEC) < 0)
    return -1;
  if (pipe2(hold, O_CLOEXEC) < 0) {
    close(ready[0]);
    close(ready[1]);
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    int saved = errno;
    close(ready[0]); close(ready[1]); close(hold[0]); close(hold[1]);
    errno = saved;
    return -1;
  }
  if (pid == 0) {
    close(ready[0]);
    close(hold[1]);
    char ok = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    if (write(ready[1], &ok, 1) != 1)
      _exit(1);
    char c;
    while (read(hold[0], &c, 1) > 0)
      ;
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  char ok = 'n';
  ssize_t n = read(ready[0], &ok, 1);
  close(ready[0]);
  if (n != 1 || ok != 'y') {
    close(hold[1]);
    waitpid(pid, NULL, 0);
    errno = EPERM;
    return -1;
  }
  *keepalive_fd = hold[1];
  return pid;
}

static void reap_holder(pid_t pid, int keepalive_fd) {
  close(keepalive_fd);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static int idmap_with_userns(const char *dir, pid_t holder) {
  _cleanup_free_ char *uid_map = xasprintf("/proc/%d/uid_map", (int)holder);
  _cleanup_free_ char *gid_map = xasprintf("/proc/%d/gid_map", (int)holder);
  _cleanup_free_ char *ns_path = xasprintf("/proc/%d/ns/user", (int)holder);
  if (brick_write_string(uid_map, "0 1000000 65536", NULL) < 0 ||
      brick_write_string(gid_map, "0 1000000 65536", NULL) < 0)
    return -1;
  _cleanup_close_ int userns = open(ns_path, O_RDONLY | O_CLOEXEC);
  if (userns < 0)
    return -1;
  _cleanup_close_ int tree =
      brick_sys->open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0)
    return -1;
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (__u64)userns};
  if (brick_sys->mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0)
    return 1;
  if (errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)
    return 0;
  return -1;
}

/* The real probe: an idmapped mount of a detached clone of dir. open_tree(CLONE)
 * gives a mount that is attached to no namespace, so the probe changes nothing the
 * host or any container can see; closing the fd discards it. */
static int kernel_idmap_mount(const char *dir) {
  if (geteuid() != 0) {
    errno = EPERM;
    return -1;
  }
  int keep = -1;
  pid_t pid = spawn_userns_holder(&keep);
  if (pid < 0)
    return -1;
  int result = idmap_with_userns(dir, pid);
  int saved = errno;
  reap_holder(pid, keep);
  errno = saved;
  return result;
}

const struct brick_host_probes brick_host_probes_kernel = {
    .landlock_abi = kernel_landlock_abi,
    .idmap_mount = kernel_idmap_mount,
    .selinux_context_valid = kernel_selinux_context_valid,
    .seccomp_mode = kernel_seccomp_mode,
};

/* ---------------------------------------------------------------- file helpers */

struct host {
  const char *root;
  bool real_root;
  const struct brick_host_probes *probes;
  bool custom_probes;
  struct brick_check_report *r;
};

static char *host_path(const struct host *h, const char *p) {
  return h->real_root ? xstrdup(p) : xasprintf("%s%s", h->root, p);
}

/* Whole file, trailing whitespace removed; NULL when it cannot be read. */
static char *host_read(const struct host *h, const char *p) {
  _cleanup_free_ char *path = host_path(h, p);
  char *buf = NULL;
  size_t len = 0;
  if (brick_read_file(path, &buf, &len, NULL) < 0)
    return NULL;
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
    buf[--len] = 0;
  return buf;
}

static bool host_exists(const struct host *h, const char *p) {
  _cleanup_free_ char *path = host_path(h, p);
  struct stat st;
  return lstat(path, &st) == 0;
}

static bool word_in_list(const char *list, const char *word, const char *seps) {
  if (!list)
    return false;
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *t = strtok_r(copy, seps, &save); t; t = strtok_r(NULL, seps, &save))
    if (!strcmp(t, word))
      return true;
  return false;
}

static void fact_bool(struct host *h, const char *key, bool v) {
  json_object_set_new(h->r->facts, key, json_boolean(v));
}

/* ---------------------------------------------------------------- SELinux, AppArmor, Landlock */

struct mac_state {
  bool selinux_enforcing, selinux_policy, apparmor;
  int landlock_abi;
};

static void check_selinux(struct host *h, struct mac_state *mac) {
  _cleanup_free_ char *enforce = host_read(h, "/sys/fs/selinux/enforce");
  bool enabled = enforce != NULL;
  int enforcing = enforce ? atoi(enforce) : 0;
  if (h->real_root && !enabled && is_selinux_enabled() > 0) {
    enabled = true;
    enforcing = security_getenforce() == 1;
  }
  _cleanup_free_ char *config = host_read(h, "/etc/selinux/config");
  _cleanup_free_ char *configured = NULL, *policy_type = NULL;
  for (char *line = config, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = 0;
    if (brick_str_has_prefix(line, "SELINUX="))
      configured = xstrdup(line + 8);
    else if (brick_str_has_prefix(line, "SELINUXTYPE="))
      policy_type = xstrdup(line + 12);
  }
  json_t *fact = json_pack("{s:b,s:b}", "enabled", enabled, "enforcing", enabled && enforcing);
  if (configured)
    json_object_set_new(fact, "configured", json_string(configured));

  if (!enabled) {
    _cleanup_free_ char *said = configured && strcmp(configured, "enforcing")
                                    ? xasprintf(" (it says %s)", configured)
                                    : xstrdup("");
    _cleanup_free_ char *fix = xasprintf(
        "Enable SELinux: boot with security=selinux (or add selinux to lsm=), set "
        "SELINUX=enforcing in /etc/selinux/config%s, relabel, and install container-selinux "
        "for the container_t policy. Stop disabling SELinux: fix denials with the right "
        "labels (volume :Z) instead.",
        said);
    brick_check_report_add(h->r, HIGH, "selinux.disabled", "/sys/fs/selinux",
                     "SELinux is a labeling system: when it enforces, a process that escapes "
                     "its namespaces still carries container_t and its MCS categories and "
                     "cannot open the host's or another container's files. Without it, "
                     "containers do not contain. Stop disabling SELinux.",
                     fix, "SELinux is not enabled");
  } else if (!enforcing) {
    brick_check_report_add(h->r, HIGH, "selinux.permissive", "/sys/fs/selinux/enforce",
                     "Permissive mode logs every denial and then allows it: the policy is "
                     "loaded and the labels are there, but nothing is stopped. setenforce 0 "
                     "turns the container's walls into a park. Stop disabling SELinux.",
                     "Run setenforce 1 and set SELINUX=enforcing in /etc/selinux/config; "
                     "read the denials (ausearch -m avc) and fix labels instead.",
                     "SELinux is permissive (setenforce 0)");
  } else {
    brick_check_report_add(h->r, OK, "selinux.enforcing", "/sys/fs/selinux/enforce", NULL, NULL,
                     "SELinux is enforcing");
  }

  if (enabled) {
    int valid = -1;
    if (h->real_root || h->custom_probes)
      valid = h->probes->selinux_context_valid(CONTAINER_CONTEXT);
    if (valid < 0) {
      /* container-selinux installs lxc_contexts naming the container types. */
      _cleanup_free_ char *p = xasprintf("/etc/selinux/%s/contexts/lxc_contexts",
                                         policy_type ? policy_type : "targeted");
      _cleanup_free_ char *lxc = host_read(h, p);
      valid = lxc && strstr(lxc, "container_t") ? 1 : 0;
    }
    json_object_set_new(fact, "container_policy", json_boolean(valid == 1));
    if (valid == 1) {
      brick_check_report_add(h->r, OK, "selinux.container-policy", NULL, NULL, NULL,
                       "SELinux policy has the container_t type");
      mac->selinux_policy = true;
    } else {
      brick_check_report_add(h->r, WARN, "selinux.no-container-policy", NULL,
                       "Without container_t the containers run with whatever label they "
                       "inherit, usually unconfined: the labels do not separate anything.",
                       "Install the container-selinux policy package.",
                       "SELinux policy has no container_t type");
    }
  }
  mac->selinux_enforcing = enabled && enforcing;
  json_object_set_new(h->r->facts, "selinux", fact);
}

static void check_apparmor(struct host *h, struct mac_state *mac) {
  _cleanup_free_ char *param = host_read(h, "/sys/module/apparmor/parameters/enabled");
  bool on = (param && param[0] == 'Y') || host_exists(h, "/sys/kernel/security/apparmor");
  mac->apparmor = on;
  fact_bool(h, "apparmor", on);
  if (on)
    brick_check_report_add(h->r, OK, "apparmor.enabled", "/sys/module/apparmor/parameters/enabled",
                     NULL, NULL, "AppArmor is enabled");
  else
    brick_check_report_add(h->r, INFO, "apparmor.absent", "/sys/module/apparmor/parameters/enabled",
                     "AppArmor is not active; on this host SELinux or Landlock must provide "
                     "mandatory access control.",
                     NULL, "AppArmor is not active");
}

static const char *const landlock_abi_adds[] = {
    NULL, "filesystem access", "file renaming across directories (refer)", "truncate",
    "TCP bind/connect rules", "device ioctl", "signal and abstract unix socket scoping",
    "audit logging of denials"};

static void check_landlock(struct host *h, struct mac_state *mac) {
  int abi = h->probes->landlock_abi();
  int probe_errno = errno;
  _cleanup_free_ char *lsm = host_read(h, "/sys/kernel/security/lsm");
  if (lsm)
    json_object_set_new(h->r->facts, "lsm", json_string(lsm));
  json_object_set_new(h->r->facts, "landlock_abi", json_integer(abi < 0 ? 0 : abi));
  mac->landlock_abi = abi < 0 ? 0 : abi;
  if (abi >= 1) {
    brick_check_report_add(h->r, OK, "landlock.abi", "landlock_create_ruleset", NULL, NULL,
                     "Landlock ABI %d", abi);
    if (abi < 6) {
      int missing = abi + 1;
      brick_check_report_add(h->r, INFO, "landlock.old-abi", "landlock_create_ruleset",
                       "brick uses every Landlock feature the kernel offers; older ABIs "
                       "leave parts of the container's access unrestricted.",
                       "Use a newer kernel (Landlock ABI 6 arrived in Linux 6.12).",
                       "Landlock ABI %d lacks %s", abi,
                       missing < (int)ARRAY_SIZE(landlock_abi_adds) ? landlock_abi_adds[missing]
                                                                    : "newer features");
    }
    return;
  }
  _cleanup_free_ char *why = xasprintf(
      "Landlock lets brick confine a container's file access without a system policy; "
      "it is the fallback MAC layer when SELinux is off.%s%s",
      abi < 0 ? " Probe error: " : "", abi < 0 ? strerror(probe_errno) : "");
  brick_check_report_add(h->r, WARN, "landlock.unavailable", lsm ? "/sys/kernel/security/lsm" : "landlock_create_ruleset",
                   why,
                   "Boot a kernel with CONFIG_SECURITY_LANDLOCK and landlock in lsm= "
                   "(e.g. lsm=landlock,lockdown,yama,selinux).",
                   "Landlock is not available");
}

/* ---------------------------------------------------------------- seccomp, user namespaces */

static bool check_seccomp(struct host *h) {
  _cleanup_free_ char *status = host_read(h, "/proc/self/status");
  const char *line = status ? strstr(status, "\nSeccomp:") : NULL;
  int mode = line ? atoi(line + strlen("\nSeccomp:")) : -1;
  if (h->real_root || h->custom_probes) {
    int m = h->probes->seccomp_mode();
    if (m >= 0)
      mode = m;
  }
  _cleanup_free_ char *actions = host_read(h, "/proc/sys/kernel/seccomp/actions_avail");
  json_object_set_new(h->r->facts, "seccomp_actions", actions ? json_string(actions) : json_null());
  if (mode < 0 && !actions) {
    brick_check_report_add(h->r, CRIT, "seccomp.unsupported", "/proc/self/status",
                     "Without seccomp every syscall of the kernel is reachable from every "
                     "container; most container escapes go through a syscall a container "
                     "never needs.",
                     "Use a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER.",
                     "the kernel has no seccomp");
    return false;
  }
  bool filter = actions && word_in_list(actions, "errno", " ") &&
                word_in_list(actions, "kill_process", " ");
  if (!filter) {
    brick_check_report_add(h->r, HIGH, "seccomp.no-filter", "/proc/sys/kernel/seccomp/actions_avail",
                     "brick's profiles need filter mode with the errno and kill_process "
                     "actions; strict mode alone cannot run a container.",
                     "Use a kernel with CONFIG_SECCOMP_FILTER (Linux 4.14 or newer).",
                     "seccomp filter actions missing (have: %s)", actions ? actions : "none");
    return false;
  }
  brick_check_report_add(h->r, OK, "seccomp.filter", "/proc/sys/kernel/seccomp/actions_avail", NULL,
                   NULL, "seccomp filters supported (%s)", actions);
  if (!word_in_list(actions, "user_notif", " "))
    brick_check_report_add(h->r, INFO, "seccomp.no-user-notif", "/proc/sys/kernel/seccomp/actions_avail",
                     "Without user notification, syscalls cannot be handed to a supervisor.",
                     NULL, "seccomp user notification unavailable");
  if (mode == 2)
    brick_check_report_add(h->r, INFO, "seccomp.nested", "/proc/self/status",
                     "brick itself runs under a seccomp filter (inside a container?); every "
                     "container inherits that filter on top of its own.",
                     NULL, "brick runs under a seccomp filter already");
  return true;
}

static bool check_userns(struct host *h) {
  _cleanup_free_ char *max = host_read(h, "/proc/sys/user/max_user_namespaces");
  long n = max ? strtol(max, NULL, 10) : -1;
  json_object_set_new(h->r->facts, "max_user_namespaces", json_integer(n));
  bool ok = n > 0 && host_exists(h, "/proc/self/ns/user");
  if (n == 0)
    brick_check_report_add(h->r, HIGH, "userns.disabled", "/proc/sys/user/max_user_namespaces",
                     "With user namespaces off, root in a container is root on the host: "
                     "any escape lands as uid 0. Containers do not contain.",
                     "sysctl user.max_user_namespaces=15000 (and keep it in /etc/sysctl.d).",
                     "user namespaces are disabled");
  else if (!ok)
    brick_check_report_add(h->r, HIGH, "userns.unavailable", "/proc/self/ns/user",
                     "The kernel has no user namespaces; container root is host root.",
                     "Use a kernel with CONFIG_USER_NS.", "user namespaces are not available");
  else
    brick_check_report_add(h->r, OK, "userns.available", "/proc/sys/user/max_user_namespaces", NULL,
                     NULL, "user namespaces available (max %ld)", n);

  _cleanup_free_ char *unpriv = host_read(h, "/proc/sys/kernel/unprivileged_userns_clone");
  if (unpriv && !strcmp(unpriv, "0"))
    brick_check_report_add(h->r, INFO, "userns.unprivileged-off",
                     "/proc/sys/kernel/unprivileged_userns_clone",
                     "Unprivileged users cannot create user namespaces: less kernel attack "
                     "surface, but rootless brick and podman do not work.",
                     NULL, "unprivileged user namespaces are off");
  _cleanup_free_ char *aa = host_read(h, "/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  if (aa && !strcmp(aa, "1"))
    brick_check_report_add(h->r, INFO, "userns.apparmor-restricted",
                     "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
                     "AppArmor restricts unprivileged user namespaces to profiled programs; "
                     "rootless brick needs a profile that allows userns.",
                     NULL, "AppArmor restricts unprivileged user namespaces");
  return ok;
}

static bool check_namespaces(struct host *h) {
  static const char *const kinds[] = {"mnt", "pid", "net", "ipc", "uts", "cgroup"};
  _cleanup_free_ char *missing = NULL;
  for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
    _cleanup_free_ char *p = xasprintf("/proc/self/ns/%s", kinds[i]);
    if (host_exists(h, p))
      continue;
    char *m = missing ? xasprintf("%s %s", missing, kinds[i]) : xstrdup(kinds[i]);
    free(missing);
    missing = m;
  }
  if (missing) {
    brick_check_report_add(h->r, CRIT, "namespaces.missing", "/proc/self/ns",
                     "Namespaces are what makes a process a container; each missing kind is "
                     "shared with the host.",
                     "Use a kernel with CONFIG_NAMESPACES and all namespace options.",
                     "namespaces missing: %s", missing);
    return false;
  }
  brick_check_report_add(h->r, OK, "namespaces.all", "/proc/self/ns", NULL, NULL,
                   "mount, pid, net, ipc, uts and cgroup namespaces available");
  return true;
}

/* ---------------------------------------------------------------- cgroups */

static bool strv_contains(char **v, const char *s) {
  for (; v && *v; v++)
    if (!strcmp(*v, s))
      return true;
  return false;
}

static const char *const v1_controllers[] = {"cpu", "cpuacct", "cpuset", "memory", "devices",
                                             "freezer", "net_cls", "blkio", "perf_event",
                                             "net_prio", "hugetlb", "pids", "rdma", "misc"};

static bool check_cgroups(struct host *h) {
  _cleanup_free_ char *mountinfo = host_read(h, "/proc/self/mountinfo");
  if (!mountinfo) {
    brick_check_report_add(h->r, WARN, "cgroup.unknown", "/proc/self/mountinfo",
                     "Without cgroups brick cannot limit memory, CPU and processes.",
                     "Mount /proc.", "cannot read the mount table");
    return false;
  }
  _cleanup_free_ char *v2_mount = NULL;
  _cleanup_strv_ char **v1 = NULL;
  for (char *line = mountinfo, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = 0;
    /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
    char *sep = strstr(line, " - ");
    if (!sep)
      continue;
    *sep = 0;
    char *save = NULL, *mountpoint = NULL;
    char *tok = strtok_r(line, " ", &save);
    for (int field = 0; tok && field < 4; field++)
      tok = strtok_r(NULL, " ", &save);
    mountpoint = tok;
    char *save2 = NULL;
    char *fstype = strtok_r(sep + 3, " ", &save2);
    strtok_r(NULL, " ", &save2); /* source */
    char *superopts = strtok_r(NULL, " ", &save2);
    if (!fstype || !mountpoint)
      continue;
    if (!strcmp(fstype, "cgroup2")) {
      if (!v2_mount || !strcmp(mountpoint, "/sys/fs/cgroup")) {
        free(v2_mount);
        v2_mount = xstrdup(mountpoint);
      }
    } else if (!strcmp(fstype, "cgroup") && superopts) {
      for (size_t i = 0; i < ARRAY_SIZE(v1_controllers); i++)
        if (word_in_list(superopts, v1_controllers[i], ",") && !strv_contains(v1, v1_controllers[i]))
          brick_strv_push(&v1, v1_controllers[i]);
    }
  }
  _cleanup_free_ char *v2_controllers = NULL;
  if (v2_mount) {
    _cleanup_free_ char *p = xasprintf("%s/cgroup.controllers", v2_mount);
    v2_controllers = host_read(h, p);
  }
  const char *mode = v1 ? (v2_mount ? "hybrid" : "v1") : (v2_mount ? "v2" : "none");
  json_t *fact = json_pack("{s:s}", "mode", mode);
  if (v2_mount)
    json_object_set_new(fact, "v2_mount", json_string(v2_mount));
  if (v2_controllers)
    json_object_set_new(fact, "v2_controllers", json_string(v2_controllers));
  json_t *jv1 = json_array();
  for (char **c = v1; c && *c; c++)
    json_array_append_new(jv1, json_string(*c));
  json_object_set_new(fact, "v1_controllers", jv1);
  json_object_set_new(h->r->facts, "cgroup", fact);

  _cleanup_free_ char *v1_list = NULL;
  for (char **c = v1; c && *c; c++) {
    char *l = v1_list ? xasprintf("%s,%s", v1_list, *c) : xstrdup(*c);
    free(v1_list);
    v1_list = l;
  }
  /* systemd owns the tree where it runs: a runtime writing cgroupfs behind its back gets
   * its limits reset (daemon-reload) and its cgroups unknown to systemd. */
  bool systemd = host_exists(h, "/run/systemd/system");
  json_object_set_new(fact, "systemd", json_boolean(systemd));
  if (systemd && strcmp(mode, "none"))
    brick_check_report_add(h->r, INFO, "cgroup.systemd-driver", "/run/systemd/system",
                     "systemd manages this host's cgroups. Containers placed with the "
                     "cgroupfs driver sit beside its units, unknown to it, and a "
                     "daemon-reload can reset limits it did not set; with the systemd "
                     "driver each container is a transient scope whose limits systemd keeps.",
                     "Use the systemd cgroup driver everywhere: brick --systemd-cgroup, "
                     "podman's cgroup_manager = \"systemd\", containerd's SystemdCgroup = "
                     "true, kubelet's cgroupDriver: systemd.",
                     "systemd runs: prefer the systemd cgroup driver");
  bool has_memory, has_pids;
  if (!strcmp(mode, "none")) {
    brick_check_report_add(h->r, HIGH, "cgroup.none", "/proc/self/mountinfo",
                     "Without cgroups a container has no memory, CPU or process limits: one "
                     "container can take the host down.",
                     "Mount cgroup2 at /sys/fs/cgroup (systemd does this by default).",
                     "no cgroup filesystem mounted");
    return false;
  } else if (!strcmp(mode, "v2")) {
    brick_check_report_add(h->r, OK, "cgroup.v2", v2_mount, NULL, NULL,
                     "cgroup v2 (unified) at %s, controllers: %s", v2_mount,
                     v2_controllers && *v2_controllers ? v2_controllers : "none");
    has_memory = word_in_list(v2_controllers, "memory", " ");
    has_pids = word_in_list(v2_controllers, "pids", " ");
  } else {
    bool hybrid = !strcmp(mode, "hybrid");
    brick_check_report_add(h->r, WARN, hybrid ? "cgroup.hybrid" : "cgroup.v1", "/proc/self/mountinfo",
                     "cgroup v1 cannot be delegated safely to containers or rootless "
                     "engines, does not account all kernel memory, and lacks pressure "
                     "information; brick drives the v1 controllers as a fallback.",
                     "Boot with systemd.unified_cgroup_hierarchy=1 (or cgroup_no_v1=all) to "
                     "get the unified cgroup v2 hierarchy.",
                     hybrid ? "cgroups are hybrid: v1 controllers (%s) with cgroup2 at %s"
                            : "cgroups are v1 only: controllers %s%s",
                     v1_list, hybrid ? v2_mount : "");
    has_memory = word_in_list(v1_list, "memory", ",") || word_in_list(v2_controllers, "memory", " ");
    has_pids = word_in_list(v1_list, "pids", ",") || word_in_list(v2_controllers, "pids", " ");
  }
  if (!has_memory || !has_pids) {
    brick_check_report_add(h->r, WARN, "cgroup.controllers-missing", "/proc/self/mountinfo",
                     "Without the memory and pids controllers brick cannot stop a container "
                     "from exhausting host memory or the process table.",
                     "Enable the memory and pids controllers (cgroup_enable=memory; for v2 "
                     "write +memory +pids to cgroup.subtree_control).",
                     "cgroup controllers missing:%s%s", has_memory ? "" : " memory",
                     has_pids ? "" : " pids");
    return false;
  }
  return true;
}

/* ---------------------------------------------------------------- idmapped mounts */

static const char *fs_name(long type) {
  switch ((unsigned long)type) {
  case 0xEF53: return "ext4";
  case 0x58465342: return "xfs";
  case 0x9123683E: return "btrfs";
  case 0x01021994: return "tmpfs";
  case 0x794c7630: return "overlayfs";
  case 0x2fc12fc1: return "zfs";
  case 0x6969: return "nfs";
  case 0x65735546: return "fuse";
  case 0x73717368: return "squashfs";
  case 0xf2f52010: return "f2fs";
  default: return "unknown";
  }
}

static void check_idmap(struct host *h, const char *store_dir, const char *kernel) {
  /* The store may not exist yet; its nearest existing parent is on the same filesystem
   * in the common case. */
  _cleanup_free_ char *dir = xstrdup(store_dir);
  struct stat st;
  while (stat(dir, &st) < 0 && strcmp(dir, "/")) {
    char *slash = strrchr(dir, '/');
    if (!slash)
      break;
    if (slash == dir)
      slash[1] = 0;
    else
      *slash = 0;
  }
  struct statfs sfs;
  const char *fstype = statfs(dir, &sfs) == 0 ? fs_name(sfs.f_type) : "unknown";
  json_object_set_new(h->r->facts, "store_fs", json_string(fstype));
  int ok = h->probes->idmap_mount(dir);
  int probe_errno = errno;
  json_object_set_new(h->r->facts, "idmapped_mounts",
                      ok < 0 ? json_null() : json_boolean(ok == 1));
  if (ok == 1)
    brick_check_report_add(h->r, OK, "idmap.supported", dir, NULL, NULL,
                     "idmapped mounts work on %s (%s)", dir, fstype);
  else if (ok == 0)
    brick_check_report_add(h->r, WARN, "idmap.unsupported", dir,
                     "Without idmapped mounts, giving each container its own id range means "
                     "copying and chowning every image layer per container: slow, and it "
                     "tempts people to share one range (or none).",
                     "Keep the store on a filesystem with idmapped-mount support (ext4, xfs, "
                     "btrfs since 5.12-5.15; tmpfs since 6.3) and use a recent kernel.",
                     "idmapped mounts are refused on %s (%s, kernel %s)", dir, fstype,
                     kernel ? kernel : "?");
  else
    brick_check_report_add(h->r, INFO, "idmap.unknown", dir,
                     "The probe needs root (it makes a detached idmapped mount).",
                     "Run brick check host as root to probe.",
                     "could not probe idmapped mounts on %s (%s, kernel %s): %s", dir, fstype,
                     kernel ? kernel : "?", strerror(probe_errno));
}

/* ---------------------------------------------------------------- id pool, kernel */

static void check_idpool(struct host *h, unsigned containers) {
  unsigned long need = IDS_PER_CONTAINER * (containers ? containers : 1);
  static const char *const files[] = {"/etc/subuid", "/etc/subgid"};
  json_t *fact = json_object();
  for (size_t f = 0; f < 2; f++) {
    _cleanup_free_ char *content = host_read(h, files[f]);
    unsigned long total = 0, lowest = (unsigned long)-1;
    for (char *line = content, *next; line && *line; line = next) {
      next = strchr(line, '\n');
      if (next)
        *next++ = 0;
      char name[256];
      unsigned long start, count;
      if (sscanf(line, "%255[^:]:%lu:%lu", name, &start, &count) != 3 || strcmp(name, "containers"))
        continue;
      total += count;
      if (start < lowest)
        lowest = start;
    }
    json_object_set_new(fact, files[f] + 5, json_integer((json_int_t)total));
    if (total == 0) {
      _cleanup_free_ char *id = xasprintf("idpool.missing.%s", files[f] + 5);
      _cleanup_free_ char *fix = xasprintf(
          "Add a range for the user \"containers\": echo containers:2147483648:2147483648 "
          ">> %s (podman --userns=auto uses the same entry).", files[f]);
      brick_check_report_add(h->r, WARN, id, files[f],
                       "Without a subordinate id pool brick cannot give each container its "
                       "own unprivileged id range; containers end up sharing ids, so one "
                       "container's root owns another's files.",
                       fix, "no \"containers\" id range in %s", files[f]);
    } else if (total < need) {
      _cleanup_free_ char *id = xasprintf("idpool.small.%s", files[f] + 5);
      brick_check_report_add(h->r, WARN, id, files[f],
                       "Each container needs 65536 ids of its own; when the pool runs out, "
                       "containers fail to start or share ranges.",
                       "Enlarge the \"containers\" range (65536 ids per container).",
                       "%s \"containers\" range has %lu ids; %u containers need %lu", files[f],
                       total, containers ? containers : 1, need);
    } else if (lowest < 65536) {
      _cleanup_free_ char *id = xasprintf("idpool.overlap.%s", files[f] + 5);
      brick_check_report_add(h->r, WARN, id, files[f],
                       "A range starting below 65536 overlaps ordinary host users and "
                       "system accounts: a container's ids would own their files.",
                       "Move the range above all host ids (e.g. start 2147483648).",
                       "%s \"containers\" range starts at %lu, among host ids", files[f], lowest);
    } else {
      _cleanup_free_ char *id = xasprintf("idpool.ok.%s", files[f] + 5);
      brick_check_report_add(h->r, OK, id, files[f], NULL, NULL,
                       "%s \"containers\" range: %lu ids (%lu containers)", files[f], total,
                       total / IDS_PER_CONTAINER);
    }
  }
  json_object_set_new(h->r->facts, "idpool", fact);
}

static char *check_kernel(struct host *h) {
  char *release = host_read(h, "/proc/sys/kernel/osrelease");
  if (release) {
    json_object_set_new(h->r->facts, "kernel", json_string(release));
    int major = 0, minor = 0;
    sscanf(release, "%d.%d", &major, &minor);
    if (major < 5 || (major == 5 && minor < 13))
      brick_check_report_add(h->r, WARN, "kernel.old", "/proc/sys/kernel/osrelease",
                       "Kernels before 5.13 lack Landlock and (before 5.12) idmapped mounts; "
                       "older kernels also miss years of namespace and seccomp fixes.",
                       "Upgrade to a maintained kernel (6.1 or newer).", "kernel %s is old",
                       release);
    else
      brick_check_report_add(h->r, OK, "kernel.version", "/proc/sys/kernel/osrelease", NULL, NULL,
                       "kernel %s", release);
  }
  _cleanup_free_ char *lockdown = host_read(h, "/sys/kernel/security/lockdown");
  if (!lockdown) {
    brick_check_report_add(h->r, INFO, "lockdown.unknown", "/sys/kernel/security/lockdown",
                     "Lockdown keeps even host root from changing the running kernel; it "
                     "limits what a container escape to host root can do next.",
                     "Mount securityfs (mount -t securityfs securityfs /sys/kernel/security) "
                     "to let tools read it.",
                     "kernel lockdown state unknown (securityfs not mounted)");
  } else {
    char *open = strchr(lockdown, '['), *close_ = open ? strchr(open, ']') : NULL;
    _cleanup_free_ char *mode = open && close_ ? strndup(open + 1, (size_t)(close_ - open - 1))
                                               : xstrdup(lockdown);
    json_object_set_new(h->r->facts, "lockdown", json_string(mode));
    if (!strcmp(mode, "none"))
      brick_check_report_add(h->r, INFO, "lockdown.none", "/sys/kernel/security/lockdown",
                       "Without lockdown, host root (and so a container escape to host root) "
                       "can load unsigned modules and write kernel memory.",
                       "Boot with lockdown=integrity (with Secure Boot).",
                       "kernel lockdown is off");
    else
      brick_check_report_add(h->r, OK, "lockdown.on", "/sys/kernel/security/lockdown", NULL, NULL,
                       "kernel lockdown: %s", mode);
  }
  return release;
}

/* ---------------------------------------------------------------- runtime binary */

static bool writable_by_others(const struct stat *st) {
  return st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH));
}

static void check_runtime_binary(struct host *h, const char *path, const char *store,
                                 const char *state) {
  _cleanup_free_ char *resolved = realpath(path, NULL);
  if (!resolved) {
    brick_check_report_add(h->r, INFO, "runtime.unknown", path, NULL, NULL,
                     "cannot resolve the runtime binary %s: %s", path, strerror(errno));
    return;
  }
  json_object_set_new(h->r->facts, "runtime", json_string(resolved));
  bool bad = false;
  struct stat st;
  if (stat(resolved, &st) < 0) {
    brick_check_report_add(h->r, INFO, "runtime.unknown", resolved, NULL, NULL,
                     "cannot stat the runtime binary %s: %s", resolved, strerror(errno));
    return;
  }
  static const char *const why =
      "Whoever can replace the runtime binary runs code as root the next time a container "
      "starts. (brick also re-executes from a sealed copy so a container cannot overwrite it "
      "through /proc/self/exe.)";
  if (writable_by_others(&st)) {
    bad = true;
    brick_check_report_add(h->r, CRIT, "runtime.writable", resolved, why,
                     "chown root:root and chmod 0755 the brick binary.",
                     "runtime binary %s is writable by non-root (owner %u, mode %04o)", resolved,
                     (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
  }
  _cleanup_free_ char *dir = xstrdup(resolved);
  for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
    if (slash == dir)
      slash[1] = 0;
    else
      *slash = 0;
    struct stat ds;
    if (stat(dir, &ds) == 0) {
      /* A sticky root-owned directory (like /tmp) lets nobody else rename root's file. */
      bool sticky_safe = (ds.st_mode & S_ISVTX) && ds.st_uid == 0 && st.st_uid == 0;
      if (writable_by_others(&ds) && !sticky_safe) {
        bad = true;
        brick_check_report_add(h->r, HIGH, "runtime.dir-writable", dir, why,
                         "Install brick in a root-owned directory not writable by others "
                         "(e.g. /usr/bin).",
                         "directory %s of the runtime binary is writable by non-root "
                         "(owner %u, mode %04o)", dir, (unsigned)ds.st_uid,
                         (unsigned)(ds.st_mode & 07777));
        break;
      }
    }
    if (!strcmp(dir, "/"))
      break;
  }
  const char *shared[] = {store, state};
  for (size_t i = 0; i < ARRAY_SIZE(shared); i++) {
    _cleanup_free_ char *s = shared[i] ? realpath(shared[i], NULL) : NULL;
    size_t l = s ? strlen(s) : 0;
    if (s && !strncmp(resolved, s, l) && resolved[l] == '/') {
      bad = true;
      brick_check_report_add(h->r, HIGH, "runtime.in-shared-dir", resolved,
                       "The image store and the state directory are mounted into or written "
                       "for containers; a binary there can be reached and replaced.",
                       "Install brick outside the store and state directories (e.g. /usr/bin).",
                       "runtime binary %s lies under %s", resolved, s);
    }
  }
  if (!bad)
    brick_check_report_add(h->r, OK, "runtime.protected", resolved, NULL, NULL,
                     "runtime binary %s is root-owned and not writable by others", resolved);
}

/* ---------------------------------------------------------------- entry point */

struct brick_check_report *brick_check_host(const struct brick_host_opts *opts, brick_err *err) {
  static const struct brick_host_opts defaults = {0};
  if (!opts)
    opts = &defaults;
  const char *root = opts->root_dir && *opts->root_dir ? opts->root_dir : "/";
  struct stat st;
  if (stat(root, &st) < 0) {
    brick_errno(err, "--root-dir %s", root);
    return NULL;
  }
  if (!S_ISDIR(st.st_mode)) {
    brick_error(err, ENOTDIR, "--root-dir %s", root);
    return NULL;
  }
  _cleanup_free_ char *root_norm = xstrdup(root);
  size_t l = strlen(root_norm);
  while (l > 1 && root_norm[l - 1] == '/')
    root_norm[--l] = 0;
  struct host h = {
      .root = root_norm,
      .real_root = !strcmp(root_norm, "/"),
      .probes = opts->probes ? opts->probes : &brick_host_probes_kernel,
      .custom_probes = opts->probes && opts->probes != &brick_host_probes_kernel,
      .r = brick_check_report_new("host", root_norm),
  };
  const char *store = opts->store_dir ? opts->store_dir : "/var/lib/brick";
  const char *state = opts->state_dir ? opts->state_dir : "/run/brick";

  _cleanup_free_ char *kernel = check_kernel(&h);
  struct mac_state mac = {0};
  check_selinux(&h, &mac);
  check_apparmor(&h, &mac);
  check_landlock(&h, &mac);
  bool ns = check_namespaces(&h);
  bool userns = check_userns(&h);
  check_idpool(&h, opts->containers);
  bool seccomp = check_seccomp(&h);
  bool cgroups = check_cgroups(&h);
  check_idmap(&h, store, kernel);
  check_runtime_binary(&h, opts->runtime_path ? opts->runtime_path : "/proc/self/exe", store,
                       state);

  bool selinux_layer = mac.selinux_enforcing && mac.selinux_policy;
  bool landlock_layer = mac.landlock_abi >= 1;
  json_t *layers = json_pack("{s:b,s:b,s:b,s:b,s:b,s:b,s:b}", "namespaces", ns, "userns", userns,
                             "seccomp", seccomp, "selinux", selinux_layer, "landlock",
                             landlock_layer, "apparmor", mac.apparmor, "cgroups", cgroups);
  json_object_set_new(h.r->facts, "layers", layers);
  if (!selinux_layer && !landlock_layer && !mac.apparmor)
    brick_check_report_add(h.r, CRIT, "mac.none", NULL,
                     "No mandatory access control at all: a process that escapes its "
                     "namespaces meets only file permissions, and as root it passes those. "
                     "Containers do not contain; SELinux (or at least Landlock) is what "
                     "catches the escape.",
                     "Enable SELinux with container-selinux (preferred), or a kernel with "
                     "Landlock.",
                     "no mandatory access control layer (no SELinux, AppArmor or Landlock)");

  _cleanup_free_ char *on = NULL, *off = NULL;
  const char *names[] = {"namespaces", "user namespaces", "seccomp",
                         selinux_layer ? "SELinux" : "Landlock", "cgroups"};
  bool active[] = {ns, userns, seccomp, selinux_layer || landlock_layer, cgroups};
  if (!selinux_layer && !landlock_layer)
    names[3] = "SELinux/Landlock";
  for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
    char **list = active[i] ? &on : &off;
    char *s = *list ? xasprintf("%s, %s", *list, names[i]) : xstrdup(names[i]);
    free(*list);
    *list = s;
  }
  if (off)
    brick_check_report_add(h.r, WARN, "layers", NULL,
                     "brick stacks independent layers so that one bug does not free a "
                     "container; each inactive layer removes one wall.",
                     "See the findings above for each inactive layer.",
                     "brick layers active: %s; inactive: %s", on ? on : "none", off);
  else
    brick_check_report_add(h.r, OK, "layers", NULL, NULL, NULL, "brick layers active: %s", on);
  return h.r;
}
