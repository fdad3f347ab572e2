/* Machine reports: brick's own JSON, SARIF 2.1.0 (code-scanning UIs) and a CycloneDX 1.5
 * BOM with vulnerabilities (package URLs identify components). */
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/util.h"
#include "scan/scan.h"

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *aliases_json(char *const *a) {
  json_t *arr = json_array();
  for (size_t i = 0; a && a[i]; i++)
    json_array_append_new(arr, json_string(a[i]));
  return arr;
}

/* Values many findings repeat (a package's strings, a record's summary and aliases, the
 * severity words) are made once and shared by reference: a large report is otherwise
 * mostly the allocation of identical strings. The cache is keyed by the string's address,
 * which findings share with their package or record. */
struct shared {
  const void *key;
  json_t *value;
};

struct value_cache {
  struct shared pkg_name, installed, source, summary, aliases, fixed;
  json_t *severity[BRICK_SEV_COUNT];
  json_t *status_fixed, *status_unfixed;
};

static json_t *shared_value(struct shared *s, const void *key, json_t *(*make)(const void *)) {
  if (s->key != key || !s->value) {
    json_decref(s->value);
    s->key = key;
    s->value = make(key);
  }
  return json_incref(s->value);
}

static json_t *make_string(const void *s) { return str_or_null(s); }
static json_t *make_aliases(const void *a) { return aliases_json(a); }

static void value_cache_clear(struct value_cache *c) {
  struct shared *all[] = {&c->pkg_name, &c->installed, &c->source, &c->summary, &c->aliases,
                          &c->fixed};
  for (size_t i = 0; i < ARRAY_SIZE(all); i++)
    json_decref(all[i]->value);
  for (size_t i = 0; i < ARRAY_SIZE(c->severity); i++)
    json_decref(c->severity[i]);
  json_decref(c->status_fixed);
  json_decref(c->status_unfixed);
  memset(c, 0, sizeof *c);
}

static json_t *finding_json(struct value_cache *c, const struct brick_finding *f) {
  json_t *o = json_object();
  if (!c->severity[f->severity])
    c->severity[f->severity] = json_string(brick_severity_name(f->severity));
  if (!c->status_fixed) {
    c->status_fixed = json_string("fixed");
    c->status_unfixed = json_string("unfixed");
  }
  /* keys are constants (valid UTF-8): no per-key check */
  json_object_set_new_nocheck(o, "id", json_string(f->vuln_id));
  json_object_set_new_nocheck(o, "aliases", shared_value(&c->aliases, f->aliases, make_aliases));
  json_object_set_new_nocheck(o, "package", shared_value(&c->pkg_name, f->pkg_name, make_string));
  json_object_set_new_nocheck(o, "source_package",
                              shared_value(&c->source, f->pkg_source, make_string));
  json_object_set_new_nocheck(o, "installed",
                              shared_value(&c->installed, f->installed, make_string));
  json_object_set_new_nocheck(o, "fixed", shared_value(&c->fixed, f->fixed, make_string));
  json_object_set_new_nocheck(o, "status",
                              json_incref(f->fixed ? c->status_fixed : c->status_unfixed));
  json_object_set_new_nocheck(o, "severity", json_incref(c->severity[f->severity]));
  json_object_set_new_nocheck(o, "score", f->score >= 0 ? json_real(f->score) : json_null());
  json_object_set_new_nocheck(o, "summary", shared_value(&c->summary, f->summary, make_string));
  if (f->layer >= 0)
    json_object_set_new_nocheck(o, "layer", json_integer(f->layer));
  if (f->layer_digest)
    json_object_set_new_nocheck(o, "layer_digest", json_string(f->layer_digest));
  json_object_set_new_nocheck(o, "ignored", json_boolean(f->ignored));
  if (f->ignored)
    json_object_set_new_nocheck(o, "ignore_reason", str_or_null(f->ignore_reason));
  return o;
}

json_t *brick_report_json(const struct brick_scan_result *res, size_t n) {
  json_t *results = json_array();
  struct value_cache cache = {0};
  for (size_t r = 0; r < n; r++) {
    const struct brick_scan_result *x = &res[r];
    json_t *findings = json_array();
    for (size_t i = 0; i < x->n_findings; i++)
      json_array_append_new(findings, finding_json(&cache, &x->findings[i]));
    struct brick_scan_summary sum;
    brick_scan_summarize(x, &sum);
    json_t *counts = json_object();
    for (int s = 0; s < BRICK_SEV_COUNT; s++)
      json_object_set_new(counts, brick_severity_name((enum brick_severity)s),
                          json_integer((json_int_t)sum.counts[s]));
    json_t *inv = brick_inventory_to_json(&x->inv);
    json_t *o = json_pack("{s:s, s:o, s:O, s:I, s:o, s:o, s:I}", "target", x->target, "image_id",
                          str_or_null(x->image_id), "os", json_object_get(inv, "os"),
                          "package_count", (json_int_t)x->inv.n_pkgs, "findings", findings,
                          "unfixed_counts", counts, "scanned_at", (json_int_t)x->scanned_at);
    json_object_set(o, "packages", json_object_get(inv, "packages"));
    json_decref(inv);
    json_array_append_new(results, o);
  }
  value_cache_clear(&cache);
  return json_pack("{s:s, s:o}", "schema", "brick.scan/v1", "results", results);
}

/* The stream writes what json_dumpf(brick_report_json(all), JSON_INDENT(2) |
 * JSON_SORT_KEYS) would, byte for byte, holding one target's tree at a time: a fleet's
 * report is otherwise hundreds of thousands of objects in memory at once. jansson
 * writes every value; only the fixed frame around the results is written here. */
struct nested {
  FILE *out;
  int failed;
};

/* a result sits two levels deep: each line jansson breaks gets four more spaces */
static int write_nested(const char *buf, size_t n, void *ctx) {
  struct nested *w = ctx;
  while (n) {
    const char *nl = memchr(buf, '\n', n);
    size_t k = nl ? (size_t)(nl - buf) + 1 : n;
    if (fwrite_unlocked(buf, 1, k, w->out) != k ||
        (nl && fwrite_unlocked("    ", 1, 4, w->out) != 4)) {
      w->failed = 1;
      return -1;
    }
    buf += k;
    n -= k;
  }
  return 0;
}

int brick_report_json_begin(struct brick_json_stream *s, FILE *out) {
  s->out = out;
  s->n = 0;
  return fputs_unlocked("{\n  \"results\": [", out) == EOF ? -1 : 0;
}

int brick_report_json_add(struct brick_json_stream *s, const struct brick_scan_result *res) {
  json_t *doc = brick_report_json(res, 1);
  json_t *one = json_array_get(json_object_get(doc, "results"), 0);
  struct nested w = {s->out, 0};
  int r = fputs_unlocked(s->n ? ",\n    " : "\n    ", s->out) == EOF ? -1 : 0;
  if (r == 0)
    r = json_dump_callback(one, write_nested, &w, JSON_INDENT(2) | JSON_SORT_KEYS);
  json_decref(doc);
  s->n++;
  return r < 0 || w.failed ? -1 : 0;
}

int brick_report_json_end(struct brick_json_stream *s) {
  const char *tail = s->n ? "\n  ],\n  \"schema\": \"brick.scan/v1\"\n}\n"
                          : "],\n  \"schema\": \"brick.scan/v1\"\n}\n";
  return fputs_unlocked(tail, s->out) == EOF || ferror(s->out) ? -1 : 0;
}

static const char *sarif_level(enum brick_severity s) {
  return s >= BRICK_SEV_HIGH ? "error" : s == BRICK_SEV_MEDIUM ? "warning" : "note";
}

static const char *db_file_for(enum brick_pkg_kind k) {
  return k == BRICK_PKG_DPKG ? "var/lib/dpkg/status"
         : k == BRICK_PKG_APK ? "lib/apk/db/installed"
                              : "var/lib/rpm";
}

static enum brick_pkg_kind kind_of(const struct brick_scan_result *x, const char *pkg) {
  for (size_t i = 0; i < x->inv.n_pkgs; i++)
    if (!strcmp(x->inv.pkgs[i].name, pkg))
      return x->inv.pkgs[i].kind;
  return BRICK_PKG_DPKG;
}

json_t *brick_report_sarif(const struct brick_scan_result *res, size_t n) {
  json_t *rules = json_array(), *results = json_array();
  json_t *rule_index = json_object();
  for (size_t r = 0; r < n; r++) {
    for (size_t i = 0; i < res[r].n_findings; i++) {
      const struct brick_finding *f = &res[r].findings[i];
      if (f->ignored)
        continue;
      json_t *idx = json_object_get(rule_index, f->vuln_id);
      if (!idx) {
        idx = json_integer((json_int_t)json_array_size(rules));
        json_object_set_new(rule_index, f->vuln_id, idx);
        char score[16];
        snprintf(score, sizeof score, "%.1f", f->score >= 0 ? f->score
                 : f->severity == BRICK_SEV_CRITICAL ? 9.5 : f->severity == BRICK_SEV_HIGH ? 8.0
                 : f->severity == BRICK_SEV_MEDIUM ? 5.5 : f->severity == BRICK_SEV_LOW ? 2.0 : 0.0);
        json_array_append_new(
            rules, json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:[s,s], s:s}}", "id", f->vuln_id,
                             "name", f->vuln_id, "shortDescription", "text",
                             f->summary ? f->summary : f->vuln_id, "defaultConfiguration",
                             "level", sarif_level(f->severity), "properties", "tags",
                             "vulnerability", "security", "security-severity", score));
      }
      _cleanup_free_ char *msg = xasprintf(
          "Package: %s\nInstalled: %s\nFixed: %s\nSeverity: %s\nVulnerability: %s", f->pkg_name,
          f->installed, f->fixed ? f->fixed : "none", brick_severity_name(f->severity),
          f->vuln_id);
      _cleanup_free_ char *uri = xasprintf("%s", db_file_for(kind_of(&res[r], f->pkg_name)));
      json_array_append_new(
          results,
          json_pack("{s:s, s:I, s:s, s:{s:s}, s:[{s:{s:{s:s}}, s:{s:s}}]}", "ruleId",
                    f->vuln_id, "ruleIndex", json_integer_value(idx), "level",
                    sarif_level(f->severity), "message", "text", msg, "locations",
                    "physicalLocation", "artifactLocation", "uri", uri, "message", "text",
                    res[r].target));
    }
  }
  json_decref(rule_index);
  return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o}]}", "version", "2.1.0",
                   "$schema", "https://json.schemastore.org/sarif-2.1.0.json", "runs", "tool",
                   "driver", "name", "brick", "version", BRICK_VERSION, "informationUri",
                   "https://github.com/brick-runtime/brick", "rules", rules, "results", results);
}

/* purl (package-url spec): ':' and other reserved characters in versions are
 * percent-encoded. */
static char *purl_escape(const char *s) {
  char *out = xmalloc(strlen(s) * 3 + 1), *o = out;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        strchr(".-_~+", c)) {
      *o++ = (char)c;
    } else {
      sprintf(o, "%%%02X", c);
      o += 3;
    }
  }
  *o = '\0';
  return out;
}

static char *purl(const struct brick_os *os, const struct brick_package *p) {
  const char *type = p->kind == BRICK_PKG_DPKG ? "deb" : p->kind == BRICK_PKG_RPM ? "rpm" : "apk";
  const char *ns = os->id ? os->id : (p->kind == BRICK_PKG_APK ? "alpine" : "unknown");
  _cleanup_free_ char *name = purl_escape(p->name), *ver = purl_escape(p->version);
  _cleanup_free_ char *q = p->arch ? purl_escape(p->arch) : NULL;
  _cleanup_free_ char *distro = os->version_id ? xasprintf("%s-%s", ns, os->version_id) : NULL;
  _cleanup_free_ char *dq = distro ? purl_escape(distro) : NULL;
  return xasprintf("pkg:%s/%s/%s@%s%s%s%s%s", type, ns, name, ver, q ? "?arch=" : "",
                   q ? q : "", dq ? (q ? "&distro=" : "?distro=") : "", dq ? dq : "");
}

static char *uuid4(void) {
  unsigned char b[16];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
    for (size_t i = 0; i < sizeof b; i++)
      b[i] = (unsigned char)(rand() & 0xff);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                   b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                   b[12], b[13], b[14], b[15]);
}

json_t *brick_report_cyclonedx(const struct brick_scan_result *res, size_t n) {
  json_t *components = json_array(), *vulns = json_array();
  for (size_t r = 0; r < n; r++) {
    const struct brick_scan_result *x = &res[r];
    for (size_t i = 0; i < x->inv.n_pkgs; i++) {
      const struct brick_package *p = &x->inv.pkgs[i];
      _cleanup_free_ char *ref = purl(&x->inv.os, p);
      json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "library", "bom-ref", ref,
                            "name", p->name, "version", p->version, "purl", ref);
      json_t *props = json_array();
      if (p->source)
        json_array_append_new(props, json_pack("{s:s, s:s}", "name", "brick:source_package",
                                               "value", p->source));
      if (p->layer_digest)
        json_array_append_new(props, json_pack("{s:s, s:s}", "name", "brick:layer_digest",
                                               "value", p->layer_digest));
      json_object_set_new(c, "properties", props);
      json_array_append_new(components, c);
    }
    for (size_t i = 0; i < x->n_findings; i++) {
      const struct brick_finding *f = &x->findings[i];
      const struct brick_package *p = NULL;
      for (size_t k = 0; k < x->inv.n_pkgs && !p; k++)
        if (!strcmp(x->inv.pkgs[k].name, f->pkg_name) &&
            !strcmp(x->inv.pkgs[k].version, f->installed))
          p = &x->inv.pkgs[k];
      if (!p)
        continue;
      _cleanup_free_ char *ref = purl(&x->inv.os, p);
      _cleanup_free_ char *sev = xstrdup(brick_severity_name(f->severity));
      for (char *c = sev; *c; c++)
        *c = (char)(*c - 'A' + 'a');
      json_t *rating = json_pack("{s:s}", "severity", sev);
      if (f->score >= 0) {
        json_object_set_new(rating, "score", json_real(f->score));
        json_object_set_new(rating, "method", json_string("CVSSv31"));
      }
      json_t *v = json_pack("{s:s, s:{s:s}, s:[o], s:[{s:s}]}", "id", f->vuln_id, "source",
                            "name", "OSV", "ratings", rating, "affects", "ref", ref);
      if (f->summary)
        json_object_set_new(v, "description", json_string(f->summary));
      if (f->fixed) {
        _cleanup_free_ char *rec = xasprintf("Upgrade %s to %s", f->pkg_name, f->fixed);
        json_object_set_new(v, "recommendation", json_string(rec));
      }
      if (f->ignored)
        json_object_set_new(v, "analysis",
                            json_pack("{s:s, s:s}", "state", "not_affected", "detail",
                                      f->ignore_reason ? f->ignore_reason : "ignored"));
      json_array_append_new(vulns, v);
    }
  }
  char ts[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  _cleanup_free_ char *uuid = uuid4();
  _cleanup_free_ char *serial = xasprintf("urn:uuid:%s", uuid);
  json_t *meta = json_pack("{s:s, s:{s:[{s:s, s:s, s:s}]}}", "timestamp", ts, "tools",
                           "components", "type", "application", "name", "brick", "version",
                           BRICK_VERSION);
  if (n == 1)
    json_object_set_new(meta, "component",
                        json_pack("{s:s, s:s}", "type", res[0].image_id ? "container" : "operating-system",
                                  "name", res[0].target));
  return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:o}", "bomFormat", "CycloneDX",
                   "specVersion", "1.5", "serialNumber", serial, "version", 1, "metadata", meta,
                   "components", components, "vulnerabilities", vulns);
}
