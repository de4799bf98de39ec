/* SPDX-License-Identifier: GPL-2.0 */
/* Prometheus exposition of a snapshot, pure: the text format 0.0.4 and delimited protobuf. */
#ifndef TOOLWATCH_EXPOSITION_H
#define TOOLWATCH_EXPOSITION_H

#include <stdbool.h>
#include <stdint.h>

#include "events/snapshot.h"
#include "lib/strbuf.h"
#include "negotiate.h"

#define EXPOSITION_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define EXPOSITION_PROTOBUF_CONTENT_TYPE                                                           \
	"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "               \
	"encoding=delimited"

/*
 * Appends every metric family of the snapshot to out, HELP and TYPE first, as
 * s->metrics (--metrics.*) says: families left out, classic bucket layout, zero failures.
 */
void exposition__render(const struct snapshot *s, const char *version, struct strbuf *out);

/*
 * Series of the tool_* families one tool (or one (tool, identity) pair) can have on
 * /metrics in the text format under c: every failure type and optional probe counted. The
 * text format has the most (a protobuf scrape has one series per native histogram), so
 * this is what --metrics.max-series divides by.
 */
unsigned int exposition__series_per_tool(const struct metrics_config *c);

/* Series of the tool_* families s shows in the text format (toolwatch_series_tracked). */
uint64_t exposition__tool_series(const struct snapshot *s);

/* The exporter's own state, read outside the snapshot (by the HTTP server). */
struct exporter_stats {
	bool process; /* process_* (off with --web.disable-exporter-metrics) */
	double cpu_seconds;
	uint64_t resident_memory_bytes;
	uint64_t virtual_memory_bytes;
	double start_time_seconds;
	uint64_t open_fds, max_fds;
	bool http; /* toolwatch_http_* */
	uint64_t header_timeouts;
	uint64_t client_limit_refusals;
	uint64_t auth_failures;
	uint64_t auth_throttled;    /* refused: the bcrypt queue was full */
	uint64_t responses_refused; /* scrapes refused: pages in flight at their cap */
	uint64_t web_config_reloads, web_config_reload_failures;
	uint64_t responses[EXPOSITION_FORMAT_MAX]; /* /metrics answers by format */
};

/* Appends the process_* and toolwatch_http_* families of e. */
void exposition__render_exporter(const struct exporter_stats *e, struct strbuf *out);

/*
 * Appends the label value for the bytes of value, escaped for the text format: the value
 * is the visible form (strbuf__put_visible(): injective, valid UTF-8, no control
 * characters), whose backslashes and double quotes the text format then escapes.
 */
void exposition__escape_label(struct strbuf *out, const char *value);

/* Appends v / 10^decimals as an exact decimal number, without trailing zeros. */
void exposition__decimal(struct strbuf *out, uint64_t v, unsigned int decimals);

/*
 * Appends the families exposition__render() and (e not NULL) exposition__render_exporter()
 * show, as length-delimited io.prometheus.client.MetricFamily messages (the protobuf
 * exposition): the same names, help, labels and values, and native buckets in the tool_*
 * histograms as s->metrics.native says (native buckets, the classic ones, or both; classic
 * buckets as s->metrics.classic says, +Inf implied by the count); a family without series
 * is left out. The families are walked once and written straight into the wire format.
 * out->oom on allocation failure.
 */
void exposition__render_protobuf(const struct snapshot *s, const char *version,
				 const struct exporter_stats *e, struct strbuf *out);

#endif /* TOOLWATCH_EXPOSITION_H */
