/* Audits: `brick check host|config|image`. Each audit produces a report of findings;
 * a finding says what was seen, how bad it is for container separation, and how to
 * fix it. The audits never change anything: they read files (under a configurable
 * root, so tests can hand them fake /proc, /sys and /etc trees) and make a few
 * read-only probing syscalls that tests can replace. */
#ifndef BRICK_CHECK_H
#define BRICK_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/error.h"

enum brick_check_level {
  BRICK_CHECK_OK = 0,
  BRICK_CHECK_INFO,
  BRICK_CHECK_WARN,
  BRICK_CHECK_HIGH,
  BRICK_CHECK_CRITICAL,
};

struct brick_check_finding {
  char *id;      /* stable identifier, e.g. "selinux.disabled", "caps.sys_admin" */
  enum brick_check_level level;
  char *where;   /* JSON path, file path or probe name; may be NULL */
  char *title;   /* one line: what was found */
  char *why;     /* what it means for container separation */
  char *fix;     /* how to fix it; may be NULL for ok/info */
};

struct brick_check_report {
  char *kind;     /* "host", "config", "image" */
  char *subject;  /* what was checked: root dir, config path, rootfs */
  struct brick_check_finding *findings;
  size_t n_findings, cap_findings;
  json_t *facts;  /* machine-readable observations (kernel, landlock_abi, layers, ...) */
};

/* ---- report (check_report.c) ---- */
struct brick_check_report *brick_check_report_new(const char *kind, const char *subject);
void brick_check_report_free(struct brick_check_report *r);
/* Add a finding; title is a printf format. where/why/fix may be NULL. */
void brick_check_report_add(struct brick_check_report *r, enum brick_check_level level, const char *id,
                      const char *where, const char *why, const char *fix,
                      const char *title_fmt, ...) __attribute__((format(printf, 7, 8)));
/* First finding with this id (and, when where != NULL, this location), or NULL. */
const struct brick_check_finding *brick_check_report_find(const struct brick_check_report *r, const char *id,
                                              const char *where);
size_t brick_check_report_count(const struct brick_check_report *r, enum brick_check_level level);
/* Highest level of any finding; BRICK_CHECK_OK for an empty report. */
enum brick_check_level brick_check_report_worst(const struct brick_check_report *r);
const char *brick_check_level_name(enum brick_check_level level);
/* "ok", "info", "warn"/"warning", "high", "critical" (any case); -1 on unknown. */
int brick_check_level_from_name(const char *name, enum brick_check_level *out);
json_t *brick_check_report_to_json(const struct brick_check_report *r);
/* Readable text report; findings below min_level are omitted (the summary counts all). */
void brick_check_report_print(const struct brick_check_report *r, FILE *out, bool color,
                        enum brick_check_level min_level);

/* ---- host (check_host.c) ---- */
/* Syscall-only probes, replaceable in tests. Each returns its result or -1 with errno. */
struct brick_host_probes {
  /* Landlock ABI version (>= 1), 0 when the kernel has no Landlock. */
  int (*landlock_abi)(void);
  /* Whether an idmapped mount of dir works: 1 yes, 0 the filesystem refuses it,
   * -1 (errno set) when the probe could not run (e.g. not root). */
  int (*idmap_mount)(const char *dir);
  /* Whether the loaded SELinux policy knows context ctx: 1 yes, 0 no, -1 unknown. */
  int (*selinux_context_valid)(const char *ctx);
  /* PR_GET_SECCOMP for the calling process: its mode, or -1 (EINVAL: no seccomp). */
  int (*seccomp_mode)(void);
};
extern const struct brick_host_probes brick_host_probes_kernel;

struct brick_host_opts {
  const char *root_dir;      /* where /proc, /sys and /etc are read; NULL = "/" */
  const char *store_dir;     /* image store to probe for idmapped mounts; NULL = /var/lib/brick */
  const char *state_dir;     /* runtime state dir; NULL = /run/brick */
  const char *runtime_path;  /* the brick binary; NULL = /proc/self/exe */
  unsigned containers;       /* containers to size the id pool for; 0 = 1 */
  const struct brick_host_probes *probes; /* NULL = brick_host_probes_kernel */
};

struct brick_check_report *brick_check_host(const struct brick_host_opts *opts, brick_err *err);

/* ---- config (check_config.c) ---- */
/* Lint a config.json document (raw JSON, so configs a strict parser rejects can still
 * be audited); name is used as the report subject. */
struct brick_check_report *brick_check_config_json(json_t *config, const char *name, brick_err *err);
struct brick_check_report *brick_check_config_file(const char *path, brick_err *err);
/* Find the config.json of container id in state dir root (<root>/<id>/state.json
 * "bundle"); returns a malloc'd path. */
char *brick_check_config_path_for_id(const char *state_root, const char *id, brick_err *err);
/* Podman's default capability set (the baseline above which caps are findings). */
bool brick_check_cap_is_default(const char *cap_name);

/* ---- image (check_image.c) ---- */
struct brick_image_check_opts {
  const char *rootfs;           /* extracted root filesystem (required) */
  json_t *image_config;         /* image config document (OCI/Docker), may be NULL */
  json_t *scan_summary;         /* {"critical":n,"high":n,...} from a scan, may be NULL */
  size_t max_per_kind;          /* cap on listed files per finding kind; 0 = 50 */
};
struct brick_check_report *brick_check_image(const struct brick_image_check_opts *opts,
                                       brick_err *err);

#endif
