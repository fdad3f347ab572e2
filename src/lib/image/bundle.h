/* `brick run IMAGE`: an OCI bundle under <store>/containers/<id>/ whose rootfs is an
 * overlay (lowerdir = the image's shared read-only rootfs, private upper/work in the
 * bundle) that the runtime mounts inside the container (annotations
 * run.oci.brick.overlay.{lower,upper,work}; root.path is an empty directory), and whose
 * config.json is brick's secure default filled from the image config
 * (Entrypoint, Cmd, Env, WorkingDir, User, StopSignal) and the run options. */
#ifndef BRICK_IMAGE_BUNDLE_H
#define BRICK_IMAGE_BUNDLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "image/store.h"

#define BRICK_ANNOTATION_IMAGE "run.oci.brick.image"
#define BRICK_ANNOTATION_BUNDLE_OWNED "run.oci.brick.owned-bundle"
#define BRICK_ANNOTATION_STOP_SIGNAL "org.opencontainers.image.stopSignal"

struct brick_run_opts {
  const char *id;          /* container id */
  char **cmd;              /* CMD... after IMAGE; NULL/empty = the image's Cmd */
  const char *entrypoint;  /* --entrypoint; NULL = the image's, "" = none */
  char **env;              /* -e K=V (or K: taken from the caller's environment) */
  char **volumes;          /* -v SRC:DST[:ro|:rw] */
  const char *user;        /* --user U[:G] (names resolved in the image) */
  const char *workdir;     /* --workdir */
  const char *hostname;    /* --hostname; default: the id */
  uint64_t memory;         /* --memory bytes, 0 = unset */
  int64_t pids_limit;      /* --pids-limit, 0 = unset */
  bool read_only;          /* --read-only */
  bool tty;                /* -t */
};

/* Fill base (brick_default_config()) in place for image config img_config (the whole
 * image config document) with rootfs (a directory fd of the image rootfs, used to read
 * /etc/passwd and /etc/group) and the run options. root_path becomes root.path. */
int brick_bundle_fill_config(json_t *base, json_t *img_config, int rootfd, const char *root_path,
                             const char *image_id, const struct brick_run_opts *o,
                             brick_err *err);

/* Create <store>/containers/<id>/ (config.json, upper/, work/ and an empty rootfs/; the
 * overlay annotations name the image rootfs, upper and work) from base (consumed: filled as above). *bundle_out = the bundle directory. On
 * failure nothing is left behind. */
int brick_bundle_create(struct brick_store *s, const struct brick_image_info *img, json_t *base,
                        const struct brick_run_opts *o, char **bundle_out, brick_err *err);
/* Remove the bundle (for failures before the runtime owns it). */
int brick_bundle_destroy(const char *bundle, brick_err *err);

/* "user", "uid", "user:group", "uid:gid" ... resolved against the image's /etc/passwd and
 * /etc/group (read inside rootfd, never the host's). *gids = supplementary groups of a
 * named user (malloc'd, may be NULL with *ngids 0). */
int brick_user_resolve(int rootfd, const char *spec, uid_t *uid, gid_t *gid, gid_t **gids,
                       size_t *ngids, brick_err *err);

/* "512m", "1g", "1048576" -> bytes. */
int brick_parse_size(const char *s, uint64_t *out, brick_err *err);

/* A random 12-hex container id. */
char *brick_random_id(void);

#endif
