#include <stdio.h>
#include "cli.h"
/* placeholder until the check module lands */
int cmd_check(const struct brick_global *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; fputs("brick: check: not built yet\n", stderr); return 1; }
