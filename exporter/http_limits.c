// SPDX-License-Identifier: GPL-2.0
/*
 * Limits a hostile client cannot get around: the per-client connection limit, counted at
 * accept, and the request-header deadline, enforced by a thread of its own that sleeps
 * until the earliest deadline, or until a connection gets one when none has.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http_internal.h"
#include "http_limits.h"

/* The count of addr's open connections, created at 0; NULL: not an IP address, or no
 * memory (then the connection is not counted). Under track_lock. */
static struct client *client_of(struct http_server *srv, const struct sockaddr *addr)
{
	const unsigned char *bytes;
	unsigned int len, h = 2166136261u;
	struct client *c;

	if (!addr)
		return NULL;
	if (addr->sa_family == AF_INET) {
		bytes = (const unsigned char *)&((const struct sockaddr_in *)addr)->sin_addr;
		len = 4;
	} else if (addr->sa_family == AF_INET6) {
		bytes = (const unsigned char *)&((const struct sockaddr_in6 *)addr)->sin6_addr;
		len = 16;
	} else {
		return NULL;
	}
	for (unsigned int i = 0; i < len; i++)
		h = (h ^ bytes[i]) * 16777619u;
	h %= CLIENT_BUCKETS;
	for (c = srv->clients[h]; c; c = c->next)
		if (c->addr_len == len && !memcmp(c->addr, bytes, len))
			return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	memcpy(c->addr, bytes, len);
	c->addr_len = len;
	c->bucket = h;
	c->next = srv->clients[h];
	srv->clients[h] = c;
	return c;
}

/* One connection of c closed; the count goes when its last one does. Under track_lock. */
static void client_put(struct http_server *srv, struct client *c)
{
	if (--c->open)
		return;
	for (struct client **p = &srv->clients[c->bucket]; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			free(c);
			return;
		}
	}
}

/*
 * A connection's header deadline starts now: the reaper needs waking only if it waits
 * for none, as a deadline set now is never earlier than one it already waits for. Under
 * track_lock.
 */
static void wake_reaper(struct http_server *srv)
{
	if (srv->reaper_idle)
		pthread_cond_signal(&srv->reaper_wake);
}

void limits__notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			       enum MHD_ConnectionNotificationCode toe)
{
	struct daemon_ref *ref = cls;
	struct http_server *srv = ref->srv;
	const union MHD_ConnectionInfo *info, *peer;
	struct client *c;
	struct tracked *t;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		peer = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		t = calloc(1, sizeof(*t));
		if (!t || !info) {
			/* every connection is tracked, so none outlives the header deadline (nor a
			 * retired config's certificates): without memory, none at all */
			if (info)
				shutdown(info->connect_fd, SHUT_RDWR);
			free(t);
			return;
		}
		t->fd = t->sock = info->connect_fd;
		t->ref = ref;
		/* stamped under the lock, so the reaper never sees a time later than its now */
		pthread_mutex_lock(&srv->track_lock);
		t->since_ns = mono_ns();
		t->next = srv->tracked;
		if (t->next)
			t->next->prev = t;
		srv->tracked = t;
		wake_reaper(srv); /* its header deadline */
		c = client_of(srv, peer ? peer->client_addr : NULL);
		if (c && srv->cfg.max_per_client && c->open >= srv->cfg.max_per_client) {
			/* shut now, counted; MHD then closes it without calling the handler */
			t->refused = true;
			shutdown(t->fd, SHUT_RDWR);
			t->fd = -1;
			__atomic_add_fetch(&srv->client_limit_refusals, 1, __ATOMIC_RELAXED);
		} else if (c) {
			c->open++;
			t->client = c;
		}
		pthread_mutex_unlock(&srv->track_lock);
		*socket_context = t;
		return;
	}
	t = *socket_context;
	if (!t)
		return;
	/* MHD closes the socket after this returns: unlink first, under the lock */
	pthread_mutex_lock(&srv->track_lock);
	if (t->prev)
		t->prev->next = t->next;
	else
		srv->tracked = t->next;
	if (t->next)
		t->next->prev = t->prev;
	if (t->client)
		client_put(srv, t->client);
	pthread_mutex_unlock(&srv->track_lock);
	free(t);
	*socket_context = NULL;
}

static struct tracked *tracked_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

struct daemon_ref *limits__daemon_of_socket(struct http_server *srv, int sock)
{
	struct daemon_ref *ref = NULL;

	pthread_mutex_lock(&srv->track_lock);
	for (struct tracked *t = srv->tracked; t && !ref; t = t->next)
		if (t->sock == sock)
			ref = t->ref;
	pthread_mutex_unlock(&srv->track_lock);
	return ref;
}

struct daemon_ref *limits__daemon_of(struct MHD_Connection *conn)
{
	const struct tracked *t = tracked_of(conn);

	return t ? t->ref : NULL;
}

bool limits__refused(struct MHD_Connection *conn)
{
	const struct tracked *t = tracked_of(conn);

	return t && t->refused;
}

void limits__set_in_request(struct http_server *srv, struct MHD_Connection *conn, bool in)
{
	struct tracked *t = tracked_of(conn);

	if (!t)
		return;
	pthread_mutex_lock(&srv->track_lock);
	t->in_request = in;
	t->since_ns = mono_ns();
	if (!in)
		wake_reaper(srv); /* the next request's header deadline */
	pthread_mutex_unlock(&srv->track_lock);
}

void limits__request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			       enum MHD_RequestTerminationCode toe)
{
	/* a kept-alive connection gets a new deadline for its next request's headers */
	limits__set_in_request(cls, conn, false);
}

/*
 * Whether headers awaited since since_ns are overdue at now. A stamp later than now is
 * never overdue: unsigned now - since would make a connection accepted a moment after
 * now was read look 584 years old, and it was cut before it could send its request.
 */
static bool header_overdue(uint64_t now, uint64_t since_ns, uint64_t limit_ns)
{
	return now >= since_ns && now - since_ns >= limit_ns;
}

/*
 * Shuts down connections whose headers did not arrive in time (MHD then closes them), then
 * sleeps until the earliest deadline left; with none, until a connection gets one.
 */
static void *reaper(void *arg)
{
	struct http_server *srv = arg;
	uint64_t limit = (uint64_t)srv->cfg.header_timeout_ms * 1000000ULL;

	pthread_setname_np(pthread_self(), "http-deadline");
	/* under the lock: every since_ns is stamped under it too, and no wakeup is missed */
	pthread_mutex_lock(&srv->track_lock);
	while (!srv->reaper_quit) {
		uint64_t now = mono_ns(), next = UINT64_MAX;
		struct timespec until;

		for (struct tracked *t = srv->tracked; t; t = t->next) {
			if (t->in_request || t->fd < 0)
				continue;
			if (!header_overdue(now, t->since_ns, limit)) {
				if (t->since_ns + limit < next)
					next = t->since_ns + limit;
				continue;
			}
			shutdown(t->fd, SHUT_RDWR);
			t->fd = -1; /* once */
			__atomic_add_fetch(&srv->header_timeouts, 1, __ATOMIC_RELAXED);
		}
		if (next == UINT64_MAX) {
			srv->reaper_idle = true;
			pthread_cond_wait(&srv->reaper_wake, &srv->track_lock);
			srv->reaper_idle = false;
			continue;
		}
		until.tv_sec = (time_t)(next / 1000000000ULL);
		until.tv_nsec = (long)(next % 1000000000ULL);
		pthread_cond_timedwait(&srv->reaper_wake, &srv->track_lock, &until);
	}
	pthread_mutex_unlock(&srv->track_lock);
	return NULL;
}

int limits__start(struct http_server *srv, char *why, size_t n)
{
	if (pthread_create(&srv->reaper, NULL, reaper, srv)) {
		snprintf(why, n, "cannot start the HTTP deadline thread");
		return -EAGAIN;
	}
	srv->reaper_running = true;
	return 0;
}

void limits__stop(struct http_server *srv)
{
	if (srv->reaper_running) {
		pthread_mutex_lock(&srv->track_lock);
		srv->reaper_quit = true;
		pthread_cond_signal(&srv->reaper_wake);
		pthread_mutex_unlock(&srv->track_lock);
		pthread_join(srv->reaper, NULL);
		srv->reaper_running = false;
	}
	for (unsigned int i = 0; i < CLIENT_BUCKETS; i++) {
		while (srv->clients[i]) { /* none once every daemon stopped; a failed start */
			struct client *gone = srv->clients[i];

			srv->clients[i] = gone->next;
			free(gone);
		}
	}
}
