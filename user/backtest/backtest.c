// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backtest/backtest.h"
#include "backtest/backtest_options.h"
#include "backtest/history.h"
#include "backtest/prom_client.h"
#include "backtest/replay.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/strbuf.h"

#define NS_PER_S      1000000000ULL
#define FILE_MAX_B    (1ULL << 30)
#define PROM_WINDOW_S 60 /* --anomaly.window of a Prometheus backtest by default */
#define DAY_S	      86400

static void format_time(int64_t unix_s, char *out, size_t size)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, size, "%lld", (long long)unix_s);
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int load_file(const struct backtest_options *o, struct history *h, char *err,
		     size_t err_size)
{
	char why[512];
	char *data;
	size_t len;
	int ret;

	ret = file__read(o->file, FILE_MAX_B, FILE_REGULAR, &data, &len);
	if (ret) {
		snprintf(err, err_size, "cannot read '%s': %s", o->file, strerror(-ret));
		return ret;
	}
	ret = history__parse_csv(h, data, len, why, sizeof(why));
	free(data);
	if (ret) {
		snprintf(err, err_size, "cannot parse '%s': %s", o->file, why);
		return ret;
	}
	if (!h->nr) {
		snprintf(err, err_size, "'%s' holds no rows", o->file);
		return -ENODATA;
	}
	return 0;
}

static void print_text(const struct backtest_options *o, const char *tool, const struct history *h,
		       const struct replay *r, int64_t window_s)
{
	char from[32], to[32], at[32];
	size_t raised = 0;

	for (size_t i = 0; i < r->nr_events; i++)
		raised += r->events[i].active;
	format_time(r->first_end_unix_s, from, sizeof(from));
	format_time(r->first_end_unix_s + (int64_t)(r->windows - 1) * window_s, to, sizeof(to));
	printf("tool '%s': %llu windows of %llds (%llu empty), ends %s .. %s: %zu raised\n", tool,
	       (unsigned long long)r->windows, (long long)window_s,
	       (unsigned long long)r->empty_windows, from, to, raised);
	if (h->clamped)
		printf("%zu rows earlier than the row before were taken at its time\n", h->clamped);
	for (size_t i = 0; i < r->nr_events; i++) {
		const struct replay_event *e = &r->events[i];
		const char *cause = anomaly_cause__name(e->cause);

		format_time(e->end_unix_s, at, sizeof(at));
		printf("%s  window %-6llu %-8s %-20s %-8s ratio=%.3g%s%s\n", at,
		       (unsigned long long)e->window, e->active ? "raised" : "cleared",
		       anomaly_kind__name(e->kind), anomaly_kind__severity(e->kind), e->ratio,
		       cause ? " cause=" : "", cause ? cause : "");
	}
}

static void print_json(const struct backtest_options *o, const char *tool, const struct history *h,
		       const struct replay *r, int64_t window_s)
{
	struct strbuf sb = {0};
	struct json_object top, ev;
	char at[32];

	json_object__begin(&top, &sb);
	json_object__visible(&top, "tool", tool);
	json_object__string(&top, "source", o->file[0] ? "file" : "prometheus");
	json_object__u64(&top, "window_seconds", (uint64_t)window_s);
	json_object__u64(&top, "windows", r->windows);
	json_object__u64(&top, "empty_windows", r->empty_windows);
	json_object__u64(&top, "rows", h->nr);
	json_object__u64(&top, "rows_clamped", h->clamped);
	format_time(r->first_end_unix_s, at, sizeof(at));
	json_object__string(&top, "first_window_end", at);
	json_object__key(&top, "events");
	strbuf__putc(&sb, '[');
	for (size_t i = 0; i < r->nr_events; i++) {
		const struct replay_event *e = &r->events[i];

		if (i)
			strbuf__putc(&sb, ',');
		json_object__begin(&ev, &sb);
		format_time(e->end_unix_s, at, sizeof(at));
		json_object__string(&ev, "time", at);
		json_object__u64(&ev, "unix", (uint64_t)e->end_unix_s);
		json_object__u64(&ev, "window", e->window);
		if (o->file[0])
			json_object__u64(&ev, "row", e->row);
		json_object__string(&ev, "kind", anomaly_kind__name(e->kind));
		json_object__string(&ev, "severity", anomaly_kind__severity(e->kind));
		json_object__string(&ev, "state", e->active ? "raised" : "cleared");
		json_object__key(&ev, "ratio");
		strbuf__appendf(&sb, "%.6g", e->ratio);
		json_object__string(&ev, "cause", anomaly_cause__name(e->cause));
		json_object__end(&ev);
	}
	strbuf__putc(&sb, ']');
	json_object__end(&top);
	strbuf__putc(&sb, '\n');
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf__free(&sb);
}

int backtest__main(int argc, char **argv)
{
	struct backtest_options o;
	struct history h = {0};
	struct replay r = {0};
	char err[BACKTEST_PATH_MAX + 1024];
	const char *tool;
	int64_t step, window_s;
	int ret, status = 1;

	backtest_options__init(&o);
	switch (backtest_options__parse(&o, argc, argv, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(backtest_usage, stdout);
		return 0;
	case OPTIONS_VERSION:
	case OPTIONS_ERROR:
		fprintf(stderr, "toolwatch backtest: %s (see 'toolwatch backtest --help')\n", err);
		return 2;
	case OPTIONS_OK:
		break;
	}
	tool = o.tool[0] ? o.tool : basename_of(o.file);
	if (o.prometheus_url[0]) {
		if (!o.anomaly.window_ns)
			o.anomaly.window_ns = PROM_WINDOW_S * NS_PER_S;
		if (!o.end_unix_s)
			o.end_unix_s = (int64_t)time(NULL);
		if (!o.start_unix_s)
			o.start_unix_s = o.end_unix_s - DAY_S;
		if (o.start_unix_s >= o.end_unix_s) {
			fprintf(stderr, "toolwatch backtest: --start must be before --end\n");
			return 2;
		}
		ret = prom__load_history(&o, &h, err, sizeof(err));
	} else {
		ret = load_file(&o, &h, err, sizeof(err));
	}
	if (ret) {
		fprintf(stderr, "toolwatch backtest: %s\n", err);
		goto out;
	}
	step = history__step_s(&h);
	if (!o.anomaly.window_ns)
		o.anomaly.window_ns = (uint64_t)(step > 0 ? step : PROM_WINDOW_S) * NS_PER_S;
	window_s = (int64_t)(o.anomaly.window_ns / NS_PER_S);
	ret = replay__run(&r, &o.anomaly, tool, &h);
	if (ret == -ERANGE) {
		fprintf(stderr,
			"toolwatch backtest: --anomaly.window=%llds is shorter than the history's "
			"step (%llds): the data cannot resolve it\n",
			(long long)window_s, (long long)step);
		status = 2;
		goto out;
	}
	if (ret == -E2BIG) {
		fprintf(stderr,
			"toolwatch backtest: more than %d windows of %llds: give a longer "
			"--anomaly.window\n",
			REPLAY_WINDOWS_MAX, (long long)window_s);
		status = 2;
		goto out;
	}
	if (ret) {
		fprintf(stderr, "toolwatch backtest: cannot replay: %s\n",
			ret == -EINVAL ? "the --anomaly.* flags do not go together"
				       : strerror(-ret));
		status = ret == -EINVAL ? 2 : 1;
		goto out;
	}
	if (o.json)
		print_json(&o, tool, &h, &r, window_s);
	else
		print_text(&o, tool, &h, &r, window_s);
	status = fflush(stdout) ? 1 : 0;
out:
	replay__fini(&r);
	history__fini(&h);
	return status;
}
