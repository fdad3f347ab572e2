#include <stdio.h>
#include "cli.h"
/* placeholder until the scan module lands */
int cmd_scan(const struct brick_global *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; fputs("brick: scan: not built yet\n", stderr); return 1; }
int cmd_db(const struct brick_global *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; fputs("brick: scan: not built yet\n", stderr); return 1; }
