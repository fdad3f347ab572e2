/* Reads "A B" pairs on stdin, prints -1/0/1 per pair: lets the tests compare brick's
 * version order with dpkg's and rpm's own on many generated pairs in one process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

int main(int argc, char **argv) {
  if (argc != 2 || brick_pkg_kind_parse(argv[1]) < 0) {
    fprintf(stderr, "usage: vercmp_tool dpkg|rpm|apk < pairs\n");
    return 2;
  }
  enum brick_pkg_kind kind = (enum brick_pkg_kind)brick_pkg_kind_parse(argv[1]);
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    char *save = NULL;
    char *a = strtok_r(line, " \t\n", &save), *b = strtok_r(NULL, " \t\n", &save);
    if (!a || !b)
      return 2;
    int r = brick_vercmp(kind, a, b);
    printf("%d\n", r < 0 ? -1 : r > 0);
  }
  free(line);
  return 0;
}
