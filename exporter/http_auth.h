/* SPDX-License-Identifier: GPL-2.0 */
/* Basic auth of the HTTP server (internal): bcrypt credentials, verified once per pair. */
#ifndef TOOLWATCH_HTTP_AUTH_H
#define TOOLWATCH_HTTP_AUTH_H

#include <stdbool.h>

struct http_server;

/*
 * True when pass is user's password under hash (the bcrypt hash the web config gives
 * user), compared in constant time. A pair once verified is remembered by a SHA-256
 * digest of user, password and hash (never in clear), so bcrypt runs once per pair until
 * auth__forget(). Safe from every request thread.
 */
bool auth__credentials_ok(struct http_server *srv, const char *hash, const char *user,
			  const char *pass);
/* Forgets every verified pair: a reloaded config may have changed or removed them. */
void auth__forget(struct http_server *srv);

#endif /* TOOLWATCH_HTTP_AUTH_H */
