// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "agent/options.h"
#include "backtest/backtest_options.h"
#include "backtest/history.h"

#define SECOND_NS 1000000000ULL

const char backtest_usage[] =
    "usage: toolwatch backtest (--file=FILE | --prometheus.url=URL --tool=NAME) [flags]\n"
    "\n"
    "Replays a tool's history through the anomaly detector with the agent's code and\n"
    "--anomaly.* flags, and prints when each flag would have been raised and cleared.\n"
    "Needs no root and no BPF.\n"
    "\n"
    "sources:\n"
    "  --file=FILE                CSV of per-window figures (header: timestamp and any\n"
    "                             of executions, failures, duration_seconds,\n"
    "                             cpu_seconds, peak_memory_bytes) or NAB's\n"
    "                             timestamp,value (value: mean duration in seconds)\n"
    "  --prometheus.url=URL       a Prometheus server scraping the agent\n"
    "  --tool=NAME                the tool (label tool) to replay; with --file, the\n"
    "                             name the detector gives it (default the file's)\n"
    "  --start=TIME               first window end (RFC 3339, 'YYYY-MM-DD HH:MM:SS' UTC\n"
    "                             or Unix seconds; default --end - 24h)\n"
    "  --end=TIME                 last window end (default now)\n"
    "  --prometheus.selector=M    more label matchers for every series, e.g.\n"
    "                             'instance=\"node1:9477\"' (default: all, summed)\n"
    "  --prometheus.ca-file=FILE  CA of the server (default the system's CAs)\n"
    "  --prometheus.cert-file=FILE  client certificate (TLS client auth)\n"
    "  --prometheus.key-file=FILE  its key\n"
    "  --prometheus.username=NAME  basic auth user\n"
    "  --prometheus.password-file=FILE  basic auth password (first line)\n"
    "  --prometheus.bearer-token-file=FILE  Authorization: Bearer (first line)\n"
    "  --prometheus.insecure-skip-verify  do not verify the server's certificate\n"
    "  --prometheus.timeout=D     one request, connect to last byte (default 30s)\n"
    "  --prometheus.max-body-size=SIZE  larger answers are refused (default 64MiB)\n"
    "\n"
    "detector (the agent's flags and defaults; --anomaly.window defaults to the\n"
    "file's row spacing, 1m for Prometheus):\n" AGENT_ANOMALY_USAGE "\n"
    "output:\n"
    "  --json                     one JSON object instead of text\n"
    "  -h, --help                 show this help\n"
    "\n"
    "EXAMPLES:\n"
    "  toolwatch backtest --prometheus.url=http://localhost:9090 --tool=make\n"
    "  toolwatch backtest --file=latency.csv --anomaly.window=5m --json\n";

void backtest_options__init(struct backtest_options *o)
{
	memset(o, 0, sizeof(*o));
	anomaly_config__init(&o->anomaly);
	o->anomaly.window_ns = 0;
	o->timeout_ns = 30 * SECOND_NS;
	o->max_body_bytes = 64ULL << 20;
}

static int set_time(int64_t *out, const char *v, char *why, size_t n)
{
	int64_t t;
	char buf[64];
	size_t len = strlen(v);

	/* RFC 3339 in UTC: 'Z' or +00:00 */
	if (len >= sizeof(buf)) {
		snprintf(why, n, "want RFC 3339, 'YYYY-MM-DD HH:MM:SS' (UTC) or Unix seconds");
		return -EINVAL;
	}
	memcpy(buf, v, len + 1);
	if (len > 6 && !strcmp(buf + len - 6, "+00:00"))
		buf[len - 6] = '\0';
	if (history__parse_time(buf, &t) || t <= 0) {
		snprintf(why, n, "want RFC 3339, 'YYYY-MM-DD HH:MM:SS' (UTC) or Unix seconds");
		return -EINVAL;
	}
	*out = t;
	return 0;
}

static int set_start(void *opts, const char *v, char *why, size_t n)
{
	return set_time(&((struct backtest_options *)opts)->start_unix_s, v, why, n);
}

static int set_end(void *opts, const char *v, char *why, size_t n)
{
	return set_time(&((struct backtest_options *)opts)->end_unix_s, v, why, n);
}

static int set_url(void *opts, const char *v, char *why, size_t n)
{
	struct backtest_options *o = opts;

	const char *host = !strncmp(v, "http://", 7)	? v + 7
			   : !strncmp(v, "https://", 8) ? v + 8
							: NULL;

	if (!host || !*host || *host == '/' || strpbrk(v, "?# \t\r\n") ||
	    strlen(v) >= sizeof(o->prometheus_url) - 1) {
		snprintf(why, n, "want an http:// or https:// URL without query");
		return -EINVAL;
	}
	snprintf(o->prometheus_url, sizeof(o->prometheus_url), "%s", v);
	return 0;
}

static int set_selector(void *opts, const char *v, char *why, size_t n)
{
	struct backtest_options *o = opts;

	/* matchers go inside {...}: braces would end the selector early */
	if (strpbrk(v, "{}\n") || strlen(v) >= sizeof(o->selector)) {
		snprintf(why, n, "want label matchers such as 'instance=\"node1:9477\"'");
		return -EINVAL;
	}
	snprintf(o->selector, sizeof(o->selector), "%s", v);
	return 0;
}

#define BT(member) FLAG_FIELD(struct backtest_options, member)

static const struct flag backtest_flags[] = {
    {"file", .kind = FLAG_STRING, BT(file), .want = "a file path"},
    {"prometheus.url", .kind = FLAG_CUSTOM, .set = set_url},
    {"tool", .kind = FLAG_STRING, BT(tool), .want = "a tool name"},
    {"start", .kind = FLAG_CUSTOM, .set = set_start},
    {"end", .kind = FLAG_CUSTOM, .set = set_end},
    {"prometheus.selector", .kind = FLAG_CUSTOM, .set = set_selector},
    {"prometheus.ca-file", .kind = FLAG_STRING, BT(ca_file), .want = "a file path"},
    {"prometheus.cert-file", .kind = FLAG_STRING, BT(cert_file), .want = "a file path"},
    {"prometheus.key-file", .kind = FLAG_STRING, BT(key_file), .want = "a file path"},
    {"prometheus.username", .kind = FLAG_STRING, BT(username), .want = "a user name"},
    {"prometheus.password-file", .kind = FLAG_STRING, BT(password_file), .want = "a file path"},
    {"prometheus.bearer-token-file", .kind = FLAG_STRING, BT(bearer_token_file),
     .want = "a file path"},
    {"prometheus.insecure-skip-verify", .kind = FLAG_BOOL, BT(insecure_skip_verify)},
    {"prometheus.timeout", .kind = FLAG_DURATION, BT(timeout_ns), .min = 10000000ULL,
     .max = 3600ULL * SECOND_NS},
    {"prometheus.max-body-size", .kind = FLAG_SIZE, BT(max_body_bytes), .min = 4096,
     .max = 1ULL << 32},
    {"json", .kind = FLAG_BOOL, BT(json)},
};

#define OWN_FLAGS (sizeof(backtest_flags) / sizeof(backtest_flags[0]))

enum options_result backtest_options__parse(struct backtest_options *o, int argc, char **argv,
					    char *err, size_t err_size)
{
	struct flag all[FLAGS_MAX];
	struct flag_set set = {.flags = all};
	enum options_result r;
	bool prom;

	/* our flags, then the agent's own --anomaly.* specs writing into o->anomaly */
	memcpy(all, backtest_flags, sizeof(backtest_flags));
	set.count =
	    OWN_FLAGS + agent_options__anomaly_flags(all + OWN_FLAGS, FLAGS_MAX - OWN_FLAGS,
						     offsetof(struct backtest_options, anomaly));
	r = flags__parse(&set, o, argc, argv, err, err_size);
	prom = o->prometheus_url[0];

	if (r != OPTIONS_OK)
		return r;
	if (!o->file[0] == !prom) {
		snprintf(err, err_size, "want one source: --file or --prometheus.url");
		return OPTIONS_ERROR;
	}
	if (prom && !o->tool[0]) {
		snprintf(err, err_size, "--prometheus.url needs --tool");
		return OPTIONS_ERROR;
	}
	if (!prom && (o->selector[0] || o->ca_file[0] || o->cert_file[0] || o->key_file[0] ||
		      o->username[0] || o->password_file[0] || o->bearer_token_file[0] ||
		      o->insecure_skip_verify || o->start_unix_s || o->end_unix_s)) {
		snprintf(err, err_size,
			 "--prometheus.*, --start and --end go with --prometheus.url, not --file");
		return OPTIONS_ERROR;
	}
	if (o->password_file[0] && !o->username[0]) {
		snprintf(err, err_size, "--prometheus.password-file needs --prometheus.username");
		return OPTIONS_ERROR;
	}
	if (o->username[0] && o->bearer_token_file[0]) {
		snprintf(
		    err, err_size,
		    "--prometheus.username and --prometheus.bearer-token-file exclude each other");
		return OPTIONS_ERROR;
	}
	if (!o->cert_file[0] != !o->key_file[0]) {
		snprintf(err, err_size,
			 "--prometheus.cert-file and --prometheus.key-file go together");
		return OPTIONS_ERROR;
	}
	if (o->start_unix_s && o->end_unix_s && o->start_unix_s >= o->end_unix_s) {
		snprintf(err, err_size, "--start must be before --end");
		return OPTIONS_ERROR;
	}
	if (o->anomaly.window_ns % SECOND_NS) {
		snprintf(err, err_size, "--anomaly.window: want whole seconds");
		return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}
