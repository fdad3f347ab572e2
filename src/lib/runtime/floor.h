/* The host floor (issue 4.10): a host-wide list of settings no container config may
 * reach, whatever engine wrote it. A config is honoured as the runtime-spec says unless
 * it crosses the floor; then create fails naming the setting and the rule.
 *
 * /etc/brick/brick.conf (env BRICK_CONF overrides the path) is JSON:
 *   {"refuse": ["SYS_ADMIN", "seccomp-off", "no-userns", "host-pid", "host-net", ...]}
 * No file means no floor. Rules:
 *   <capability>      "SYS_ADMIN" or "CAP_SYS_ADMIN": in any capability set
 *   seccomp-off       no linux.seccomp, or a defaultAction that allows (ALLOW, LOG)
 *   no-userns         no user namespace, or one that maps container root to host root
 *   host-pid, host-net, host-ipc, host-uts, host-mount, host-cgroup
 *                     that namespace is not created (the host's is kept)
 *   writable-sys      /sys, /sys/... or /proc/sys mounted without "ro"
 *   privileged-mount  a bind mount of the host's /, /proc, /sys, /dev, /boot,
 *                     /lib/modules or of an engine's API socket
 *   all-devices       linux.resources.devices allows every device ("a")
 *   new-privileges    process.noNewPrivileges is false */
#ifndef BRICK_RUNTIME_FLOOR_H
#define BRICK_RUNTIME_FLOOR_H

#include "core/error.h"
#include "spec/spec.h"

#define BRICK_FLOOR_DEFAULT_PATH "/etc/brick/brick.conf"

/* The floor file to use: conf_path if given, else $BRICK_CONF, else the default. */
const char *brick_floor_path(const char *conf_path);

/* 0 when spec stays above the floor (or there is no floor file); -1 with
 * "config.json: <json path>: <what> refused by <file> (rule \"<rule>\")" otherwise, or
 * with "<file>: ..." when the floor file itself is unreadable or malformed. */
int brick_floor_check(const struct brick_spec *spec, const char *conf_path, brick_err *err);

/* The process-level rules alone (capabilities, new-privileges), for exec --process;
 * name_for_errors is what messages call the document ("process.json"). */
int brick_floor_check_process(const struct brick_process *proc, const char *name_for_errors,
                              const char *conf_path, brick_err *err);

#endif
