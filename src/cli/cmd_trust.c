#include <stdio.h>
#include "cli.h"
/* placeholder until the trust module lands */
int cmd_sign(const struct brick_global *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; fputs("brick: trust: not built yet\n", stderr); return 1; }
int cmd_verify(const struct brick_global *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; fputs("brick: trust: not built yet\n", stderr); return 1; }
int cmd_key(const struct brick_global *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; fputs("brick: trust: not built yet\n", stderr); return 1; }
int cmd_policy(const struct brick_global *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; fputs("brick: trust: not built yet\n", stderr); return 1; }
