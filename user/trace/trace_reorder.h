/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lines of `toolwatch trace` held back briefly and released in the order of the kernel
 * timestamps of their events: records of different CPUs reach the ring buffer a little
 * out of order. Pure: no I/O, the caller writes what is released.
 */
#ifndef TOOLWATCH_TRACE_REORDER_H
#define TOOLWATCH_TRACE_REORDER_H

#include <stddef.h>
#include <stdint.h>

/* Receives one released line (not NUL terminated), oldest first. */
typedef void (*trace_reorder_fn)(const char *line, size_t len, void *ctx);

struct trace_reorder;

/* A buffer of at most max_lines lines (at least 1). NULL + errno on failure. */
struct trace_reorder *trace_reorder__new(size_t max_lines);

/* Frees the lines still held without releasing them; NULL-safe. */
void trace_reorder__free(struct trace_reorder *r);

/*
 * Holds a copy of line[0..len) stamped ts_ns. A full buffer first releases its oldest line
 * to emit(ctx). A line stamped before one already released is late: it is held like any
 * other (and comes out next) and counted. 0, or -ENOMEM (the line is given to emit at once).
 */
int trace_reorder__push(struct trace_reorder *r, uint64_t ts_ns, const char *line, size_t len,
			trace_reorder_fn emit, void *ctx);

/* Releases to emit, oldest first (equal stamps in the order pushed), lines stamped <= ts_ns. */
void trace_reorder__release(struct trace_reorder *r, uint64_t ts_ns, trace_reorder_fn emit,
			    void *ctx);

/* Releases every line held, oldest first. */
void trace_reorder__flush(struct trace_reorder *r, trace_reorder_fn emit, void *ctx);

/* Lines held now. */
size_t trace_reorder__len(const struct trace_reorder *r);

/* Lines pushed later than a newer line had been released: printed out of order. */
uint64_t trace_reorder__late(const struct trace_reorder *r);

#endif /* TOOLWATCH_TRACE_REORDER_H */
