/* Store internals shared by store.c and store_import.c. */
#ifndef BRICK_IMAGE_STORE_INTERNAL_H
#define BRICK_IMAGE_STORE_INTERNAL_H

#include <jansson.h>

#include "image/store.h"

struct brick_store {
  char *dir;  /* absolute */
  int lockfd; /* <store>/lock, flock(LOCK_EX) around every mutation */
};

int brick_store_lock(struct brick_store *s, brick_err *err);
void brick_store_unlock(struct brick_store *s);
char *brick_store_blob_path(const struct brick_store *s, const char *digest);
int brick_store_read_record(struct brick_store *s, const char *id, json_t **out, brick_err *err);
int brick_store_write_record(struct brick_store *s, const char *id, json_t *rec, brick_err *err);
int brick_store_record_ids(struct brick_store *s, char ***ids, brick_err *err);
int brick_store_info_from_record(struct brick_store *s, json_t *rec,
                                 struct brick_image_info *out, brick_err *err);
int brick_store_resolve_id(struct brick_store *s, const char *name_or_id, char **id_out,
                           brick_err *err);
int brick_store_unname_others(struct brick_store *s, const char *name, const char *keep_id,
                              brick_err *err);

/* The two below expect the store lock held. */
int brick_store_signatures_add_locked(struct brick_store *s, const char *id,
                                      const struct brick_store_sig *sigs, size_t n,
                                      size_t *added, brick_err *err);
/* Remove signature directories of images that have no record any more. */
int brick_store_signatures_gc_locked(struct brick_store *s, brick_err *err);

#endif
