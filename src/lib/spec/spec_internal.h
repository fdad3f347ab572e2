/* Private to the spec module: typed JSON accessors that report errors by JSON path,
 * the name tables behind the public lookups, and the per-section parsers.
 *
 * Conventions: a path is the dotted JSON location of a value ("linux.namespaces[2]"),
 * empty for the document root. Accessors treat a missing key and JSON null alike as
 * "absent" (Go's decoder, and so runc, does the same), return 0 when the value is
 * absent or well-typed and -1 with "<path>: <what was expected>" otherwise. Parsers
 * fill structs in place so that a failure part-way leaves something the matching
 * free function can release. */
#ifndef BRICK_SPEC_INTERNAL_H
#define BRICK_SPEC_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "spec/spec.h"

/* ---- paths and errors (spec_json.c) ---------------------------------------------- */

char *spec_path_key(const char *parent, const char *key);
char *spec_path_index(const char *parent, size_t index);
/* "<path>: <message>" (just the message at the root). Returns -1. */
int spec_error(brick_err *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *spec_json_type_name(const json_t *v);

/* Lookup of obj[key]; NULL when missing or JSON null. */
json_t *spec_get(json_t *obj, const char *key);

/* Typed fetches of obj[key]. *present (may be NULL) says whether a value was there. */
int spec_get_string(json_t *obj, const char *parent, const char *key, bool required,
                    char **out, brick_err *err);
int spec_get_bool(json_t *obj, const char *parent, const char *key, bool *out,
                  bool *present, brick_err *err);
/* Integers with inclusive range checks. */
int spec_get_int(json_t *obj, const char *parent, const char *key, bool required,
                 int64_t min, int64_t max, int64_t *out, bool *present, brick_err *err);
int spec_get_uint(json_t *obj, const char *parent, const char *key, bool required,
                  uint64_t max, uint64_t *out, bool *present, brick_err *err);
/* Array of strings into a NULL-terminated vector (left NULL when absent). */
int spec_get_strv(json_t *obj, const char *parent, const char *key, char ***out,
                  brick_err *err);
/* Container fetches: *out is NULL when absent. */
int spec_get_object(json_t *obj, const char *parent, const char *key, bool required,
                    json_t **out, brick_err *err);
int spec_get_array(json_t *obj, const char *parent, const char *key, json_t **out,
                   brick_err *err);
/* An object whose values are all strings ("annotations", "sysctl", "unified"). */
int spec_get_string_map(json_t *obj, const char *parent, const char *key,
                        struct brick_kv **out, size_t *n, brick_err *err);
void spec_kv_free(struct brick_kv *kv, size_t n);

/* Element i of an array that must be an object. */
int spec_array_object(json_t *arr, const char *path, size_t i, json_t **out, brick_err *err);

/* uidMappings / gidMappings arrays. */
int spec_get_id_mappings(json_t *obj, const char *parent, const char *key,
                         struct brick_id_mapping **out, size_t *n, brick_err *err);

bool spec_path_is_absolute(const char *p);
/* "0-3,7": comma-separated CPU (or memory node) numbers and ascending ranges. */
bool spec_cpu_list_valid(const char *s);

/* ---- name tables (spec_names.c) -------------------------------------------------- */

struct spec_name_value {
  const char *name;
  long value;
};

/* Value for name in a NULL-name-terminated table; false when unknown. */
bool spec_lookup(const struct spec_name_value *table, const char *name, long *value);

extern const struct spec_name_value spec_rlimit_names[];
extern const struct spec_name_value spec_ioprio_class_names[];
extern const struct spec_name_value spec_sched_policy_names[];
extern const struct spec_name_value spec_sched_flag_names[];
extern const struct spec_name_value spec_propagation_names[];
extern const struct spec_name_value spec_seccomp_action_names[];
extern const struct spec_name_value spec_seccomp_op_names[];
extern const struct spec_name_value spec_seccomp_arch_names[];
extern const struct spec_name_value spec_seccomp_flag_names[];
extern const struct spec_name_value spec_personality_domain_names[];

/* "pid" -> BRICK_NS_PID; -1 when unknown. */
int spec_ns_from_name(const char *name);

/* ---- section parsers --------------------------------------------------------------- */

/* spec_process.c: parse into a zeroed struct (path "process" or "" for process.json). */
int spec_parse_process(json_t *obj, const char *path, struct brick_process *p,
                       brick_err *err);
void spec_process_clear(struct brick_process *p);

/* spec_mounts.c */
int spec_parse_mounts(json_t *doc, struct brick_spec *spec, brick_err *err);
void spec_mount_clear(struct brick_mount *m);

/* spec_linux.c */
int spec_parse_linux(json_t *linux_obj, struct brick_linux *l, brick_err *err);
void spec_linux_clear(struct brick_linux *l);

/* spec_resources.c */
int spec_parse_resources(json_t *obj, const char *path, struct brick_resources *r,
                         brick_err *err);
void spec_resources_clear(struct brick_resources *r);

/* spec_seccomp.c */
int spec_parse_seccomp(json_t *obj, const char *path, struct brick_seccomp *s,
                       brick_err *err);
void spec_seccomp_clear(struct brick_seccomp *s);

#endif
