#ifndef FLIGHTLOG_CMALLOC_SHIM_H
#define FLIGHTLOG_CMALLOC_SHIM_H
#include <malloc.h>

/// Limits glibc's malloc to `count` arenas (M_ARENA_MAX); 0 on failure.
static inline int flightlog_set_malloc_arenas(int count) {
    return mallopt(M_ARENA_MAX, count);
}
#endif
