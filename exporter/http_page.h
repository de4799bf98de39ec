/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rendered metrics pages shared by every response (internal to the HTTP server). One page
 * per snapshot, format and content encoding is rendered once, by one thread at a time, and
 * reference counted: each response holds a reference until libmicrohttpd is done sending
 * it. The bytes of all pages alive are capped; past the cap a scrape gets the newest page
 * already rendered (an older snapshot) or, when there is none, nothing. The memory of the
 * last page freed is kept for the next render: a page of megabytes written into memory
 * the process already touched costs no page faults (about 1 ms a 4 MB page otherwise).
 */
#ifndef TOOLWATCH_HTTP_PAGE_H
#define TOOLWATCH_HTTP_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

#define PAGE_BYTES_MAX (32u << 20) /* bytes of all pages alive: rendered and being sent */

/* The page formats; a scrape picks one by its Accept header. */
enum page_format {
	PAGE_TEXT,     /* Prometheus text format 0.0.4 */
	PAGE_PROTOBUF, /* delimited io.prometheus.client.MetricFamily, native histograms */
	PAGE_FORMATS,
};

enum page_encoding {
	PAGE_IDENTITY,
	PAGE_GZIP,
	PAGE_ENCODINGS,
};

struct http_server;
struct snapshot;
struct MHD_Response;

struct page {
	unsigned int refs; /* the cache's and each response's; under page_lock */
	struct http_server *srv;
	uint64_t snapshot_ns; /* taken_ns of the snapshot it shows */
	const void *snapshot; /* and its address: both must match */
	size_t len;
	size_t cap; /* bytes allocated at buf */
	char *buf;
};

/* Appends the page of s in format f, uncompressed, to out; 0 or -errno. */
typedef int (*page_render_fn)(struct http_server *srv, const struct snapshot *s, enum page_format f,
			      struct strbuf *out);

/*
 * A reference to the page of s in format f and encoding e, rendered with render if no
 * page of s is cached. NULL with errno: ENOMEM, or EBUSY when the cap is reached and no
 * page in that format and encoding was ever rendered.
 */
struct page *pages__get(struct http_server *srv, const struct snapshot *s, enum page_format f,
			enum page_encoding e, page_render_fn render);
/*
 * A response sending p that takes over the caller's reference (dropped when libmicrohttpd
 * frees the response); NULL (reference dropped too) without memory.
 */
struct MHD_Response *page__response(struct page *p);
/* Drops a reference; the last one frees the page. */
void page__put(struct page *p);
/* Drops the cache's references: at stop. */
void pages__clear(struct http_server *srv);
/* Bytes of the pages alive now. */
size_t pages__bytes(struct http_server *srv);

#endif /* TOOLWATCH_HTTP_PAGE_H */
