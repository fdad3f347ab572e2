/* The dpkg reference: dpkg's own libdpkg (what `dpkg --compare-versions` runs), reading
 * "A B" pairs on stdin and printing -1/0/1. Built by vercmp_reference.py when libdpkg-dev
 * is installed, so thousands of pairs cost milliseconds instead of a dpkg process each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIBDPKG_VOLATILE_API 1
#include <dpkg/dpkg.h>
#include <dpkg/dpkg-db.h>
#include <dpkg/parsedump.h>

int main(void) {
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    char *save = NULL;
    char *a = strtok_r(line, " \t\n", &save), *b = strtok_r(NULL, " \t\n", &save);
    struct dpkg_version va, vb;
    struct dpkg_error err = DPKG_ERROR_INIT;
    if (!a || !b || parseversion(&va, a, &err) < 0 || parseversion(&vb, b, &err) < 0) {
      puts("?");
      continue;
    }
    int r = dpkg_version_compare(&va, &vb);
    printf("%d\n", r < 0 ? -1 : r > 0);
  }
  return 0;
}
