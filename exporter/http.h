/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTTP endpoint (libmicrohttpd): the telemetry path (/metrics), /healthz and a landing
 * page, on one or more addresses, with the exporter-toolkit web config (TLS, client
 * certificates, basic auth, headers), gzip, and limits a hostile client cannot starve.
 */
#ifndef TOOLWATCH_HTTP_H
#define TOOLWATCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/hub.h"

#define HTTP_LISTEN_MAX 8

struct http_listen {
	char host[256]; /* "" = every address (IPv6 dual stack, else IPv4) */
	uint16_t port;
};

struct http_config {
	struct http_listen listen[HTTP_LISTEN_MAX];
	unsigned int nr_listen;
	const char *telemetry_path;	/* "/metrics" */
	const char *web_config_file;	/* NULL or "": plain HTTP, no auth */
	unsigned int max_connections;	/* in total, per address */
	unsigned int max_per_client;	/* connections from one IP address */
	unsigned int header_timeout_ms; /* from accept (or the last response) to full headers */
	unsigned int idle_timeout_s;	/* keep-alive connection with nothing to say */
	bool exporter_metrics;		/* process_* self metrics */
	const char *version;
	struct hub *hub;	       /* source of snapshots */
	unsigned int snapshot_wait_ms; /* how long a scrape waits for a fresh one */
	bool (*healthy)(void *ctx);    /* /healthz: true while the event loop is alive */
	void *ctx;
};

struct http_server;

/*
 * Reads the web config and binds every listen address, serving nothing yet (so a taken
 * port fails before anything else starts). NULL on failure with one line in why (naming
 * the address, or the config file and key) and errno set (EINVAL: bad config).
 */
struct http_server *http__bind(const struct http_config *cfg, char *why, size_t why_size);
/* Starts serving on the bound addresses, on libmicrohttpd's threads; 0 or -errno + why. */
int http__serve(struct http_server *srv, char *why, size_t why_size);
/*
 * Re-reads the web config (and the files it names) once a change held still for a call
 * (force: at once, SIGHUP), reading it only whole (a file that changes while read is read
 * at a later call). A good new config is served from then on; a bad one, or one that
 * would turn off TLS, basic auth or a required client certificate without
 * `allow_downgrade: true`, is logged and counted and the last good one stays. Daemons
 * restart only for new TLS settings; the old ones finish their requests. Also stops the
 * replaced daemons that are done. Call it every second from one thread. Returns 1
 * reloaded, 0 unchanged or not settled, -errno refused (-EINVAL bad, -EPERM downgrade,
 * -EIO a daemon would not start).
 */
int http__reload(struct http_server *srv, bool force);
/* Stops serving and frees; NULL-safe. */
void http__stop(struct http_server *srv);

#endif /* TOOLWATCH_HTTP_H */
