// SPDX-License-Identifier: GPL-2.0
/* Rendered metrics pages, shared and reference counted (see http_page.h). */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>

#include "events/snapshot.h"
#include "http_internal.h"
#include "http_page.h"
#include "webconfig.h"

/* Under page_lock: the larger of buf and the spare stays as the spare. */
static void spare_keep(struct http_server *srv, char *buf, size_t cap)
{
	if (buf && cap > srv->page_spare.cap) {
		strbuf__free(&srv->page_spare);
		srv->page_spare = (struct strbuf){.buf = buf, .cap = cap};
	} else {
		free(buf);
	}
}

/* Under page_lock: the spare, emptied, to render into (a zeroed strbuf when none). */
static struct strbuf spare_take(struct http_server *srv)
{
	struct strbuf sb = srv->page_spare;

	srv->page_spare = (struct strbuf){};
	strbuf__reset(&sb);
	return sb;
}

static void page_free(struct page *p)
{
	p->srv->page_bytes -= p->len;
	spare_keep(p->srv, p->buf, p->cap);
	free(p);
}

/* Under page_lock. */
static void put_locked(struct page *p)
{
	if (p && !--p->refs)
		page_free(p);
}

void page__put(struct page *p)
{
	struct http_server *srv;

	if (!p)
		return;
	srv = p->srv;
	pthread_mutex_lock(&srv->page_lock);
	put_locked(p);
	pthread_mutex_unlock(&srv->page_lock);
}

static struct page *page_new(struct http_server *srv, const struct snapshot *s, struct strbuf *sb)
{
	struct page *p = calloc(1, sizeof(*p));

	if (!p) {
		strbuf__free(sb);
		return NULL;
	}
	p->srv = srv;
	p->snapshot = s;
	p->snapshot_ns = s->taken_ns;
	p->buf = sb->buf;
	p->len = sb->len;
	p->cap = sb->cap;
	p->refs = 1;
	srv->page_bytes += p->len;
	*sb = (struct strbuf){};
	return p;
}

struct page *pages__get(struct http_server *srv, const struct snapshot *s, enum page_format f,
			enum page_encoding e, page_render_fn render)
{
	struct page **slot = &srv->pages[f][e], *p = NULL;
	struct strbuf text = {}, gz = {};
	size_t cached_len;
	int err = 0;

	/* one render at a time: concurrent scrapes of one snapshot share it, and the render's
	 * own buffers exist once */
	pthread_mutex_lock(&srv->page_lock);
	if (*slot && (*slot)->snapshot == s && (*slot)->snapshot_ns == s->taken_ns) {
		p = *slot;
		goto take;
	}
	/* what a new page may need at most: the cached one goes when it is replaced */
	cached_len = *slot && (*slot)->refs == 1 ? (*slot)->len : 0;
	if (srv->page_bytes - cached_len >= PAGE_BYTES_MAX) {
		p = *slot; /* the newest page rendered, older snapshot; NULL: none */
		err = EBUSY;
		goto take;
	}
	text = spare_take(srv);
	err = render(srv, s, f, &text);
	if (!err && text.oom)
		err = ENOMEM;
	if (!err && e == PAGE_GZIP) {
		err = http_gzip(text.buf, text.len, &gz) ? ENOMEM : 0;
		/* the uncompressed page is only the input: its memory serves the next render */
		spare_keep(srv, text.buf, text.cap);
		text = gz;
	}
	if (!err)
		p = page_new(srv, s, &text);
	strbuf__free(&text);
	if (!p) {
		p = *slot; /* no memory for a new page: the last one is better than none */
		err = err ? err : ENOMEM;
		goto take;
	}
	put_locked(*slot);
	*slot = p;
take:
	if (p)
		p->refs++;
	pthread_mutex_unlock(&srv->page_lock);
	if (!p)
		errno = err;
	return p;
}

static void response_done(void *cls)
{
	page__put(cls);
}

struct MHD_Response *page__response(struct page *p)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(
	    p->len, p->buf, response_done, p);

	if (!resp)
		page__put(p);
	return resp;
}

void pages__clear(struct http_server *srv)
{
	pthread_mutex_lock(&srv->page_lock);
	for (int f = 0; f < PAGE_FORMATS; f++) {
		for (int e = 0; e < PAGE_ENCODINGS; e++) {
			put_locked(srv->pages[f][e]);
			srv->pages[f][e] = NULL;
		}
	}
	strbuf__free(&srv->page_spare);
	pthread_mutex_unlock(&srv->page_lock);
}

size_t pages__bytes(struct http_server *srv)
{
	size_t n;

	pthread_mutex_lock(&srv->page_lock);
	n = srv->page_bytes;
	pthread_mutex_unlock(&srv->page_lock);
	return n;
}
