/* Which policy scopes apply to an image, most specific first. Each transport names
 * images its own way: docker-like references narrow from the full reference to the
 * repository, its namespaces, the host and finally *.domain wildcards; path transports
 * narrow from the resolved path to its parent directories. */
#include <limits.h>
#include <string.h>

#include "core/util.h"
#include "trust/internal.h"

enum brick_transport_kind brick_transport_kind(const char *t) {
  if (!strcmp(t, "docker") || !strcmp(t, "atomic") || !strcmp(t, "docker-daemon"))
    return BRICK_TRANSPORT_DOCKER_LIKE;
  if (!strcmp(t, "dir") || !strcmp(t, "oci") || !strcmp(t, "oci-archive") ||
      !strcmp(t, "docker-archive"))
    return BRICK_TRANSPORT_PATH;
  if (!strcmp(t, "containers-storage"))
    return BRICK_TRANSPORT_STORAGE;
  return BRICK_TRANSPORT_UNKNOWN;
}

bool brick_transport_is_docker_like(const char *t) {
  return brick_transport_kind(t) == BRICK_TRANSPORT_DOCKER_LIKE;
}

/* Lexically clean an absolute path: collapse //, drop ., resolve .. (as filepath.Clean). */
static char *clean_abs(const char *path) {
  char *out = xmalloc(strlen(path) + 2);
  size_t o = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/')
      p++;
    const char *e = strchrnul(p, '/');
    size_t n = (size_t)(e - p);
    if (n == 0 || (n == 1 && p[0] == '.')) {
      /* skip */
    } else if (n == 2 && p[0] == '.' && p[1] == '.') {
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--;
    } else {
      out[o++] = '/';
      memcpy(out + o, p, n);
      o += n;
    }
    p = e;
  }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return out;
}

static bool is_clean_abs(const char *p) {
  if (p[0] != '/' || !strcmp(p, "/"))
    return false;
  _cleanup_free_ char *c = clean_abs(p);
  return strcmp(c, p) == 0;
}

/* The fully explicit form of a path: absolute, symlinks resolved for the part that
 * exists (the image itself may not exist yet when a destination is checked). */
static char *resolve_path(const char *path) {
  _cleanup_free_ char *abs = NULL;
  if (path[0] == '/') {
    abs = xstrdup(path);
  } else {
    char cwd[PATH_MAX];
    abs = getcwd(cwd, sizeof cwd) ? xasprintf("%s/%s", cwd, path) : xasprintf("/%s", path);
  }
  _cleanup_free_ char *clean = clean_abs(abs);
  char *real = realpath(clean, NULL);
  if (real)
    return real;
  char *slash = strrchr(clean, '/');
  if (slash && slash != clean) {
    *slash = '\0';
    _cleanup_free_ char *parent = realpath(clean, NULL);
    if (parent)
      return xasprintf("%s/%s", strcmp(parent, "/") ? parent : "", slash + 1);
    *slash = '/';
  }
  return TAKE_PTR(clean);
}

static void push_parents(char ***v, const char *path) {
  _cleanup_free_ char *p = xstrdup(path);
  for (;;) {
    char *slash = strrchr(p, '/');
    if (!slash || slash == p)
      break;
    *slash = '\0';
    brick_strv_push(v, p);
  }
}

static int docker_like(const char *transport, const char *reference, char ***out,
                       char **docker_ref, brick_err *err) {
  const char *ref = brick_str_has_prefix(reference, "//") ? reference + 2 : reference;
  if (!strcmp(transport, "docker-daemon") && brick_str_has_prefix(ref, "sha256:")) {
    /* An image ID: no name, so only the transport's default scope can apply. */
    *out = xcalloc(1, sizeof(char *));
    return 0;
  }
  struct brick_dref r;
  if (brick_dref_parse(ref, true, &r, err) < 0)
    return -1;
  if (brick_dref_name_only(&r))
    r.tag = xstrdup("latest");
  char **v = NULL;
  _cleanup_free_ char *identity = brick_dref_string(&r);
  brick_strv_push(&v, identity);
  _cleanup_strv_ char **ns = brick_dref_namespaces(&r);
  for (char **n = ns; *n; n++)
    brick_strv_push(&v, *n);
  brick_dref_clear(&r);
  *out = v;
  if (docker_ref)
    *docker_ref = TAKE_PTR(identity);
  return 0;
}

static int path_like(const char *transport, const char *reference, char ***out, brick_err *err) {
  if (!*reference)
    return brick_error(err, 0, "%s: empty path", transport);
  _cleanup_free_ char *path = xstrdup(reference);
  char *suffix = NULL;
  if (strcmp(transport, "dir") != 0) {
    /* oci:PATH[:IMAGE], oci-archive:PATH[:IMAGE], docker-archive:PATH[:REF] */
    char *colon = strchr(path, ':');
    if (colon) {
      *colon = '\0';
      suffix = colon + 1;
    }
  }
  _cleanup_free_ char *resolved = resolve_path(path);
  char **v = NULL;
  if (suffix && *suffix) {
    _cleanup_free_ char *identity = xasprintf("%s:%s", resolved, suffix);
    brick_strv_push(&v, identity);
  }
  brick_strv_push(&v, resolved);
  push_parents(&v, resolved);
  *out = v;
  return 0;
}

/* [driver@graphroot+runroot:options]name:tag — scopes are "[driver@graphroot]name…",
 * "[driver@graphroot]" and "[graphroot]". */
static int storage_like(const char *reference, char ***out, char **docker_ref, brick_err *err) {
  _cleanup_free_ char *spec = NULL, *driverless = NULL;
  const char *name = reference;
  if (reference[0] == '[') {
    const char *close = strchr(reference, ']');
    if (!close)
      return brick_error(err, 0, "containers-storage reference \"%s\": missing ']'", reference);
    _cleanup_free_ char *inner = xasprintf("%.*s", (int)(close - reference - 1), reference + 1);
    inner[strcspn(inner, "+:")] = '\0';
    spec = xasprintf("[%s]", inner);
    char *at = strchr(inner, '@');
    driverless = at ? xasprintf("[%s]", at + 1) : NULL;
    name = close + 1;
  }
  const char *pre = spec ? spec : "";
  char **v = NULL;
  if (*name) {
    struct brick_dref r;
    if (brick_dref_parse(name, true, &r, err) < 0)
      return -1;
    if (brick_dref_name_only(&r))
      r.tag = xstrdup("latest");
    _cleanup_free_ char *s = brick_dref_string(&r);
    _cleanup_free_ char *full = xasprintf("%s%s", pre, s);
    brick_strv_push(&v, full);
    _cleanup_free_ char *n = brick_dref_name(&r);
    if (r.tag && r.digest) {
      _cleanup_free_ char *tagged = xasprintf("%s%s:%s", pre, n, r.tag);
      brick_strv_push(&v, tagged);
    }
    for (;;) {
      _cleanup_free_ char *c = xasprintf("%s%s", pre, n);
      brick_strv_push(&v, c);
      char *slash = strrchr(n, '/');
      if (!slash)
        break;
      *slash = '\0';
    }
    if (docker_ref)
      *docker_ref = TAKE_PTR(s);
    brick_dref_clear(&r);
  }
  if (spec)
    brick_strv_push(&v, spec);
  if (driverless)
    brick_strv_push(&v, driverless);
  if (!v)
    v = xcalloc(1, sizeof(char *));
  *out = v;
  return 0;
}

int brick_policy_scope_candidates(const char *transport, const char *reference, char ***candidates,
                                  char **docker_ref, brick_err *err) {
  *candidates = NULL;
  if (docker_ref)
    *docker_ref = NULL;
  switch (brick_transport_kind(transport)) {
  case BRICK_TRANSPORT_DOCKER_LIKE:
    return docker_like(transport, reference, candidates, docker_ref, err);
  case BRICK_TRANSPORT_PATH:
    return path_like(transport, reference, candidates, err);
  case BRICK_TRANSPORT_STORAGE:
    return storage_like(reference, candidates, docker_ref, err);
  case BRICK_TRANSPORT_UNKNOWN:
    break;
  }
  char **v = NULL;
  brick_strv_push(&v, reference);
  *candidates = v;
  return 0;
}

int brick_policy_validate_scope(const char *transport, const char *scope, brick_err *err) {
  switch (brick_transport_kind(transport)) {
  case BRICK_TRANSPORT_DOCKER_LIKE:
    if (brick_str_has_prefix(scope, "*.")) {
      if (!brick_dref_valid_domain(scope + 2) || strchr(scope + 2, ':'))
        return brick_error(err, 0, "invalid wildcard scope \"%s\" (expected *.domain)", scope);
      return 0;
    }
    if (strchr(scope, '*'))
      return brick_error(err, 0, "invalid scope \"%s\": '*' is only allowed as a leading *.",
                         scope);
    /* host[:port], or a namespace / repository / full reference under it. */
    if (strstr(scope, "//") || scope[strlen(scope) - 1] == '/')
      return brick_error(err, 0, "invalid scope \"%s\": empty path component", scope);
    {
      _cleanup_free_ char *host = xstrdup(scope);
      host[strcspn(host, "/")] = '\0';
      if (strchr(scope, '/') ? !brick_dref_valid_domain(host) && strcmp(host, "localhost")
                             : !brick_dref_valid_domain(host))
        return brick_error(err, 0, "invalid scope \"%s\": \"%s\" is not a registry host",
                           scope, host);
    }
    return 0;
  case BRICK_TRANSPORT_PATH: {
    _cleanup_free_ char *path = xstrdup(scope);
    if (strcmp(transport, "dir") != 0)
      path[strcspn(path, ":")] = '\0';
    if (!is_clean_abs(path))
      return brick_error(err, 0, "invalid scope \"%s\": expected a clean absolute path other "
                                 "than /", scope);
    return 0;
  }
  case BRICK_TRANSPORT_STORAGE:
  case BRICK_TRANSPORT_UNKNOWN:
    break;
  }
  return 0;
}
