/* dpkg's status database (var/lib/dpkg/status, and distroless images'
 * var/lib/dpkg/status.d/<pkg> files): RFC 822-style paragraphs. Only packages whose
 * Status says "installed" count; status.d files carry no Status and are all installed. */
#include <ctype.h>
#include <string.h>

#include "core/util.h"
#include "scan/scan.h"

struct para {
  char *package, *version, *arch, *source, *status;
};

static void para_reset(struct para *p) {
  free(p->package);
  free(p->version);
  free(p->arch);
  free(p->source);
  free(p->status);
  memset(p, 0, sizeof *p);
}

static char *trimmed(const char *s, size_t n) {
  while (n && isspace((unsigned char)*s))
    s++, n--;
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  return strndup(s, n);
}

static bool status_installed(const char *status) {
  if (!status)
    return true;
  /* "want flag status": the third word */
  const char *last = strrchr(status, ' ');
  const char *word = last ? last + 1 : status;
  return strcmp(word, "installed") == 0;
}

static int flush(struct para *p, const char *origin, size_t line, struct brick_inventory *inv,
                 brick_err *err) {
  if (!p->package && !p->version && !p->status) {
    para_reset(p);
    return 0;
  }
  if (!p->package) {
    para_reset(p);
    return brick_error(err, 0, "%s: paragraph ending at line %zu has no Package field", origin,
                       line);
  }
  if (status_installed(p->status)) {
    if (!p->version) {
      int r = brick_error(err, 0, "%s: package %s (line %zu) has no Version field", origin,
                          p->package, line);
      para_reset(p);
      return r;
    }
    /* "Source: name (version)" when the source version differs from the binary one */
    _cleanup_free_ char *src = NULL, *src_version = NULL;
    if (p->source) {
      char *paren = strchr(p->source, '(');
      if (paren) {
        char *close = strchr(paren, ')');
        src_version = trimmed(paren + 1, close ? (size_t)(close - paren - 1) : strlen(paren + 1));
        src = trimmed(p->source, (size_t)(paren - p->source));
      } else {
        src = xstrdup(p->source);
      }
    }
    brick_inventory_add(inv, BRICK_PKG_DPKG, p->package, p->version, p->arch, src, src_version);
  }
  para_reset(p);
  return 0;
}

int brick_dpkg_parse_status(const char *buf, size_t len, const char *origin,
                            struct brick_inventory *inv, brick_err *err) {
  struct para p = {0};
  const char *s = buf, *end = buf + len;
  size_t lineno = 0;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *eol = nl ? nl : end;
    lineno++;
    size_t n = (size_t)(eol - s);
    if (n && s[n - 1] == '\r')
      n--;
    /* only a line starting with white space can be blank (most such lines continue a
     * Description: stop at their first visible character) */
    bool blank = true;
    for (size_t i = 0; i < n && blank; i++)
      blank = isspace((unsigned char)s[i]);
    if (blank) {
      if (flush(&p, origin, lineno, inv, err) < 0)
        return -1;
    } else if (s[0] != ' ' && s[0] != '\t') {
      const char *colon = memchr(s, ':', n);
      if (!colon) {
        para_reset(&p);
        return brick_error(err, 0, "%s: line %zu: expected \"Field: value\"", origin, lineno);
      }
      size_t klen = (size_t)(colon - s);
      char **slot = NULL;
      if (klen == 7 && !strncasecmp(s, "Package", 7))
        slot = &p.package;
      else if (klen == 7 && !strncasecmp(s, "Version", 7))
        slot = &p.version;
      else if (klen == 12 && !strncasecmp(s, "Architecture", 12))
        slot = &p.arch;
      else if (klen == 6 && !strncasecmp(s, "Source", 6))
        slot = &p.source;
      else if (klen == 6 && !strncasecmp(s, "Status", 6))
        slot = &p.status;
      if (slot) {
        free(*slot);
        *slot = trimmed(colon + 1, n - klen - 1);
      }
    }
    s = nl ? nl + 1 : end;
  }
  return flush(&p, origin, lineno, inv, err);
}
