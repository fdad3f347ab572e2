/* Which form of run/create the arguments are, as far as the arguments alone tell:
 * shared by brick (which must decide without the image store's libraries) and
 * brick-tools (which then asks the store). The rule is documented at
 * cli_is_image_run in cmd_image.c. */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

const char *cli_run_form_image_candidate(int argc, char **argv) {
  /* options that take a value in either form, so their value is not a positional */
  static const char *const with_value[] = {
      "-e", "--env", "-v", "--volume", "-u", "--user", "-w", "--workdir", "--memory",
      "--pids-limit", "--name", "--hostname", "--entrypoint", NULL};
  static const char *const oci_only[] = {"--bundle", "-b", "--pid-file", "--console-socket",
                                         "--no-pivot", "--preserve-fds", NULL};
  const char *first = NULL;
  int positionals = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) {
      if (i + 1 < argc) {
        positionals += argc - i - 1;
        if (!first)
          first = argv[i + 1];
      }
      break;
    }
    if (a[0] == '-' && a[1]) {
      if (first)
        continue; /* after IMAGE everything belongs to CMD */
      for (size_t k = 0; oci_only[k]; k++) {
        size_t n = strlen(oci_only[k]);
        if (!strncmp(a, oci_only[k], n) && (a[n] == '\0' || a[n] == '=' ||
                                            (oci_only[k][1] != '-' && a[n])))
          return NULL;
      }
      for (size_t k = 0; with_value[k]; k++)
        if (!strcmp(a, with_value[k])) {
          i++;
          break;
        }
      continue;
    }
    positionals++;
    if (!first)
      first = a;
  }
  if (!first)
    return NULL;
  struct stat st;
  if (positionals == 1 && stat("config.json", &st) == 0)
    return NULL;
  return first;
}
