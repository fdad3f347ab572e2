/* registries.d (containers-registries.d(5)): YAML files naming, per registry namespace,
 * where signatures are kept ("lookaside", formerly "sigstore"). Parsed with libyaml;
 * the most specific namespace with a lookaside wins, then default-docker. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "core/util.h"
#include "trust/internal.h"

struct ns_entry {
  char *name; /* NULL for default-docker */
  char *lookaside;
  char *lookaside_staging;
  char *file;
};

struct rd_config {
  struct ns_entry *entries;
  size_t n;
  bool have_default;
};

static void config_clear(struct rd_config *c) {
  for (size_t i = 0; i < c->n; i++) {
    free(c->entries[i].name);
    free(c->entries[i].lookaside);
    free(c->entries[i].lookaside_staging);
    free(c->entries[i].file);
  }
  free(c->entries);
  *c = (struct rd_config){0};
}

static const char *scalar(yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* One namespace's settings: lookaside/sigstore, lookaside-staging/sigstore-staging. */
static int parse_ns(yaml_document_t *doc, yaml_node_t *node, const char *file, const char *where,
                    struct ns_entry *out, brick_err *err) {
  if (node->type == YAML_SCALAR_NODE && !*scalar(node))
    return 0; /* "ns:" with nothing under it */
  if (node->type != YAML_MAPPING_NODE)
    return brick_error(err, 0, "%s: %s: expected a mapping", file, where);
  char *legacy = NULL, *legacy_staging = NULL;
  for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
       p++) {
    const char *k = scalar(yaml_document_get_node(doc, p->key));
    yaml_node_t *vn = yaml_document_get_node(doc, p->value);
    const char *v = scalar(vn);
    if (!k)
      continue;
    char **slot = !strcmp(k, "lookaside")           ? &out->lookaside
                  : !strcmp(k, "lookaside-staging") ? &out->lookaside_staging
                  : !strcmp(k, "sigstore")          ? &legacy
                  : !strcmp(k, "sigstore-staging")  ? &legacy_staging
                                                    : NULL;
    if (!slot)
      continue; /* use-sigstore-attachments and future keys */
    if (!v) {
      free(legacy);
      free(legacy_staging);
      return brick_error(err, 0, "%s: %s.%s: expected a string", file, where, k);
    }
    free(*slot);
    *slot = xstrdup(v);
  }
  if ((legacy && out->lookaside) || (legacy_staging && out->lookaside_staging)) {
    free(legacy);
    free(legacy_staging);
    return brick_error(err, 0, "%s: %s: both lookaside and its old name sigstore are set", file,
                       where);
  }
  if (legacy)
    out->lookaside = legacy;
  if (legacy_staging)
    out->lookaside_staging = legacy_staging;
  return 0;
}

static int add_entry(struct rd_config *c, const char *name, const char *file,
                     struct ns_entry *e, brick_err *err) {
  for (size_t i = 0; i < c->n; i++) {
    bool same = name ? (c->entries[i].name && !strcmp(c->entries[i].name, name))
                     : !c->entries[i].name;
    if (same)
      return brick_error(err, 0, "%s: %s%s%s is also configured in %s", file,
                         name ? "docker namespace \"" : "default-docker", name ? name : "",
                         name ? "\"" : "", c->entries[i].file);
  }
  e->name = name ? xstrdup(name) : NULL;
  e->file = xstrdup(file);
  c->entries = xrealloc(c->entries, (c->n + 1) * sizeof *c->entries);
  c->entries[c->n++] = *e;
  return 0;
}

static int parse_file(const char *path, struct rd_config *c, brick_err *err) {
  _cleanup_free_ char *text = NULL;
  size_t len;
  if (brick_read_file(path, &text, &len, err) < 0)
    return -1;
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser))
    return brick_error(err, ENOMEM, "libyaml");
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    brick_error(err, 0, "%s:%zu:%zu: invalid YAML: %s", path, parser.problem_mark.line + 1,
                parser.problem_mark.column + 1, parser.problem ? parser.problem : "parse error");
    yaml_parser_delete(&parser);
    return -1;
  }
  int ret = 0;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root || (root->type == YAML_SCALAR_NODE && !*scalar(root)))
    goto out; /* empty file */
  if (root->type != YAML_MAPPING_NODE) {
    ret = brick_error(err, 0, "%s: expected a mapping at the top level", path);
    goto out;
  }
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
       p++) {
    const char *k = scalar(yaml_document_get_node(&doc, p->key));
    yaml_node_t *v = yaml_document_get_node(&doc, p->value);
    if (!k || !v)
      continue;
    if (!strcmp(k, "default-docker")) {
      struct ns_entry e = {0};
      if (parse_ns(&doc, v, path, "default-docker", &e, err) < 0 ||
          add_entry(c, NULL, path, &e, err) < 0) {
        free(e.lookaside);
        free(e.lookaside_staging);
        ret = -1;
        goto out;
      }
    } else if (!strcmp(k, "docker")) {
      if (v->type == YAML_SCALAR_NODE && !*scalar(v))
        continue;
      if (v->type != YAML_MAPPING_NODE) {
        ret = brick_error(err, 0, "%s: docker: expected a mapping", path);
        goto out;
      }
      for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
           q++) {
        const char *ns = scalar(yaml_document_get_node(&doc, q->key));
        yaml_node_t *nv = yaml_document_get_node(&doc, q->value);
        if (!ns || !nv) {
          ret = brick_error(err, 0, "%s: docker: keys must be strings", path);
          goto out;
        }
        _cleanup_free_ char *where = xasprintf("docker.%s", ns);
        struct ns_entry e = {0};
        if (parse_ns(&doc, nv, path, where, &e, err) < 0 || add_entry(c, ns, path, &e, err) < 0) {
          free(e.lookaside);
          free(e.lookaside_staging);
          ret = -1;
          goto out;
        }
      }
    }
  }
out:
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return ret;
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(const char *dir, struct rd_config *c, brick_err *err) {
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT)
      return 0;
    return brick_errno(err, "open registries.d %s", dir);
  }
  _cleanup_strv_ char **names = NULL;
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t n = strlen(de->d_name);
    if (n > 5 && !strcmp(de->d_name + n - 5, ".yaml"))
      brick_strv_push(&names, de->d_name);
  }
  closedir(d);
  size_t count = brick_strv_len(names);
  if (count)
    qsort(names, count, sizeof *names, name_cmp);
  for (size_t i = 0; i < count; i++) {
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);
    if (parse_file(path, c, err) < 0)
      return -1;
  }
  return 0;
}

static char *default_dir(void) {
  const char *home = getenv("HOME");
  if (home && *home) {
    char *user = xasprintf("%s/.config/containers/registries.d", home);
    struct stat st;
    if (stat(user, &st) == 0 && S_ISDIR(st.st_mode))
      return user;
    free(user);
  }
  return xstrdup("/etc/containers/registries.d");
}

static const char *entry_url(const struct ns_entry *e, bool for_write) {
  if (for_write && e->lookaside_staging)
    return e->lookaside_staging;
  return e->lookaside;
}

int brick_registries_d_lookaside(const char *registries_d, const char *reference, bool for_write,
                                 char **out, brick_err *err) {
  *out = NULL;
  struct brick_dref r;
  if (brick_dref_parse(reference, true, &r, err) < 0)
    return -1;
  _cleanup_free_ char *identity = brick_dref_string(&r);
  _cleanup_strv_ char **namespaces = brick_dref_namespaces(&r);
  brick_dref_clear(&r);
  _cleanup_free_ char *dir = registries_d ? xstrdup(registries_d) : default_dir();
  struct rd_config c = {0};
  if (load_dir(dir, &c, err) < 0) {
    config_clear(&c);
    return -1;
  }
  const struct ns_entry *hit = NULL;
  const char *url = NULL;
  _cleanup_strv_ char **candidates = NULL;
  brick_strv_push(&candidates, identity);
  for (char **ns = namespaces; *ns; ns++)
    brick_strv_push(&candidates, *ns);
  for (char **cand = candidates; *cand && !url; cand++) {
    for (size_t i = 0; i < c.n && !url; i++) {
      if (c.entries[i].name && !strcmp(c.entries[i].name, *cand) &&
          entry_url(&c.entries[i], for_write)) {
        hit = &c.entries[i];
        url = entry_url(hit, for_write);
      }
    }
  }
  for (size_t i = 0; i < c.n && !url; i++) {
    if (!c.entries[i].name) {
      hit = &c.entries[i];
      url = entry_url(hit, for_write);
    }
  }
  int ret = 0;
  if (url) {
    if (brick_str_has_prefix(url, "file://") && url[7] == '/') {
      *out = xstrdup(url + 7);
    } else {
      ret = brick_error(err, 0, "%s: lookaside \"%s\" for %s: only file:// URLs can be used "
                                "(no network access)", hit->file, url, identity);
    }
  }
  config_clear(&c);
  return ret;
}
