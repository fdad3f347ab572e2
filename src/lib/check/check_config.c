/* `brick check config`: lint an OCI config.json for settings that weaken container
 * separation. Works on the raw JSON document so a config the strict parser would
 * reject can still be audited, and so every finding can name its JSON path. */
#include "check/check.h"

#include <ctype.h>
#include <limits.h>
#include <strings.h>
#include <string.h>

#include "core/util.h"

#define OK BRICK_CHECK_OK
#define INFO BRICK_CHECK_INFO
#define WARN BRICK_CHECK_WARN
#define HIGH BRICK_CHECK_HIGH
#define CRIT BRICK_CHECK_CRITICAL

/* ---------------------------------------------------------------- helpers */

static json_t *member(json_t *o, const char *key) {
  return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static const char *member_str(json_t *o, const char *key) {
  return json_string_value(member(o, key));
}

/* Numbers may be integers or (for values beyond int64, reloaded as reals) doubles. */
static bool member_num(json_t *o, const char *key, double *out) {
  json_t *v = member(o, key);
  if (!json_is_number(v))
    return false;
  *out = json_number_value(v);
  return true;
}

/* json_is_true() on a member that may be missing trips -Wnull-dereference after inlining. */
static bool is_true(json_t *v) {
  return v != NULL && json_equal(v, json_true());
}

static bool array_has_string(json_t *arr, const char *s) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    if (json_is_string(v) && !strcmp(json_string_value(v), s))
      return true;
  }
  return false;
}

/* A member that is present but of the wrong type is itself a finding: the runtime
 * would reject it or, worse, ignore it. Returns the value only if it has the type. */
static json_t *typed_member(struct brick_check_report *r, json_t *o, const char *key,
                            const char *path, bool want_array) {
  json_t *v = member(o, key);
  if (!v)
    return NULL;
  if (want_array ? json_is_array(v) : json_is_object(v))
    return v;
  brick_check_report_add(r, WARN, "config.type", path,
                   "A member of the wrong type is rejected by strict runtimes and may be "
                   "silently ignored by others, so the setting you meant is not applied.",
                   "Fix the config so it validates against the runtime-spec schema.",
                   "%s is not %s", path, want_array ? "an array" : "an object");
  return NULL;
}

/* ---------------------------------------------------------------- capabilities */

static const char *const podman_default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",  "CAP_FSETID",
    "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
    "CAP_SETPCAP", "CAP_SETUID",       "CAP_SYS_CHROOT",
};

bool brick_check_cap_is_default(const char *cap_name) {
  for (size_t i = 0; i < ARRAY_SIZE(podman_default_caps); i++)
    if (!strcasecmp(cap_name, podman_default_caps[i]))
      return true;
  return false;
}

struct cap_risk {
  const char *name;
  enum brick_check_level level;
  const char *why;
};

static const struct cap_risk cap_risks[] = {
    {"CAP_SYS_ADMIN", CRIT,
     "CAP_SYS_ADMIN is the new root: mount, BPF, namespaces, device and kernel tuning. With "
     "it, container breakouts are a matter of time; containers do not contain."},
    {"CAP_SYS_MODULE", CRIT, "Loads kernel modules: arbitrary code in the host kernel."},
    {"CAP_SYS_RAWIO", CRIT, "Raw I/O ports and /dev/mem access: reads and writes host memory."},
    {"CAP_DAC_READ_SEARCH", HIGH,
     "open_by_handle_at() walks the host filesystem outside the container root "
     "(the 'shocker' breakout)."},
    {"CAP_SYS_PTRACE", HIGH, "Traces and injects code into other processes, including "
     "those of other containers when the PID namespace is shared."},
    {"CAP_BPF", HIGH, "Loads BPF programs: reads kernel memory and widens kernel attack surface."},
    {"CAP_PERFMON", HIGH, "perf events expose kernel addresses and other processes' activity."},
    {"CAP_NET_ADMIN", HIGH, "Reconfigures networking (routes, firewall, interfaces); with a "
     "shared network namespace that is the host's network."},
    {"CAP_MAC_ADMIN", HIGH, "Changes the mandatory access control policy that confines the "
     "container."},
    {"CAP_MAC_OVERRIDE", HIGH, "Overrides the mandatory access control that confines the "
     "container."},
    {"CAP_SYS_BOOT", HIGH, "Reboots the host and loads new kernels (kexec)."},
    {"CAP_SYS_TIME", HIGH, "Sets the system clock, which is not namespaced: affects the host."},
    {"CAP_SYSLOG", HIGH, "Reads and clears the kernel log, which leaks kernel addresses."},
    {"CAP_AUDIT_CONTROL", HIGH, "Changes the host's audit rules and can disable auditing."},
    {"CAP_CHECKPOINT_RESTORE", HIGH, "Sets PIDs of new processes and reads other processes' "
     "state."},
    {"CAP_LINUX_IMMUTABLE", WARN, "Removes immutable/append-only flags that protect files."},
    {"CAP_NET_RAW", WARN, "Raw sockets: packet spoofing and sniffing on the container network."},
    {"CAP_MKNOD", WARN, "Creates device nodes; only the device cgroup stands between them and "
     "host devices."},
    {"CAP_SYS_RESOURCE", WARN, "Overrides resource limits and quotas."},
    {"CAP_SYS_NICE", WARN, "Raises priorities and changes other processes' scheduling."},
    {"CAP_IPC_LOCK", WARN, "Locks memory, which can exhaust host RAM."},
    {"CAP_AUDIT_WRITE", INFO, "Writes audit records; kept by runc and crun defaults."},
};

static void cap_finding(struct brick_check_report *r, const char *name, const char *where,
                        const char *sets) {
  enum brick_check_level level = WARN;
  const char *why = "The capability is not in podman's default set of 11; every capability "
                    "beyond it widens what root in the container can do to the kernel.";
  for (size_t i = 0; i < ARRAY_SIZE(cap_risks); i++) {
    if (!strcasecmp(cap_risks[i].name, name)) {
      level = cap_risks[i].level;
      why = cap_risks[i].why;
      break;
    }
  }
  _cleanup_free_ char *id = xasprintf("caps.%s", name + (brick_str_has_prefix(name, "CAP_") ? 4 : 0));
  for (char *p = id; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  _cleanup_free_ char *fix = xasprintf(
      "Drop %s from every capability set (podman: --cap-drop=%s); grant only what the "
      "application needs.", name, name);
  brick_check_report_add(r, level, id, where, why, fix, "capability %s granted (%s)", name, sets);
}

static bool config_has_cap(json_t *config, const char *cap) {
  json_t *caps = member(member(config, "process"), "capabilities");
  static const char *const sets[] = {"bounding", "effective", "permitted"};
  for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
    if (array_has_string(member(caps, sets[i]), cap))
      return true;
  return false;
}

static void lint_capabilities(struct brick_check_report *r, json_t *config) {
  json_t *process = member(config, "process");
  json_t *caps = typed_member(r, process, "capabilities", "process.capabilities", false);
  if (!caps)
    return;
  static const char *const sets[] = {"bounding", "effective", "permitted", "inheritable",
                                     "ambient"};
  _cleanup_json_ json_t *seen = json_object();
  size_t extra = 0;
  for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
    _cleanup_free_ char *set_path = xasprintf("process.capabilities.%s", sets[s]);
    json_t *arr = typed_member(r, caps, sets[s], set_path, true);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
      const char *name = json_string_value(v);
      if (!name || brick_check_cap_is_default(name) || json_object_get(seen, name))
        continue;
      json_object_set_new(seen, name, json_true());
      extra++;
      /* Name every set the capability is in, so the fix is complete. */
      _cleanup_free_ char *in_sets = NULL;
      for (size_t t = s; t < ARRAY_SIZE(sets); t++) {
        if (!array_has_string(member(caps, sets[t]), name))
          continue;
        char *joined = in_sets ? xasprintf("%s, %s", in_sets, sets[t]) : xstrdup(sets[t]);
        free(in_sets);
        in_sets = joined;
      }
      _cleanup_free_ char *where = xasprintf("%s[%zu]", set_path, i);
      cap_finding(r, name, where, in_sets);
    }
  }
  if (!extra)
    brick_check_report_add(r, OK, "caps.default", "process.capabilities", NULL, NULL,
                     "capabilities within podman's default set");
}

/* ---------------------------------------------------------------- seccomp */

struct syscall_risk {
  const char *name;
  const char *gate_cap;           /* capability the kernel requires, NULL if none */
  enum brick_check_level without; /* level when the capability is not granted */
  enum brick_check_level with;    /* level when it is */
  const char *why;
};

static const struct syscall_risk syscall_risks[] = {
    {"bpf", NULL, HIGH, HIGH, "BPF programs run in the kernel; the verifier is a frequent "
     "source of privilege escalations."},
    {"kexec_load", "CAP_SYS_BOOT", WARN, CRIT, "Loads a new kernel."},
    {"kexec_file_load", "CAP_SYS_BOOT", WARN, CRIT, "Loads a new kernel."},
    {"init_module", "CAP_SYS_MODULE", WARN, CRIT, "Loads kernel modules."},
    {"finit_module", "CAP_SYS_MODULE", WARN, CRIT, "Loads kernel modules."},
    {"delete_module", "CAP_SYS_MODULE", WARN, CRIT, "Unloads kernel modules."},
    {"open_by_handle_at", "CAP_DAC_READ_SEARCH", WARN, CRIT,
     "Opens host files by handle, outside the container root (the 'shocker' breakout)."},
    {"iopl", "CAP_SYS_RAWIO", WARN, CRIT, "Direct I/O port access."},
    {"ioperm", "CAP_SYS_RAWIO", WARN, CRIT, "Direct I/O port access."},
    {"perf_event_open", NULL, WARN, WARN, "perf events leak kernel addresses and widen kernel "
     "attack surface."},
    {"userfaultfd", NULL, WARN, WARN, "userfaultfd makes kernel race conditions reliable to "
     "exploit."},
    {"keyctl", NULL, WARN, WARN, "Kernel keyrings are not namespaced: keys of the host and of "
     "other containers are reachable."},
    {"add_key", NULL, WARN, WARN, "Kernel keyrings are not namespaced."},
    {"request_key", NULL, WARN, WARN, "Kernel keyrings are not namespaced."},
    {"unshare", "CAP_SYS_ADMIN", WARN, HIGH, "Creates nested user namespaces, in which the "
     "process gains capabilities over new mount and network namespaces: kernel attack "
     "surface that is otherwise reserved for root."},
    {"setns", "CAP_SYS_ADMIN", WARN, HIGH, "Joins other namespaces."},
    {"mount", "CAP_SYS_ADMIN", INFO, HIGH, "Mounts filesystems; with CAP_SYS_ADMIN (or in a "
     "nested user namespace) this reaches kernel filesystem code."},
    {"umount2", "CAP_SYS_ADMIN", INFO, HIGH, "Unmounts filesystems, e.g. the masks over /proc."},
    {"umount", "CAP_SYS_ADMIN", INFO, HIGH, "Unmounts filesystems, e.g. the masks over /proc."},
    {"pivot_root", "CAP_SYS_ADMIN", INFO, HIGH, "Changes the root filesystem."},
    {"fsopen", "CAP_SYS_ADMIN", INFO, HIGH, "New mount API: mounts filesystems."},
    {"fsmount", "CAP_SYS_ADMIN", INFO, HIGH, "New mount API: mounts filesystems."},
    {"move_mount", "CAP_SYS_ADMIN", INFO, HIGH, "New mount API: moves mounts."},
    {"open_tree", "CAP_SYS_ADMIN", INFO, HIGH, "New mount API: clones mount trees."},
    {"mount_setattr", "CAP_SYS_ADMIN", INFO, HIGH, "Changes mount attributes such as ro."},
    {"ptrace", "CAP_SYS_PTRACE", INFO, HIGH, "Traces other processes."},
    {"process_vm_readv", "CAP_SYS_PTRACE", INFO, HIGH, "Reads other processes' memory."},
    {"process_vm_writev", "CAP_SYS_PTRACE", INFO, HIGH, "Writes other processes' memory."},
    {"reboot", "CAP_SYS_BOOT", INFO, HIGH, "Reboots the host (inside a PID namespace: "
     "kills the container)."},
    {"syslog", "CAP_SYSLOG", INFO, HIGH, "Reads the kernel log."},
    {"settimeofday", "CAP_SYS_TIME", INFO, HIGH, "Sets the host clock."},
    {"clock_settime", "CAP_SYS_TIME", INFO, HIGH, "Sets the host clock."},
    {"swapon", "CAP_SYS_ADMIN", INFO, HIGH, "Enables swap devices on the host."},
};

static bool action_allows(const char *action) {
  return action && (!strcmp(action, "SCMP_ACT_ALLOW") || !strcmp(action, "SCMP_ACT_LOG"));
}

static void syscall_allowed(struct brick_check_report *r, json_t *config, const struct syscall_risk *s,
                            const char *where, const char *how) {
  bool capped = s->gate_cap && config_has_cap(config, s->gate_cap);
  enum brick_check_level level = capped ? s->with : s->without;
  _cleanup_free_ char *id = xasprintf("seccomp.allow.%s", s->name);
  _cleanup_free_ char *why = s->gate_cap
      ? xasprintf("%s The kernel gates it behind %s, which %s granted.", s->why, s->gate_cap,
                  capped ? "IS" : "is not")
      : xstrdup(s->why);
  _cleanup_free_ char *fix = xasprintf(
      "Return an error for %s (SCMP_ACT_ERRNO) unless the application needs it; "
      "brick's default profile blocks it.", s->name);
  brick_check_report_add(r, level, id, where, why, fix, "seccomp %s %s", how, s->name);
}

static void lint_seccomp(struct brick_check_report *r, json_t *config) {
  json_t *linux_ = member(config, "linux");
  json_t *seccomp = typed_member(r, linux_, "seccomp", "linux.seccomp", false);
  if (!seccomp) {
    brick_check_report_add(r, HIGH, "seccomp.off", "linux.seccomp",
                     "Without a seccomp filter every one of the kernel's ~450 system calls is "
                     "reachable from the container; most kernel exploits start at a syscall "
                     "containers never need.",
                     "Add a seccomp profile (brick spec writes the default one; podman and "
                     "docker ship /usr/share/containers/seccomp.json).",
                     "no seccomp profile");
    return;
  }
  const char *def = member_str(seccomp, "defaultAction");
  if (!def) {
    brick_check_report_add(r, HIGH, "seccomp.no-default", "linux.seccomp.defaultAction",
                     "A profile without defaultAction is invalid; runtimes reject or ignore it.",
                     "Set defaultAction to SCMP_ACT_ERRNO and allow the syscalls needed.",
                     "seccomp profile has no defaultAction");
    return;
  }
  json_t *rules = typed_member(r, seccomp, "syscalls", "linux.seccomp.syscalls", true);

  if (action_allows(def)) {
    /* A deny list: everything not named is allowed. */
    _cleanup_json_ json_t *blocked = json_object();
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule) {
      if (action_allows(member_str(rule, "action")))
        continue;
      size_t j;
      json_t *name;
      json_array_foreach(member(rule, "names"), j, name) {
        if (json_is_string(name))
          json_object_set_new(blocked, json_string_value(name), json_true());
      }
    }
    size_t n_blocked = json_object_size(blocked);
    if (n_blocked < 10)
      brick_check_report_add(r, HIGH, "seccomp.permissive", "linux.seccomp.defaultAction",
                       "An allow-by-default profile that blocks almost nothing is seccomp in "
                       "name only: the kernel's whole syscall surface stays reachable.",
                       "Use an allow list: defaultAction SCMP_ACT_ERRNO plus the syscalls "
                       "the workload needs (brick's or podman's default profile).",
                       "seccomp default action %s blocks only %zu syscalls", def, n_blocked);
    else
      brick_check_report_add(r, WARN, "seccomp.denylist", "linux.seccomp.defaultAction",
                       "A deny list allows every syscall added to the kernel after it was "
                       "written.",
                       "Prefer defaultAction SCMP_ACT_ERRNO with an allow list.",
                       "seccomp default action %s (deny list of %zu syscalls)", def, n_blocked);
    for (size_t k = 0; k < ARRAY_SIZE(syscall_risks); k++)
      if (!json_object_get(blocked, syscall_risks[k].name))
        syscall_allowed(r, config, &syscall_risks[k], "linux.seccomp.defaultAction",
                        "allows (by default)");
    return;
  }

  brick_check_report_add(r, OK, "seccomp.on", "linux.seccomp.defaultAction", NULL, NULL,
                   "seccomp allow list, default action %s", def);
  size_t i;
  json_t *rule;
  json_array_foreach(rules, i, rule) {
    if (!action_allows(member_str(rule, "action")))
      continue;
    /* Argument conditions narrow a rule to harmless uses (e.g. personality). */
    json_t *args = member(rule, "args");
    if (json_is_array(args) && json_array_size(args) > 0)
      continue;
    size_t j;
    json_t *name;
    json_array_foreach(member(rule, "names"), j, name) {
      const char *n = json_string_value(name);
      if (!n)
        continue;
      for (size_t k = 0; k < ARRAY_SIZE(syscall_risks); k++) {
        if (strcmp(n, syscall_risks[k].name))
          continue;
        _cleanup_free_ char *where = xasprintf("linux.seccomp.syscalls[%zu].names[%zu]", i, j);
        syscall_allowed(r, config, &syscall_risks[k], where, "allows");
      }
    }
  }
}

/* ---------------------------------------------------------------- namespaces, user */

struct ns_rule {
  const char *type;
  enum brick_check_level level;
  const char *why;
};

static const struct ns_rule ns_rules[] = {
    {"mount", CRIT, "Without a mount namespace the container shares the host's mount table "
     "and its root is the host's root."},
    {"pid", HIGH, "A shared PID namespace lets the container see and signal every host "
     "process, and read their /proc entries."},
    {"network", HIGH, "A shared network namespace gives the container the host's interfaces, "
     "loopback services and abstract unix sockets."},
    {"ipc", WARN, "A shared IPC namespace exposes the host's System V IPC and POSIX message "
     "queues."},
    {"uts", WARN, "A shared UTS namespace lets the container change the host's hostname."},
    {"cgroup", INFO, "Without a cgroup namespace the container sees the host's cgroup paths."},
};

static void lint_namespaces(struct brick_check_report *r, json_t *config) {
  json_t *linux_ = member(config, "linux");
  json_t *nss = typed_member(r, linux_, "namespaces", "linux.namespaces", true);
  bool have_user = false;
  for (size_t k = 0; k < ARRAY_SIZE(ns_rules); k++) {
    bool found = false;
    size_t i;
    json_t *ns;
    json_array_foreach(nss, i, ns) {
      const char *type = member_str(ns, "type");
      if (!type || strcmp(type, ns_rules[k].type))
        continue;
      found = true;
      const char *path = member_str(ns, "path");
      _cleanup_free_ char *where = xasprintf("linux.namespaces[%zu].path", i);
      _cleanup_free_ char *id = xasprintf("namespace.%s.host", ns_rules[k].type);
      if (path && (brick_str_has_prefix(path, "/proc/1/ns/") ||
                   brick_str_has_prefix(path, "/proc/self/ns/")))
        brick_check_report_add(r, ns_rules[k].level, id, where, ns_rules[k].why,
                         "Remove the path so the runtime creates a new namespace.",
                         "%s namespace joins the host's (%s)", ns_rules[k].type, path);
      else if (path) {
        _cleanup_free_ char *jid = xasprintf("namespace.%s.joined", ns_rules[k].type);
        brick_check_report_add(r, INFO, jid, where,
                         "Joining another namespace shares it with whatever created it.",
                         "Make sure the namespace belongs to a container (e.g. a pod), not "
                         "the host.",
                         "%s namespace joins %s", ns_rules[k].type, path);
      }
    }
    if (!found) {
      _cleanup_free_ char *id = xasprintf("namespace.%s.host", ns_rules[k].type);
      _cleanup_free_ char *fix = xasprintf("Add {\"type\": \"%s\"} to linux.namespaces.",
                                           ns_rules[k].type);
      brick_check_report_add(r, ns_rules[k].level, id, "linux.namespaces", ns_rules[k].why, fix,
                       "no %s namespace: shares the host's", ns_rules[k].type);
    }
  }
  size_t i;
  json_t *ns;
  json_array_foreach(nss, i, ns) {
    const char *type = member_str(ns, "type");
    if (type && !strcmp(type, "user"))
      have_user = true;
  }
  if (!have_user) {
    brick_check_report_add(r, HIGH, "userns.none", "linux.namespaces",
                     "Without a user namespace, root in the container is root on the host: "
                     "any escape (a kernel bug, a mount, a leaked fd) lands as uid 0. "
                     "Containers do not contain; the user namespace makes an escape land as "
                     "an unprivileged id.",
                     "Add {\"type\": \"user\"} with uidMappings/gidMappings to a subordinate "
                     "id range (brick: annotation run.oci.brick.userns=auto; podman: "
                     "--userns=auto).",
                     "no user namespace: container root is host root");
    return;
  }
  brick_check_report_add(r, OK, "userns.enabled", "linux.namespaces", NULL, NULL,
                   "user namespace in use");
  static const char *const maps[] = {"uidMappings", "gidMappings"};
  static const char *const map_ids[] = {"userns.uid-root-mapped", "userns.gid-root-mapped"};
  for (size_t m = 0; m < 2; m++) {
    _cleanup_free_ char *map_path = xasprintf("linux.%s", maps[m]);
    json_t *arr = typed_member(r, linux_, maps[m], map_path, true);
    json_t *e;
    json_array_foreach(arr, i, e) {
      double c, h, s;
      if (!member_num(e, "containerID", &c) || !member_num(e, "hostID", &h) ||
          !member_num(e, "size", &s))
        continue;
      if (!(h <= 0 && 0 < h + s))
        continue;
      _cleanup_free_ char *where = xasprintf("linux.%s[%zu]", maps[m], i);
      bool root_to_root = c == 0 && h == 0;
      brick_check_report_add(r, root_to_root ? CRIT : HIGH, map_ids[m], where,
                       "Mapping host id 0 into the user namespace hands host root's files and "
                       "privileges to the container; the user namespace then separates "
                       "nothing.",
                       "Map the container to a subordinate range (e.g. hostID 100000, size "
                       "65536 from /etc/subuid).",
                       "%s maps container id %.0f to host id 0", maps[m], c - h);
    }
  }
}

/* ---------------------------------------------------------------- mounts and paths */

static const char *const standard_readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq",
                                                "/proc/sys", "/proc/sysrq-trigger"};
static const char *const standard_masked[] = {
    "/proc/acpi",       "/proc/asound",     "/proc/kcore",    "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/sys/firmware",    "/proc/scsi"};

static enum brick_check_level masked_level(const char *p) {
  if (!strcmp(p, "/proc/kcore"))
    return HIGH;
  if (!strcmp(p, "/proc/keys") || !strcmp(p, "/sys/firmware") || !strcmp(p, "/proc/timer_list") ||
      !strcmp(p, "/proc/sched_debug"))
    return WARN;
  return INFO;
}

static void lint_paths(struct brick_check_report *r, json_t *config) {
  json_t *linux_ = member(config, "linux");
  json_t *ro = typed_member(r, linux_, "readonlyPaths", "linux.readonlyPaths", true);
  if (!ro)
    brick_check_report_add(r, HIGH, "paths.readonly-missing", "linux.readonlyPaths",
                     "Without readonlyPaths, /proc/sys and /proc/sysrq-trigger are writable by "
                     "root in the container: host kernel settings and SysRq.",
                     "Add readonlyPaths: /proc/bus, /proc/fs, /proc/irq, /proc/sys, "
                     "/proc/sysrq-trigger.",
                     "no readonlyPaths");
  else
    for (size_t i = 0; i < ARRAY_SIZE(standard_readonly); i++) {
      const char *p = standard_readonly[i];
      if (array_has_string(ro, p))
        continue;
      bool key = !strcmp(p, "/proc/sys") || !strcmp(p, "/proc/sysrq-trigger");
      _cleanup_free_ char *id = xasprintf("paths.not-readonly:%s", p);
      _cleanup_free_ char *fix = xasprintf("Add \"%s\" to linux.readonlyPaths.", p);
      brick_check_report_add(r, key ? HIGH : WARN, id, "linux.readonlyPaths",
                       "Most of /proc is not namespaced; a writable entry changes the host.",
                       fix, "%s is not read-only", p);
    }

  json_t *masked = typed_member(r, linux_, "maskedPaths", "linux.maskedPaths", true);
  if (!masked)
    brick_check_report_add(r, HIGH, "paths.masked-missing", "linux.maskedPaths",
                     "Without maskedPaths the container reads /proc/kcore (host memory "
                     "image), /proc/keys, timer and scheduler details of the host.",
                     "Add the standard maskedPaths (/proc/acpi, /proc/kcore, /proc/keys, "
                     "/proc/timer_list, /sys/firmware, ... as runc spec writes them).",
                     "no maskedPaths");
  else
    for (size_t i = 0; i < ARRAY_SIZE(standard_masked); i++) {
      const char *p = standard_masked[i];
      if (array_has_string(masked, p))
        continue;
      _cleanup_free_ char *id = xasprintf("paths.not-masked:%s", p);
      _cleanup_free_ char *fix = xasprintf("Add \"%s\" to linux.maskedPaths.", p);
      brick_check_report_add(r, masked_level(p), id, "linux.maskedPaths",
                       "This /proc or /sys entry shows host-wide state the container does "
                       "not need.", fix, "%s is not masked", p);
    }
}

static bool has_opt(json_t *mount, const char *opt) {
  return array_has_string(member(mount, "options"), opt);
}

/* Normalised copy of a host path: no repeated or trailing slashes. */
static char *norm_path(const char *p) {
  char *out = xmalloc(strlen(p) + 2);
  size_t n = 0;
  for (const char *s = p; *s; s++) {
    if (*s == '/' && n > 0 && out[n - 1] == '/')
      continue;
    out[n++] = *s;
  }
  while (n > 1 && out[n - 1] == '/')
    n--;
  out[n] = 0;
  return out;
}

static bool path_is_or_under(const char *p, const char *dir) {
  size_t l = strlen(dir);
  return !strncmp(p, dir, l) && (p[l] == 0 || p[l] == '/');
}

struct host_source {
  const char *path;
  bool subtree;
  enum brick_check_level level;
  const char *id;
  const char *why;
};

static const struct host_source host_sources[] = {
    {"/", false, CRIT, "mounts.host-root", "The host's root filesystem in the container: it "
     "can edit /etc/shadow, cron, systemd units and the runtime binary."},
    {"/proc", true, CRIT, "mounts.host-proc", "The host's /proc reaches every host process "
     "(/proc/1/root is the host root) and kernel settings."},
    {"/sys", true, HIGH, "mounts.host-sys", "The host's /sys exposes devices, firmware and "
     "kernel knobs."},
    {"/run", false, HIGH, "mounts.host-run", "/run holds the sockets of every host daemon, "
     "container engines included."},
    {"/var/run", false, HIGH, "mounts.host-run", "/var/run holds the sockets of every host "
     "daemon, container engines included."},
    {"/var/lib/docker", true, HIGH, "mounts.engine-storage", "The engine's storage holds every "
     "other container's filesystem and the engine's state."},
    {"/var/lib/containers", true, HIGH, "mounts.engine-storage", "The engine's storage holds "
     "every other container's filesystem."},
    {"/var/lib/containerd", true, HIGH, "mounts.engine-storage", "The engine's storage holds "
     "every other container's filesystem."},
    {"/var/lib/brick", true, HIGH, "mounts.engine-storage", "brick's image store: writing it "
     "tampers with every image."},
    {"/dev", false, HIGH, "mounts.host-dev", "The host's /dev: disks, memory and consoles, "
     "limited only by the device cgroup."},
    {"/etc", false, HIGH, "mounts.host-etc", "The host's /etc: users, sudoers, services."},
    {"/boot", true, HIGH, "mounts.host-boot", "Kernel images and boot loader configuration."},
    {"/lib/modules", true, HIGH, "mounts.host-modules", "Kernel modules the host will load."},
    {"/usr/lib/modules", true, HIGH, "mounts.host-modules", "Kernel modules the host will "
     "load."},
};

static const char *const engine_sockets[] = {"docker.sock", "containerd.sock", "crio.sock",
                                             "podman.sock", "containerd-shim.sock"};

/* Engines bind each container's own hostname, hosts, resolv.conf and /dev/shm from
 * per-container directories inside their storage; those are not the storage itself. */
static bool is_per_container_file(const char *src) {
  if (strstr(src, "/userdata/"))
    return true;
  static const char *const per_container_dirs[] = {"/var/lib/docker/containers/",
                                                   "/var/lib/brick/containers/"};
  for (size_t i = 0; i < ARRAY_SIZE(per_container_dirs); i++) {
    const char *dir = per_container_dirs[i];
    if (!brick_str_has_prefix(src, dir))
      continue;
    const char *rest = src + strlen(dir);
    const char *slash = strchr(rest, '/');
    return slash && slash > rest && slash[1];
  }
  return false;
}

static bool is_special_fs(const char *type) {
  static const char *const special[] = {"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue"};
  for (size_t i = 0; type && i < ARRAY_SIZE(special); i++)
    if (!strcmp(type, special[i]))
      return true;
  return false;
}

static void lint_mounts(struct brick_check_report *r, json_t *config) {
  json_t *mounts = typed_member(r, config, "mounts", "mounts", true);
  size_t i;
  json_t *m;
  json_array_foreach(mounts, i, m) {
    const char *type = member_str(m, "type");
    const char *source = member_str(m, "source");
    const char *dest = member_str(m, "destination");
    _cleanup_free_ char *where = xasprintf("mounts[%zu]", i);
    bool bind = (type && !strcmp(type, "bind")) || has_opt(m, "bind") || has_opt(m, "rbind");

    if ((type && !strcmp(type, "sysfs")) || (dest && !strcmp(dest, "/sys"))) {
      if (!has_opt(m, "ro"))
        brick_check_report_add(r, HIGH, "mounts.sys-writable", where,
                         "A writable /sys lets root in the container change host kernel and "
                         "device settings (uevent helpers, power, module parameters).",
                         "Add \"ro\" to the options of the /sys mount.",
                         "/sys is mounted writable");
    }
    if (dest && path_is_or_under(dest, "/proc/sys") && !has_opt(m, "ro"))
      brick_check_report_add(r, HIGH, "mounts.procsys-writable", where,
                       "/proc/sys is mostly not namespaced: writing it tunes the host kernel "
                       "(core_pattern runs a program as host root).",
                       "Mount it read-only or drop the mount.",
                       "%s is mounted writable", dest);

    if (bind && source) {
      _cleanup_free_ char *src = norm_path(source);
      const char *base = strrchr(src, '/');
      base = base ? base + 1 : src;
      bool socket = false;
      for (size_t k = 0; k < ARRAY_SIZE(engine_sockets); k++)
        if (!strcmp(base, engine_sockets[k]))
          socket = true;
      if (socket)
        brick_check_report_add(r, CRIT, "mounts.engine-socket", where,
                         "Whoever talks to a container engine's socket can start a privileged "
                         "container with the host's root mounted: it is root on the host.",
                         "Remove the socket mount; use a rootless engine inside a user "
                         "namespace if the workload must build or run containers.",
                         "container engine socket %s is bind-mounted", src);
      for (size_t k = 0; !socket && k < ARRAY_SIZE(host_sources); k++) {
        const struct host_source *h = &host_sources[k];
        if (!(h->subtree ? path_is_or_under(src, h->path) : !strcmp(src, h->path)))
          continue;
        if (!strcmp(h->id, "mounts.engine-storage") && is_per_container_file(src))
          continue;
        _cleanup_free_ char *fix = xasprintf(
            "Do not bind-mount %s into containers; mount only the files the application "
            "needs%s.", h->path, has_opt(m, "ro") ? "" : ", read-only");
        brick_check_report_add(r, h->level, h->id, where, h->why, fix,
                         "host path %s is bind-mounted at %s%s", src, dest ? dest : "?",
                         has_opt(m, "ro") ? " (read-only)" : "");
        break;
      }
    }

    if (is_special_fs(type) || !dest)
      continue;
    if (!has_opt(m, "nosuid"))
      brick_check_report_add(r, WARN, "mounts.suid", where,
                       "setuid files on this mount raise privileges inside the container.",
                       "Add \"nosuid\" to the mount options.", "%s is mounted without nosuid",
                       dest);
    if (strcmp(dest, "/dev") && !has_opt(m, "nodev"))
      brick_check_report_add(r, WARN, "mounts.dev", where,
                       "Device nodes on this mount open host devices, subject only to the "
                       "device cgroup.",
                       "Add \"nodev\" to the mount options.", "%s is mounted without nodev",
                       dest);
  }
}

/* ---------------------------------------------------------------- devices */

static bool is_memory_device(double major, double minor) {
  return major == 1 && (minor == 1 || minor == 2 || minor == 4);
}

static void lint_devices(struct brick_check_report *r, json_t *config) {
  json_t *linux_ = member(config, "linux");
  json_t *resources = member(linux_, "resources");
  json_t *rules = typed_member(r, resources, "devices", "linux.resources.devices", true);
  size_t i;
  json_t *rule;
  json_array_foreach(rules, i, rule) {
    if (!is_true(member(rule, "allow")))
      continue;
    const char *type = member_str(rule, "type");
    double major = -1, minor = -1;
    member_num(rule, "major", &major);
    member_num(rule, "minor", &minor);
    _cleanup_free_ char *where = xasprintf("linux.resources.devices[%zu]", i);
    bool any_type = !type || !strcmp(type, "a");
    if (any_type && major < 0)
      brick_check_report_add(r, CRIT, "devices.allow-all", where,
                       "A device rule allowing all devices lets root in the container open "
                       "host disks and memory through any device node it can create or find.",
                       "Replace it with {\"allow\": false, \"access\": \"rwm\"} followed by "
                       "the specific devices needed.",
                       "device cgroup allows all devices");
    else if ((any_type || !strcmp(type, "c")) && is_memory_device(major, minor < 0 ? 1 : minor))
      brick_check_report_add(r, CRIT, "devices.allow-memory", where,
                       "/dev/mem, /dev/kmem and /dev/port give direct access to host memory "
                       "and I/O ports.",
                       "Remove this allow rule.", "device cgroup allows memory device c %.0f:%s",
                       major, minor < 0 ? "*" : "1/2/4");
    else if (!strcmp(type, "b"))
      brick_check_report_add(r, HIGH, "devices.allow-block", where,
                       "Block device access bypasses every filesystem permission of the host "
                       "disk.",
                       "Remove the block device rule; give the container a volume instead.",
                       "device cgroup allows block devices (major %s)",
                       major < 0 ? "*" : "set");
  }

  json_t *devices = typed_member(r, linux_, "devices", "linux.devices", true);
  json_t *d;
  json_array_foreach(devices, i, d) {
    const char *path = member_str(d, "path");
    const char *type = member_str(d, "type");
    double major = -1, minor = -1;
    member_num(d, "major", &major);
    member_num(d, "minor", &minor);
    _cleanup_free_ char *where = xasprintf("linux.devices[%zu]", i);
    bool mem_path = path && (!strcmp(path, "/dev/mem") || !strcmp(path, "/dev/kmem") ||
                             !strcmp(path, "/dev/port"));
    if (mem_path || (type && !strcmp(type, "c") && is_memory_device(major, minor)))
      brick_check_report_add(r, CRIT, "devices.memory", where,
                       "/dev/mem, /dev/kmem and /dev/port give direct access to host memory "
                       "and I/O ports.",
                       "Remove the device from linux.devices.", "memory device %s in container",
                       path ? path : "?");
    else if (type && !strcmp(type, "b"))
      brick_check_report_add(r, HIGH, "devices.block", where,
                       "A host block device in the container: its filesystem permissions no "
                       "longer apply.",
                       "Remove it; give the container a volume instead.",
                       "block device %s in container", path ? path : "?");
  }
}

/* ---------------------------------------------------------------- process, limits, MAC */

static void lint_process(struct brick_check_report *r, json_t *config, bool has_userns) {
  json_t *process = member(config, "process");
  if (!is_true(member(process, "noNewPrivileges")))
    brick_check_report_add(r, WARN, "process.new-privileges", "process.noNewPrivileges",
                     "Without no_new_privs, setuid binaries and file capabilities in the "
                     "image raise privileges inside the container.",
                     "Set process.noNewPrivileges to true.", "noNewPrivileges is not set");
  double uid = 0;
  member_num(member(process, "user"), "uid", &uid);
  if (uid == 0)
    brick_check_report_add(r, has_userns ? INFO : WARN, "process.root", "process.user.uid",
                     has_userns ? "The process runs as root in the container; the user "
                                  "namespace maps it to an unprivileged host id."
                                : "The process runs as uid 0, and with no user namespace that "
                                  "is the host's uid 0 in every file it reaches.",
                     "Run as a non-root user (process.user.uid; image USER).",
                     "process runs as root (uid 0)");

  json_t *rlimits = typed_member(r, process, "rlimits", "process.rlimits", true);
  size_t i;
  json_t *rl;
  json_array_foreach(rlimits, i, rl) {
    const char *type = member_str(rl, "type");
    double hard = 0;
    if (!type || !member_num(rl, "hard", &hard))
      continue;
    bool unlimited = hard >= 9.2e18; /* RLIM_INFINITY, possibly beyond int64 */
    bool huge = unlimited || (!strcmp(type, "RLIMIT_NOFILE") && hard > 1048576);
    static const char *const guarded[] = {"RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_MEMLOCK",
                                          "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_AS",
                                          "RLIMIT_RTPRIO"};
    bool matters = false;
    for (size_t k = 0; k < ARRAY_SIZE(guarded); k++)
      matters |= !strcmp(type, guarded[k]);
    if (!huge || !matters)
      continue;
    _cleanup_free_ char *where = xasprintf("process.rlimits[%zu].hard", i);
    brick_check_report_add(r, WARN, "rlimits.huge", where,
                     "Some rlimits (open files, locked memory, pending signals) are charged to "
                     "kernel memory that cgroups do not fully account; unlimited values let "
                     "one container starve the host.",
                     "Set a finite hard limit (e.g. RLIMIT_NOFILE 1048576).",
                     "%s hard limit is %s", type, unlimited ? "unlimited" : "huge");
  }

  json_t *linux_ = member(config, "linux");
  json_t *resources = member(linux_, "resources");
  double limit = 0;
  if (!member_num(member(resources, "memory"), "limit", &limit) || limit <= 0)
    brick_check_report_add(r, WARN, "limits.memory", "linux.resources.memory.limit",
                     "Without a memory limit one container can push the whole host into the "
                     "OOM killer.",
                     "Set linux.resources.memory.limit (podman: --memory).", "no memory limit");
  limit = 0;
  if (!member_num(member(resources, "pids"), "limit", &limit) || limit <= 0)
    brick_check_report_add(r, WARN, "limits.pids", "linux.resources.pids.limit",
                     "Without a pids limit a fork bomb in the container exhausts the host's "
                     "process table.",
                     "Set linux.resources.pids.limit (podman: --pids-limit).", "no pids limit");

  json_t *sysctl = typed_member(r, linux_, "sysctl", "linux.sysctl", false);
  const char *key;
  json_t *val;
  json_object_foreach(sysctl, key, val) {
    static const char *const ns_kernel[] = {"kernel.shmmax", "kernel.shmall", "kernel.shmmni",
                                            "kernel.shm_rmid_forced", "kernel.msgmax",
                                            "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                            "kernel.domainname", "kernel.hostname"};
    bool namespaced = brick_str_has_prefix(key, "net.") || brick_str_has_prefix(key, "fs.mqueue.");
    for (size_t k = 0; k < ARRAY_SIZE(ns_kernel); k++)
      namespaced |= !strcmp(key, ns_kernel[k]);
    if (namespaced)
      continue;
    _cleanup_free_ char *where = xasprintf("linux.sysctl[\"%s\"]", key);
    brick_check_report_add(r, HIGH, "sysctl.host", where,
                     "This sysctl is not namespaced: setting it from a container changes the "
                     "whole host (e.g. kernel.core_pattern runs a program as host root).",
                     "Remove it from the container config; set host sysctls on the host.",
                     "non-namespaced sysctl %s", key);
  }

  const char *domain = member_str(member(linux_, "personality"), "domain");
  if (domain && !strcmp(domain, "LINUX32"))
    brick_check_report_add(r, WARN, "personality.linux32", "linux.personality.domain",
                     "The 32-bit personality keeps the compat syscall layer in play, an "
                     "extra, less-audited path into the kernel.",
                     "Drop linux.personality unless a 32-bit-only application needs it.",
                     "personality LINUX32");
}

static void lint_mac(struct brick_check_report *r, json_t *config) {
  json_t *process = member(config, "process");
  const char *label = member_str(process, "selinuxLabel");
  const char *landlock = member_str(member(config, "annotations"), "run.oci.brick.landlock");
  bool has_label = label && *label;
  bool has_landlock = landlock && !strcmp(landlock, "true");
  if (has_label) {
    if (strstr(label, ":spc_t:") || strstr(label, ":unconfined_t:"))
      brick_check_report_add(r, HIGH, "mac.selinux-unconfined", "process.selinuxLabel",
                       "spc_t and unconfined_t are the SELinux types for processes SELinux does "
                       "not confine: the label is there, the separation is not.",
                       "Use container_t (or a type derived from it) with a per-container MCS "
                       "category pair.",
                       "SELinux label %s does not confine", label);
    else
      brick_check_report_add(r, OK, "mac.selinux", "process.selinuxLabel", NULL, NULL,
                       "SELinux label %s", label);
  }
  if (has_landlock)
    brick_check_report_add(r, OK, "mac.landlock", "annotations[\"run.oci.brick.landlock\"]", NULL,
                     NULL, "Landlock requested");
  const char *aa = member_str(process, "apparmorProfile");
  bool has_apparmor = aa && *aa && strcmp(aa, "unconfined");
  if (has_apparmor)
    brick_check_report_add(r, OK, "mac.apparmor", "process.apparmorProfile", NULL, NULL,
                           "AppArmor profile %s", aa);
  if (!has_label && !has_landlock && !has_apparmor)
    brick_check_report_add(r, WARN, "mac.none",
                     landlock ? "annotations[\"run.oci.brick.landlock\"]" : "process.selinuxLabel",
                     "Neither an SELinux label, an AppArmor profile nor Landlock: nothing but DAC stands between a "
                     "process that escapes the namespaces and the host's files. SELinux is a "
                     "labeling system; it separates containers only when they carry labels.",
                     "Set process.selinuxLabel (e.g. system_u:system_r:container_t:s0:c1,c2) "
                     "on SELinux hosts, or the annotation run.oci.brick.landlock=true.",
                     "no SELinux label, AppArmor profile or Landlock");
  if (aa && !strcmp(aa, "unconfined"))
    brick_check_report_add(r, WARN, "mac.apparmor-unconfined", "process.apparmorProfile",
                     "An unconfined AppArmor profile turns off the host's mandatory access "
                     "control for this container.",
                     "Use the engine's default profile (containers-default, docker-default).",
                     "AppArmor profile is unconfined");
}

/* ---------------------------------------------------------------- entry points */

struct brick_check_report *brick_check_config_json(json_t *config, const char *name, brick_err *err) {
  if (!json_is_object(config)) {
    brick_error(err, 0, "%s: config is not a JSON object", name ? name : "config");
    return NULL;
  }
  struct brick_check_report *r = brick_check_report_new("config", name);
  const char *version = member_str(config, "ociVersion");
  if (version)
    json_object_set_new(r->facts, "ociVersion", json_string(version));

  bool has_userns = false;
  size_t i;
  json_t *ns;
  json_array_foreach(member(member(config, "linux"), "namespaces"), i, ns) {
    const char *type = member_str(ns, "type");
    has_userns |= type && !strcmp(type, "user");
  }
  lint_capabilities(r, config);
  lint_seccomp(r, config);
  lint_namespaces(r, config);
  lint_paths(r, config);
  lint_mounts(r, config);
  lint_devices(r, config);
  lint_process(r, config, has_userns);
  lint_mac(r, config);
  return r;
}

struct brick_check_report *brick_check_config_file(const char *path, brick_err *err) {
  json_error_t jerr;
  _cleanup_json_ json_t *doc = json_load_file(path, 0, &jerr);
  if (!doc) {
    /* RLIM_INFINITY (2^64-1) and other unsigned values do not fit jansson's int64;
     * reading numbers as doubles keeps such configs auditable. */
    json_error_t jerr2;
    doc = json_load_file(path, JSON_DECODE_INT_AS_REAL, &jerr2);
  }
  if (!doc) {
    brick_error(err, 0, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    return NULL;
  }
  return brick_check_config_json(doc, path, err);
}

char *brick_check_config_path_for_id(const char *state_root, const char *id, brick_err *err) {
  if (!*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, "..")) {
    brick_error(err, 0, "invalid container id \"%s\"", id);
    return NULL;
  }
  _cleanup_free_ char *state_path = xasprintf("%s/%s/state.json", state_root, id);
  json_error_t jerr;
  _cleanup_json_ json_t *state = json_load_file(state_path, 0, &jerr);
  if (!state) {
    if (access(state_path, F_OK) < 0)
      brick_errno(err, "container %s: %s", id, state_path);
    else
      brick_error(err, 0, "%s: %s", state_path, jerr.text);
    return NULL;
  }
  const char *bundle = member_str(state, "bundle");
  if (!bundle || !*bundle) {
    brick_error(err, 0, "%s: no \"bundle\" member", state_path);
    return NULL;
  }
  return xasprintf("%s/config.json", bundle);
}
