/* SPDX-License-Identifier: GPL-2.0 */
/* Prometheus text exposition (format 0.0.4) of a snapshot, pure. */
#ifndef TOOLWATCH_EXPOSITION_H
#define TOOLWATCH_EXPOSITION_H

#include <stdbool.h>
#include <stdint.h>

#include "events/snapshot.h"
#include "lib/strbuf.h"

#define EXPOSITION_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends every metric family of the snapshot to out, HELP and TYPE first. */
void exposition__render(const struct snapshot *s, const char *version, struct strbuf *out);

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

#endif /* TOOLWATCH_EXPOSITION_H */
