#include <stdio.h>
#include "cli.h"
/* placeholder until the image module lands */
int cmd_image(const struct brick_global *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; fputs("brick: image: not built yet\n", stderr); return 1; }
int cmd_image_run(const struct brick_global *g, int argc, char **argv, bool c) { (void)g; (void)argc; (void)argv; (void)c; fputs("brick: images: not built yet\n", stderr); return 1; }
bool cli_is_image_run(const struct brick_global *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; return false; }
