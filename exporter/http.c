// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.h"
#include "http.h"

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_config cfg;
};

static const char landing_page[] =
    "<!DOCTYPE html>\n<html><head><title>toolwatch</title></head><body>\n"
    "<h1>toolwatch</h1>\n<p>eBPF monitor of tool executions.</p>\n<ul>\n"
    "<li><a href=\"/metrics\">/metrics</a>: Prometheus metrics</li>\n"
    "<li><a href=\"/healthz\">/healthz</a>: health</li>\n</ul>\n</body></html>\n";

static enum MHD_Result respond_static(struct MHD_Connection *conn, unsigned int status,
				      const char *type, const char *body)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result respond_metrics(struct http_server *srv, struct MHD_Connection *conn)
{
	struct strbuf out = {};
	struct MHD_Response *resp;
	struct snapshot *s;
	enum MHD_Result ret;

	s = hub__acquire(srv->cfg.hub, srv->cfg.snapshot_wait_ms);
	if (!s)
		return respond_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
				      "no snapshot yet\n");
	exposition__render(s, srv->cfg.version, &out);
	snapshot__put(s);
	if (out.oom) {
		strbuf__free(&out);
		return respond_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
				      "out of memory\n");
	}
	resp = MHD_create_response_from_buffer(out.len, out.buf, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		strbuf__free(&out);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, EXPOSITION_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	static int first_call_marker;
	struct http_server *srv = cls;

	/* first call: headers only; answer on the next one so bodies are drained */
	if (*con_cls == NULL) {
		*con_cls = &first_call_marker;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* bodies are ignored */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
				      "method not allowed\n");
	if (!strcmp(url, "/metrics"))
		return respond_metrics(srv, conn);
	if (!strcmp(url, "/healthz")) {
		if (srv->cfg.healthy && !srv->cfg.healthy(srv->cfg.ctx))
			return respond_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
					      "event loop stalled\n");
		return respond_static(conn, MHD_HTTP_OK, "text/plain", "ok\n");
	}
	if (!strcmp(url, "/"))
		return respond_static(conn, MHD_HTTP_OK, "text/html; charset=utf-8", landing_page);
	return respond_static(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
}

static struct MHD_Daemon *start_daemon(struct http_server *srv, unsigned int flags,
				       const struct sockaddr *addr)
{
	flags |= MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (addr)
		return MHD_start_daemon(flags, srv->cfg.port, NULL, NULL, handle_request, srv,
					MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_CONNECTION_TIMEOUT,
					(unsigned int)10, MHD_OPTION_CONNECTION_LIMIT,
					(unsigned int)128, MHD_OPTION_END);
	return MHD_start_daemon(flags, srv->cfg.port, NULL, NULL, handle_request, srv,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)128, MHD_OPTION_END);
}

struct http_server *http__start(const struct http_config *cfg)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct http_server *srv = calloc(1, sizeof(*srv));
	struct addrinfo *res = NULL;
	char port[8];
	int err;

	if (!srv)
		return NULL;
	srv->cfg = *cfg;
	if (!cfg->host || !cfg->host[0]) {
		srv->daemon = start_daemon(srv, MHD_USE_DUAL_STACK, NULL);
		if (!srv->daemon)
			srv->daemon = start_daemon(srv, 0, NULL);
	} else {
		snprintf(port, sizeof(port), "%u", cfg->port);
		err = getaddrinfo(cfg->host, port, &hints, &res);
		if (err) {
			free(srv);
			errno = err == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
			return NULL;
		}
		srv->daemon =
		    start_daemon(srv, res->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0, res->ai_addr);
		freeaddrinfo(res);
	}
	if (!srv->daemon) {
		err = errno ? errno : EADDRINUSE;
		free(srv);
		errno = err;
		return NULL;
	}
	return srv;
}

void http__stop(struct http_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
