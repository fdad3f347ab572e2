/* The systemd cgroup driver, the part that needs no bus: with --systemd-cgroup,
 * cgroupsPath is "slice:prefix:name" and the container lives in a transient scope that
 * systemd creates (cgroup_systemd_bus.c), since systemd owns the tree and would otherwise
 * fight over it. Here: the name rules, and the resources turned into unit properties, so
 * that systemd re-applies brick's limits on a daemon-reload instead of resetting them. */
#include "cgroup/cgroup_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

static bool valid_unit_part(const char *s) {
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr(":-_.\\@", *s)))
      return false;
  return true;
}

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice" (systemd nests dashed slices). */
static int expand_slice(const char *slice, char **out, brick_err *err) {
  size_t len = strlen(slice);
  if (len < 7 || strcmp(slice + len - 6, ".slice") || !valid_unit_part(slice) ||
      strchr(slice, '/'))
    return brick_error(err, 0, "linux.cgroupsPath: \"%s\" is not a slice name "
                                    "(\"<name>.slice\")", slice);
  if (!strcmp(slice, "-.slice")) {
    *out = xstrdup("");
    return 0;
  }
  size_t base_len = len - 6;
  if (slice[0] == '-' || slice[base_len - 1] == '-' || strstr(slice, "--"))
    return brick_error(err, 0, "linux.cgroupsPath: \"%s\": bad dashes in slice name",
                       slice);
  char *path = xstrdup("");
  for (size_t i = 0; i <= base_len; i++) {
    if (i != base_len && slice[i] != '-')
      continue;
    char *next = xasprintf("%s/%.*s.slice", path, (int)i, slice);
    free(path);
    path = next;
  }
  *out = path;
  return 0;
}

char *brick_cgroup_systemd_path(const char *spec, const char *id, brick_err *err) {
  _cleanup_free_ char *def = NULL;
  if (!spec || !*spec)
    spec = def = xasprintf("system.slice:brick:%s", id);
  const char *c1 = strchr(spec, ':');
  const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (!c2 || strchr(c2 + 1, ':')) {
    brick_error(err, 0, "linux.cgroupsPath: \"%s\": expected \"slice:prefix:name\" with "
                             "--systemd-cgroup", spec);
    return NULL;
  }
  _cleanup_free_ char *slice = c1 == spec ? xstrdup("system.slice")
                                          : xasprintf("%.*s", (int)(c1 - spec), spec);
  _cleanup_free_ char *prefix = xasprintf("%.*s", (int)(c2 - c1 - 1), c1 + 1);
  const char *name = c2 + 1;
  if (!*name || !valid_unit_part(name) || !valid_unit_part(prefix)) {
    brick_error(err, 0, "linux.cgroupsPath: \"%s\": bad unit name", spec);
    return NULL;
  }
  _cleanup_free_ char *slice_path = NULL;
  if (expand_slice(slice, &slice_path, err) < 0)
    return NULL;
  /* A name that is already a unit ("x.slice") is used as is, as runc does. */
  size_t nl = strlen(name);
  if (nl > 6 && !strcmp(name + nl - 6, ".slice")) {
    _cleanup_free_ char *sub = NULL;
    if (expand_slice(name, &sub, err) < 0)
      return NULL;
    /* systemd places a slice by its name ("a-b.slice" lives in "a.slice"), whatever
     * slice it is asked to join: a name that does not nest there would land elsewhere. */
    size_t parent_len = (size_t)(strrchr(sub, '/') - sub);
    if (strlen(slice_path) != parent_len || strncmp(sub, slice_path, parent_len)) {
      brick_error(err, 0, "linux.cgroupsPath: \"%s\": slice %s does not belong in %s (systemd "
                          "would place it at %s)", spec, name, slice, sub);
      return NULL;
    }
    return xstrdup(sub);
  }
  if (*prefix)
    return xasprintf("%s/%s-%s.scope", slice_path, prefix, name);
  return xasprintf("%s/%s.scope", slice_path, name);
}

int cg_sd_unit_of(const char *path, char **unit, char **slice) {
  const char *base = strrchr(path, '/');
  if (!base || !base[1])
    return -1;
  *unit = xstrdup(base + 1);
  const char *parent_end = base;
  const char *parent = parent_end;
  while (parent > path && parent[-1] != '/')
    parent--;
  *slice = parent == parent_end ? xstrdup("-.slice")
                                : xasprintf("%.*s", (int)(parent_end - parent), parent);
  return 0;
}

/* ---- properties ---- */

#define SD_INFINITY UINT64_MAX

static struct cg_sd_prop *add(struct cg_sd_props *p, const char *name, const char *sig) {
  p->v = xrealloc(p->v, (p->n + 1) * sizeof *p->v);
  struct cg_sd_prop *x = &p->v[p->n++];
  *x = (struct cg_sd_prop){.name = name, .sig = sig};
  return x;
}

void cg_sd_add_u64(struct cg_sd_props *p, const char *name, uint64_t v) {
  add(p, name, "t")->u64 = v;
}
void cg_sd_add_bool(struct cg_sd_props *p, const char *name, bool v) {
  add(p, name, "b")->b = v;
}
void cg_sd_add_str(struct cg_sd_props *p, const char *name, const char *v) {
  add(p, name, "s")->str = xstrdup(v);
}

void cg_sd_add_device_reset(struct cg_sd_props *p) {
  add(p, "DeviceAllow", "a(ss)");
}

void cg_sd_add_u32s(struct cg_sd_props *p, const char *name, const uint32_t *v, size_t n) {
  struct cg_sd_prop *x = add(p, name, "au");
  x->u32 = xcalloc(n ? n : 1, sizeof *v);
  if (n)
    memcpy(x->u32, v, n * sizeof *v);
  x->n_u32 = n;
}

void cg_sd_props_free(struct cg_sd_props *p) {
  for (size_t i = 0; i < p->n; i++) {
    free(p->v[i].name_buf);
    free(p->v[i].str);
    free(p->v[i].u32);
    free(p->v[i].bytes);
    brick_strv_free(p->v[i].pairs);
  }
  free(p->v);
  *p = (struct cg_sd_props){0};
}

const struct cg_sd_prop *cg_sd_props_find(const struct cg_sd_props *p, const char *name) {
  for (size_t i = 0; i < p->n; i++)
    if (!strcmp(p->v[i].name, name))
      return &p->v[i];
  return NULL;
}

/* "0-3,7" -> the little-endian bitmask systemd's AllowedCPUs takes (byte 0 = CPUs 0-7). */
int cg_sd_cpuset_mask(const char *list, const char *what, uint8_t **bytes, size_t *n,
                      brick_err *err) {
  *bytes = NULL;
  *n = 0;
  const char *p = list;
  if (!*p)
    goto bad;  /* an empty AllowedCPUs would mean "no restriction" to systemd */
  while (*p) {
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*p))
      goto bad;   /* strtoul would skip spaces and take signs */
    unsigned long lo = strtoul(p, &end, 10), hi = lo;
    if (end == p || errno)
      goto bad;
    if (*end == '-') {
      p = end + 1;
      if (!isdigit((unsigned char)*p))
        goto bad;
      hi = strtoul(p, &end, 10);
      if (end == p || errno || hi < lo)
        goto bad;
    }
    if (hi >= 8192)
      goto bad;
    if (hi / 8 + 1 > *n) {
      *bytes = xrealloc(*bytes, hi / 8 + 1);
      memset(*bytes + *n, 0, hi / 8 + 1 - *n);
      *n = hi / 8 + 1;
    }
    for (unsigned long c = lo; c <= hi; c++)
      (*bytes)[c / 8] |= (uint8_t)(1u << (c % 8));
    if (*end == ',' && end[1])
      end++;
    else if (*end && !(*end == '\n' && !end[1]))
      goto bad;
    p = *end == '\n' ? end + 1 : end;
  }
  return 0;
bad:
  free(*bytes);
  *bytes = NULL;
  *n = 0;
  return brick_error(err, 0, "%s: \"%s\" is not a CPU/node list (\"0-3,7\")", what, list);
}

static void allow(char ***pairs, const char *dev, const char *access) {
  brick_strv_push(pairs, dev);
  brick_strv_push(pairs, *access ? access : "rwm");
}

bool cg_sd_device_allow(const struct brick_device_rule *rules, size_t n, char ***pairs) {
  *pairs = NULL;
  /* systemd's model is "deny everything, then allow a list": only a rule list of that
   * shape can be handed over as it is. */
  if (n == 0 || rules[0].allow || rules[0].type != 'a' || rules[0].major != -1 ||
      rules[0].minor != -1)
    return false;
  for (size_t i = 1; i < n; i++) {
    const struct brick_device_rule *r = &rules[i];
    /* "c *:5" has no systemd form: "char-*" would allow every minor. */
    if (!r->allow || (r->major < 0 && r->minor >= 0))
      goto no;
    const char *types = r->type == 'a' ? "cb" : (r->type == 'b' ? "b" : "c");
    for (const char *t = types; *t; t++) {
      const char *kind = *t == 'c' ? "char" : "block";
      _cleanup_free_ char *dev = NULL;
      if (r->major < 0)
        dev = xasprintf("%s-*", kind);
      else if (r->minor < 0)
        /* By number (systemd >= 240): a name from /proc/devices would also match every
         * other major registered under the same name ("sd" is 8, 65-71, 128-135...). */
        dev = xasprintf("%s-%" PRId64, kind, r->major);
      else
        /* systemd parses /dev/{char,block}/M:m itself; the node need not exist. */
        dev = xasprintf("/dev/%s/%" PRId64 ":%" PRId64, kind, r->major, r->minor);
      allow(pairs, dev, r->access);
    }
  }
  return true;
no:
  brick_strv_free(*pairs);
  *pairs = NULL;
  return false;
}

/* True when the list lets every device through (a privileged container): the last full
 * wildcard rule for rwm allows, and no deny follows it. */
static bool allows_every_device(const struct brick_device_rule *rules, size_t n) {
  for (size_t i = n; i-- > 0;) {
    const struct brick_device_rule *r = &rules[i];
    if (!r->allow)
      return false;
    if (r->type == 'a' && r->major < 0 && r->minor < 0 &&
        (!*r->access || (strchr(r->access, 'r') && strchr(r->access, 'w') &&
                         strchr(r->access, 'm'))))
      return true;
  }
  return false;
}

void cg_sd_device_allow_subset(const struct brick_device_rule *rules, size_t n, char ***pairs) {
  *pairs = NULL;
  for (size_t i = 0; i < n; i++) {
    const struct brick_device_rule *r = &rules[i];
    if (!r->allow || r->major < 0 || r->minor < 0)
      continue;
    const char *types = r->type == 'a' ? "cb" : (r->type == 'b' ? "b" : "c");
    for (const char *t = types; *t; t++) {
      /* Only the access the whole list grants this very device. */
      char granted[4] = "";
      size_t k = 0;
      for (const char *a = *r->access ? r->access : "rwm"; *a; a++) {
        char one[2] = {*a, 0};
        if (!strchr(granted, *a) &&
            brick_cgroup_device_allowed(rules, n, *t, r->major, r->minor, one))
          granted[k++] = *a;
      }
      if (!k)
        continue;
      _cleanup_free_ char *dev = xasprintf("/dev/%s/%" PRId64 ":%" PRId64,
                                           *t == 'c' ? "char" : "block", r->major, r->minor);
      allow(pairs, dev, granted);
    }
  }
}

/* "max" or a number, as the v2 files take them. */
static bool v2_amount(const char *v, uint64_t *out) {
  if (!strcmp(v, "max")) {
    *out = SD_INFINITY;
    return true;
  }
  char *end;
  errno = 0;
  if (!isdigit((unsigned char)*v))
    return false;
  *out = strtoull(v, &end, 10);
  return !errno && !*end;
}

/* linux.resources.unified keys systemd also owns: without these, a daemon-reload would
 * put back systemd's idea of memory.high, pids.max, cpu.max... */
static int unified_props(const struct brick_resources *r, struct cg_sd_props *out,
                         brick_err *err) {
  static const struct { const char *key, *prop; } amounts[] = {
      {"memory.max", "MemoryMax"}, {"memory.high", "MemoryHigh"}, {"memory.low", "MemoryLow"},
      {"memory.min", "MemoryMin"}, {"memory.swap.max", "MemorySwapMax"},
      {"pids.max", "TasksMax"}, {"cpu.weight", "CPUWeight"}};
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *key = r->unified[i].key, *value = r->unified[i].value;
    for (size_t k = 0; k < ARRAY_SIZE(amounts); k++) {
      if (strcmp(key, amounts[k].key))
        continue;
      uint64_t v;
      if (!v2_amount(value, &v))
        return brick_error(err, 0, "linux.resources.unified.%s: \"%s\" is not \"max\" or a "
                                   "number", key, value);
      cg_sd_add_u64(out, amounts[k].prop, v);
    }
    if (!strcmp(key, "cpu.max")) {
      /* "QUOTA [PERIOD]" or "max [PERIOD]" */
      char quota[32];
      uint64_t q = 0, period = 100000;
      int fields = sscanf(value, "%31s %" SCNu64, quota, &period);
      if (fields < 1 || !v2_amount(quota, &q) || period == 0)
        return brick_error(err, 0, "linux.resources.unified.cpu.max: \"%s\" is not \"QUOTA "
                                   "[PERIOD]\"", value);
      cg_sd_add_u64(out, "CPUQuotaPerSecUSec",
                    q == SD_INFINITY ? SD_INFINITY
                                     : ((q * 1000000 + period - 1) / period + 9999) / 10000 * 10000);
      if (fields == 2)
        cg_sd_add_u64(out, "CPUQuotaPeriodUSec", period);
    }
  }
  return 0;
}

int cg_sd_resource_props(const struct brick_resources *r, bool v2, struct cg_sd_props *out,
                         brick_err *err) {
  if (!r || !r->present)
    return 0;
  if (r->memory.has_limit && r->memory.limit != 0)
    cg_sd_add_u64(out, "MemoryMax", r->memory.limit < 0 ? SD_INFINITY : (uint64_t)r->memory.limit);
  if (v2 && r->memory.has_reservation && r->memory.reservation != 0)
    cg_sd_add_u64(out, "MemoryLow",
                  r->memory.reservation < 0 ? SD_INFINITY : (uint64_t)r->memory.reservation);
  if (v2) {
    char swap[32];
    int s = cg_v2_swap(r, swap, sizeof swap, err);
    if (s < 0)
      return -1;
    if (s == 0)
      cg_sd_add_u64(out, "MemorySwapMax",
                    !strcmp(swap, "max") ? SD_INFINITY : strtoull(swap, NULL, 10));
  }
  if (r->pids.has_limit && r->pids.limit != 0)
    cg_sd_add_u64(out, "TasksMax", r->pids.limit < 0 ? SD_INFINITY : (uint64_t)r->pids.limit);
  if (r->cpu.has_shares && r->cpu.shares) {
    /* systemd refuses shares outside the kernel's 2..262144; the kernel clamps them. */
    uint64_t shares = r->cpu.shares < 2 ? 2 : r->cpu.shares > 262144 ? 262144 : r->cpu.shares;
    cg_sd_add_u64(out, v2 ? "CPUWeight" : "CPUShares", v2 ? cg_v2_cpu_weight(shares) : shares);
  }
  if (r->cpu.has_quota || r->cpu.has_period) {
    uint64_t period = r->cpu.has_period && r->cpu.period ? r->cpu.period : 100000;
    uint64_t per_sec = SD_INFINITY;
    if (r->cpu.has_quota && r->cpu.quota > 0) {
      /* systemd keeps 10 ms granularity: round up, never give less than asked. */
      per_sec = ((uint64_t)r->cpu.quota * 1000000 + period - 1) / period;
      per_sec = (per_sec + 9999) / 10000 * 10000;
    }
    cg_sd_add_u64(out, "CPUQuotaPerSecUSec", per_sec);
    if (r->cpu.has_period && r->cpu.period)
      cg_sd_add_u64(out, "CPUQuotaPeriodUSec", r->cpu.period);
  }
  if (r->block_io.has_weight && r->block_io.weight)
    cg_sd_add_u64(out, v2 ? "IOWeight" : "BlockIOWeight",
                  v2 ? cg_v2_io_weight(r->block_io.weight) : r->block_io.weight);
  /* systemd drives cpuset only on cgroup v2. */
  if (v2 && r->cpu.cpus && *r->cpu.cpus) {
    struct cg_sd_prop *x = add(out, "AllowedCPUs", "ay");
    if (cg_sd_cpuset_mask(r->cpu.cpus, "linux.resources.cpu.cpus", &x->bytes, &x->n_bytes,
                          err) < 0)
      return -1;
  }
  if (v2 && r->cpu.mems && *r->cpu.mems) {
    struct cg_sd_prop *x = add(out, "AllowedMemoryNodes", "ay");
    if (cg_sd_cpuset_mask(r->cpu.mems, "linux.resources.cpu.mems", &x->bytes, &x->n_bytes,
                          err) < 0)
      return -1;
  }
  /* systemd writes its own device rules into the unit's cgroup whenever it (re)applies
   * the unit, e.g. on daemon-reload: on v1 "allow all" unless the unit has a policy; on
   * v2 a device program that the kernel ANDs with brick's. So:
   * - a list systemd can express goes over exactly (strict);
   * - a list that allows everything (privileged) leaves systemd's policy open (auto);
   * - otherwise on v1 the specific devices the list grants, never more (strict); on v2
   *   no program of systemd's at all (auto), brick's own program is the one in force. */
  if (r->n_devices) {
    char **pairs = NULL;
    bool strict = true;
    if (!cg_sd_device_allow(r->devices, r->n_devices, &pairs)) {
      if (allows_every_device(r->devices, r->n_devices) || v2)
        strict = false;
      else
        cg_sd_device_allow_subset(r->devices, r->n_devices, &pairs);
    }
    cg_sd_add_str(out, "DevicePolicy", strict ? "strict" : "auto");
    add(out, "DeviceAllow", "a(ss)")->pairs = pairs;
  }
  if (v2 && r->n_unified)
    return unified_props(r, out, err);
  return 0;
}

/* ---- org.systemd.property.* annotations ---- */

#define SD_PROPERTY_PREFIX "org.systemd.property."

/* A GVariant-text string literal: 'text' or "text", with \\ \' \" escapes. */
static char *parse_quoted(const char **pp) {
  const char *p = *pp;
  char quote = *p++;
  size_t len = strlen(p);
  char *out = xmalloc(len + 1);
  size_t k = 0;
  for (; *p && *p != quote; p++) {
    if (*p == '\\') {
      /* GVariant text escapes; anything else is refused rather than guessed. */
      static const char from[] = "\\'\"ntr", to[] = "\\'\"\n\t\r";
      const char *e = p[1] ? strchr(from, p[1]) : NULL;
      if (!e) {
        free(out);
        return NULL;
      }
      out[k++] = to[e - from];
      p++;
      continue;
    }
    out[k++] = *p;
  }
  if (*p != quote) {
    free(out);
    return NULL;
  }
  out[k] = '\0';
  *pp = p + 1;
  return out;
}

static const char *skip_space(const char *p) {
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static bool parse_number(const char *text, bool is_signed, uint64_t *out) {
  char *end;
  errno = 0;
  if (!isdigit((unsigned char)*text) && !(is_signed && *text == '-'))
    return false;
  if (is_signed) {
    long long v = strtoll(text, &end, 10);
    *out = (uint64_t)v;
  } else {
    if (*skip_space(text) == '-')
      return false;
    *out = strtoull(text, &end, 10);
  }
  return end != text && !errno && !*skip_space(end);
}

/* "N" or "N.M" seconds (or "uint64 N") as microseconds. */
static bool parse_seconds(const char *v, uint64_t *usec) {
  if (brick_str_has_prefix(v, "uint64 "))
    v += strlen("uint64 ");
  uint64_t whole = 0, frac = 0, scale = 1000000;
  const char *p = v;
  if (!isdigit((unsigned char)*p))
    return false;
  for (; isdigit((unsigned char)*p); p++) {
    if (whole > (UINT64_MAX - 9) / 10)
      return false;
    whole = whole * 10 + (uint64_t)(*p - '0');
  }
  if (*p == '.') {
    for (p++; isdigit((unsigned char)*p); p++)
      if (scale > 1) {
        scale /= 10;
        frac += (uint64_t)(*p - '0') * scale;
      }
  }
  if (*skip_space(p) || whole > UINT64_MAX / 1000000)
    return false;
  *usec = whole * 1000000 + frac;
  return true;
}

static int parse_annotation(const char *key, const char *name, const char *value,
                            struct cg_sd_props *out, brick_err *err) {
  const char *v = skip_space(value);
  /* As runc and crun: "...Sec" is seconds and goes to systemd as "...USec". */
  size_t nl = strlen(name);
  if (nl > 3 && !strcmp(name + nl - 3, "Sec") && !(nl > 4 && name[nl - 4] == 'U')) {
    uint64_t usec;
    if (!parse_seconds(v, &usec))
      return brick_error(err, 0, "annotations.%s: \"%s\" is not a number of seconds", key,
                         value);
    struct cg_sd_prop *x = add(out, NULL, "t");
    x->name = x->name_buf = xasprintf("%.*sUSec", (int)(nl - 3), name);
    x->u64 = usec;
    return 0;
  }
  if (!strcmp(v, "true") || !strcmp(v, "false")) {
    cg_sd_add_bool(out, name, !strcmp(v, "true"));
    return 0;
  }
  if (*v == '\'' || *v == '"') {
    const char *p = v;
    char *str = parse_quoted(&p);
    if (str && !*skip_space(p)) {
      add(out, name, "s")->str = str;
      return 0;
    }
    free(str);
  } else if (*v == '[') {
    char **list = NULL;
    const char *p = skip_space(v + 1);
    bool ok = true;
    while (ok && *p != ']') {
      char *item = (*p == '\'' || *p == '"') ? parse_quoted(&p) : NULL;
      if (!item) {
        ok = false;
        break;
      }
      brick_strv_push(&list, item);
      free(item);
      p = skip_space(p);
      if (*p == ',') {
        p = skip_space(p + 1);
        if (*p == ']')
          ok = false;   /* "['a',]" is not GVariant text */
      } else if (*p != ']') {
        ok = false;
      }
    }
    if (ok && *p == ']' && !*skip_space(p + 1)) {
      if (!list)
        list = xcalloc(1, sizeof *list);
      add(out, name, "as")->pairs = list;
      return 0;
    }
    brick_strv_free(list);
  } else {
    static const struct { const char *word, *sig; bool is_signed; } types[] = {
        {"uint64 ", "t", false}, {"int64 ", "x", true}, {"uint32 ", "u", false},
        {"int32 ", "i", true}};
    const char *sig = "t", *num = v;
    bool is_signed = false;
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
      if (brick_str_has_prefix(v, types[i].word)) {
        sig = types[i].sig;
        is_signed = types[i].is_signed;
        num = v + strlen(types[i].word);
      }
    uint64_t n;
    if (parse_number(num, is_signed, &n) &&
        (sig[0] == 't' || sig[0] == 'x' ||
         (sig[0] == 'u' ? n <= UINT32_MAX : (int64_t)n >= INT32_MIN && (int64_t)n <= INT32_MAX))) {
      add(out, name, sig)->u64 = n;
      return 0;
    }
  }
  return brick_error(err, 0, "annotations.%s: \"%s\" is not a value brick can pass to systemd "
                             "(true/false, 'string', ['a', 'b'], uint64 N, int64 N, uint32 N, "
                             "int32 N or N)", key, value);
}

int cg_sd_annotation_props(const struct brick_kv *annotations, size_t n,
                           struct cg_sd_props *out, brick_err *err) {
  /* What brick derives from the config itself: an annotation must not contradict it. */
  static const char *const reserved[] = {"PIDs", "Slice", "Delegate", "DevicePolicy",
                                         "DeviceAllow"};
  for (size_t i = 0; i < n; i++) {
    const char *key = annotations[i].key;
    if (!brick_str_has_prefix(key, SD_PROPERTY_PREFIX))
      continue;
    const char *name = key + strlen(SD_PROPERTY_PREFIX);
    bool valid = *name != '\0';
    for (const char *c = name; *c; c++)
      if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
        valid = false;
    if (!valid)
      return brick_error(err, 0, "annotations.%s: not a systemd property name", key);
    for (size_t r = 0; r < ARRAY_SIZE(reserved); r++)
      if (!strcmp(name, reserved[r]))
        return brick_error(err, 0, "annotations.%s: brick sets %s from the config itself", key,
                           name);
    /* The name lives in the annotation, which outlives the properties. */
    if (parse_annotation(key, name, annotations[i].value ? annotations[i].value : "", out,
                         err) < 0)
      return -1;
  }
  return 0;
}
