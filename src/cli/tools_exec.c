/* brick is what engines run for every container lifecycle step, so it links only the
 * runtime's libraries: libarchive (which pulls ICU, libxml2 and libstdc++), gpgme and
 * SQLite cost ~20 ms of relocation and constructors and ~300 page faults at every
 * start. The image, scan, trust and check verbs (and the image form of run/create)
 * run in brick-tools, the full CLI, which this file execs with the original command
 * line. Only this binary's non-runtime verbs come here; the runtime never re-execs. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/core/util.h"
#include "cli.h"

#ifndef BRICK_LIBEXECDIR
#define BRICK_LIBEXECDIR "/usr/local/libexec/brick"
#endif

static int saved_argc;
static char **saved_argv;

void cli_save_argv(int argc, char **argv) {
  saved_argc = argc;
  saved_argv = argv;
}

/* Next to this binary (a build tree), else the installed libexec path; BRICK_TOOLS
 * overrides both. */
static char *tools_path(void) {
  const char *env = getenv("BRICK_TOOLS");
  if (env && *env)
    return xstrdup(env);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) {
      *slash = '\0';
      char *p = xasprintf("%s/brick-tools", self);
      if (access(p, X_OK) == 0)
        return p;
      free(p);
    }
  }
  return xstrdup(BRICK_LIBEXECDIR "/brick-tools");
}

static int exec_tools(void) {
  if (!saved_argv) {
    fprintf(stderr, "brick: internal error: command line not saved\n");
    return 1;
  }
  _cleanup_free_ char *path = tools_path();
  char **argv = xcalloc((size_t)saved_argc + 1, sizeof *argv);
  memcpy(argv, saved_argv, (size_t)saved_argc * sizeof *argv);
  argv[0] = path;
  fflush(NULL);
  execv(path, argv);
  fprintf(stderr, "brick: this command needs %s: %s\n", path, strerror(errno));
  free(argv);
  return 127;
}

/* The image form needs the store's libraries: when the arguments allow it and a
 * store exists, brick-tools decides (and runs the OCI form itself if it is not). */
bool cli_is_image_run(const struct brick_global *g, int argc, char **argv) {
  struct stat st;
  return cli_run_form_image_candidate(argc, argv) && stat(g->store, &st) == 0;
}

int cmd_image_run(const struct brick_global *g, int argc, char **argv, bool create_only) {
  return exec_tools();
}

int cmd_image(const struct brick_global *g, int argc, char **argv) { return exec_tools(); }
int cmd_scan(const struct brick_global *g, int argc, char **argv) { return exec_tools(); }
int cmd_db(const struct brick_global *g, int argc, char **argv) { return exec_tools(); }
int cmd_sign(const struct brick_global *g, int argc, char **argv) { return exec_tools(); }
int cmd_verify(const struct brick_global *g, int argc, char **argv) { return exec_tools(); }
int cmd_key(const struct brick_global *g, int argc, char **argv) { return exec_tools(); }
int cmd_policy(const struct brick_global *g, int argc, char **argv) { return exec_tools(); }
int cmd_check(const struct brick_global *g, int argc, char **argv) { return exec_tools(); }
