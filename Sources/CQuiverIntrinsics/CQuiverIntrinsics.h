// CQuiverIntrinsics: CPU intrinsics Swift cannot emit, as header-only `static inline` functions
// for QuiverCore (today: software prefetch for the feature engine's batch ingestion).
// Invariant: no library, no I/O, no state; every function compiles to one or a few instructions,
// and a prefetch never faults, whatever address it is given.
#ifndef CQUIVER_INTRINSICS_H
#define CQUIVER_INTRINSICS_H

/// Asks the CPU to bring the cache line holding `p` into all cache levels, for reading.
static inline void quiver_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

/// Asks the CPU to bring the cache line holding `p` into all cache levels, for writing.
static inline void quiver_prefetch_write(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

#endif
