/* Severity levels and the CVSS v3.x base score, computed from the vector with the
 * specification's formula (FIRST CVSS v3.1, section 7.1 and Appendix A's Roundup). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "scan/scan.h"

static const char *const sev_names[BRICK_SEV_COUNT] = {"UNKNOWN", "NONE", "LOW", "MEDIUM",
                                                       "HIGH", "CRITICAL"};

const char *brick_severity_name(enum brick_severity s) {
  return (unsigned)s < BRICK_SEV_COUNT ? sev_names[s] : "UNKNOWN";
}

enum brick_severity brick_severity_parse(const char *s) {
  if (!s)
    return BRICK_SEV_UNKNOWN;
  for (int i = 0; i < BRICK_SEV_COUNT; i++)
    if (!strcasecmp(s, sev_names[i]))
      return (enum brick_severity)i;
  static const struct {
    const char *word;
    enum brick_severity sev;
  } vendor[] = {
      {"negligible", BRICK_SEV_LOW}, {"unimportant", BRICK_SEV_LOW},
      {"low**", BRICK_SEV_LOW},      {"moderate", BRICK_SEV_MEDIUM},
      {"medium**", BRICK_SEV_MEDIUM}, {"important", BRICK_SEV_HIGH},
      {"high**", BRICK_SEV_HIGH},    {"urgent", BRICK_SEV_CRITICAL},
  };
  for (size_t i = 0; i < ARRAY_SIZE(vendor); i++)
    if (!strcasecmp(s, vendor[i].word))
      return vendor[i].sev;
  return BRICK_SEV_UNKNOWN;
}

enum brick_severity brick_severity_from_score(double score) {
  if (score < 0)
    return BRICK_SEV_UNKNOWN;
  if (score == 0)
    return BRICK_SEV_NONE;
  if (score < 4.0)
    return BRICK_SEV_LOW;
  if (score < 7.0)
    return BRICK_SEV_MEDIUM;
  if (score < 9.0)
    return BRICK_SEV_HIGH;
  return BRICK_SEV_CRITICAL;
}

/* Appendix A: the smallest number, to one decimal, >= input, immune to float noise. */
static double roundup(double input) {
  int64_t i = (int64_t)llround(input * 100000.0);
  if (i % 10000 == 0)
    return (double)i / 100000.0;
  return (double)(i / 10000 + 1) / 10.0;
}

struct metric {
  const char *key;
  const char *values;   /* letters allowed */
  char got;
};

double brick_cvss3_base_score(const char *vector) {
  if (!vector || (strncmp(vector, "CVSS:3.1/", 9) && strncmp(vector, "CVSS:3.0/", 9)))
    return -1;
  struct metric m[] = {{"AV", "NALP", 0}, {"AC", "LH", 0}, {"PR", "NLH", 0}, {"UI", "NR", 0},
                       {"S", "UC", 0},    {"C", "HLN", 0}, {"I", "HLN", 0},  {"A", "HLN", 0}};
  const char *p = vector + 9;
  while (*p) {
    const char *colon = strchr(p, ':');
    if (!colon)
      return -1;
    size_t klen = (size_t)(colon - p);
    const char *val = colon + 1;
    const char *end = strchr(val, '/');
    size_t vlen = end ? (size_t)(end - val) : strlen(val);
    for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
      if (strlen(m[i].key) == klen && !strncmp(p, m[i].key, klen)) {
        if (vlen != 1 || !strchr(m[i].values, val[0]) || m[i].got)
          return -1;
        m[i].got = val[0];
      }
    }
    /* temporal and environmental metrics do not change the base score */
    p = end ? end + 1 : val + vlen;
  }
  for (size_t i = 0; i < ARRAY_SIZE(m); i++)
    if (!m[i].got)
      return -1;
  bool changed = m[4].got == 'C';
  double av = m[0].got == 'N' ? 0.85 : m[0].got == 'A' ? 0.62 : m[0].got == 'L' ? 0.55 : 0.2;
  double ac = m[1].got == 'L' ? 0.77 : 0.44;
  double pr = m[2].got == 'N' ? 0.85
              : m[2].got == 'L' ? (changed ? 0.68 : 0.62)
                                : (changed ? 0.5 : 0.27);
  double ui = m[3].got == 'N' ? 0.85 : 0.62;
  double cia[3];
  for (int i = 0; i < 3; i++)
    cia[i] = m[5 + i].got == 'H' ? 0.56 : m[5 + i].got == 'L' ? 0.22 : 0;
  double iss = 1 - (1 - cia[0]) * (1 - cia[1]) * (1 - cia[2]);
  double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
  double exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0)
    return 0;
  double sum = changed ? 1.08 * (impact + exploitability) : impact + exploitability;
  return roundup(sum < 10 ? sum : 10);
}
