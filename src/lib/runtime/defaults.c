#include "runtime/defaults.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp/seccomp.h"
#include "spec/spec.h"

/* podman's default set; brick never goes beyond it by default (issue 4). */
static const char *const default_caps[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
    "CAP_SYS_CHROOT"};

static const char *const masked[] = {
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block", "/sys/devices/virtual/powercap"};

static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                       "/proc/sysrq-trigger"};

static json_t *strv(const char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}
#define STRV(v) strv((v), sizeof(v) / sizeof((v)[0]))

static json_t *mount(const char *dest, const char *type, const char *src, const char *opts) {
  json_t *o = json_pack("{s:s, s:s, s:s}", "destination", dest, "type", type, "source", src);
  json_t *a = json_array();
  char buf[256];
  snprintf(buf, sizeof buf, "%s", opts);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
    json_array_append_new(a, json_string(t));
  json_object_set_new(o, "options", a);
  return o;
}

static json_t *dev_rule(bool allow, const char *type, int major, int minor) {
  json_t *o = json_pack("{s:b, s:s}", "allow", allow, "access", "rwm");
  if (type)
    json_object_set_new(o, "type", json_string(type));
  if (major >= 0)
    json_object_set_new(o, "major", json_integer(major));
  if (minor >= 0)
    json_object_set_new(o, "minor", json_integer(minor));
  return o;
}

json_t *brick_default_config(bool rootless) {
  uint64_t bounding = 0;
  for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0]; i++)
    bounding |= 1ull << brick_cap_from_name(default_caps[i]);

  json_t *caps = json_pack("{s:o, s:o, s:o, s:[], s:[]}", "bounding", STRV(default_caps),
                           "effective", STRV(default_caps), "permitted", STRV(default_caps),
                           "inheritable", "ambient");
  json_t *process = json_pack(
      "{s:b, s:{s:i, s:i}, s:[s], s:[s, s], s:s, s:o, s:[{s:s, s:i, s:i}], s:b}",
      "terminal", 0, "user", "uid", 0, "gid", 0, "args", "sh", "env",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
      "cwd", "/", "capabilities", caps, "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024,
      "soft", 1024, "noNewPrivileges", 1);

  json_t *mounts = json_array();
  json_array_append_new(mounts, mount("/proc", "proc", "proc", "nosuid,noexec,nodev"));
  json_array_append_new(mounts, mount("/dev", "tmpfs", "tmpfs", "nosuid,noexec,strictatime,mode=755,size=65536k"));
  json_array_append_new(mounts, mount("/dev/pts", "devpts", "devpts",
                                      rootless ? "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"
                                               : "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
  json_array_append_new(mounts, mount("/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"));
  json_array_append_new(mounts, mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
  json_array_append_new(mounts, mount("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
  json_array_append_new(mounts, mount("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro"));
  json_array_append_new(mounts, mount("/tmp", "tmpfs", "tmpfs", "nosuid,nodev,mode=1777,size=65536k"));

  json_t *ns = json_array();
  static const char *const types[] = {"pid", "network", "ipc", "uts", "mount", "cgroup", "user"};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    json_array_append_new(ns, json_pack("{s:s}", "type", types[i]));

  json_t *devices = json_array();
  json_array_append_new(devices, dev_rule(false, NULL, -1, -1));
  static const int allowed[][2] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {10, 229}};
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
    json_array_append_new(devices, dev_rule(true, "c", allowed[i][0], allowed[i][1]));
  json_array_append_new(devices, dev_rule(true, "c", 136, -1)); /* the pty slaves */

  json_t *linux_ = json_pack("{s:o, s:o, s:o, s:o}", "namespaces", ns, "maskedPaths",
                             STRV(masked), "readonlyPaths", STRV(readonly), "seccomp",
                             brick_seccomp_default_profile(bounding));
  /* /dev/fuse is on the talk's list, but a config that names a node the host lacks
   * cannot start (in a user namespace nodes are bound from the host): only where the
   * fuse module is loaded. */
  struct stat fuse;
  if (stat("/dev/fuse", &fuse) == 0 && S_ISCHR(fuse.st_mode))
    json_object_set_new(linux_, "devices",
                        json_pack("[{s:s, s:s, s:i, s:i, s:i, s:i, s:i}]", "path", "/dev/fuse",
                                  "type", "c", "major", 10, "minor", 229, "fileMode", 0666, "uid",
                                  0, "gid", 0));
  json_t *annotations = json_pack("{s:s}", BRICK_ANNOTATION_LANDLOCK, "true");
  if (rootless) {
    json_object_set_new(linux_, "uidMappings",
                        json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", (int)getuid(), "size", 1));
    json_object_set_new(linux_, "gidMappings",
                        json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", (int)getgid(), "size", 1));
  } else {
    json_object_set_new(annotations, BRICK_ANNOTATION_USERNS_AUTO, json_string("auto"));
    json_object_set_new(linux_, "resources",
                        json_pack("{s:o, s:{s:i}}", "devices", devices, "pids", "limit", 2048));
    devices = NULL;
  }
  if (devices)
    json_decref(devices);

  return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o, s:o}", "ociVersion", BRICK_OCI_VERSION,
                   "process", process, "root", "path", "rootfs", "readonly", 1, "hostname", "brick",
                   "mounts", mounts, "linux", linux_, "annotations", annotations);
}
