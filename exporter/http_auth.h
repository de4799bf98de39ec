/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Basic auth of the HTTP server (internal). bcrypt runs on one thread of its own, never on
 * libmicrohttpd's: a request whose credentials are not cached is suspended, queued, and
 * resumed with the verdict, so /healthz and cached scrapes are never queued behind it and
 * at most one core hashes. Verified and refused pairs are cached by a keyed hash
 * (auth_cache.h); an unknown user costs one bcrypt like a known one, so timing names no
 * user. The queue is bounded in total and per client address.
 */
#ifndef TOOLWATCH_HTTP_AUTH_H
#define TOOLWATCH_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_cache.h"

#define AUTH_QUEUE_MAX	    16 /* credentials waiting for bcrypt, in total */
#define AUTH_CLIENT_PENDING 2  /* of them from one client address */

struct http_server;
struct served;
struct MHD_Connection;
struct daemon_ref;

/* One request's credentials on their way through the bcrypt thread. */
struct auth_job {
	struct auth_job *next;
	struct MHD_Connection *conn;
	const struct daemon_ref *daemon; /* that accepted conn */
	unsigned char client[16];
	unsigned int client_len;
	uint8_t key[AUTH_CACHE_KEY_LEN];
	char user[256], pass[256], hash[128];
	bool known;	/* user is in the config (else hash is another user's: timing) */
	bool queued;	/* waiting or being hashed */
	bool done;	/* a verdict (or a cancellation) is in */
	bool ok;	/* the verdict */
	bool cancelled; /* the daemon is stopping: answer 503 */
};

enum auth_verdict {
	AUTH_GRANTED,
	AUTH_DENIED,
	AUTH_PENDING,	/* suspended: the handler is called again with the verdict */
	AUTH_THROTTLED, /* the bcrypt queue is full (in total or for this address) */
	AUTH_CANCELLED, /* the daemon is stopping */
};

/* Starts the bcrypt thread and draws the cache's random key; 0 or -errno with why. */
int auth__start(struct http_server *srv, char *why, size_t why_size);
/* Cancels every queued job and stops the bcrypt thread; safe when never started. */
void auth__stop(struct http_server *srv);

/*
 * The verdict on conn's credentials under sv (which has users). job is the request's
 * own, zeroed at its start, and must live until the request completes. AUTH_PENDING:
 * conn is suspended and the handler returns MHD_YES; the next call gives the verdict.
 */
enum auth_verdict auth__check(struct http_server *srv, struct MHD_Connection *conn,
			      struct auth_job *job, const struct served *sv);

/*
 * Resumes every queued job of daemon (NULL: of all) with AUTH_CANCELLED and waits for the
 * one being hashed: afterwards no connection of daemon is suspended, so it may stop.
 */
void auth__cancel(struct http_server *srv, const struct daemon_ref *daemon);

/* Requests refused because the bcrypt queue was full. */
uint64_t auth__throttled(struct http_server *srv);

#endif /* TOOLWATCH_HTTP_AUTH_H */
