// SPDX-License-Identifier: GPL-2.0
/* A binary min-heap of lines keyed by (timestamp, arrival). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_reorder.h"

struct held_line {
	uint64_t ts_ns;
	uint64_t seq; /* arrival: equal stamps keep their order */
	char *text;
	size_t len;
};

struct trace_reorder {
	struct held_line *heap;
	size_t len, cap, max;
	uint64_t next_seq;
	uint64_t released_ns; /* stamp of the newest line released */
	bool released_any;
	uint64_t late;
};

static bool before(const struct held_line *a, const struct held_line *b)
{
	return a->ts_ns < b->ts_ns || (a->ts_ns == b->ts_ns && a->seq < b->seq);
}

static void swap(struct held_line *a, struct held_line *b)
{
	struct held_line t = *a;

	*a = *b;
	*b = t;
}

struct trace_reorder *trace_reorder__new(size_t max_lines)
{
	struct trace_reorder *r;

	if (!max_lines) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->max = max_lines;
	return r;
}

void trace_reorder__free(struct trace_reorder *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->len; i++)
		free(r->heap[i].text);
	free(r->heap);
	free(r);
}

/* Takes the oldest line off the heap (which is not empty) and gives it to emit. */
static void pop(struct trace_reorder *r, trace_reorder_fn emit, void *ctx)
{
	struct held_line top = r->heap[0];
	size_t i = 0;

	r->heap[0] = r->heap[--r->len];
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < r->len && before(&r->heap[l], &r->heap[m]))
			m = l;
		if (l + 1 < r->len && before(&r->heap[l + 1], &r->heap[m]))
			m = l + 1;
		if (m == i)
			break;
		swap(&r->heap[i], &r->heap[m]);
		i = m;
	}
	if (!r->released_any || top.ts_ns > r->released_ns)
		r->released_ns = top.ts_ns;
	r->released_any = true;
	emit(top.text, top.len, ctx);
	free(top.text);
}

int trace_reorder__push(struct trace_reorder *r, uint64_t ts_ns, const char *line, size_t len,
			trace_reorder_fn emit, void *ctx)
{
	struct held_line *h;
	size_t i;

	if (r->len == r->max)
		pop(r, emit, ctx);
	if (r->released_any && ts_ns < r->released_ns)
		r->late++;
	if (r->len == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;

		if (cap > r->max)
			cap = r->max;
		h = realloc(r->heap, cap * sizeof(*h));
		if (!h)
			goto no_memory;
		r->heap = h;
		r->cap = cap;
	}
	h = &r->heap[r->len];
	h->text = malloc(len ? len : 1);
	if (!h->text)
		goto no_memory;
	memcpy(h->text, line, len);
	h->len = len;
	h->ts_ns = ts_ns;
	h->seq = r->next_seq++;
	for (i = r->len++; i && before(&r->heap[i], &r->heap[(i - 1) / 2]); i = (i - 1) / 2)
		swap(&r->heap[i], &r->heap[(i - 1) / 2]);
	return 0;
no_memory:
	emit(line, len, ctx);
	return -ENOMEM;
}

void trace_reorder__release(struct trace_reorder *r, uint64_t ts_ns, trace_reorder_fn emit,
			    void *ctx)
{
	while (r->len && r->heap[0].ts_ns <= ts_ns)
		pop(r, emit, ctx);
}

void trace_reorder__flush(struct trace_reorder *r, trace_reorder_fn emit, void *ctx)
{
	while (r->len)
		pop(r, emit, ctx);
}

size_t trace_reorder__len(const struct trace_reorder *r)
{
	return r->len;
}

uint64_t trace_reorder__late(const struct trace_reorder *r)
{
	return r->late;
}
