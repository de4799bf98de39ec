/* SPDX-License-Identifier: GPL-2.0 */
/* The HTTP endpoint (libmicrohttpd): /metrics, /healthz and a landing page. */
#ifndef TOOLWATCH_HTTP_H
#define TOOLWATCH_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "hub.h"

struct http_config {
	const char *host; /* "" or NULL: every address (IPv6 dual stack, else IPv4) */
	uint16_t port;
	const char *version;
	struct hub *hub;	       /* source of snapshots */
	unsigned int snapshot_wait_ms; /* how long a scrape waits for a fresh one */
	bool (*healthy)(void *ctx);    /* /healthz: true while the event loop is alive */
	void *ctx;
};

struct http_server;

/* Starts serving on its own thread; NULL + errno on failure (e.g. EADDRINUSE). */
struct http_server *http__start(const struct http_config *cfg);
/* Stops serving and frees; NULL-safe. */
void http__stop(struct http_server *srv);

#endif /* TOOLWATCH_HTTP_H */
