#ifndef FLIGHTLOG_CSQLITETUNING_SHIM_H
#define FLIGHTLOG_CSQLITETUNING_SHIM_H
#include <sqlite3.h>

/// Turns off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS), which sqlite3_config, a variadic function Swift
/// cannot call, sets. With statistics on, every SQLite allocation takes one process-wide mutex; Debian's SQLite is
/// built without lookaside memory, so every value a statement reads is such an allocation, and connections used
/// from several threads (the writer, the full-text indexer, readers, verify's scans) wait on each other there.
/// Only takes effect before SQLite's first initialization; returns SQLITE_OK, or SQLITE_MISUSE when too late.
static inline int flightlog_sqlite_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/// Asks the CPU to start loading the cache line at `address`, to be written soon, without waiting for it. The full
/// index scan adds hundreds of millions of token instances to slots spread over hundreds of megabytes: announcing
/// each slot a few updates ahead lets those cache misses overlap instead of stalling one after the other.
static inline void flightlog_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}
#endif
