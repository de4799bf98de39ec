/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTTP server's state, shared by the files that make it up (exporter/http*.c). Only
 * they include it; the agent and the tests use http.h.
 */
#ifndef TOOLWATCH_HTTP_INTERNAL_H
#define TOOLWATCH_HTTP_INTERNAL_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "auth_cache.h"
#include "http.h"
#include "negotiate.h"
#include "http_page.h"
#include "webconfig.h"

#define WATCHED_FILES  4   /* the config, cert, key and client CA */
#define PCERTS_MAX     8   /* certificates in the served chain */
#define CLIENT_BUCKETS 256 /* hash buckets of the per-client connection counts */

/* One web config as served: the parsed file and the PEM it names, read into memory. */
struct served {
	struct webconfig cfg;
	char *cert, *key, *ca; /* NULL without TLS / client CA */
	char priorities[512];
	/* the certificate chain and key as the handshake callback hands them to GnuTLS */
	gnutls_pcert_st pcerts[PCERTS_MAX];
	unsigned int nr_pcerts;
	gnutls_privkey_t pkey;
	unsigned int refs; /* srv->served, each daemon started with it, each handler call */
	struct served *retired_next; /* retired configs, freed once no handshake can use them */
	uint64_t retired_ns;
};

/*
 * A libmicrohttpd daemon serving one listen socket, and the config it serves: the one it
 * was started with, or a later one with the same TLS settings (a reload that kept it).
 */
struct daemon_ref {
	struct http_server *srv;
	struct MHD_Daemon *daemon;
	struct served *sv;	 /* a reference; under served_lock */
	bool draining;		 /* replaced: stops accepting, stopped once its connections end */
	uint64_t since_ns;	 /* draining since */
	struct daemon_ref *next; /* srv->draining */
};

/*
 * Open connections from one client address. The per-client limit is kept here rather
 * than by libmicrohttpd, whose refusal is a silent close nobody could count.
 */
struct client {
	struct client *next;
	unsigned char addr[16];
	unsigned int addr_len; /* 4 (IPv4) or 16 (IPv6) */
	unsigned int bucket;
	unsigned int open;
};

/* A connection being tracked for the request-header deadline and the per-client limit. */
struct tracked {
	struct tracked *next, *prev;
	int fd;			/* -1 once shut by the deadline */
	int sock;		/* the socket, always */
	struct daemon_ref *ref; /* the daemon that accepted it */
	uint64_t since_ns;	/* accepted, or its last response sent */
	bool in_request;	/* headers complete: the deadline no longer applies */
	bool refused;		/* over the per-client limit: shut at accept, never answered */
	struct client *client;	/* counted against this address; NULL: not counted */
};

struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool present;
};

struct http_server {
	struct http_config cfg;
	int fds[HTTP_LISTEN_MAX];
	struct daemon_ref *daemons[HTTP_LISTEN_MAX]; /* serving; under served_lock */
	struct daemon_ref *draining;
	char web_config_file[4096];
	struct served *served; /* read by the request threads under lock */
	struct served *retired;
	struct file_id pending[WATCHED_FILES]; /* changed files, loaded once they hold still */
	pthread_rwlock_t served_lock;
	struct file_id files[WATCHED_FILES];
	/* header deadline */
	pthread_mutex_t track_lock;
	struct tracked *tracked;
	struct client *clients[CLIENT_BUCKETS]; /* under track_lock too */
	pthread_cond_t reaper_wake; /* a new header deadline, or the stop; CLOCK_MONOTONIC */
	pthread_t reaper;
	bool reaper_running;
	bool reaper_quit; /* under track_lock */
	bool reaper_idle; /* waiting with no deadline to wait for; under track_lock */
	/* basic auth: verdicts cached, bcrypt on a thread of its own (http_auth.c) */
	pthread_mutex_t auth_lock;
	pthread_cond_t auth_wake, auth_idle;
	struct auth_cache auth_cache;
	struct auth_job *auth_queue, *auth_current;
	unsigned int auth_queued;
	uint64_t auth_throttled;
	pthread_t auth_thread;
	bool auth_running, auth_stopping;
	/* rendered pages (http_page.c) */
	pthread_mutex_t page_lock;
	struct page *pages[PAGE_FORMATS][PAGE_ENCODINGS];
	size_t page_bytes;
	struct strbuf page_spare;   /* a freed page's memory, the next render's buffer */
	uint64_t responses_refused; /* scrapes past PAGE_BYTES_MAX with no page to share */
	/* counters for the exporter's own families */
	uint64_t header_timeouts;
	uint64_t client_limit_refusals;
	uint64_t reloads, reload_failures;
	uint64_t auth_failures;
	uint64_t responses[EXPOSITION_FORMAT_MAX]; /* /metrics answers by format */
	double start_time;
};

/* CLOCK_MONOTONIC in nanoseconds: connection stamps and retirement ages. */
static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif /* TOOLWATCH_HTTP_INTERNAL_H */
