/* SPDX-License-Identifier: GPL-2.0 */
/* Request framing of the HTTP server (internal): what is refused on the headers alone. */
#ifndef TOOLWATCH_HTTP_FRAMING_H
#define TOOLWATCH_HTTP_FRAMING_H

struct MHD_Connection;

/*
 * The status refusing conn's request, whose headers are in, with its text in *why; 0:
 * none. Called on the handler's first call, before libmicrohttpd reads a body or says
 * "100 Continue". Two different Content-Length values or a Content-Length with a
 * Transfer-Encoding (how a request is smuggled past a proxy that frames it otherwise),
 * and a bad Content-Length, give 400; a transfer coding other than chunked 501; a body
 * (no endpoint reads one) 405 for methods other than GET and HEAD, 417 with Expect, else
 * 413. The caller answers and closes the connection.
 */
unsigned int framing__refusal(struct MHD_Connection *conn, const char *method, const char **why);

#endif /* TOOLWATCH_HTTP_FRAMING_H */
