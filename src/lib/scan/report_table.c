/* The human report: one table per target, worst first, with a totals line; colour by
 * severity only when asked (the CLI asks when stdout is a terminal). */
#include <string.h>

#include "core/util.h"
#include "scan/scan.h"

static const char *sev_color(enum brick_severity s) {
  switch (s) {
  case BRICK_SEV_CRITICAL: return "\033[1;31m";
  case BRICK_SEV_HIGH: return "\033[31m";
  case BRICK_SEV_MEDIUM: return "\033[33m";
  case BRICK_SEV_LOW: return "\033[34m";
  default: return "\033[2m";
  }
}

static int width(const char *s) { return s ? (int)strlen(s) : 1; }

/* s left-aligned in a field of w columns and the two-space gap: the table's rows are
 * written piecewise (printf's padding was most of the cost of a fleet-sized table). */
static void put_field(FILE *out, const char *s, int w) {
  static const char spaces[] = "                                                                ";
  size_t n = strlen(s);
  fwrite_unlocked(s, 1, n, out);
  for (size_t pad = (size_t)w > n ? (size_t)w - n + 2 : 2; pad;) {
    size_t k = pad < sizeof spaces - 1 ? pad : sizeof spaces - 1;
    fwrite_unlocked(spaces, 1, k, out);
    pad -= k;
  }
}

int brick_report_table(FILE *out, const struct brick_scan_result *res, size_t n,
                       const struct brick_report_opts *o, brick_err *err) {
  for (size_t r = 0; r < n; r++) {
    const struct brick_scan_result *x = &res[r];
    const char *os = x->inv.os.pretty_name ? x->inv.os.pretty_name
                     : x->inv.os.id          ? x->inv.os.id
                                             : "unknown OS";
    fprintf(out, "%s (%s, %zu packages)\n", x->target, os, x->inv.n_pkgs);
    if (!x->inv.os.ecosystem)
      fprintf(out, "  no vulnerability data applies to this OS\n");
    size_t counts[BRICK_SEV_COUNT] = {0}, shown = 0, ignored = 0;
    int w_pkg = 7, w_inst = 9, w_fix = 5, w_id = 13;
    for (size_t i = 0; i < x->n_findings; i++) {
      const struct brick_finding *f = &x->findings[i];
      if (f->ignored) {
        ignored++;
        if (!o || !o->show_ignored)
          continue;
      } else {
        counts[f->severity]++;
      }
      shown++;
      if (width(f->pkg_name) > w_pkg) w_pkg = width(f->pkg_name);
      if (width(f->installed) > w_inst) w_inst = width(f->installed);
      if (width(f->fixed) > w_fix) w_fix = width(f->fixed);
      if (width(f->vuln_id) > w_id) w_id = width(f->vuln_id);
    }
    fprintf(out, "Total: %zu (", shown - (o && o->show_ignored ? ignored : 0));
    for (int s = BRICK_SEV_CRITICAL; s >= BRICK_SEV_UNKNOWN; s--)
      fprintf(out, "%s: %zu%s", brick_severity_name((enum brick_severity)s), counts[s],
              s > BRICK_SEV_UNKNOWN ? ", " : "");
    fprintf(out, ")%s\n", ignored ? "" : "");
    if (ignored)
      fprintf(out, "Ignored: %zu\n", ignored);
    if (!shown) {
      fputc('\n', out);
      continue;
    }
    fprintf(out, "\n%-*s  %-*s  %-*s  %-*s  %-8s  %s\n", w_pkg, "PACKAGE", w_inst, "INSTALLED",
            w_fix, "FIXED", w_id, "VULNERABILITY", "SEVERITY", "LAYER / TITLE");
    for (size_t i = 0; i < x->n_findings; i++) {
      const struct brick_finding *f = &x->findings[i];
      if (f->ignored && (!o || !o->show_ignored))
        continue;
      const char *sev = brick_severity_name(f->severity);
      char title[61] = "";
      if (f->ignored)
        snprintf(title, sizeof title, "ignored: %s", f->ignore_reason ? f->ignore_reason : "");
      else if (f->summary)
        snprintf(title, sizeof title, "%s", f->summary);
      for (char *t = title; *t; t++)
        if (*t == '\n' || *t == '\t')
          *t = ' ';
      put_field(out, f->pkg_name, w_pkg);
      put_field(out, f->installed, w_inst);
      put_field(out, f->fixed ? f->fixed : "-", w_fix);
      put_field(out, f->vuln_id, w_id);
      if (o && o->color)
        fputs_unlocked(sev_color(f->severity), out);
      fputs_unlocked(sev, out);
      if (o && o->color)
        fputs_unlocked("\033[0m", out);
      put_field(out, "", 8 - (int)strlen(sev));
      if (f->layer >= 0)
        fprintf(out, "layer %d ", f->layer);
      fputs_unlocked(title, out);
      fputc_unlocked('\n', out);
    }
    fputc('\n', out);
  }
  if (ferror(out))
    return brick_errno(err, "write report");
  return 0;
}
