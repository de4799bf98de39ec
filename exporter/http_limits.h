/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Connection limits of the HTTP server (internal): the per-client connection limit and
 * the request-header deadline, over every connection libmicrohttpd accepts.
 */
#ifndef TOOLWATCH_HTTP_LIMITS_H
#define TOOLWATCH_HTTP_LIMITS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct http_server;

/*
 * MHD_OPTION_NOTIFY_CONNECTION callback (cls: the daemon's struct daemon_ref). On start, tracks the
 * connection for the header deadline and counts it against its client address; one over
 * max_per_client is shut at once and counted, and the handler must then refuse it (see
 * limits__refused()). On close, untracks it and frees its place. A connection that
 * cannot be tracked (no memory) is shut at once: none escapes the header deadline.
 */
void limits__notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			       enum MHD_ConnectionNotificationCode toe);
/*
 * MHD_OPTION_NOTIFY_COMPLETED callback (cls: the server): a kept-alive connection's next
 * request headers get a new deadline.
 */
void limits__request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			       enum MHD_RequestTerminationCode toe);
struct daemon_ref;
/* The daemon that accepted the connection on socket sock; NULL: no such connection. */
struct daemon_ref *limits__daemon_of_socket(struct http_server *srv, int sock);
/* The daemon that accepted conn (every connection is tracked; NULL otherwise). */
struct daemon_ref *limits__daemon_of(struct MHD_Connection *conn);
/* True when conn was over the per-client limit at accept: it is to be closed unanswered. */
bool limits__refused(struct MHD_Connection *conn);
/*
 * Marks conn's headers complete (in true: the deadline no longer applies) or its response
 * sent (false), restarting its clock either way.
 */
void limits__set_in_request(struct http_server *srv, struct MHD_Connection *conn, bool in);
/*
 * Starts the thread that shuts down, and counts, connections whose request headers did
 * not arrive within header_timeout_ms. 0, or -errno with one line in why.
 */
int limits__start(struct http_server *srv, char *why, size_t why_size);
/*
 * Stops the deadline thread (if started) and frees the per-client counts. Called once
 * every daemon has stopped, so no connection is left to track.
 */
void limits__stop(struct http_server *srv);

#endif /* TOOLWATCH_HTTP_LIMITS_H */
