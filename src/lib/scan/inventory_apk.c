/* apk's installed database (lib/apk/db/installed): blank-line separated records of
 * "K:value" lines; P name, V version, A arch, o origin (the source package Alpine's
 * advisories name). */
#include <string.h>

#include "core/util.h"
#include "scan/scan.h"

int brick_apk_parse_installed(const char *buf, size_t len, const char *origin,
                              struct brick_inventory *inv, brick_err *err) {
  const char *s = buf, *end = buf + len;
  char *name = NULL, *version = NULL, *arch = NULL, *src = NULL;
  size_t lineno = 0, start_line = 1;
  int rc = 0;
  while (s <= end) {
    const char *nl = s < end ? memchr(s, '\n', (size_t)(end - s)) : NULL;
    const char *eol = nl ? nl : end;
    size_t n = (size_t)(eol - s);
    lineno++;
    if (n == 0) {
      if (name || version) {
        if (!name || !version) {
          rc = brick_error(err, 0, "%s: record at line %zu lacks %s", origin, start_line,
                           name ? "V: (version)" : "P: (name)");
          break;
        }
        brick_inventory_add(inv, BRICK_PKG_APK, name, version, arch, src, NULL);
      }
      free(name), free(version), free(arch), free(src);
      name = version = arch = src = NULL;
      start_line = lineno + 1;
    } else if (n >= 2 && s[1] == ':') {
      char **slot = NULL;
      switch (s[0]) {
      case 'P': slot = &name; break;
      case 'V': slot = &version; break;
      case 'A': slot = &arch; break;
      case 'o': slot = &src; break;
      }
      if (slot) {
        free(*slot);
        *slot = strndup(s + 2, n - 2);
      }
    } else {
      rc = brick_error(err, 0, "%s: line %zu: expected \"K:value\"", origin, lineno);
      break;
    }
    if (!nl)
      break;
    s = nl + 1;
  }
  if (rc == 0 && (name || version)) {
    if (!name || !version)
      rc = brick_error(err, 0, "%s: record at line %zu lacks %s", origin, start_line,
                       name ? "V: (version)" : "P: (name)");
    else
      brick_inventory_add(inv, BRICK_PKG_APK, name, version, arch, src, NULL);
  }
  free(name), free(version), free(arch), free(src);
  return rc;
}
