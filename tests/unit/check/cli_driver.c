/* Runs cmd_check the way src/cli/main.c does, for testing the check CLI on its own:
 *   brick-check-cli [--root DIR] [--store DIR] check ARGS... */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../../../src/cli/cli.h"

int main(int argc, char **argv) {
  struct brick_global g = {.root = "/run/brick", .store = "/var/lib/brick"};
  int i = 1;
  for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
    if (!strcmp(argv[i], "--root"))
      g.root = argv[i + 1];
    else if (!strcmp(argv[i], "--store"))
      g.store = argv[i + 1];
    else
      break;
  }
  if (i >= argc || strcmp(argv[i], "check")) {
    fputs("usage: brick-check-cli [--root DIR] [--store DIR] check ...\n", stderr);
    return 2;
  }
  optind = 0;
  return cmd_check(&g, argc - i, argv + i);
}
