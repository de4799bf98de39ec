// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.h"
#include "exposition_internal.h"
#include "identity/identity.h"
#include "kernel/probes.h"
#include "events/snapshot.h"
#include "lib/strbuf.h"

void exposition__escape_label(struct strbuf *out, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t n = strlen(value), consumed, len;
	char tok[VISIBLE_TOKEN_MAX];

	/* the visible form (injective, no controls), then the text format's own escapes */
	while (n) {
		len = utf8__visible_token(p, n, tok, &consumed);
		for (size_t i = 0; i < len; i++) {
			if (tok[i] == '\\' || tok[i] == '"')
				strbuf__putc(out, '\\');
			strbuf__putc(out, tok[i]);
		}
		p += consumed;
		n -= consumed;
	}
}

void exposition__decimal(struct strbuf *out, uint64_t v, unsigned int decimals)
{
	uint64_t scale = 1, frac;
	char digits[24];
	int len;

	for (unsigned int d = 0; d < decimals && d < 19; d++)
		scale *= 10;
	strbuf__put_u64(out, v / scale);
	frac = v % scale;
	if (!frac)
		return;
	/* the fraction's digits, zero-padded on the left, trailing zeros dropped */
	for (len = (int)decimals; len > 0; len--) {
		digits[len - 1] = (char)('0' + frac % 10);
		frac /= 10;
	}
	for (len = (int)decimals; len > 1 && digits[len - 1] == '0'; len--)
		;
	strbuf__putc(out, '.');
	strbuf__append(out, digits, (size_t)len);
}

unsigned int exposition__layout_decimals(const struct hist_layout *layout)
{
	unsigned int d = 0;

	for (double s = layout->unit_scale; s >= 10; s /= 10)
		d++;
	return d;
}

/* Whether a coarse layout keeps bound i: decades of seconds, powers of 16 of bytes. */
static bool coarse_bound(const struct hist_layout *layout, unsigned int i)
{
	uint64_t b = layout->bounds[i];

	if (layout->unit_scale == 1e9) {
		while (b >= 10 && b % 10 == 0)
			b /= 10;
		return b == 1;
	}
	return b && !(b & (b - 1)) && __builtin_ctzll(b) % 4 == 0;
}

bool exposition__bound_kept(const struct hist_layout *layout, unsigned int i,
			    enum classic_buckets c)
{
	return c == CLASSIC_BUCKETS_FULL ||
	       (c == CLASSIC_BUCKETS_COARSE && coarse_bound(layout, i));
}

/* Series of one tool histogram: the buckets c keeps, +Inf, _sum and _count. */
static unsigned int histogram_series(const struct hist_layout *layout, enum classic_buckets c)
{
	unsigned int n = 3;

	for (unsigned int i = 0; i < layout->nr_bounds; i++)
		n += exposition__bound_kept(layout, i, c);
	return n;
}

/*
 * Text series of one tool in the families c leaves on: st NULL counts the most a tool can
 * have (every failure type, every optional probe, both wait reasons), else what st shows.
 */
static unsigned int tool_series(const struct metrics_config *c, const struct snapshot *s,
				const struct tool_stats *st)
{
	bool net = !s || s->probe_enabled[PROBE_NET], tcp = !s || s->probe_enabled[PROBE_TCP];
	unsigned int n = 1; /* tool_executions_total */
	unsigned int off = c->disabled;

#define ON(f) (!(off & (1u << (f))))
	if (ON(TOOL_FAMILY_DURATION))
		n += histogram_series(&hist_duration_layout, c->classic);
	n += ON(TOOL_FAMILY_SUCCESS);
	if (ON(TOOL_FAMILY_FAILURE)) {
		for (int t = 0; t < ERROR_TYPE_MAX; t++)
			n += !st || !c->skip_zero_failures || st->failures[t];
	}
	n += ON(TOOL_FAMILY_RUNNING);
	if (ON(TOOL_FAMILY_PEAK_MEMORY))
		n += histogram_series(&hist_memory_layout, c->classic);
	n += ON(TOOL_FAMILY_MEMORY_USAGE);
	n += 2 * ON(TOOL_FAMILY_CPU) + 2 * ON(TOOL_FAMILY_DISK);
	n += net ? 2 * ON(TOOL_FAMILY_NETWORK) : 0;
	n += tcp ? ON(TOOL_FAMILY_TCP_CONNECTIONS) + ON(TOOL_FAMILY_TCP_RETRANSMITS) : 0;
	if (ON(TOOL_FAMILY_WAIT))
		n += !s || s->host.delayacct ? WAIT_REASONS : 1;
#undef ON
	return n;
}

unsigned int exposition__series_per_tool(const struct metrics_config *c)
{
	return tool_series(c, NULL, NULL);
}

uint64_t exposition__tool_series(const struct snapshot *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->nr_tools; i++)
		n += tool_series(&s->metrics, s, &s->tools[i].stats);
	return n;
}

/* A per-tool counter whose value is a pair of tool_stats fields, split by one label. */
static void tool_pair(struct expo *w, const struct snapshot *s, const struct expo_labels *lab,
		      const char *name, const char *help, const char *label, const char *v0,
		      const char *v1, size_t offset, unsigned int decimals)
{
	expo__family(w, name, EXPO_COUNTER, help);
	for (size_t i = 0; i < s->nr_tools; i++) {
		const uint64_t *pair =
		    (const uint64_t *)((const char *)&s->tools[i].stats + offset);

		for (int k = 0; k < 2; k++)
			expo__fixed(w, &lab[i], label, k ? v1 : v0, pair[k], decimals);
	}
}

/* A per-tool counter or gauge family whose value is one field of tool_stats. */
static void tool_family(struct expo *w, const struct snapshot *s, const struct expo_labels *lab,
			const char *name, enum expo_type type, const char *help, size_t offset)
{
	expo__family(w, name, type, help);
	for (size_t i = 0; i < s->nr_tools; i++) {
		const char *p = (const char *)&s->tools[i].stats + offset;
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		expo__u64(w, &lab[i], NULL, NULL, v);
	}
}

/* A per-tool histogram family: classic buckets as c says, native ones as s->metrics says. */
static void tool_histogram(struct expo *w, const struct snapshot *s, const struct expo_labels *lab,
			   const char *name, const char *help, size_t offset, size_t native_offset,
			   const struct hist_layout *layout)
{
	const struct metrics_config *c = &s->metrics;

	expo__family(w, name, EXPO_HISTOGRAM, help);
	for (size_t i = 0; i < s->nr_tools; i++) {
		const char *st = (const char *)&s->tools[i].stats;
		struct expo_hist hs = {
		    .h = (const struct hist *)(st + offset),
		    .layout = layout,
		    .classic = c->classic,
		    .native = c->native == NATIVE_OFF
				  ? NULL
				  : (const struct native_hist *)(st + native_offset),
		    .native_only = c->native == NATIVE_ONLY,
		};

		expo__histogram(w, &lab[i], NULL, NULL, &hs);
	}
}

static bool family_on(const struct snapshot *s, enum tool_family f)
{
	return !(s->metrics.disabled & (1u << f));
}

static void render_tools(struct expo *w, const struct snapshot *s, const struct expo_labels *lab)
{
	const struct metrics_config *c = &s->metrics;

	if (family_on(s, TOOL_FAMILY_DURATION))
		tool_histogram(w, s, lab, "tool_execution_duration_seconds",
			       "Wall-clock time from exec to exit of fully observed executions.",
			       offsetof(struct tool_stats, duration),
			       offsetof(struct tool_stats, duration_native), &hist_duration_layout);
	tool_family(w, s, lab, "tool_executions_total", EXPO_COUNTER, "Executions that ended.",
		    offsetof(struct tool_stats, executions));
	if (family_on(s, TOOL_FAMILY_SUCCESS))
		tool_family(w, s, lab, "tool_execution_success_total", EXPO_COUNTER,
			    "Executions that exited with status 0.",
			    offsetof(struct tool_stats, successes));
	if (family_on(s, TOOL_FAMILY_FAILURE)) {
		expo__family(w, "tool_execution_failure_total", EXPO_COUNTER,
			     "Executions that failed, by how they failed.");
		for (size_t i = 0; i < s->nr_tools; i++) {
			for (int t = 0; t < ERROR_TYPE_MAX; t++) {
				if (c->skip_zero_failures && !s->tools[i].stats.failures[t])
					continue;
				expo__u64(w, &lab[i], "error_type", error_type__name(t),
					  s->tools[i].stats.failures[t]);
			}
		}
	}
	if (family_on(s, TOOL_FAMILY_RUNNING))
		tool_family(w, s, lab, "tool_running", EXPO_GAUGE, "Executions running now.",
			    offsetof(struct tool_stats, running));
	if (family_on(s, TOOL_FAMILY_PEAK_MEMORY))
		tool_histogram(w, s, lab, "tool_peak_memory_bytes",
			       "Peak resident set size of each ended execution.",
			       offsetof(struct tool_stats, peak_memory),
			       offsetof(struct tool_stats, peak_memory_native),
			       &hist_memory_layout);
	if (family_on(s, TOOL_FAMILY_MEMORY_USAGE))
		tool_family(w, s, lab, "tool_memory_usage_bytes", EXPO_GAUGE,
			    "Resident set size of the running executions, summed.",
			    offsetof(struct tool_stats, memory_bytes));
	if (family_on(s, TOOL_FAMILY_CPU))
		tool_pair(w, s, lab, "tool_cpu_seconds_total",
			  "CPU time of executions and their children.", "mode", "user", "system",
			  offsetof(struct tool_stats, cpu_ns), 9);
	if (family_on(s, TOOL_FAMILY_DISK))
		tool_pair(w, s, lab, "tool_disk_bytes_total",
			  "Bytes read from and written to storage.", "direction", "read", "write",
			  offsetof(struct tool_stats, disk_bytes), 0);
	if (s->probe_enabled[PROBE_NET] && family_on(s, TOOL_FAMILY_NETWORK))
		tool_pair(w, s, lab, "tool_network_bytes_total",
			  "Socket payload bytes sent and received (IPv4/IPv6).", "direction", "tx",
			  "rx", offsetof(struct tool_stats, net_bytes), 0);
	if (s->probe_enabled[PROBE_TCP] && family_on(s, TOOL_FAMILY_TCP_CONNECTIONS))
		tool_family(w, s, lab, "tool_tcp_connections_total", EXPO_COUNTER,
			    "TCP connections opened with connect().",
			    offsetof(struct tool_stats, tcp_connects));
	if (s->probe_enabled[PROBE_TCP] && family_on(s, TOOL_FAMILY_TCP_RETRANSMITS))
		tool_family(w, s, lab, "tool_tcp_retransmits_total", EXPO_COUNTER,
			    "TCP retransmits on connections the tool opened.",
			    offsetof(struct tool_stats, tcp_retransmits));
}

/*
 * Run-queue and block I/O wait per tool, and whether delay accounting measures the latter:
 * while kernel.task_delayacct is off the blkio series is absent, not zero.
 */
static void render_waits(struct expo *w, const struct snapshot *s, const struct expo_labels *lab)
{
	static const char *const reasons[WAIT_REASONS] = {"runqueue", "blkio"};
	int nr = s->host.delayacct ? WAIT_REASONS : 1;

	if (!family_on(s, TOOL_FAMILY_WAIT))
		nr = 0;
	else
		expo__family(
		    w, "tool_wait_seconds_total", EXPO_COUNTER,
		    "Time executions and their children waited for a CPU (runqueue) or for "
		    "block I/O (blkio, only while delay accounting is on).");
	for (size_t i = 0; nr && i < s->nr_tools; i++) {
		for (int k = 0; k < nr; k++)
			expo__fixed(w, &lab[i], "reason", reasons[k], s->tools[i].stats.wait_ns[k],
				    9);
	}
	if (s->host.delayacct_known)
		expo__gauge1(w, "toolwatch_delay_accounting_enabled",
			     "Whether kernel.task_delayacct is on (block I/O wait is measured).",
			     s->host.delayacct);
}

static void render_host(struct expo *w, const struct snapshot *s)
{
	if (s->probe_enabled[PROBE_RUNQLAT]) {
		struct expo_hist hs = {.h = &s->host.runqueue,
				       .layout = &hist_latency_layout,
				       .classic = CLASSIC_BUCKETS_FULL};

		expo__family(w, "toolwatch_runqueue_latency_seconds", EXPO_HISTOGRAM,
			     "Time runnable tasks waited for a CPU (log2 resolution).");
		expo__histogram(w, NULL, NULL, NULL, &hs);
	}
	if (s->probe_enabled[PROBE_BLOCKIO]) {
		expo__family(
		    w, "toolwatch_block_io_latency_seconds", EXPO_HISTOGRAM,
		    "Block device request latency, issue to completion (log2 resolution).");
		for (unsigned int op = 0; op < HOST_BLOCK_OPS; op++) {
			struct expo_hist hs = {.h = &s->host.block[op],
					       .layout = &hist_latency_layout,
					       .classic = CLASSIC_BUCKETS_FULL};

			expo__histogram(w, NULL, "op", block_op__name(op), &hs);
		}
	}
	if (s->probe_enabled[PROBE_TCP])
		expo__counter1(w, "toolwatch_tcp_retransmits_total", "TCP retransmits on the host.",
			       s->host.tcp_retransmits);
	if (s->probe_enabled[PROBE_OOM])
		expo__counter1(w, "toolwatch_oom_kills_total",
			       "Processes chosen by the OOM killer.", s->host.oom_kills);
}

/* The three anomaly families, each over tools and over the host. */
enum anomaly_metric {
	METRIC_FLAG,   /* *_anomaly */
	METRIC_RATIO,  /* *_anomaly_deviation_ratio */
	METRIC_RAISED, /* *_anomalies_total */
};

/* The labels of an anomaly: tool (unless a host one) and kind. */
static void anomaly_labels(struct expo *w, struct strbuf *set, const struct snapshot_anomaly *a)
{
	strbuf__reset(set);
	if (a->tool)
		expo__label(w, set, "tool", a->tool);
	expo__label(w, set, "kind", anomaly_kind__name(a->kind));
}

/* One anomaly family over tools (host = false) or the host. */
static void anomaly_family(struct expo *w, const struct snapshot *s, bool host,
			   enum anomaly_metric metric, const char *suffix, enum expo_type type,
			   const char *help)
{
	struct strbuf set = {};
	char name[64];

	snprintf(name, sizeof(name), "%s_%s", host ? "host" : "tool", suffix);
	expo__family(w, name, type, help);
	for (size_t i = 0; i < s->nr_anomalies; i++) {
		const struct snapshot_anomaly *a = &s->anomalies[i];
		struct expo_labels lab;

		if (host != !a->tool)
			continue;
		/* NEW_TOOL has no baseline to deviate from */
		if (metric == METRIC_RATIO && a->kind == ANOMALY_NEW_TOOL)
			continue;
		anomaly_labels(w, &set, a);
		lab = (struct expo_labels){set.buf, set.len};
		switch (metric) {
		case METRIC_FLAG:
			expo__u64(w, &lab, "severity", anomaly_kind__severity(a->kind), a->active);
			break;
		case METRIC_RATIO:
			expo__double(w, &lab, NULL, NULL, "%.6g", a->deviation_ratio);
			break;
		case METRIC_RAISED:
			expo__u64(w, &lab, NULL, NULL, a->raised_total);
			break;
		}
	}
	if (set.oom)
		w->out->oom = true;
	strbuf__free(&set);
}

static void render_anomalies(struct expo *w, const struct snapshot *s)
{
	if (!s->anomaly_enabled)
		return;
	for (int host = 0; host < 2; host++) {
		anomaly_family(w, s, host, METRIC_FLAG, "anomaly", EXPO_GAUGE,
			       "1 while an anomaly of this kind is flagged against the baseline.");
		anomaly_family(w, s, host, METRIC_RATIO, "anomaly_deviation_ratio", EXPO_GAUGE,
			       "Current window's figure divided by the baseline's.");
		anomaly_family(w, s, host, METRIC_RAISED, "anomalies_total", EXPO_COUNTER,
			       "Times an anomaly of this kind was raised.");
	}
}

/* tool_anomaly_cause{tool,kind,cause} 1 for each raised latency flag with a named cause. */
static void render_anomaly_causes(struct expo *w, const struct snapshot *s)
{
	struct strbuf set = {};

	if (!s->anomaly_enabled)
		return;
	expo__family(w, "tool_anomaly_cause", EXPO_GAUGE,
		     "1 while a latency flag is raised: the component of the execution time that "
		     "grew most (cpu, runqueue, blkio, other).");
	for (size_t i = 0; i < s->nr_anomalies; i++) {
		const struct snapshot_anomaly *a = &s->anomalies[i];
		const char *cause = anomaly_cause__name(a->cause);
		struct expo_labels lab;

		if (!a->tool || !a->active || !cause)
			continue;
		anomaly_labels(w, &set, a);
		lab = (struct expo_labels){set.buf, set.len};
		expo__u64(w, &lab, "cause", cause, 1);
	}
	if (set.oom)
		w->out->oom = true;
	strbuf__free(&set);
}

/*
 * The labels of series i into set: tool, then the chosen identity labels of its series
 * key (mask: --metrics.labels).
 */
static void series_labels(struct expo *w, struct strbuf *set, const char *key, unsigned int mask)
{
	struct identity_labels labels;
	const char *tool = key;

	strbuf__reset(set);
	if (mask)
		tool = identity__split_key(key, &labels);
	expo__label(w, set, "tool", tool);
	for (int i = 0; mask && i < IDENTITY_LABELS; i++) {
		if (mask & (1u << i))
			expo__label(w, set, identity_label_names[i], labels.value[i]);
	}
}

static void render_snapshot(struct expo *w, const struct snapshot *s, const char *version)
{
	struct strbuf arena = {}, one = {};
	size_t n = s->nr_tools ? s->nr_tools : 1;
	struct expo_labels *lab = calloc(n, sizeof(*lab));
	size_t *off = calloc(n, sizeof(*off));

	/* each series' labels are written once, not once per sample */
	for (size_t i = 0; lab && off && i < s->nr_tools; i++) {
		series_labels(w, &one, s->tools[i].name, s->identity_labels);
		off[i] = arena.len;
		lab[i].len = one.len;
		strbuf__append(&arena, one.buf, one.len);
	}
	if (!lab || !off || arena.oom || one.oom) {
		w->out->oom = true;
		goto out;
	}
	for (size_t i = 0; i < s->nr_tools; i++)
		lab[i].buf = arena.buf + off[i];
	render_tools(w, s, lab);
	render_waits(w, s, lab);
	render_host(w, s);
	render_anomalies(w, s);
	render_anomaly_causes(w, s);
	exposition__render_agent(w, s, version);
	exposition__render_kube(w, &s->kube);
	exposition__render_identity(w, s);
out:
	strbuf__free(&arena);
	strbuf__free(&one);
	free(lab);
	free(off);
}

void exposition__render(const struct snapshot *s, const char *version, struct strbuf *out)
{
	struct expo w;

	expo__init(&w, out, false);
	render_snapshot(&w, s, version);
	expo__finish(&w);
}

void exposition__render_protobuf(const struct snapshot *s, const char *version,
				 const struct exporter_stats *e, struct strbuf *out)
{
	struct expo w;

	expo__init(&w, out, true);
	render_snapshot(&w, s, version);
	if (e)
		exposition__exporter_families(&w, e);
	expo__finish(&w);
}
