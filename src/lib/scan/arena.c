/* Bump allocation in 64 KiB blocks, freed together: a scan's thousands of findings (and
 * the per-database look-up memo) cost a handful of mallocs instead of ten each. */
#include <string.h>

#include "core/util.h"
#include "scan/scan_internal.h"

struct brick_arena {
  struct brick_arena *next;
  size_t used, size;
  max_align_t data[];
};

enum { ARENA_BLOCK = 64 * 1024 };

void *scan_arena_alloc(struct brick_arena **a, size_t n, size_t align) {
  struct brick_arena *b = *a;
  size_t off = b ? (b->used + align - 1) & ~(align - 1) : 0;
  if (!b || off + n > b->size) {
    size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
    struct brick_arena *nb = xmalloc(sizeof *nb + size);
    nb->size = size;
    nb->used = 0;
    /* a big one-off goes behind the current block so that block's free space stays usable */
    if (b && size != ARENA_BLOCK) {
      nb->next = b->next;
      b->next = nb;
      nb->used = n;
      return nb->data;
    }
    nb->next = b;
    *a = b = nb;
    off = 0;
  }
  b->used = off + n;
  return (char *)b->data + off;
}

char *scan_arena_strndup(struct brick_arena **a, const char *s, size_t n) {
  char *out = scan_arena_alloc(a, n + 1, 1);
  memcpy(out, s, n);
  out[n] = '\0';
  return out;
}

char *scan_arena_strdup(struct brick_arena **a, const char *s) {
  return s ? scan_arena_strndup(a, s, strlen(s)) : NULL;
}

void scan_arena_free(struct brick_arena *a) {
  while (a) {
    struct brick_arena *next = a->next;
    free(a);
    a = next;
  }
}
