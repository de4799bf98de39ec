// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "identity/identity.h"
#include "agent/options.h"
#include "lib/parse.h"
#include "exposition.h"

const char agent_usage[] =
    "usage: toolwatch [agent] [flags]\n"
    "\n"
    "Traces every program execution on the host with eBPF and serves per-tool\n"
    "Prometheus metrics.\n"
    "\n"
    "flags:\n"
    "  --web.listen-address=ADDR  address to serve /metrics on (default :9477);\n"
    "                             repeat to serve on several\n"
    "  --web.config.file=FILE     TLS, client certificates and basic auth\n"
    "                             (exporter-toolkit format; re-read on change)\n"
    "  --web.telemetry-path=PATH  path of the metrics (default /metrics)\n"
    "  --web.disable-exporter-metrics  leave out process_* self metrics\n"
    "  --web.max-connections=N    open connections per address (default 512)\n"
    "  --web.max-connections-per-client=N  from one IP address (default 16)\n"
    "  --web.read-header-timeout=D  time to send request headers (default 5s)\n"
    "  --web.idle-timeout=D       idle keep-alive connection (default 30s)\n"
    "  --tools.max=N              distinct tool names tracked; the rest are\n"
    "                             counted as tool=\"other\" (default 500)\n"
    "  --tools.rules=FILE         naming rules, process-exporter's process_names\n"
    "                             format; reloaded on SIGHUP\n"
    "  --tools.idle-timeout=D     names unused this long leave the table and\n"
    "                             /metrics; 0 never (default 1h)\n"
    "  --tools.normalize          random-looking words of names (long digit or\n"
    "                             hex runs) become '*'\n"
    "  --metrics.labels=LIST      identity labels on every tool_* series (comma\n"
    "                             separated): container_id, pod_uid, namespace,\n"
    "                             pod, container (default none)\n"
    "  --metrics.max-series=N     tool_* series on /metrics at most, counted as\n"
    "                             the text format shows them; tools (or (tool,\n"
    "                             identity) pairs) past it count as tool=\"other\"\n"
    "                             (default 20000)\n"
    "  --metrics.native-histograms=MODE  what protobuf scrapes get of the tool_*\n"
    "                             histograms: native, both (native and classic\n"
    "                             buckets) or off (classic) (default native)\n"
    "  --metrics.classic-buckets=LAYOUT  classic buckets of the tool_* histograms:\n"
    "                             full, coarse (decades, powers of 16) or none\n"
    "                             (+Inf only) (default full)\n"
    "  --metrics.disable=LIST     tool_* families to leave out (comma separated),\n"
    "                             e.g. tool_peak_memory_bytes,tool_running\n"
    "  --metrics.skip-zero-failures  no failure series for error types a tool\n"
    "                             has not had\n"
    "  --metrics.identity-idle-timeout=D  labelled series unused this long leave\n"
    "                             /metrics once their pod is gone; 0 never\n"
    "                             (default 10m)\n"
    "  --probe.disable=LIST       probe families to leave off (comma separated):\n"
    "                             task_iter, fork, net, tcp, oom, blockio, sampler\n"
    "  --probe.enable=LIST        families that are off by default:\n"
    "                             exec_failed_libc (failed execs of dynamically\n"
    "                             linked callers; uprobes in the C library cost\n"
    "                             every process that maps it a copied page),\n"
    "                             exec_failed (every failed exec, static callers'\n"
    "                             too; syscall tracepoints slow every syscall of\n"
    "                             every process; replaces exec_failed_libc),\n"
    "                             runqlat (run-queue latency; hooks every\n"
    "                             context switch), delayacct\n"
    "                             (kernel.task_delayacct on while running: block I/O\n"
    "                             wait per tool), netcalls (UDP and other non-TCP\n"
    "                             socket bytes; hooks every send and receive)\n"
    "  --sample.interval=D        read running executions' CPU, memory and disk\n"
    "                             this often when no scrape asks (a scrape reads\n"
    "                             them when the last read is older than 200ms)\n"
    "                             (default 15s)\n"
    "  --bpf.ringbuf-size=SIZE    kernel->agent ring buffer (default 4MiB)\n"
    "  --bpf.max-processes=N      processes tracked at once (default 32768)\n"
    "  --bpf.stats                enable BPF run-time statistics while "
    "running\n" AGENT_ANOMALY_USAGE
    "  --state.dir=DIR            where baselines persist (default /var/lib/toolwatch)\n"
    "  --state.save-interval=D    how often they are saved; 0 only at exit (default 5m)\n"
    "  --kubernetes.enable        list this node's pods from the Kubernetes API\n"
    "                             (namespace, pod and container names)\n"
    "  --kubernetes.api-url=URL   API server (default in a pod: https://\n"
    "                             $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)\n"
    "  --kubernetes.token-file=FILE  bearer token, re-read for every request\n"
    "                             (default the service account's)\n"
    "  --kubernetes.ca-file=FILE  CA of the API server (default the service\n"
    "                             account's ca.crt, else the system's CAs)\n"
    "  --kubernetes.node-name=NAME  this node (default $NODE_NAME)\n"
    "  --kubernetes.timeout=D     one request, connect to last byte (default 5s)\n"
    "  --kubernetes.resync-interval=D  list the pods this often (default 30s)\n"
    "  --kubernetes.max-body-size=SIZE  larger lists are refused (default 4MiB)\n"
    "  --log.level=LEVEL          error, warn, info or debug (default info)\n"
    "  --log.format=FORMAT        text, logfmt or json (default text)\n"
    "  -h, --help                 show this help\n"
    "  --version                  print the version\n"
    "\n"
    "EXAMPLES:\n"
    "  toolwatch                               # serve on :9477\n"
    "  toolwatch --web.listen-address=127.0.0.1:9477 --tools.max=2000\n"
    "  toolwatch --probe.enable=exec_failed --log.level=debug\n"
    "  toolwatch trace --help                  # ad-hoc tracing\n";

void agent_options__init(struct agent_options *o)
{
	memset(o, 0, sizeof(*o));
	o->listen_port = 9477;
	o->tools_max = 500;
	o->tools_idle_timeout_ns = 3600ULL * 1000000000ULL;
	o->log_level = LOG_INFO;
	o->ringbuf_bytes = 4 << 20;
	o->max_processes = 32768;
	/*
	 * every failed exec needs syscall tracepoints, and while any is enabled every syscall
	 * of every process takes the kernel's tracing slow path: opt in. exec_failed_libc
	 * (uprobes where the C library's execve fails) costs nothing on other syscalls, but
	 * every process that maps the C library gets the probed page copied and patched at its
	 * start (20-50 us per exec, ten times the BPF programs' own cost): opt in too
	 */
	o->disable[PROBE_EXEC_FAILED] = true;
	o->disable[PROBE_EXEC_FAILED_LIBC] = true;
	/* run-queue latency hooks every wakeup and context switch: opt in */
	o->disable[PROBE_RUNQLAT] = true;
	o->disable[PROBE_DELAYACCT] = true;
	/* per-call socket byte counting hooks every send and receive: opt in */
	o->disable[PROBE_NETCALLS] = true;
	anomaly_config__init(&o->anomaly);
	snprintf(o->state_dir, sizeof(o->state_dir), "%s", "/var/lib/toolwatch");
	o->state_save_interval_ns = 300ULL * 1000000000ULL;
	o->sample_interval_ns = 15ULL * 1000000000ULL;
	snprintf(o->telemetry_path, sizeof(o->telemetry_path), "%s", "/metrics");
	o->max_connections = 512;
	o->max_per_client = 16;
	o->read_header_timeout_ns = 5ULL * 1000000000ULL;
	o->idle_timeout_ns = 30ULL * 1000000000ULL;
	kube_options__init(&o->kube);
	o->metrics_max_series = 20000;
	o->metrics_identity_idle_timeout_ns = 600ULL * 1000000000ULL;
}

#define SECOND_NS 1000000000ULL

static int set_listen(void *opts, const char *v, char *why, size_t n)
{
	struct agent_options *o = opts;
	struct listen_address a;

	if (parse_listen_address(v, a.host, sizeof(a.host), &a.port)) {
		snprintf(why, n, "want [HOST]:PORT");
		return -EINVAL;
	}
	if (!a.port) {
		snprintf(why, n, "port 0 would pick a port nobody knows; want 1..65535");
		return -EINVAL;
	}
	/* the first address replaces the default; each later one is served too */
	if (!o->listen_given) {
		memcpy(o->listen_host, a.host, sizeof(o->listen_host));
		o->listen_port = a.port;
		o->listen_given = true;
		return 0;
	}
	if (o->nr_more_listen >= OPTIONS_LISTEN_MAX - 1) {
		snprintf(why, n, "at most %d addresses", OPTIONS_LISTEN_MAX);
		return -EINVAL;
	}
	o->more_listen[o->nr_more_listen++] = a;
	return 0;
}

static int set_telemetry_path(void *opts, const char *v, char *why, size_t n)
{
	struct agent_options *o = opts;

	if (v[0] != '/' || strlen(v) >= sizeof(o->telemetry_path) || strpbrk(v, " ?#\t\r\n") ||
	    !strcmp(v, "/") || !strcmp(v, "/healthz")) {
		snprintf(why, n, "want a path starting with '/', not / or /healthz");
		return -EINVAL;
	}
	snprintf(o->telemetry_path, sizeof(o->telemetry_path), "%s", v);
	return 0;
}

static int set_log_format(void *opts, const char *v, char *why, size_t n)
{
	struct agent_options *o = opts;

	if (log__parse_format(v, &o->log_format)) {
		snprintf(why, n, "want text, logfmt or json");
		return -EINVAL;
	}
	return 0;
}

/* --probe.disable=LIST: these families off, on top of the defaults */
static int set_probe_disable(void *opts, const char *v, char *why, size_t n)
{
	struct agent_options *o = opts;
	char bad[64];

	if (probe__parse_list(v, o->disable, bad, sizeof(bad))) {
		snprintf(why, n, "'%s' is not an optional probe", bad);
		return -EINVAL;
	}
	return 0;
}

/* --probe.enable=LIST: these families on, including the ones off by default */
static int set_probe_enable(void *opts, const char *v, char *why, size_t n)
{
	struct agent_options *o = opts;
	bool enable[PROBE_MAX] = {};
	char bad[64];

	if (probe__parse_list(v, enable, bad, sizeof(bad))) {
		snprintf(why, n, "'%s' is not an optional probe", bad);
		return -EINVAL;
	}
	for (int p = 0; p < PROBE_MAX; p++)
		if (enable[p])
			o->disable[p] = false;
	return 0;
}

/* the kernel wants a power-of-two ring buffer of whole pages */
static int set_ringbuf(void *opts, const char *v, char *why, size_t n)
{
	struct agent_options *o = opts;
	uint64_t x;

	if (parse_size_bytes(v, &x) || x < 4096 || x > (1ULL << 30) || (x & (x - 1))) {
		snprintf(why, n, "want a power of two, 4KiB..1GiB");
		return -EINVAL;
	}
	o->ringbuf_bytes = x;
	return 0;
}

static int set_log_level(void *opts, const char *v, char *why, size_t n)
{
	struct agent_options *o = opts;

	if (log__parse_level(v, &o->log_level)) {
		snprintf(why, n, "want error, warn, info or debug");
		return -EINVAL;
	}
	return 0;
}

/* --kubernetes.api-url: an http(s) URL without a query (the client appends the path) */
static int set_kube_api_url(void *opts, const char *v, char *why, size_t n)
{
	return kube_options__set_api_url(&((struct agent_options *)opts)->kube, v, why, n);
}

static int set_native(void *opts, const char *v, char *why, size_t n)
{
	struct agent_options *o = opts;

	for (int m = 0; m < NATIVE_MODE_MAX; m++) {
		if (!strcmp(v, native_mode_names[m])) {
			o->metrics_native = m;
			return 0;
		}
	}
	snprintf(why, n, "want native, both or off");
	return -EINVAL;
}

static int set_classic_buckets(void *opts, const char *v, char *why, size_t n)
{
	struct agent_options *o = opts;

	for (int c = 0; c < CLASSIC_BUCKETS_MAX; c++) {
		if (!strcmp(v, classic_buckets_names[c])) {
			o->metrics_classic = c;
			return 0;
		}
	}
	snprintf(why, n, "want full, coarse or none");
	return -EINVAL;
}

uint32_t agent_options__series_cap(const struct agent_options *o, struct metrics_config *c)
{
	uint32_t per;

	memset(c, 0, sizeof(*c));
	c->disabled = o->metrics_disable;
	c->skip_zero_failures = o->metrics_skip_zero_failures;
	c->native = o->metrics_native;
	c->classic = o->metrics_classic;
	c->max_series = o->metrics_max_series;
	per = exposition__series_per_tool(c);
	/* one slot goes to "other" */
	return o->metrics_max_series / per > 2 ? o->metrics_max_series / per - 1 : 1;
}

#define AT(member) FLAG_FIELD(struct agent_options, member)

static const struct flag agent_flags[] = {
    {"web.listen-address", .kind = FLAG_CUSTOM, .set = set_listen, .repeatable = true},
    {"web.config.file", .kind = FLAG_STRING, AT(web_config_file), .want = "a file path"},
    {"web.telemetry-path", .kind = FLAG_CUSTOM, .set = set_telemetry_path},
    {"web.disable-exporter-metrics", .kind = FLAG_BOOL, AT(disable_exporter_metrics)},
    {"web.max-connections", .kind = FLAG_U32, AT(max_connections), .min = 4, .max = 60000},
    {"web.max-connections-per-client", .kind = FLAG_U32, AT(max_per_client), .min = 1,
     .max = 60000},
    {"web.read-header-timeout", .kind = FLAG_DURATION, AT(read_header_timeout_ns),
     .min = 100000000ULL, .max = 3600ULL * SECOND_NS},
    {"web.idle-timeout", .kind = FLAG_DURATION, AT(idle_timeout_ns), .min = SECOND_NS,
     .max = 3600ULL * SECOND_NS},
    {"log.format", .kind = FLAG_CUSTOM, .set = set_log_format},
    {"tools.max", .kind = FLAG_U32, AT(tools_max), .min = 1, .max = 1000000},
    {"probe.disable", .kind = FLAG_CUSTOM, .set = set_probe_disable},
    {"probe.enable", .kind = FLAG_CUSTOM, .set = set_probe_enable},
    {"bpf.ringbuf-size", .kind = FLAG_CUSTOM, .set = set_ringbuf},
    {"bpf.max-processes", .kind = FLAG_U32, AT(max_processes), .min = 64, .max = 4194304},
    {"bpf.stats", .kind = FLAG_BOOL, AT(bpf_stats)},
    {"anomaly.window", .kind = FLAG_DURATION, AT(anomaly.window_ns), .min = SECOND_NS},
    {"anomaly.baseline", .kind = FLAG_DURATION, AT(anomaly.baseline_ns), .min = SECOND_NS},
    {"anomaly.seasonal", .kind = FLAG_BOOL, AT(anomaly.seasonal)},
    {"anomaly.min-windows", .kind = FLAG_U32, AT(anomaly.min_windows), .min = 1, .max = 1000000},
    {"anomaly.seasonal-min-windows", .kind = FLAG_U32, AT(anomaly.seasonal_min_windows),
     .max = 1000000},
    {"anomaly.min-samples", .kind = FLAG_U64, AT(anomaly.min_samples), .min = 1, .max = 1000000000},
    {"anomaly.raise-after", .kind = FLAG_U32, AT(anomaly.raise_after), .min = 1, .max = 1000},
    {"anomaly.clear-after", .kind = FLAG_U32, AT(anomaly.clear_after), .min = 1, .max = 1000},
    {"anomaly.new-tool-learning", .kind = FLAG_DURATION, AT(anomaly.new_tool_learning_ns)},
    {"anomaly.new-tool-hold", .kind = FLAG_DURATION, AT(anomaly.new_tool_hold_ns)},
    {"anomaly.relearn-after", .kind = FLAG_DURATION, AT(anomaly.relearn_after_ns)},
    {"anomaly.relearn-min-windows", .kind = FLAG_U32, AT(anomaly.relearn_min_windows),
     .max = 1000000},
    {"anomaly.latency-ratio", .kind = FLAG_DOUBLE, AT(anomaly.latency_ratio), .min_real = 1,
     .max_real = 1000},
    {"anomaly.outlier-sigmas", .kind = FLAG_DOUBLE, AT(anomaly.outlier_sigmas), .min_real = 0.5,
     .max_real = 100},
    {"anomaly.outlier-spike-sigmas", .kind = FLAG_DOUBLE, AT(anomaly.outlier_spike_sigmas),
     .min_real = 0, .max_real = 1000},
    {"anomaly.outlier-beyond-range", .kind = FLAG_BOOL, AT(anomaly.outlier_beyond_range)},
    {"anomaly.outlier-log-offset", .kind = FLAG_DOUBLE, AT(anomaly.outlier_log_offset),
     .min_real = 0, .max_real = 1000},
    {"anomaly.keep-firing-for", .kind = FLAG_DURATION, AT(anomaly.keep_firing_ns)},
    {"anomaly.max-tools", .kind = FLAG_U32, AT(anomaly.max_tools), .min = 1, .max = 1000000},
    {"state.dir", .kind = FLAG_STRING, AT(state_dir), .want = "a directory path"},
    {"state.save-interval", .kind = FLAG_DURATION, AT(state_save_interval_ns)},
    {"sample.interval", .kind = FLAG_DURATION, AT(sample_interval_ns), .min = 100000000ULL,
     .max = 3600ULL * SECOND_NS},
    {"log.level", .kind = FLAG_CUSTOM, .set = set_log_level},
    {"tools.rules", .kind = FLAG_STRING, AT(tools_rules), .want = "a file path"},
    {"tools.idle-timeout", .kind = FLAG_DURATION, AT(tools_idle_timeout_ns)},
    {"tools.normalize", .kind = FLAG_BOOL, AT(tools_normalize)},
    {"kubernetes.enable", .kind = FLAG_BOOL, AT(kube.enable)},
    {"kubernetes.api-url", .kind = FLAG_CUSTOM, .set = set_kube_api_url},
    {"kubernetes.token-file", .kind = FLAG_STRING, AT(kube.token_file), .want = "a file path"},
    {"kubernetes.ca-file", .kind = FLAG_STRING, AT(kube.ca_file), .want = "a file path"},
    {"kubernetes.node-name", .kind = FLAG_STRING, AT(kube.node_name), .want = "a node name"},
    {"kubernetes.timeout", .kind = FLAG_DURATION, AT(kube.timeout_ns), .min = 10000000ULL,
     .max = 600ULL * SECOND_NS},
    {"kubernetes.resync-interval", .kind = FLAG_DURATION, AT(kube.resync_ns), .min = SECOND_NS,
     .max = 86400ULL * SECOND_NS},
    {"kubernetes.max-body-size", .kind = FLAG_SIZE, AT(kube.max_body_bytes), .min = 4096,
     .max = 1ULL << 30},
    {"metrics.labels", .kind = FLAG_LIST, AT(metrics_labels), .names = identity_label_names},
    {"metrics.max-series", .kind = FLAG_U32, AT(metrics_max_series), .min = 100, .max = 100000000},
    {"metrics.native-histograms", .kind = FLAG_CUSTOM, .set = set_native},
    {"metrics.classic-buckets", .kind = FLAG_CUSTOM, .set = set_classic_buckets},
    {"metrics.disable", .kind = FLAG_LIST, AT(metrics_disable), .names = tool_family_names},
    {"metrics.skip-zero-failures", .kind = FLAG_BOOL, AT(metrics_skip_zero_failures)},
    {"metrics.identity-idle-timeout", .kind = FLAG_DURATION, AT(metrics_identity_idle_timeout_ns)},
};

static const struct flag_set agent_flag_set = {
    .flags = agent_flags,
    .count = sizeof(agent_flags) / sizeof(agent_flags[0]),
    .has_version = true,
};

enum options_result agent_options__parse(struct agent_options *o, int argc, char **argv, char *err,
					 size_t err_size)
{
	return flags__parse(&agent_flag_set, o, argc, argv, err, err_size);
}

size_t agent_options__anomaly_flags(struct flag *out, size_t max, size_t config_offset)
{
	size_t from = offsetof(struct agent_options, anomaly), n = 0;

	for (size_t i = 0; i < agent_flag_set.count && n < max; i++) {
		const struct flag *f = &agent_flags[i];

		if (strncmp(f->name, "anomaly.", 8))
			continue;
		out[n] = *f;
		out[n].offset = f->offset - from + config_offset;
		n++;
	}
	return n;
}
