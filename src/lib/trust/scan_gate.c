/* The scan gate, a brick extension: refuse to start an image whose last scan found
 * unfixed vulnerabilities at or above a severity. It lives in /etc/brick/trust.json
 * rather than policy.json because skopeo and podman reject unknown top-level keys in
 * policy.json ("Unknown key"), and the policy file must stay shareable with them. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "trust/trust.h"

static const char *const sev_names[] = {"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"};

const char *brick_trust_severity_name(enum brick_trust_severity s) {
  return s < BRICK_TRUST_SEV_COUNT ? sev_names[s] : "?";
}

int brick_trust_severity_parse(const char *s, enum brick_trust_severity *out) {
  for (size_t i = 0; i < ARRAY_SIZE(sev_names); i++) {
    if (!strcasecmp(s, sev_names[i])) {
      *out = (enum brick_trust_severity)i;
      return 0;
    }
  }
  return -1;
}

int brick_scan_gate_load(const char *path, struct brick_scan_gate *out, brick_err *err) {
  *out = (struct brick_scan_gate){0};
  const char *env = getenv("BRICK_TRUST_CONFIG");
  const char *p = path ? path : env && *env ? env : "/etc/brick/trust.json";
  _cleanup_free_ char *text = NULL;
  size_t len;
  brick_err e = {0};
  if (brick_read_file(p, &text, &len, &e) < 0) {
    int errnum = e.errnum;
    brick_error_clear(&e);
    if (errnum == ENOENT && !path)
      return 0; /* no config: gate off */
    return brick_error(err, errnum, "%s", p);
  }
  json_error_t jerr;
  _cleanup_json_ json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_object(j))
    return brick_error(err, 0, "%s: %s", p, j ? "expected a JSON object" : jerr.text);
  const char *key;
  json_t *v;
  json_object_foreach(j, key, v) {
    if (strcmp(key, "scanGate"))
      return brick_error(err, 0, "%s: unknown member \"%s\"", p, key);
  }
  json_t *gate = json_object_get(j, "scanGate");
  if (!gate)
    return 0;
  if (!json_is_object(gate))
    return brick_error(err, 0, "%s: scanGate: expected an object", p);
  json_object_foreach(gate, key, v) {
    if (strcmp(key, "maxSeverity") && strcmp(key, "requireScan"))
      return brick_error(err, 0, "%s: scanGate: unknown member \"%s\"", p, key);
  }
  json_t *sev = json_object_get(gate, "maxSeverity");
  if (!json_is_string(sev))
    return brick_error(err, 0, "%s: scanGate.maxSeverity: missing or not a string", p);
  if (brick_trust_severity_parse(json_string_value(sev), &out->threshold) < 0)
    return brick_error(err, 0, "%s: scanGate.maxSeverity: \"%s\" is not one of UNKNOWN, LOW, "
                               "MEDIUM, HIGH, CRITICAL", p, json_string_value(sev));
  json_t *rs = json_object_get(gate, "requireScan");
  if (rs && !json_is_boolean(rs))
    return brick_error(err, 0, "%s: scanGate.requireScan: expected true or false", p);
  out->require_scan = rs ? json_is_true(rs) : true;
  out->enabled = true;
  return 0;
}

int brick_scan_gate_check(const struct brick_scan_gate *gate, const char *image,
                          const struct brick_trust_scan_counts *counts, brick_err *err) {
  if (!gate->enabled)
    return 0;
  if (!counts->scanned) {
    if (gate->require_scan)
      return brick_error(err, 0, "image %s has never been scanned and the scan gate requires "
                                 "a scan (run `brick scan %s`)", image, image);
    return 0;
  }
  unsigned total = 0;
  char detail[256] = "";
  size_t off = 0;
  for (int s = BRICK_TRUST_SEV_COUNT - 1; s >= (int)gate->threshold; s--) {
    if (!counts->unfixed[s])
      continue;
    total += counts->unfixed[s];
    int w = snprintf(detail + off, sizeof detail - off, "%s%u %s", off ? ", " : "",
                     counts->unfixed[s], sev_names[s]);
    if (w > 0 && (size_t)w < sizeof detail - off)
      off += (size_t)w;
  }
  if (total)
    return brick_error(err, 0, "image %s has %u unfixed finding%s at or above %s (%s); the scan "
                               "gate refuses to start it", image, total, total == 1 ? "" : "s",
                       sev_names[gate->threshold], detail);
  return 0;
}
