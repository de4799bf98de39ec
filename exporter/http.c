// SPDX-License-Identifier: GPL-2.0
/*
 * The HTTP endpoint's handler and lifecycle: request routing and responses, binding the
 * listen addresses, serving them with libmicrohttpd, reloading the web config and stopping.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "exposition.h"
#include "http.h"
#include "http_auth.h"
#include "http_internal.h"
#include "http_limits.h"
#include "http_process.h"
#include "http_tls.h"
#include "lib/log.h"
#include "webconfig.h"

#define POOL_THREADS 4 /* per address: /healthz is never queued behind a scrape */
#define REALM	     "toolwatch"

static const char landing_page_head[] =
    "<!DOCTYPE html>\n<html><head><title>toolwatch</title></head><body>\n"
    "<h1>toolwatch</h1>\n<p>eBPF monitor of tool executions.</p>\n<ul>\n";

/* ---- responses ---- */

static void add_headers(struct MHD_Response *resp, const struct served *sv)
{
	for (unsigned int i = 0; sv && i < sv->cfg.nr_headers; i++)
		MHD_add_response_header(resp, sv->cfg.headers[i].name, sv->cfg.headers[i].value);
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned int status,
			     struct MHD_Response *resp, const struct served *sv)
{
	enum MHD_Result ret;

	add_headers(resp, sv);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned int status,
				    const char *type, const char *body, const struct served *sv)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return queue(conn, status, resp, sv);
}

static enum MHD_Result respond_metrics(struct http_server *srv, struct MHD_Connection *conn,
				       const struct served *sv)
{
	struct exporter_stats e = {};
	struct strbuf out = {}, gz = {};
	struct MHD_Response *resp;
	struct snapshot *s;
	bool gzip;

	s = hub__acquire(srv->cfg.hub, srv->cfg.snapshot_wait_ms);
	if (!s)
		return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
				    "no snapshot yet\n", sv);
	exposition__render(s, srv->cfg.version, &out);
	snapshot__put(s);
	if (srv->cfg.exporter_metrics)
		process__read(srv, &e);
	e.http = true;
	e.header_timeouts = __atomic_load_n(&srv->header_timeouts, __ATOMIC_RELAXED);
	e.client_limit_refusals = __atomic_load_n(&srv->client_limit_refusals, __ATOMIC_RELAXED);
	e.web_config_reloads = __atomic_load_n(&srv->reloads, __ATOMIC_RELAXED);
	e.web_config_reload_failures = __atomic_load_n(&srv->reload_failures, __ATOMIC_RELAXED);
	e.auth_failures = __atomic_load_n(&srv->auth_failures, __ATOMIC_RELAXED);
	exposition__render_exporter(&e, &out);
	gzip = http_accepts_gzip(
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	if (!out.oom && gzip && !http_gzip(out.buf, out.len, &gz)) {
		strbuf__free(&out);
		out = gz;
	} else {
		gzip = false;
	}
	if (out.oom) {
		strbuf__free(&out);
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
				    "out of memory\n", sv);
	}
	resp = MHD_create_response_from_buffer(out.len, out.buf, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		strbuf__free(&out);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, EXPOSITION_CONTENT_TYPE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (gzip)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	return queue(conn, MHD_HTTP_OK, resp, sv);
}

static enum MHD_Result handle_locked(struct http_server *srv, struct MHD_Connection *conn,
				     const char *url, const char *method, const struct served *sv)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char page[1024];

	if (!tls__client_cert_ok(conn, sv))
		return MHD_NO;
	/* /healthz is for the kubelet: no credentials, no snapshot, never queued */
	if (!strcmp(url, "/healthz")) {
		if (srv->cfg.healthy && !srv->cfg.healthy(srv->cfg.ctx))
			return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
					    "event loop stalled\n", sv);
		return respond_text(conn, MHD_HTTP_OK, "text/plain", "ok\n", sv);
	}
	if (sv->cfg.nr_users) {
		char *pass = NULL;
		char *user = MHD_basic_auth_get_username_password(conn, &pass);
		const char *hash = user ? webconfig__user_hash(&sv->cfg, user) : NULL;
		bool ok = hash && pass && auth__credentials_ok(srv, hash, user, pass);

		if (user)
			MHD_free(user);
		if (pass)
			MHD_free(pass);
		if (!ok) {
			__atomic_add_fetch(&srv->auth_failures, 1, __ATOMIC_RELAXED);
			resp = MHD_create_response_from_buffer(strlen("unauthorized\n"),
							       (void *)"unauthorized\n",
							       MHD_RESPMEM_PERSISTENT);
			if (!resp)
				return MHD_NO;
			add_headers(resp, sv);
			ret = MHD_queue_basic_auth_fail_response(conn, REALM, resp);
			MHD_destroy_response(resp);
			return ret;
		}
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
				    "method not allowed\n", sv);
	if (!strcmp(url, srv->cfg.telemetry_path))
		return respond_metrics(srv, conn, sv);
	if (!strcmp(url, "/")) {
		snprintf(
		    page, sizeof(page),
		    "%s<li><a href=\"%s\">%s</a>: Prometheus metrics</li>\n"
		    "<li><a href=\"/healthz\">/healthz</a>: health</li>\n</ul>\n</body></html>\n",
		    landing_page_head, srv->cfg.telemetry_path, srv->cfg.telemetry_path);
		return respond_text(conn, MHD_HTTP_OK, "text/html; charset=utf-8", page, sv);
	}
	return respond_text(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", sv);
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	static int first_call_marker;
	struct http_server *srv = cls;
	enum MHD_Result ret;

	/* over the per-client limit: already shut, nothing to say (closes it) */
	if (limits__refused(conn))
		return MHD_NO;
	/* first call: headers only; answer on the next one so bodies are drained */
	if (*con_cls == NULL) {
		*con_cls = &first_call_marker;
		limits__set_in_request(srv, conn, true);
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* bodies are ignored */
		return MHD_YES;
	}
	pthread_rwlock_rdlock(&srv->served_lock);
	ret = handle_locked(srv, conn, url, method, srv->served);
	pthread_rwlock_unlock(&srv->served_lock);
	return ret;
}

/* ---- listening ---- */

static int bind_one(const struct http_listen *l, char *why, size_t n)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV | AI_PASSIVE | AI_ADDRCONFIG};
	struct addrinfo *res = NULL, *ai;
	int fd = -1, one = 1, zero = 0, err = 0;
	char port[8];

	snprintf(port, sizeof(port), "%u", l->port);
	if (!l->host[0]) {
		/* every address: IPv6 dual stack, else IPv4 */
		struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(l->port)};
		struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(l->port)};

		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
			if (!bind(fd, (struct sockaddr *)&a6, sizeof(a6)) && !listen(fd, 128))
				return fd;
			err = errno;
			close(fd);
			if (err == EADDRINUSE)
				goto fail;
		}
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = errno;
			goto fail;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, (struct sockaddr *)&a4, sizeof(a4)) && !listen(fd, 128))
			return fd;
		err = errno;
		close(fd);
		goto fail;
	}
	err = getaddrinfo(l->host, port, &hints, &res);
	if (err) {
		snprintf(why, n, "cannot listen on '%s:%u': cannot resolve host '%s': %s", l->host,
			 l->port, l->host, gai_strerror(err));
		errno = EADDRNOTAVAIL;
		return -1;
	}
	err = EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 128)) {
			freeaddrinfo(res);
			return fd;
		}
		err = errno;
		close(fd);
	}
	freeaddrinfo(res);
fail:
	snprintf(why, n, "cannot listen on '%s:%u': %s", l->host, l->port,
		 err == EADDRNOTAVAIL ? "no such local address" : strerror(err));
	errno = err;
	return -1;
}

static struct MHD_Daemon *start_daemon(struct http_server *srv, int fd, const struct served *sv)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC;
	struct MHD_OptionItem opts[16];
	unsigned int i = 0;

#define OPT(o, v, p) (opts[i++] = (struct MHD_OptionItem){o, (intptr_t)(v), p})
	OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
	OPT(MHD_OPTION_THREAD_POOL_SIZE, POOL_THREADS, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, srv->cfg.max_connections, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, srv->cfg.idle_timeout_s, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, limits__notify_connection, srv);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, limits__request_completed, srv);
	if (sv->cfg.tls) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)tls__retrieve_cert);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)sv->priorities);
		if (sv->ca)
			OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, sv->ca);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	return MHD_start_daemon(flags, 0, NULL, NULL, handle_request, srv, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_END);
}

struct http_server *http__bind(const struct http_config *cfg, char *why, size_t n)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	int err = 0;

	if (!srv) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	srv->cfg = *cfg;
	srv->start_time = (double)time(NULL);
	for (unsigned int i = 0; i < HTTP_LISTEN_MAX; i++)
		srv->fds[i] = -1;
	srv->reaper_stop[0] = srv->reaper_stop[1] = -1;
	pthread_rwlock_init(&srv->served_lock, NULL);
	pthread_mutex_init(&srv->track_lock, NULL);
	pthread_mutex_init(&srv->auth_lock, NULL);
	snprintf(srv->web_config_file, sizeof(srv->web_config_file), "%s",
		 cfg->web_config_file ? cfg->web_config_file : "");
	srv->cfg.web_config_file = srv->web_config_file;
	srv->served = served__load(srv->web_config_file, why, n);
	tls__set_server(srv);
	if (!srv->served) {
		err = EINVAL;
		goto fail;
	}
	file_ids__get(srv->web_config_file, &srv->served->cfg, srv->files);
	for (unsigned int i = 0; i < cfg->nr_listen; i++) {
		srv->fds[i] = bind_one(&cfg->listen[i], why, n);
		if (srv->fds[i] < 0) {
			err = errno;
			goto fail;
		}
	}
	return srv;
fail:
	http__stop(srv);
	errno = err;
	return NULL;
}

int http__serve(struct http_server *srv, char *why, size_t n)
{
	int err = limits__start(srv, why, n);

	if (err)
		return err;
	for (unsigned int i = 0; i < srv->cfg.nr_listen; i++) {
		srv->daemons[i] = start_daemon(srv, srv->fds[i], srv->served);
		if (!srv->daemons[i]) {
			snprintf(why, n, "cannot serve on '%s:%u'", srv->cfg.listen[i].host,
				 srv->cfg.listen[i].port);
			return -EIO;
		}
	}
	return 0;
}

/*
 * A handshake that began before a swap may still hold the old chain: free a retired
 * config only once the header deadline has cut every connection that could.
 */
static void retire(struct http_server *srv, struct served *prev)
{
	uint64_t now = mono_ns();
	uint64_t keep = (uint64_t)srv->cfg.header_timeout_ms * 1000000ULL + 10000000000ULL;
	struct served **p = &srv->retired;

	prev->retired_ns = now;
	prev->retired_next = srv->retired;
	srv->retired = prev;
	while (*p) {
		if (now - (*p)->retired_ns > keep) {
			struct served *gone = *p;

			*p = gone->retired_next;
			served__free(gone);
		} else {
			p = &(*p)->retired_next;
		}
	}
}

int http__reload(struct http_server *srv, bool force)
{
	struct file_id ids[WATCHED_FILES];
	struct MHD_Daemon *old[HTTP_LISTEN_MAX] = {};
	struct served *next, *prev;
	char why[1024];
	bool same = true;

	if (!srv || !srv->web_config_file[0])
		return 0;
	file_ids__get(srv->web_config_file, &srv->served->cfg, ids);
	for (unsigned int i = 0; i < WATCHED_FILES; i++)
		same = same && file_id__same(&ids[i], &srv->files[i]);
	if (same && !force)
		return 0;
	memcpy(srv->files, ids, sizeof(ids)); /* a bad file is reported once, not every second */
	next = served__load(srv->web_config_file, why, sizeof(why));
	if (!next) {
		__atomic_add_fetch(&srv->reload_failures, 1, __ATOMIC_RELAXED);
		pr_err("%s; keeping the last good web config", why);
		return -EINVAL;
	}
	file_ids__get(srv->web_config_file, &next->cfg, srv->files);
	/* the same sockets, new daemons: a certificate is only read when a daemon starts */
	for (unsigned int i = 0; i < srv->cfg.nr_listen; i++) {
		int fd;

		if (!srv->daemons[i])
			continue;
		fd = MHD_quiesce_daemon(srv->daemons[i]);
		old[i] = srv->daemons[i];
		srv->daemons[i] = start_daemon(srv, fd, next);
		if (!srv->daemons[i]) {
			pr_err("cannot serve web config '%s' on '%s:%u'; keeping the last good one",
			       srv->web_config_file, srv->cfg.listen[i].host,
			       srv->cfg.listen[i].port);
			srv->daemons[i] = start_daemon(srv, fd, srv->served);
		}
	}
	pthread_rwlock_wrlock(&srv->served_lock);
	prev = srv->served;
	srv->served = next;
	pthread_rwlock_unlock(&srv->served_lock);
	for (unsigned int i = 0; i < srv->cfg.nr_listen; i++)
		if (old[i])
			MHD_stop_daemon(old[i]);
	retire(srv, prev);
	auth__forget(srv);
	__atomic_add_fetch(&srv->reloads, 1, __ATOMIC_RELAXED);
	pr_info("web config '%s' loaded: %s, %u users", srv->web_config_file,
		next->cfg.tls ? "TLS" : "plain HTTP", next->cfg.nr_users);
	return 1;
}

void http__stop(struct http_server *srv)
{
	if (!srv)
		return;
	for (unsigned int i = 0; i < HTTP_LISTEN_MAX; i++) {
		if (srv->daemons[i])
			MHD_stop_daemon(srv->daemons[i]);
		if (srv->fds[i] >= 0)
			close(srv->fds[i]);
	}
	limits__stop(srv);
	served__free(srv->served);
	while (srv->retired) {
		struct served *gone = srv->retired;

		srv->retired = gone->retired_next;
		served__free(gone);
	}
	tls__unset_server(srv);
	pthread_rwlock_destroy(&srv->served_lock);
	pthread_mutex_destroy(&srv->track_lock);
	pthread_mutex_destroy(&srv->auth_lock);
	free(srv);
}
