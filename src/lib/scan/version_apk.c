/* Alpine (apk-tools) version order. A version is digits{.digits}[letter]{_suffix[N]}[-rN]
 * and compares part by part: the first number numerically; later '.' components
 * numerically, or, when either has a leading zero, as decimal fractions (string order
 * with trailing zeros dropped); more components win. Then the letter (none < a < z), then
 * suffixes in order _alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p
 * with their numbers (an extra pre-release suffix makes a version older, an extra
 * post-release one newer), then the -rN revision. Malformed versions fall back to byte
 * order so the comparison stays total. */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

enum { MAX_PARTS = 32 };

struct apk_ver {
  const char *num[MAX_PARTS];
  size_t num_len[MAX_PARTS];
  size_t n_num;
  char letter;
  int suffix_rank[MAX_PARTS];
  unsigned long long suffix_no[MAX_PARTS];
  size_t n_suffix;
  unsigned long long rev;
  bool has_rev;  /* apk orders 1.0 before 1.0-r0 */
};

static const char *const suffixes[] = {"alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg",
                                       "p"};
/* alpha..rc rank -4..-1, cvs..p rank 1..5 */
static int suffix_rank(size_t i) { return i < 4 ? (int)i - 4 : (int)i - 3; }

static unsigned long long number(const char **p) {
  unsigned long long v = 0;
  while (isdigit((unsigned char)**p)) {
    if (v < 1000000000000000ULL)
      v = v * 10 + (unsigned)(**p - '0');
    (*p)++;
  }
  return v;
}

static bool parse(const char *s, struct apk_ver *v) {
  memset(v, 0, sizeof *v);
  const char *p = s;
  if (!isdigit((unsigned char)*p))
    return false;
  for (;;) {
    if (v->n_num == MAX_PARTS)
      return false;
    v->num[v->n_num] = p;
    while (isdigit((unsigned char)*p))
      p++;
    v->num_len[v->n_num] = (size_t)(p - v->num[v->n_num]);
    v->n_num++;
    if (*p == '.' && isdigit((unsigned char)p[1]))
      p++;
    else
      break;
  }
  if (islower((unsigned char)*p))
    v->letter = *p++;
  while (*p == '_') {
    p++;
    size_t i, len = 0;
    for (i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
      len = strlen(suffixes[i]);
      if (!strncmp(p, suffixes[i], len))
        break;
    }
    if (i == sizeof suffixes / sizeof *suffixes || v->n_suffix == MAX_PARTS)
      return false;
    p += len;
    v->suffix_rank[v->n_suffix] = suffix_rank(i);
    v->suffix_no[v->n_suffix] = number(&p);
    v->n_suffix++;
  }
  if (p[0] == '-' && p[1] == 'r' && isdigit((unsigned char)p[2])) {
    p += 2;
    v->rev = number(&p);
    v->has_rev = true;
  }
  return *p == '\0';
}

static int cmp_ull(unsigned long long a, unsigned long long b) { return a < b ? -1 : a > b; }

static int cmp_numeric(const char *a, size_t al, const char *b, size_t bl) {
  while (al && *a == '0')
    a++, al--;
  while (bl && *b == '0')
    b++, bl--;
  if (al != bl)
    return al < bl ? -1 : 1;
  int r = memcmp(a, b, al);
  return r < 0 ? -1 : r > 0;
}

static int cmp_fraction(const char *a, size_t al, const char *b, size_t bl) {
  while (al && a[al - 1] == '0')
    al--;
  while (bl && b[bl - 1] == '0')
    bl--;
  size_t n = al < bl ? al : bl;
  int r = memcmp(a, b, n);
  if (r)
    return r < 0 ? -1 : 1;
  return al == bl ? 0 : (al < bl ? -1 : 1);
}

int brick_vercmp_apk(const char *a, const char *b) {
  struct apk_ver x, y;
  if (!parse(a, &x) || !parse(b, &y)) {
    int r = strcmp(a, b);
    return r < 0 ? -1 : r > 0;
  }
  int r = cmp_numeric(x.num[0], x.num_len[0], y.num[0], y.num_len[0]);
  if (r)
    return r;
  for (size_t i = 1; i < x.n_num && i < y.n_num; i++) {
    bool frac = x.num[i][0] == '0' || y.num[i][0] == '0';
    r = frac ? cmp_fraction(x.num[i], x.num_len[i], y.num[i], y.num_len[i])
             : cmp_numeric(x.num[i], x.num_len[i], y.num[i], y.num_len[i]);
    if (r)
      return r;
  }
  if (x.n_num != y.n_num)
    return x.n_num < y.n_num ? -1 : 1;
  if (x.letter != y.letter)
    return x.letter < y.letter ? -1 : 1;
  size_t i;
  for (i = 0; i < x.n_suffix && i < y.n_suffix; i++) {
    if (x.suffix_rank[i] != y.suffix_rank[i])
      return x.suffix_rank[i] < y.suffix_rank[i] ? -1 : 1;
    if ((r = cmp_ull(x.suffix_no[i], y.suffix_no[i])))
      return r;
  }
  if (i < x.n_suffix)
    return x.suffix_rank[i] < 0 ? -1 : 1;
  if (i < y.n_suffix)
    return y.suffix_rank[i] < 0 ? 1 : -1;
  if (x.has_rev != y.has_rev)
    return x.has_rev ? 1 : -1;
  return cmp_ull(x.rev, y.rev);
}
