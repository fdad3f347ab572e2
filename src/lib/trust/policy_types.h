/* The parsed form of containers-policy.json, shared by the parser (policy.c) and the
 * evaluator (policy_eval.c). */
#ifndef BRICK_TRUST_POLICY_TYPES_H
#define BRICK_TRUST_POLICY_TYPES_H

#include "trust/internal.h"

enum brick_req_type {
  BRICK_REQ_INSECURE_ACCEPT_ANYTHING,
  BRICK_REQ_REJECT,
  BRICK_REQ_SIGNED_BY,
  BRICK_REQ_SIGSTORE_SIGNED,
};

/* A trusted key: a file read when the requirement is evaluated, or inline data. */
struct brick_key_source {
  char *path;
  unsigned char *data;
  size_t len;
};

struct brick_requirement {
  enum brick_req_type type;
  char *key_type; /* signedBy */
  struct brick_key_source *keys;
  size_t n_keys;
  char *unsupported; /* sigstoreSigned forms that need the network (fulcio, rekor, pki) */
  struct brick_signed_identity identity;
  json_t *raw;
};

struct brick_req_list {
  struct brick_requirement *reqs;
  size_t n;
};

struct brick_policy_scope {
  char *name;
  struct brick_req_list reqs;
};

struct brick_policy_transport {
  char *name;
  struct brick_policy_scope *scopes;
  size_t n;
};

struct brick_policy {
  char *origin;
  struct brick_req_list def;
  struct brick_policy_transport *transports;
  size_t n_transports;
};

const char *brick_req_type_name(enum brick_req_type t);

/* The requirements that apply, with a label naming the entry
 * (transports["docker"]["example.com"] or default) and the matched scope. */
struct brick_policy_match {
  const struct brick_req_list *reqs;
  char *entry;
  char *scope;          /* NULL for the global default */
  char **candidates;
  char *docker_ref;     /* the image's docker reference, NULL for path transports */
};
int brick_policy_lookup(const struct brick_policy *p, const char *transport, const char *reference,
                        struct brick_policy_match *m, brick_err *err);
void brick_policy_match_clear(struct brick_policy_match *m);

#endif
