/* A brick binary reduced to the trust verbs, so the trust CLI can be exercised while
 * other modules are mid-edit (integration tests run it with BRICK=<this binary>). */
#include <stdio.h>
#include <string.h>

#include "../../../src/cli/cli.h"

int main(int argc, char **argv) {
  struct brick_global g = {.root = "/run/brick", .store = "/var/lib/brick"};
  static const struct {
    const char *name;
    brick_cmd_fn fn;
  } verbs[] = {{"sign", cmd_sign}, {"verify", cmd_verify}, {"key", cmd_key},
               {"policy", cmd_policy}};
  if (argc < 2) {
    fputs("usage: brick-trust sign|verify|key|policy ...\n", stderr);
    return 2;
  }
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (!strcmp(argv[1], verbs[i].name))
      return verbs[i].fn(&g, argc - 1, argv + 1);
  fprintf(stderr, "brick: unknown command \"%s\"\n", argv[1]);
  return 2;
}
