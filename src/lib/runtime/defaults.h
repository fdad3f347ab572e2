/* brick's secure defaults (issue 4): the config `brick spec` writes and the base that
 * `brick run IMAGE` fills from the image config. */
#ifndef BRICK_DEFAULTS_H
#define BRICK_DEFAULTS_H

#include <jansson.h>
#include <stdbool.h>

/* A complete config.json object (ociVersion 1.3.0) with every layer on: all namespaces
 * incl. user and cgroup, podman's 11 capabilities at most, no_new_privs, read-only and
 * masked paths, minimal devices, nodev mounts, the default seccomp profile, a pids limit,
 * and the Landlock annotation. args = ["sh"], root.path = "rootfs".
 * rootless: no user-namespace id pool (maps the caller's id), no cgroup limits. */
json_t *brick_default_config(bool rootless);

/* Annotation keys brick understands. */
#define BRICK_ANNOTATION_LANDLOCK "run.oci.brick.landlock"      /* "true" (default) / "false" */
#define BRICK_ANNOTATION_USERNS_AUTO "run.oci.brick.userns"     /* "auto": allocate a range */
#define BRICK_ANNOTATION_OWNED_BUNDLE "run.oci.brick.owned-bundle" /* runtime removes bundle on delete */
/* An image rootfs the runtime assembles (see rootfs.h): the shared read-only layer and
 * the container's private upper and work directories. */
#define BRICK_ANNOTATION_OVERLAY_LOWER "run.oci.brick.overlay.lower"
#define BRICK_ANNOTATION_OVERLAY_UPPER "run.oci.brick.overlay.upper"
#define BRICK_ANNOTATION_OVERLAY_WORK "run.oci.brick.overlay.work"

#endif
