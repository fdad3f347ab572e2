/* rpm version order: rpmvercmp compares alternating alphabetic and numeric segments,
 * ignoring other separators; '~' sorts before anything (even the end) and '^' after the
 * end but before any further segment. Full EVRs compare epoch (numerically), version,
 * then release, a missing release counting as empty (what rpm 4.18's rpm.vercmp does). */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_sep(char c) { return c && !is_alpha(c) && !is_digit(c) && c != '~' && c != '^'; }

static int seg_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  size_t n = alen < blen ? alen : blen;
  int r = memcmp(a, b, n);
  if (r)
    return r < 0 ? -1 : 1;
  return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

int brick_rpmvercmp(const char *a, const char *b) {
  if (strcmp(a, b) == 0)
    return 0;
  while (*a || *b) {
    while (is_sep(*a))
      a++;
    while (is_sep(*b))
      b++;
    if (*a == '~' || *b == '~') {
      if (*a != '~')
        return 1;
      if (*b != '~')
        return -1;
      a++, b++;
      continue;
    }
    if (*a == '^' || *b == '^') {
      if (!*a)
        return -1;
      if (!*b)
        return 1;
      if (*a != '^')
        return 1;
      if (*b != '^')
        return -1;
      a++, b++;
      continue;
    }
    if (!*a || !*b)
      break;
    const char *ea = a, *eb = b;
    bool numeric = is_digit(*a);
    if (numeric) {
      while (is_digit(*ea))
        ea++;
      while (is_digit(*eb))
        eb++;
    } else {
      while (is_alpha(*ea))
        ea++;
      while (is_alpha(*eb))
        eb++;
    }
    if (eb == b) /* segment types differ: numbers are newer than letters */
      return numeric ? 1 : -1;
    if (numeric) {
      while (*a == '0' && a < ea)
        a++;
      while (*b == '0' && b < eb)
        b++;
      size_t la = (size_t)(ea - a), lb = (size_t)(eb - b);
      if (la != lb)
        return la > lb ? 1 : -1;
    }
    int r = seg_cmp(a, (size_t)(ea - a), b, (size_t)(eb - b));
    if (r)
      return r;
    a = ea;
    b = eb;
  }
  if (!*a && !*b)
    return 0;
  return *a ? 1 : -1;
}

struct evr {
  char *buf;
  const char *e, *v, *r;
};

static void evr_parse(const char *s, struct evr *o) {
  o->buf = strdup(s);
  if (!o->buf)
    abort();
  char *p = o->buf;
  while (is_digit(*p))
    p++;
  char *hyphen = strrchr(p, '-');
  if (*p == ':') {
    o->e = o->buf;
    *p++ = '\0';
    o->v = p;
    if (!*o->e)
      o->e = "0";
  } else {
    o->e = "0";
    o->v = o->buf;
  }
  if (hyphen) {
    *hyphen = '\0';
    o->r = hyphen + 1;
  } else {
    o->r = NULL;
  }
}

int brick_vercmp_rpm(const char *a, const char *b) {
  struct evr ea, eb;
  evr_parse(a, &ea);
  evr_parse(b, &eb);
  int r = brick_rpmvercmp(ea.e, eb.e);
  if (!r)
    r = brick_rpmvercmp(ea.v, eb.v);
  if (!r)
    r = brick_rpmvercmp(ea.r ? ea.r : "", eb.r ? eb.r : "");
  free(ea.buf);
  free(eb.buf);
  return r;
}

int brick_vercmp(enum brick_pkg_kind kind, const char *a, const char *b) {
  switch (kind) {
  case BRICK_PKG_DPKG: return brick_vercmp_dpkg(a, b);
  case BRICK_PKG_RPM: return brick_vercmp_rpm(a, b);
  case BRICK_PKG_APK: return brick_vercmp_apk(a, b);
  }
  return strcmp(a, b);
}

const char *brick_pkg_kind_name(enum brick_pkg_kind kind) {
  switch (kind) {
  case BRICK_PKG_DPKG: return "dpkg";
  case BRICK_PKG_RPM: return "rpm";
  case BRICK_PKG_APK: return "apk";
  }
  return "unknown";
}

int brick_pkg_kind_parse(const char *s) {
  if (!strcmp(s, "dpkg") || !strcmp(s, "deb") || !strcmp(s, "debian"))
    return BRICK_PKG_DPKG;
  if (!strcmp(s, "rpm"))
    return BRICK_PKG_RPM;
  if (!strcmp(s, "apk") || !strcmp(s, "alpine"))
    return BRICK_PKG_APK;
  return -1;
}
