// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "identity/kube.h"
#include "lib/file.h"
#include "lib/log.h"

#define NS_PER_MS	  1000000ULL
#define NS_PER_SEC	  1000000000ULL
#define TOKEN_MAX_BYTES	  16384 /* a service-account JWT is ~1 KiB */
#define PENDING_MAX	  64	/* unknown (pod, container) pairs awaiting a list */
#define NEGATIVE_SLOTS	  256	/* pairs a list did not know, until the next periodic list */
#define KEY_MAX		  (2 * KUBE_ID_MAX)
#define BACKOFF_MAX_SHIFT 5 /* while failing: min_refresh << failures, at most 32x */
#define BODY_FIRST_BYTES  65536

struct kube {
	struct kube_options o;
	char url[KUBE_URL_MAX + 2 * KUBE_NAME_MAX];
	char token_file[KUBE_PATH_MAX]; /* "" none */
	bool token_optional;		/* the default path: missing means no token */
	char ca_file[KUBE_PATH_MAX];	/* "" the system's CAs */
	pthread_t thread;
	bool thread_started;
	bool curl_inited;

	pthread_mutex_t lock; /* guards what follows; never held across I/O */
	pthread_cond_t cond;
	struct kube_podmap *map; /* the last good list; NULL before the first */
	uint64_t generation;	 /* maps swapped in; also read without the lock */
	bool wanted;		 /* a lookup missed: list soon */
	bool stop;
	struct {
		char key[KEY_MAX];
		uint64_t at_ns;
	} pending[PENDING_MAX];
	size_t nr_pending;
	char negative[NEGATIVE_SLOTS][KEY_MAX];
	struct kube_stats stats;

	/* the thread's own */
	CURL *curl;
	char *body;
	size_t body_len, body_cap;
	bool too_large;
	unsigned int failures; /* in a row */
	int last_failure;      /* its reason, logged once per change */
	char curl_error[CURL_ERROR_SIZE];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

const char *kube__url(const struct kube *k)
{
	return k->url;
}

/* A DNS subdomain (RFC 1123), as Kubernetes requires of node names. */
static bool valid_node_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 253 || s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.')
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' ||
		      *s == '.'))
			return false;
	return true;
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * Flags over the in-cluster environment, one line in err: -ENOENT when the API or the
 * node is not named at all (not in a pod), -EINVAL when a value is malformed.
 */
static int resolve(struct kube *k, char *err, size_t err_size)
{
	const struct kube_options *o = &k->o;
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *node = o->node_name[0] ? o->node_name : getenv("NODE_NAME");
	char base[KUBE_URL_MAX + 16];
	size_t n;

	if (o->api_url[0]) {
		snprintf(base, sizeof(base), "%s", o->api_url);
	} else if (host && *host && port && *port) {
		/* an IPv6 service address needs brackets in a URL */
		snprintf(base, sizeof(base),
			 strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
	} else {
		snprintf(err, err_size,
			 "no Kubernetes API: set --kubernetes.api-url or run in a pod "
			 "(KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT)");
		return -ENOENT;
	}
	if (strncmp(base, "https://", 8) && strncmp(base, "http://", 7)) {
		snprintf(err, err_size, "bad --kubernetes.api-url '%s': want https://HOST[:PORT]",
			 base);
		return -EINVAL;
	}
	n = strlen(base);
	while (n && base[n - 1] == '/')
		base[--n] = '\0';
	if (!node || !*node) {
		snprintf(
		    err, err_size,
		    "no node name: set --kubernetes.node-name or NODE_NAME (the downward API's "
		    "spec.nodeName)");
		return -ENOENT;
	}
	if (!valid_node_name(node)) {
		snprintf(err, err_size, "bad node name '%.253s': want a DNS subdomain", node);
		return -EINVAL;
	}
	/* resourceVersion=0: served from the API server's cache, not from etcd */
	snprintf(k->url, sizeof(k->url),
		 "%s/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&resourceVersion=0", base, node);
	if (o->token_file[0]) {
		snprintf(k->token_file, sizeof(k->token_file), "%s", o->token_file);
	} else {
		snprintf(k->token_file, sizeof(k->token_file), "%s", KUBE_SA_TOKEN);
		k->token_optional = true;
	}
	if (o->ca_file[0])
		snprintf(k->ca_file, sizeof(k->ca_file), "%s", o->ca_file);
	else if (file_exists(KUBE_SA_CA))
		snprintf(k->ca_file, sizeof(k->ca_file), "%s", KUBE_SA_CA);
	return 0;
}

/*
 * The bearer token, read anew for every request (projected tokens rotate): 0, with
 * tok "" when the default file is missing; -errno when it cannot be read.
 */
static int read_token(const struct kube *k, char *tok, size_t size)
{
	char *text;
	size_t len;
	int err;

	tok[0] = '\0';
	err = file__read(k->token_file, size - 2, 0, &text,
			 &len); /* one byte short of size: a full buffer means more */
	if (err)
		return err == -ENOENT && k->token_optional ? 0 : err;
	memcpy(tok, text, len + 1);
	free(text);
	while (len && isspace((unsigned char)tok[len - 1]))
		tok[--len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)tok[i]))
			return -EINVAL; /* would split the header */
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct kube *k = ctx;
	size_t n = size * nmemb;

	if (k->body_len + n > k->o.max_body_bytes) {
		k->too_large = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (k->body_len + n + 1 > k->body_cap) {
		size_t cap = k->body_cap ? k->body_cap : BODY_FIRST_BYTES;
		char *p;

		while (cap < k->body_len + n + 1)
			cap *= 2;
		p = realloc(k->body, cap);
		if (!p)
			return 0;
		k->body = p;
		k->body_cap = cap;
	}
	memcpy(k->body + k->body_len, data, n);
	k->body_len += n;
	k->body[k->body_len] = '\0';
	return n;
}

/* Ends a transfer in flight as soon as kube__stop() asks. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct kube *k = ctx;

	return __atomic_load_n(&k->stop, __ATOMIC_RELAXED);
}

static enum kube_failure classify_curl(struct kube *k, CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return KUBE_FAIL_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return KUBE_FAIL_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return KUBE_FAIL_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return KUBE_FAIL_TOO_LARGE;
	case CURLE_WRITE_ERROR:
		return k->too_large ? KUBE_FAIL_TOO_LARGE : KUBE_FAIL_OTHER;
	default:
		return KUBE_FAIL_OTHER;
	}
}

static enum kube_failure classify_status(long status)
{
	if (status == 401)
		return KUBE_FAIL_HTTP_401;
	if (status == 403)
		return KUBE_FAIL_HTTP_403;
	if (status >= 500 && status <= 599)
		return KUBE_FAIL_HTTP_5XX;
	return KUBE_FAIL_HTTP_OTHER;
}

#define LIST_OK	     -1
#define LIST_STOPPED -2

/*
 * One list: LIST_OK with *map set, LIST_STOPPED, or the failure (detail in why). Runs on
 * the thread without the lock.
 */
static int list_pods(struct kube *k, struct kube_podmap **map, char *why, size_t why_size)
{
	char token[TOKEN_MAX_BYTES], auth[TOKEN_MAX_BYTES + 32];
	struct curl_slist *headers = NULL, *h;
	long status = 0;
	CURLcode rc;
	int err, result;

	*map = NULL;
	err = read_token(k, token, sizeof(token));
	if (err) {
		snprintf(why, why_size, "cannot read token '%.300s': %s", k->token_file,
			 strerror(-err));
		return KUBE_FAIL_TOKEN;
	}
	headers = curl_slist_append(headers, "Accept: application/json");
	if (token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = headers ? curl_slist_append(headers, auth) : NULL;
		explicit_bzero(auth, sizeof(auth));
		if (h)
			headers = h;
		else {
			curl_slist_free_all(headers);
			headers = NULL;
		}
	}
	explicit_bzero(token, sizeof(token));
	if (!headers) {
		snprintf(why, why_size, "out of memory");
		return KUBE_FAIL_OTHER;
	}
	k->body_len = 0;
	k->too_large = false;
	k->curl_error[0] = '\0';
	curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, headers);
	rc = curl_easy_perform(k->curl);
	curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, NULL);
	/* the header list held the token */
	for (h = headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(headers);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		result = LIST_STOPPED;
		goto out;
	}
	if (rc != CURLE_OK) {
		result = classify_curl(k, rc);
		if (result == KUBE_FAIL_TOO_LARGE)
			snprintf(why, why_size,
				 "body larger than %llu bytes (--kubernetes.max-body-size)",
				 (unsigned long long)k->o.max_body_bytes);
		else
			snprintf(why, why_size, "%s",
				 k->curl_error[0] ? k->curl_error : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		result = classify_status(status);
		snprintf(why, why_size, "HTTP status %ld%s", status,
			 status == 403 ? " (RBAC: the service account needs list on pods)" : "");
		goto out;
	}
	err = kube_podlist__parse(k->body ? k->body : "", k->body_len, map, why, why_size);
	if (err == -ENOMEM)
		result = KUBE_FAIL_OTHER;
	else
		result = err ? KUBE_FAIL_PARSE : LIST_OK;
out:
	/* a big body is not kept between lists, nor the memory of parsing it */
	free(k->body);
	k->body = NULL;
	k->body_cap = k->body_len = 0;
	malloc_trim(0);
	return result;
}

static void key_of(char *key, const char *pod_uid, const char *container_id)
{
	snprintf(key, KEY_MAX, "%.*s/%.*s", KUBE_ID_MAX - 1, pod_uid, KUBE_ID_MAX - 1,
		 container_id ? container_id : "");
}

static size_t key_slot(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)(h % NEGATIVE_SLOTS);
}

/* Whether the last lists did not know this pair: then a miss does not ask again. */
static bool negative_has(const struct kube *k, const char *key)
{
	return !strcmp(k->negative[key_slot(key)], key);
}

/* The pending pairs a list that started at started_ns answered: unknown ones go negative. */
static void settle_pending(struct kube *k, uint64_t started_ns)
{
	size_t kept = 0;

	for (size_t i = 0; i < k->nr_pending; i++) {
		char pod[KEY_MAX], *slash;
		struct kube_pod_names names;
		bool known, container_known;

		if (k->pending[i].at_ns > started_ns) {
			k->pending[kept++] = k->pending[i];
			continue;
		}
		snprintf(pod, sizeof(pod), "%s", k->pending[i].key);
		slash = strchr(pod, '/');
		if (slash)
			*slash++ = '\0';
		known = kube_podmap__lookup(k->map, pod, slash, &names, &container_known);
		if (!known || (slash && *slash && !container_known))
			memcpy(k->negative[key_slot(k->pending[i].key)], k->pending[i].key,
			       KEY_MAX);
	}
	k->nr_pending = kept;
}

bool kube__lookup(struct kube *k, const char *pod_uid, const char *container_id,
		  struct kube_pod_names *out)
{
	bool known, container_known, ask, queued = false;
	char key[KEY_MAX];

	out->namespace_[0] = out->pod[0] = out->container[0] = '\0';
	if (!k || !pod_uid || !*pod_uid)
		return false;
	pthread_mutex_lock(&k->lock);
	known = kube_podmap__lookup(k->map, pod_uid, container_id, out, &container_known);
	if (known)
		k->stats.lookups_hit++;
	else
		k->stats.lookups_miss++;
	ask = !known || (container_id && *container_id && !container_known);
	if (ask) {
		key_of(key, pod_uid, known ? container_id : NULL);
		for (size_t i = 0; i < k->nr_pending && !queued; i++)
			queued = !strcmp(k->pending[i].key, key);
		if (!queued && !negative_has(k, key)) {
			if (k->nr_pending < PENDING_MAX) {
				memcpy(k->pending[k->nr_pending].key, key, KEY_MAX);
				k->pending[k->nr_pending++].at_ns = mono_ns();
			}
			if (!k->wanted) {
				k->wanted = true;
				pthread_cond_signal(&k->cond);
			}
		}
	}
	pthread_mutex_unlock(&k->lock);
	return known;
}

uint64_t kube__generation(const struct kube *k)
{
	return k ? __atomic_load_n(&k->generation, __ATOMIC_ACQUIRE) : 0;
}

void kube__stats(struct kube *k, struct kube_stats *out)
{
	pthread_mutex_lock(&k->lock);
	*out = k->stats;
	pthread_mutex_unlock(&k->lock);
	out->enabled = true;
}

static uint64_t backoff_ns(const struct kube *k)
{
	unsigned int shift = k->failures < BACKOFF_MAX_SHIFT ? k->failures : BACKOFF_MAX_SHIFT;
	uint64_t gap = k->o.min_refresh_ns << shift;

	return gap < k->o.resync_ns ? gap : k->o.resync_ns;
}

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * After one list, under the lock: the new map or the failure, and when to list next.
 * What to log goes into line (level *level; "" nothing), written after the lock is let go.
 */
static struct kube_podmap *account(struct kube *k, int result, struct kube_podmap *map,
				   bool periodic, uint64_t started_ns, const char *why,
				   uint64_t *next_periodic, char *line, size_t line_size,
				   enum log_level *level)
{
	const char *reason = kube_failure__name((enum kube_failure)result);
	struct kube_podmap *old = NULL;
	uint64_t now = mono_ns();

	line[0] = '\0';
	*level = LOG_INFO;
	k->stats.last_duration_secs = (double)(now - started_ns) / 1e9;
	if (result == LIST_OK) {
		if (k->failures)
			snprintf(line, line_size, "kubernetes: listing pods works again: %zu pods",
				 map->nr_pods);
		else if (!k->stats.requests_ok)
			snprintf(line, line_size, "kubernetes: listed %zu pods on this node",
				 map->nr_pods);
		old = k->map;
		k->map = map;
		__atomic_add_fetch(&k->generation, 1, __ATOMIC_RELEASE);
		k->failures = 0;
		k->stats.requests_ok++;
		k->stats.pods = map->nr_pods;
		k->stats.containers = map->nr_containers;
		k->stats.items_dropped += map->dropped;
		k->stats.last_success_unix = wall_seconds();
		if (periodic) /* pods may have appeared since: ask again */
			memset(k->negative, 0, sizeof(k->negative));
		settle_pending(k, started_ns);
		*next_periodic = now + k->o.resync_ns;
		return old;
	}
	k->stats.failures[result]++;
	/* one line when it starts failing and at each change of reason is enough */
	*level = !k->failures || result != k->last_failure ? LOG_WARN : LOG_DEBUG;
	snprintf(line, line_size, "kubernetes: cannot list pods (%s): %.400s; keeping the last %s",
		 reason, why, k->map ? "good map" : "(empty) map");
	k->failures++;
	k->last_failure = result;
	*next_periodic = now + backoff_ns(k);
	return NULL;
}

static void *run(void *arg)
{
	struct kube *k = arg;
	uint64_t next_periodic = 0, last_attempt = 0;
	char why[512], line[600];
	enum log_level level;

	pthread_mutex_lock(&k->lock);
	while (!k->stop) {
		uint64_t now = mono_ns(), demand_at = last_attempt + backoff_ns(k), deadline;
		struct kube_podmap *map = NULL, *old;
		bool periodic = now >= next_periodic;
		struct timespec ts;
		int result;

		if (periodic || (k->wanted && now >= demand_at)) {
			k->wanted = false;
			pthread_mutex_unlock(&k->lock);
			why[0] = '\0';
			result = list_pods(k, &map, why, sizeof(why));
			pthread_mutex_lock(&k->lock);
			last_attempt = mono_ns();
			if (result == LIST_STOPPED)
				break;
			old = account(k, result, map, periodic, now, why, &next_periodic, line,
				      sizeof(line), &level);
			/* outside the lock: lookups never wait on free() or on the log */
			pthread_mutex_unlock(&k->lock);
			kube_podmap__free(old);
			if (line[0])
				log__print(level, "%s", line);
			pthread_mutex_lock(&k->lock);
			continue;
		}
		deadline = next_periodic;
		if (k->wanted && demand_at < deadline)
			deadline = demand_at;
		ts.tv_sec = (time_t)(deadline / NS_PER_SEC);
		ts.tv_nsec = (long)(deadline % NS_PER_SEC);
		pthread_cond_timedwait(&k->cond, &k->lock, &ts);
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

static int curl_setup(struct kube *k)
{
	CURL *c = curl_easy_init();
	long timeout_ms = (long)(k->o.timeout_ns / NS_PER_MS);

	if (!c)
		return -ENOMEM;
	k->curl = c;
	if (timeout_ms < 1)
		timeout_ms = 1;
	if (curl_easy_setopt(c, CURLOPT_URL, k->url) || curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, k) ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) ||
	    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) ||
	    curl_easy_setopt(c, CURLOPT_XFERINFODATA, k) ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, k->curl_error) ||
	    /* gzip: a list of hundreds of pods shrinks ~10x; the cap counts decoded bytes */
	    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "") ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)k->o.max_body_bytes) ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "toolwatch/" TOOLWATCH_VERSION) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L))
		return -EINVAL;
	if (k->ca_file[0] && curl_easy_setopt(c, CURLOPT_CAINFO, k->ca_file))
		return -EINVAL;
	return 0;
}

struct kube *kube__start(const struct kube_options *o, char *err, size_t err_size)
{
	struct kube *k = calloc(1, sizeof(*k));
	sigset_t all, old_mask;
	pthread_condattr_t attr;
	int e;

	if (!k) {
		snprintf(err, err_size, "kubernetes: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	k->o = *o;
	pthread_mutex_init(&k->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cond, &attr);
	pthread_condattr_destroy(&attr);
	e = resolve(k, err, err_size);
	if (e)
		goto fail;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, err_size, "kubernetes: cannot initialise libcurl");
		e = -EIO;
		goto fail;
	}
	k->curl_inited = true;
	e = curl_setup(k);
	if (e) {
		snprintf(err, err_size, "kubernetes: cannot configure libcurl: %s", strerror(-e));
		goto fail;
	}
	/* the thread takes no signal (SIGPIPE of a broken connection included): the event
	 * loop's signalfd gets them, wherever the agent starts the client */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old_mask);
	e = -pthread_create(&k->thread, NULL, run, k);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (e) {
		snprintf(err, err_size, "kubernetes: cannot start thread: %s", strerror(-e));
		goto fail;
	}
	k->thread_started = true;
	return k;
fail:
	kube__stop(k);
	errno = -e;
	return NULL;
}

void kube__stop(struct kube *k)
{
	if (!k)
		return;
	if (k->thread_started) {
		pthread_mutex_lock(&k->lock);
		__atomic_store_n(&k->stop, true, __ATOMIC_RELAXED);
		pthread_cond_signal(&k->cond);
		pthread_mutex_unlock(&k->lock);
		pthread_join(k->thread, NULL);
	}
	if (k->curl)
		curl_easy_cleanup(k->curl);
	if (k->curl_inited)
		curl_global_cleanup();
	kube_podmap__free(k->map);
	free(k->body);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
	free(k);
}
