/* Docker references as distribution/reference defines them: [domain/]path[:tag][@digest].
 * Identities in signatures and policy scopes are compared in normalized form
 * ("busybox" is "docker.io/library/busybox"), so every comparison goes through here. */
#include <ctype.h>
#include <string.h>

#include "core/util.h"
#include "trust/internal.h"

#define NAME_MAX_LEN 255

static bool is_alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static bool valid_path_component(const char *s, size_t n) {
  size_t i = 0;
  if (n == 0 || !is_alnum_lower(s[0]))
    return false;
  while (i < n) {
    while (i < n && is_alnum_lower(s[i]))
      i++;
    if (i == n)
      return true;
    size_t sep = i;
    if (s[i] == '.') {
      i++;
    } else if (s[i] == '_') {
      i++;
      if (i < n && s[i] == '_')
        i++;
    } else if (s[i] == '-') {
      while (i < n && s[i] == '-')
        i++;
    } else {
      return false;
    }
    if (i == n || !is_alnum_lower(s[i]) || i == sep)
      return false;
  }
  return true;
}

static bool valid_path(const char *s) {
  const char *p = s;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (!valid_path_component(p, n))
      return false;
    if (!slash)
      return true;
    p = slash + 1;
  }
}

static bool valid_host_label(const char *s, size_t n) {
  if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '-')
      return false;
  return true;
}

bool brick_dref_valid_domain(const char *s) {
  const char *end = s + strlen(s);
  const char *colon = NULL;
  if (s[0] == '[') { /* IPv6 literal */
    const char *close = strchr(s, ']');
    if (!close || close == s + 1)
      return false;
    for (const char *p = s + 1; p < close; p++)
      if (!isxdigit((unsigned char)*p) && *p != ':')
        return false;
    if (close[1] == '\0')
      return true;
    colon = close + 1;
    if (*colon != ':')
      return false;
  } else {
    colon = strchr(s, ':');
    const char *host_end = colon ? colon : end;
    const char *p = s;
    for (;;) {
      const char *dot = memchr(p, '.', (size_t)(host_end - p));
      size_t n = dot ? (size_t)(dot - p) : (size_t)(host_end - p);
      if (!valid_host_label(p, n))
        return false;
      if (!dot)
        break;
      p = dot + 1;
    }
    if (!colon)
      return true;
  }
  if (colon[1] == '\0')
    return false;
  for (const char *p = colon + 1; *p; p++)
    if (!isdigit((unsigned char)*p))
      return false;
  return true;
}

static bool valid_tag(const char *t) {
  size_t n = strlen(t);
  if (n == 0 || n > 128)
    return false;
  if (!isalnum((unsigned char)t[0]) && t[0] != '_')
    return false;
  for (size_t i = 1; i < n; i++)
    if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
      return false;
  return true;
}

static bool valid_digest(const char *d) {
  const char *colon = strchr(d, ':');
  if (!colon || colon == d)
    return false;
  size_t alg_len = (size_t)(colon - d);
  const char *hex = colon + 1;
  size_t hex_len = strlen(hex);
  for (size_t i = 0; i < alg_len; i++)
    if (!is_alnum_lower(d[i]) && !strchr(".+_-", d[i]))
      return false;
  for (size_t i = 0; i < hex_len; i++)
    if (!isxdigit((unsigned char)hex[i]))
      return false;
  if (alg_len == 6 && !strncmp(d, "sha256", 6)) {
    if (hex_len != 64)
      return false;
  } else if (alg_len == 6 && !strncmp(d, "sha512", 6)) {
    if (hex_len != 128)
      return false;
  } else if (hex_len < 32) {
    return false;
  }
  for (size_t i = 0; i < hex_len; i++)
    if (isupper((unsigned char)hex[i]))
      return false;
  return true;
}

void brick_dref_clear(struct brick_dref *r) {
  free(r->domain);
  free(r->path);
  free(r->tag);
  free(r->digest);
  *r = (struct brick_dref){0};
}

char *brick_dref_name(const struct brick_dref *r) { return xasprintf("%s/%s", r->domain, r->path); }

char *brick_dref_string(const struct brick_dref *r) {
  return xasprintf("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ? r->tag : "",
                   r->digest ? "@" : "", r->digest ? r->digest : "");
}

static int parse_normalized(const char *s, struct brick_dref *out, brick_err *err) {
  _cleanup_free_ char *buf = xstrdup(s);
  struct brick_dref r = {0};
  if (!*buf)
    return brick_error(err, 0, "empty reference");
  char *at = strchr(buf, '@');
  if (at) {
    *at = '\0';
    if (!valid_digest(at + 1))
      return brick_error(err, 0, "reference \"%s\": invalid digest \"%s\"", s, at + 1);
    r.digest = xstrdup(at + 1);
  }
  char *last_slash = strrchr(buf, '/');
  char *colon = strrchr(last_slash ? last_slash : buf, ':');
  if (colon) {
    *colon = '\0';
    if (!valid_tag(colon + 1)) {
      brick_dref_clear(&r);
      return brick_error(err, 0, "reference \"%s\": invalid tag \"%s\"", s, colon + 1);
    }
    r.tag = xstrdup(colon + 1);
  }
  /* The first component is a registry host when it looks like one (has '.' or ':',
   * is localhost, or has capitals, which repository paths never do). */
  char *slash = strchr(buf, '/');
  const char *remainder = buf;
  if (slash) {
    *slash = '\0';
    bool lower = true;
    for (const char *p = buf; *p; p++)
      if (isupper((unsigned char)*p))
        lower = false;
    if (strpbrk(buf, ".:") || !strcmp(buf, "localhost") || !lower) {
      r.domain = xstrdup(buf);
      remainder = slash + 1;
    } else {
      *slash = '/';
    }
  }
  if (!r.domain)
    r.domain = xstrdup("docker.io");
  if (!strcmp(r.domain, "index.docker.io")) {
    free(r.domain);
    r.domain = xstrdup("docker.io");
  }
  for (const char *p = remainder; *p; p++) {
    if (isupper((unsigned char)*p)) {
      brick_dref_clear(&r);
      return brick_error(err, 0, "reference \"%s\": repository name must be lowercase", s);
    }
  }
  if (!strcmp(r.domain, "docker.io") && !strchr(remainder, '/'))
    r.path = xasprintf("library/%s", remainder);
  else
    r.path = xstrdup(remainder);
  if (!brick_dref_valid_domain(r.domain)) {
    brick_dref_clear(&r);
    return brick_error(err, 0, "reference \"%s\": invalid registry host", s);
  }
  if (!valid_path(r.path)) {
    brick_dref_clear(&r);
    return brick_error(err, 0, "reference \"%s\": invalid repository name", s);
  }
  if (strlen(r.domain) + 1 + strlen(r.path) > NAME_MAX_LEN) {
    brick_dref_clear(&r);
    return brick_error(err, 0, "reference \"%s\": repository name longer than %d characters", s,
                       NAME_MAX_LEN);
  }
  *out = r;
  return 0;
}

int brick_dref_parse(const char *s, bool normalize, struct brick_dref *out, brick_err *err) {
  *out = (struct brick_dref){0};
  if (normalize) {
    /* docker refuses bare 64-hex names: they are image IDs, not repositories. */
    if (strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64)
      return brick_error(err, 0, "reference \"%s\": a 64-character hex string is an image ID, "
                                 "not a repository", s);
    return parse_normalized(s, out, err);
  }
  struct brick_dref r;
  if (parse_normalized(s, &r, err) < 0)
    return -1;
  _cleanup_free_ char *canon = brick_dref_string(&r);
  if (strcmp(canon, s) != 0) {
    brick_dref_clear(&r);
    return brick_error(err, 0, "reference \"%s\" is not in normalized form (\"%s\")", s, canon);
  }
  *out = r;
  return 0;
}

char **brick_dref_namespaces(const struct brick_dref *r) {
  char **res = NULL;
  _cleanup_free_ char *name = brick_dref_name(r);
  brick_strv_push(&res, name);
  for (;;) {
    char *slash = strrchr(name, '/');
    if (!slash)
      break;
    *slash = '\0';
    brick_strv_push(&res, name);
  }
  /* name is now the host[:port]; wildcards are matched on the host without the port. */
  char *colon = name[0] == '[' ? NULL : strchr(name, ':');
  if (colon)
    *colon = '\0';
  if (name[0] != '[') {
    for (char *p = strchr(name, '.'); p; p = strchr(p + 1, '.')) {
      _cleanup_free_ char *wild = xasprintf("*.%s", p + 1);
      brick_strv_push(&res, wild);
    }
  }
  return res;
}
