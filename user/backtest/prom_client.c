// SPDX-License-Identifier: GPL-2.0
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest/prom_client.h"
#include "backtest/prom_history.h"
#include "lib/file.h"
#include "lib/strbuf.h"

#define NS_PER_MS  1000000ULL
#define NS_PER_S   1000000000ULL
#define SECRET_MAX 4096
#define QUERY_MAX  2048

struct client {
	CURL *curl;
	struct curl_slist *headers;
	struct strbuf body;
	uint64_t max_body;
	bool too_big;
	char curl_error[CURL_ERROR_SIZE];
	char secret[SECRET_MAX]; /* password or bearer header: zeroed at the end */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct client *c = ctx;
	size_t n = size * nmemb;

	if (c->body.len + n > c->max_body) {
		c->too_big = true;
		return 0;
	}
	strbuf__append(&c->body, data, n);
	return c->body.oom ? 0 : n;
}

/* The first line of a secret file (password, token), without its newline. */
static int read_secret(const char *path, char *out, size_t size, char *err, size_t err_size)
{
	char *data;
	size_t len;
	int ret = file__read(path, size - 1, FILE_REGULAR, &data, &len);

	if (ret) {
		snprintf(err, err_size, "cannot read '%s': %s", path, strerror(-ret));
		return ret;
	}
	len = strcspn(data, "\r\n");
	memcpy(out, data, len);
	out[len] = '\0';
	memset(data, 0, len);
	free(data);
	if (!len) {
		snprintf(err, err_size, "'%s' is empty", path);
		return -EINVAL;
	}
	return 0;
}

static int setup(struct client *c, const struct backtest_options *o, char *err, size_t err_size)
{
	long timeout_ms = (long)(o->timeout_ns / NS_PER_MS);
	int ret;

	c->curl = curl_easy_init();
	if (!c->curl) {
		snprintf(err, err_size, "cannot start libcurl");
		return -ENOMEM;
	}
	c->max_body = o->max_body_bytes;
	if (curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms) ||
	    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c) ||
	    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_error) ||
	    curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "") ||
	    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https")) {
		snprintf(err, err_size, "cannot configure libcurl");
		return -EINVAL;
	}
	if (o->ca_file[0] && curl_easy_setopt(c->curl, CURLOPT_CAINFO, o->ca_file))
		goto bad;
	if (o->cert_file[0] && (curl_easy_setopt(c->curl, CURLOPT_SSLCERT, o->cert_file) ||
				curl_easy_setopt(c->curl, CURLOPT_SSLKEY, o->key_file)))
		goto bad;
	if (o->insecure_skip_verify && (curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 0L) ||
					curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L)))
		goto bad;
	if (o->username[0]) {
		if (o->password_file[0]) {
			ret = read_secret(o->password_file, c->secret, sizeof(c->secret), err,
					  err_size);
			if (ret)
				return ret;
		}
		if (curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC) ||
		    curl_easy_setopt(c->curl, CURLOPT_USERNAME, o->username) ||
		    curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->secret))
			goto bad;
	}
	c->headers = curl_slist_append(NULL, "Accept: application/json");
	if (o->bearer_token_file[0]) {
		char token[SECRET_MAX - 32];
		struct curl_slist *h;

		ret = read_secret(o->bearer_token_file, token, sizeof(token), err, err_size);
		if (ret)
			return ret;
		snprintf(c->secret, sizeof(c->secret), "Authorization: Bearer %s", token);
		memset(token, 0, sizeof(token));
		h = c->headers ? curl_slist_append(c->headers, c->secret) : NULL;
		if (!h) {
			snprintf(err, err_size, "out of memory");
			return -ENOMEM;
		}
		c->headers = h;
	}
	if (!c->headers || curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers)) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
bad:
	snprintf(err, err_size, "libcurl refuses the TLS or auth options");
	return -EINVAL;
}

static void teardown(struct client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	strbuf__free(&c->body);
	memset(c->secret, 0, sizeof(c->secret));
}

/* GETs one query_range answer for promql over the grid into c->body. */
static int get_range(struct client *c, const struct backtest_options *o, const char *promql,
		     const struct prom_grid *g, char *err, size_t err_size)
{
	char *q = curl_easy_escape(c->curl, promql, 0);
	struct strbuf url = {0};
	long status = 0;
	CURLcode rc;

	if (!q) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	strbuf__appendf(
	    &url, "%s%sapi/v1/query_range?query=%s&start=%lld&end=%lld&step=%llds",
	    o->prometheus_url, o->prometheus_url[strlen(o->prometheus_url) - 1] == '/' ? "" : "/",
	    q, (long long)g->start_s, (long long)(g->start_s + (int64_t)(g->n - 1) * g->step_s),
	    (long long)g->step_s);
	curl_free(q);
	if (url.oom) {
		strbuf__free(&url);
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	strbuf__reset(&c->body);
	c->too_big = false;
	c->curl_error[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url.buf);
	rc = curl_easy_perform(c->curl);
	strbuf__free(&url);
	if (c->too_big) {
		snprintf(err, err_size,
			 "'%s' answered more than --prometheus.max-body-size (%llu bytes)",
			 o->prometheus_url, (unsigned long long)c->max_body);
		return -EFBIG;
	}
	if (rc != CURLE_OK) {
		snprintf(err, err_size, "cannot query '%s': %s", o->prometheus_url,
			 c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc));
		return -EIO;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200 && status != 400 && status != 422) {
		snprintf(err, err_size, "'%s' answered HTTP %ld", o->prometheus_url, status);
		return -EIO;
	}
	return 0;
}

int prom__load_history(const struct backtest_options *o, struct history *h, char *err,
		       size_t err_size)
{
	int64_t step = (int64_t)(o->anomaly.window_ns / NS_PER_S);
	struct prom_values pv[PROM_Q_MAX];
	struct prom_grid grid;
	struct client c = {0};
	char promql[QUERY_MAX], why[512];
	int ret;

	memset(pv, 0, sizeof(pv));
	/* one grid time before --start: the first window ends at --start */
	grid.start_s = o->start_unix_s - step;
	grid.step_s = step;
	grid.n = (size_t)((o->end_unix_s - grid.start_s) / step) + 1;
	if (grid.n > PROM_GRID_MAX) {
		snprintf(err, err_size, "more than %d windows between --start and --end",
			 PROM_GRID_MAX);
		return -E2BIG;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, err_size, "cannot start libcurl");
		return -ENOMEM;
	}
	ret = setup(&c, o, err, err_size);
	if (ret)
		goto out;
	for (int q = 0; q < PROM_Q_MAX; q++) {
		ret = prom_history__query(q, o->tool, o->selector, promql, sizeof(promql));
		if (ret) {
			snprintf(err, err_size,
				 "--tool and --prometheus.selector make too long a query");
			goto out;
		}
		/* Prometheus answers at most 11,000 points per series: ask in chunks */
		for (size_t k = 0; k < grid.n; k += PROM_POINTS_MAX) {
			struct prom_grid chunk = {
			    .start_s = grid.start_s + (int64_t)k * step,
			    .step_s = step,
			    .n = grid.n - k < PROM_POINTS_MAX ? grid.n - k : PROM_POINTS_MAX,
			};

			ret = get_range(&c, o, promql, &chunk, err, err_size);
			if (ret)
				goto out;
			ret = prom_values__add_answer(&pv[q], &grid, c.body.buf ? c.body.buf : "",
						      c.body.len, why, sizeof(why));
			if (ret) {
				snprintf(err, err_size, "cannot use the answer of '%s': %s",
					 o->prometheus_url, why);
				goto out;
			}
		}
	}
	if (!prom_values__any(&pv[PROM_Q_EXECUTIONS]) &&
	    !prom_values__any(&pv[PROM_Q_DURATION_COUNT])) {
		snprintf(err, err_size, "no data for tool '%s' in '%s' between --start and --end",
			 o->tool, o->prometheus_url);
		ret = -ENODATA;
		goto out;
	}
	ret = prom_history__build(h, &grid, pv);
	if (ret)
		snprintf(err, err_size, "cannot build the history: %s", strerror(-ret));
out:
	for (int q = 0; q < PROM_Q_MAX; q++)
		prom_values__fini(&pv[q]);
	teardown(&c);
	curl_global_cleanup();
	return ret;
}
