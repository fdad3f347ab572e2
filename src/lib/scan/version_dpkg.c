/* Debian version order (deb-version(7)): [epoch:]upstream[-revision]; epochs compare as
 * numbers, then upstream and revision by alternating non-digit runs (letters before
 * non-letters, '~' before everything, even the end) and digit runs (numerically). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

static int char_order(char c) {
  if (isdigit((unsigned char)c))
    return 0;
  if (isalpha((unsigned char)c))
    return (unsigned char)c;
  if (c == '~')
    return -1;
  if (c)
    return (unsigned char)c + 256;
  return 0;
}

/* Compares [a, a_end) with [b, b_end). */
static int part_cmp(const char *a, const char *a_end, const char *b, const char *b_end) {
  while (a < a_end || b < b_end) {
    while ((a < a_end && !isdigit((unsigned char)*a)) ||
           (b < b_end && !isdigit((unsigned char)*b))) {
      int ac = a < a_end ? char_order(*a) : 0;
      int bc = b < b_end ? char_order(*b) : 0;
      if (ac != bc)
        return ac - bc;
      if (a < a_end)
        a++;
      if (b < b_end)
        b++;
    }
    while (a < a_end && *a == '0')
      a++;
    while (b < b_end && *b == '0')
      b++;
    int first_diff = 0;
    while (a < a_end && isdigit((unsigned char)*a) && b < b_end && isdigit((unsigned char)*b)) {
      if (!first_diff)
        first_diff = *a - *b;
      a++;
      b++;
    }
    if (a < a_end && isdigit((unsigned char)*a))
      return 1;
    if (b < b_end && isdigit((unsigned char)*b))
      return -1;
    if (first_diff)
      return first_diff;
  }
  return 0;
}

struct dpkg_ver {
  unsigned long long epoch;
  const char *up, *up_end, *rev, *rev_end;
};

static void split(const char *s, struct dpkg_ver *v) {
  while (isspace((unsigned char)*s))
    s++;
  const char *end = s + strlen(s);
  while (end > s && isspace((unsigned char)end[-1]))
    end--;
  v->epoch = 0;
  const char *colon = memchr(s, ':', (size_t)(end - s));
  if (colon) {
    v->epoch = strtoull(s, NULL, 10);
    s = colon + 1;
  }
  const char *hyphen = NULL;
  for (const char *p = s; p < end; p++)
    if (*p == '-')
      hyphen = p;
  v->up = s;
  if (hyphen) {
    v->up_end = hyphen;
    v->rev = hyphen + 1;
    v->rev_end = end;
  } else {
    v->up_end = end;
    v->rev = v->rev_end = end;
  }
}

int brick_vercmp_dpkg(const char *a, const char *b) {
  struct dpkg_ver va, vb;
  split(a, &va);
  split(b, &vb);
  if (va.epoch != vb.epoch)
    return va.epoch < vb.epoch ? -1 : 1;
  int r = part_cmp(va.up, va.up_end, vb.up, vb.up_end);
  if (r)
    return r < 0 ? -1 : 1;
  r = part_cmp(va.rev, va.rev_end, vb.rev, vb.rev_end);
  return r < 0 ? -1 : r > 0;
}
