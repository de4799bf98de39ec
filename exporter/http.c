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
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "exposition.h"
#include "http.h"
#include "http_auth.h"
#include "http_framing.h"
#include "http_internal.h"
#include "http_limits.h"
#include "http_page.h"
#include "http_process.h"
#include "http_tls.h"
#include "lib/log.h"
#include "webconfig.h"

#define POOL_THREADS	4 /* per address: /healthz is never queued behind a scrape */
#define REALM		"toolwatch"
#define WRITE_TIMEOUT_S 10	       /* a client that takes none of its response for this long */
#define RETRY_AFTER_S	"1"	       /* for the answers of a server too busy to answer */
#define RETIRE_GRACE_NS 10000000000ULL /* past the header deadline, for a handshake's end */

static const char landing_page_head[] =
    "<!DOCTYPE html>\n<html><head><title>toolwatch</title></head><body>\n"
    "<h1>toolwatch</h1>\n<p>eBPF monitor of tool executions.</p>\n<ul>\n";

/* What one request keeps between the handler's calls; freed when it completes. */
struct request {
	struct auth_job auth;
};

/* ---- the served config, referenced by each handler call ---- */

static struct served *served__get(struct http_server *srv)
{
	struct served *sv;

	pthread_rwlock_rdlock(&srv->served_lock);
	sv = srv->served;
	__atomic_add_fetch(&sv->refs, 1, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&srv->served_lock);
	return sv;
}

/* Drops a reference; retired configs are freed by the reload that sweeps them. */
static void served__put(struct served *sv)
{
	if (sv)
		__atomic_sub_fetch(&sv->refs, 1, __ATOMIC_RELEASE);
}

/* True when conn came in through a daemon that a reload replaced. */
static bool from_draining_daemon(struct MHD_Connection *conn)
{
	const struct daemon_ref *ref = limits__daemon_of(conn);

	return ref && __atomic_load_n(&ref->draining, __ATOMIC_RELAXED);
}

/* ---- responses ---- */

static void add_headers(struct MHD_Response *resp, const struct served *sv)
{
	for (unsigned int i = 0; sv && i < sv->cfg.nr_headers; i++)
		MHD_add_response_header(resp, sv->cfg.headers[i].name, sv->cfg.headers[i].value);
}

static enum MHD_Result queue(struct http_server *srv, struct MHD_Connection *conn,
			     unsigned int status, struct MHD_Response *resp,
			     const struct served *sv)
{
	enum MHD_Result ret;

	add_headers(resp, sv);
	/* a replaced daemon's clients reconnect, to the new one */
	if (from_draining_daemon(conn))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static struct MHD_Response *text_response(unsigned int status, const char *type, const char *body)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE || status == MHD_HTTP_TOO_MANY_REQUESTS)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
	return resp;
}

static enum MHD_Result respond_text(struct http_server *srv, struct MHD_Connection *conn,
				    unsigned int status, const char *type, const char *body,
				    const struct served *sv)
{
	struct MHD_Response *resp = text_response(status, type, body);

	return resp ? queue(srv, conn, status, resp, sv) : MHD_NO;
}

/* The answer to a request refused before its body: the connection closes after it. */
static enum MHD_Result respond_close(struct MHD_Connection *conn, unsigned int status,
				     const char *body, const struct served *sv)
{
	struct MHD_Response *resp = text_response(status, "text/plain", body);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	add_headers(resp, sv);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The metrics page of s: the snapshot's families, then the exporter's own. */
static int render_page(struct http_server *srv, const struct snapshot *s, enum page_format f,
		       struct strbuf *out)
{
	struct exporter_stats e = {};

	if (srv->cfg.exporter_metrics)
		process__read(srv, &e);
	e.http = true;
	e.header_timeouts = __atomic_load_n(&srv->header_timeouts, __ATOMIC_RELAXED);
	e.client_limit_refusals = __atomic_load_n(&srv->client_limit_refusals, __ATOMIC_RELAXED);
	e.web_config_reloads = __atomic_load_n(&srv->reloads, __ATOMIC_RELAXED);
	e.web_config_reload_failures = __atomic_load_n(&srv->reload_failures, __ATOMIC_RELAXED);
	e.auth_failures = __atomic_load_n(&srv->auth_failures, __ATOMIC_RELAXED);
	e.auth_throttled = auth__throttled(srv);
	e.responses_refused = __atomic_load_n(&srv->responses_refused, __ATOMIC_RELAXED);
	for (int i = 0; i < EXPOSITION_FORMAT_MAX; i++)
		e.responses[i] = __atomic_load_n(&srv->responses[i], __ATOMIC_RELAXED);
	if (f == PAGE_PROTOBUF) {
		exposition__render_protobuf(s, srv->cfg.version, &e, out);
	} else {
		exposition__render(s, srv->cfg.version, out);
		exposition__render_exporter(&e, out);
	}
	return 0; /* an allocation failure is out->oom */
}

static enum MHD_Result respond_metrics(struct http_server *srv, struct MHD_Connection *conn,
				       const struct served *sv)
{
	enum exposition_format fmt = exposition__negotiate(
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
	enum page_format format = fmt == EXPOSITION_FORMAT_PROTOBUF ? PAGE_PROTOBUF : PAGE_TEXT;
	const char *type =
	    format == PAGE_PROTOBUF ? EXPOSITION_PROTOBUF_CONTENT_TYPE : EXPOSITION_CONTENT_TYPE;
	enum page_encoding encoding;
	struct MHD_Response *resp;
	struct snapshot *s;
	struct page *page;

	encoding = http_accepts_gzip(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_ACCEPT_ENCODING))
		       ? PAGE_GZIP
		       : PAGE_IDENTITY;
	s = hub__acquire(srv->cfg.hub, srv->cfg.snapshot_wait_ms);
	if (!s)
		return respond_text(srv, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
				    "no snapshot yet\n", sv);
	__atomic_add_fetch(&srv->responses[fmt], 1, __ATOMIC_RELAXED);
	/* one page per snapshot, format and encoding, shared by every response that sends it */
	page = pages__get(srv, s, format, encoding, render_page);
	snapshot__put(s);
	if (!page && errno == EBUSY) {
		__atomic_add_fetch(&srv->responses_refused, 1, __ATOMIC_RELAXED);
		return respond_text(srv, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
				    "too many responses in flight\n", sv);
	}
	if (!page)
		return respond_text(srv, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
				    "out of memory\n", sv);
	resp = page__response(page);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	if (encoding == PAGE_GZIP)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	/* a client that stops reading lets its page go within the write timeout */
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, WRITE_TIMEOUT_S);
	return queue(srv, conn, MHD_HTTP_OK, resp, sv);
}

static enum MHD_Result respond_unauthorized(struct http_server *srv, struct MHD_Connection *conn,
					    const struct served *sv)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	__atomic_add_fetch(&srv->auth_failures, 1, __ATOMIC_RELAXED);
	resp = MHD_create_response_from_buffer(strlen("unauthorized\n"), (void *)"unauthorized\n",
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	add_headers(resp, sv);
	ret = MHD_queue_basic_auth_fail_response(conn, REALM, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle_served(struct http_server *srv, struct MHD_Connection *conn,
				     struct request *req, const char *url, const char *method,
				     const struct served *sv)
{
	char page[1024];

	if (!tls__client_cert_ok(conn, sv))
		return MHD_NO;
	/* /healthz is for the kubelet: no credentials, no snapshot, never behind bcrypt */
	if (!strcmp(url, "/healthz")) {
		if (srv->cfg.healthy && !srv->cfg.healthy(srv->cfg.ctx))
			return respond_text(srv, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
					    "event loop stalled\n", sv);
		return respond_text(srv, conn, MHD_HTTP_OK, "text/plain", "ok\n", sv);
	}
	if (sv->cfg.nr_users) {
		switch (auth__check(srv, conn, &req->auth, sv)) {
		case AUTH_GRANTED:
			break;
		case AUTH_PENDING: /* suspended: called again with the verdict */
			return MHD_YES;
		case AUTH_THROTTLED:
			return respond_text(srv, conn, MHD_HTTP_TOO_MANY_REQUESTS, "text/plain",
					    "too many authentication attempts\n", sv);
		case AUTH_CANCELLED:
			return respond_text(srv, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
					    "reloading\n", sv);
		case AUTH_DENIED:
			return respond_unauthorized(srv, conn, sv);
		}
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(srv, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
				    "method not allowed\n", sv);
	if (!strcmp(url, srv->cfg.telemetry_path))
		return respond_metrics(srv, conn, sv);
	if (!strcmp(url, "/")) {
		snprintf(
		    page, sizeof(page),
		    "%s<li><a href=\"%s\">%s</a>: Prometheus metrics</li>\n"
		    "<li><a href=\"/healthz\">/healthz</a>: health</li>\n</ul>\n</body></html>\n",
		    landing_page_head, srv->cfg.telemetry_path, srv->cfg.telemetry_path);
		return respond_text(srv, conn, MHD_HTTP_OK, "text/html; charset=utf-8", page, sv);
	}
	return respond_text(srv, conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", sv);
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;
	struct served *sv;
	enum MHD_Result ret;
	unsigned int bad;
	const char *why;

	/* over the per-client limit: already shut, nothing to say (closes it) */
	if (limits__refused(conn))
		return MHD_NO;
	/* first call: headers only; a request with a body is answered now, and closed */
	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		limits__set_in_request(srv, conn, true);
		bad = framing__refusal(conn, method, &why);
		if (!bad)
			return MHD_YES;
		sv = served__get(srv);
		ret = respond_close(conn, bad, why, sv);
		served__put(sv);
		return ret;
	}
	if (*upload_data_size)
		return MHD_NO; /* bodies were refused with the headers */
	sv = served__get(srv);
	ret = handle_served(srv, conn, req, url, method, sv);
	served__put(sv);
	return ret;
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;

	free(*con_cls);
	*con_cls = NULL;
	/* the write timeout was the response's: a kept-alive connection idles under its own */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
					  srv->cfg.idle_timeout_s);
	limits__request_completed(cls, conn, con_cls, toe);
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

/* A daemon serving sv on fd (sv referenced by it), or NULL. */
static struct daemon_ref *start_daemon(struct http_server *srv, int fd, struct served *sv)
{
	struct daemon_ref *ref = calloc(1, sizeof(*ref));
	unsigned int flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem opts[16];
	unsigned int i = 0;

#define OPT(o, v, p) (opts[i++] = (struct MHD_OptionItem){o, (intptr_t)(v), p})
	OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
	OPT(MHD_OPTION_THREAD_POOL_SIZE, POOL_THREADS, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, srv->cfg.max_connections, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, srv->cfg.idle_timeout_s, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, limits__notify_connection, ref);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, request_completed, srv);
	OPT(MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL);
	if (sv->cfg.tls) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)tls__retrieve_cert);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)sv->priorities);
		if (sv->ca)
			OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, sv->ca);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	if (!ref)
		return NULL;
	ref->srv = srv;
	ref->sv = sv;
	ref->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle_request, srv, MHD_OPTION_ARRAY,
				       opts, MHD_OPTION_END);
	if (!ref->daemon) {
		free(ref);
		return NULL;
	}
	__atomic_add_fetch(&sv->refs, 1, __ATOMIC_RELAXED);
	return ref;
}

/* Stops ref's daemon (no connection of it may stay suspended) and frees ref. */
static void stop_daemon(struct daemon_ref *ref)
{
	auth__cancel(ref->srv, ref);
	MHD_stop_daemon(ref->daemon);
	served__put(ref->sv);
	free(ref);
}

struct http_server *http__bind(const struct http_config *cfg, char *why, size_t n)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	pthread_rwlockattr_t attr;
	pthread_condattr_t cattr;
	int err = 0;

	if (!srv) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	srv->cfg = *cfg;
	srv->start_time = (double)time(NULL);
	for (unsigned int i = 0; i < HTTP_LISTEN_MAX; i++)
		srv->fds[i] = -1;
	/* writers first: a reload on the event loop never waits behind a stream of readers */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&srv->served_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&srv->track_lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->reaper_wake, &cattr);
	pthread_condattr_destroy(&cattr);
	pthread_mutex_init(&srv->auth_lock, NULL);
	pthread_cond_init(&srv->auth_wake, NULL);
	pthread_cond_init(&srv->auth_idle, NULL);
	pthread_mutex_init(&srv->page_lock, NULL);
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
	memcpy(srv->pending, srv->files, sizeof(srv->pending));
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

	if (!err)
		err = auth__start(srv, why, n);
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
 * Frees the retired configs nothing references any more. A handshake that began before a
 * swap may still hold an old chain past its daemon's reference: one goes only once the
 * header deadline (every connection is tracked) has cut every connection that could.
 */
static void sweep_retired(struct http_server *srv)
{
	uint64_t now = mono_ns();
	uint64_t keep = (uint64_t)srv->cfg.header_timeout_ms * 1000000ULL + RETIRE_GRACE_NS;

	for (struct served **p = &srv->retired; *p;) {
		struct served *gone = *p;

		if (now - gone->retired_ns > keep &&
		    !__atomic_load_n(&gone->refs, __ATOMIC_ACQUIRE)) {
			*p = gone->retired_next;
			served__free(gone);
		} else {
			p = &gone->retired_next;
		}
	}
}

/* Drops srv's reference to prev (no longer served) and frees it once unused. */
static void retire(struct http_server *srv, struct served *prev)
{
	served__put(prev);
	prev->retired_ns = mono_ns();
	prev->retired_next = srv->retired;
	srv->retired = prev;
	sweep_retired(srv);
}

/* Stops accepting on ref's daemon and lets its connections finish (stop_drained()). */
static void drain(struct http_server *srv, struct daemon_ref *ref)
{
	MHD_quiesce_daemon(ref->daemon); /* the listening socket stays open for the others */
	pthread_rwlock_wrlock(&srv->served_lock);
	ref->since_ns = mono_ns();
	__atomic_store_n(&ref->draining, true, __ATOMIC_RELAXED);
	ref->next = srv->draining;
	srv->draining = ref;
	pthread_rwlock_unlock(&srv->served_lock);
}

/*
 * Stops the replaced daemons whose connections are done (all: every one). A connection
 * still open past the idle timeout and header deadline after the reload is cut.
 */
static void stop_drained(struct http_server *srv, bool all)
{
	uint64_t now = mono_ns();
	uint64_t overdue = (uint64_t)srv->cfg.idle_timeout_s * 1000000000ULL +
			   (uint64_t)srv->cfg.header_timeout_ms * 1000000ULL;
	struct daemon_ref **p = &srv->draining;

	while (*p) {
		struct daemon_ref *d = *p;
		const union MHD_DaemonInfo *info =
		    MHD_get_daemon_info(d->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

		if (!all && info && info->num_connections && now - d->since_ns < overdue) {
			p = &d->next;
			continue;
		}
		pthread_rwlock_wrlock(&srv->served_lock);
		*p = d->next;
		pthread_rwlock_unlock(&srv->served_lock);
		stop_daemon(d);
	}
	sweep_retired(srv);
}

/* Whether daemons started with a and b would differ: TLS on/off, priorities, client CA. */
static bool same_daemon(const struct served *a, const struct served *b)
{
	if (a->cfg.tls != b->cfg.tls)
		return false;
	if (!a->cfg.tls)
		return true;
	return !strcmp(a->priorities, b->priorities) && !a->ca == !b->ca &&
	       (!a->ca || !strcmp(a->ca, b->ca));
}

/*
 * New daemons for next on the same sockets, started while the old ones still accept (no
 * gap); the old ones then drain. On failure the ones started drain too, nothing else
 * changes, and -EIO is returned with why.
 */
static int restart_daemons(struct http_server *srv, struct served *next, char *why, size_t n)
{
	struct daemon_ref *fresh[HTTP_LISTEN_MAX] = {}, *old;

	for (unsigned int i = 0; i < srv->cfg.nr_listen; i++) {
		if (!srv->daemons[i])
			continue;
		fresh[i] = start_daemon(srv, srv->fds[i], next);
		if (fresh[i])
			continue;
		snprintf(why, n, "cannot serve web config '%.512s' on '%.256s:%u'",
			 srv->web_config_file, srv->cfg.listen[i].host, srv->cfg.listen[i].port);
		for (unsigned int j = 0; j < i; j++)
			if (fresh[j])
				drain(srv, fresh[j]);
		return -EIO;
	}
	for (unsigned int i = 0; i < srv->cfg.nr_listen; i++) {
		if (!fresh[i])
			continue;
		pthread_rwlock_wrlock(&srv->served_lock);
		old = srv->daemons[i];
		srv->daemons[i] = fresh[i];
		pthread_rwlock_unlock(&srv->served_lock);
		drain(srv, old);
	}
	return 0;
}

static bool same_files(const struct file_id *a, const struct file_id *b)
{
	for (unsigned int i = 0; i < WATCHED_FILES; i++)
		if (!file_id__same(&a[i], &b[i]))
			return false;
	return true;
}

int http__reload(struct http_server *srv, bool force)
{
	struct file_id ids[WATCHED_FILES];
	struct served *next, *prev;
	const char *downgrade;
	char why[1024];
	int err;

	if (!srv)
		return 0;
	stop_drained(srv, false);
	if (!srv->web_config_file[0])
		return 0;
	file_ids__get(srv->web_config_file, &srv->served->cfg, ids);
	if (same_files(ids, srv->files) && !force)
		return 0;
	/* a changed file is read once it held still for a tick: not while it is written */
	if (!force && !same_files(ids, srv->pending)) {
		memcpy(srv->pending, ids, sizeof(ids));
		return 0;
	}
	next = served__load(srv->web_config_file, why, sizeof(why));
	if (!next && errno == EAGAIN) {
		memset(srv->pending, 0, sizeof(srv->pending)); /* read at a later tick */
		return 0;
	}
	memcpy(srv->files, ids, sizeof(ids)); /* a bad file is reported once, not every second */
	if (!next) {
		__atomic_add_fetch(&srv->reload_failures, 1, __ATOMIC_RELAXED);
		pr_err("%s; keeping the last good web config", why);
		return -EINVAL;
	}
	downgrade = webconfig__downgrade(&srv->served->cfg, &next->cfg);
	if (downgrade && !next->cfg.allow_downgrade) {
		__atomic_add_fetch(&srv->reload_failures, 1, __ATOMIC_RELAXED);
		pr_err("web config '%s' would turn %s off: refused, keeping the last good web "
		       "config (a file meaning it says '%s: true')",
		       srv->web_config_file, downgrade, WEBCONFIG_ALLOW_DOWNGRADE);
		served__free(next);
		return -EPERM;
	}
	if (downgrade)
		pr_warn("web config '%s' turns %s OFF ('%s: true')", srv->web_config_file,
			downgrade, WEBCONFIG_ALLOW_DOWNGRADE);
	file_ids__get(srv->web_config_file, &next->cfg, srv->files);
	memcpy(srv->pending, srv->files, sizeof(srv->pending));
	/* daemons are started anew only for what a running one cannot take: TLS settings */
	if (!same_daemon(srv->served, next)) {
		err = restart_daemons(srv, next, why, sizeof(why));
		if (err) {
			__atomic_add_fetch(&srv->reload_failures, 1, __ATOMIC_RELAXED);
			pr_err("%s; keeping the last good web config", why);
			retire(srv, next);
			return err;
		}
	}
	pthread_rwlock_wrlock(&srv->served_lock);
	prev = srv->served;
	srv->served = next;
	for (unsigned int i = 0; i < HTTP_LISTEN_MAX; i++) {
		struct daemon_ref *ref = srv->daemons[i];

		if (ref && ref->sv != next) { /* kept running: same TLS settings */
			__atomic_add_fetch(&next->refs, 1, __ATOMIC_RELAXED);
			served__put(ref->sv);
			ref->sv = next;
		}
	}
	pthread_rwlock_unlock(&srv->served_lock);
	retire(srv, prev);
	__atomic_add_fetch(&srv->reloads, 1, __ATOMIC_RELAXED);
	pr_info("web config '%s' loaded: %s, %u users", srv->web_config_file,
		next->cfg.tls ? "TLS" : "plain HTTP", next->cfg.nr_users);
	return 1;
}

void http__stop(struct http_server *srv)
{
	if (!srv)
		return;
	auth__stop(srv); /* resumes every suspended connection first */
	stop_drained(srv, true);
	for (unsigned int i = 0; i < HTTP_LISTEN_MAX; i++) {
		if (srv->daemons[i])
			stop_daemon(srv->daemons[i]);
		if (srv->fds[i] >= 0)
			close(srv->fds[i]);
	}
	limits__stop(srv);
	pages__clear(srv);
	served__free(srv->served);
	while (srv->retired) {
		struct served *gone = srv->retired;

		srv->retired = gone->retired_next;
		served__free(gone);
	}
	tls__unset_server(srv);
	pthread_rwlock_destroy(&srv->served_lock);
	pthread_mutex_destroy(&srv->track_lock);
	pthread_cond_destroy(&srv->reaper_wake);
	pthread_mutex_destroy(&srv->auth_lock);
	pthread_cond_destroy(&srv->auth_wake);
	pthread_cond_destroy(&srv->auth_idle);
	pthread_mutex_destroy(&srv->page_lock);
	free(srv);
}
