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

static unsigned int layout_decimals(const struct hist_layout *layout)
{
	unsigned int d = 0;

	for (double s = layout->unit_scale; s >= 10; s /= 10)
		d++;
	return d;
}

void exposition__family(struct strbuf *out, const char *name, const char *type, const char *help)
{
	strbuf__appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{tool="<tool>" with the tool's label value already escaped */
static void tool_label(struct strbuf *out, const char *name, const char *tool)
{
	strbuf__puts(out, name);
	strbuf__puts(out, "{tool=\"");
	strbuf__puts(out, tool);
	strbuf__putc(out, '"');
}

static void tool_counter(struct strbuf *out, const char *name, const char *tool, uint64_t v)
{
	tool_label(out, name, tool);
	strbuf__puts(out, "} ");
	strbuf__put_u64(out, v);
	strbuf__putc(out, '\n');
}

/* name{label="value" or name{ ; value already escaped */
static void open_labels(struct strbuf *out, const char *name, const char *suffix, const char *label,
			const char *value)
{
	strbuf__puts(out, name);
	strbuf__puts(out, suffix);
	strbuf__putc(out, '{');
	if (label) {
		strbuf__puts(out, label);
		strbuf__puts(out, "=\"");
		strbuf__puts(out, value);
		strbuf__putc(out, '"');
	}
}

/* The le="..." strings of a layout, formatted once per thread and layout. */
static const char *le_string(const struct hist_layout *layout, unsigned int i, size_t *len)
{
	static __thread struct {
		const struct hist_layout *layout;
		char text[HIST_MAX_BOUNDS + 1][32];
		size_t len[HIST_MAX_BOUNDS + 1];
	} cache[4];
	unsigned int slot;

	for (slot = 0; slot < 4 && cache[slot].layout && cache[slot].layout != layout; slot++)
		;
	if (slot == 4)
		slot = 0; /* more layouts than slots: reuse the first */
	if (cache[slot].layout != layout) {
		unsigned int decimals = layout_decimals(layout);

		for (unsigned int b = 0; b <= layout->nr_bounds; b++) {
			struct strbuf tmp = {};

			if (b < layout->nr_bounds)
				exposition__decimal(&tmp, layout->bounds[b], decimals);
			else
				strbuf__puts(&tmp, "+Inf");
			cache[slot].len[b] = tmp.oom ? 0 : tmp.len < 31 ? tmp.len : 31;
			if (cache[slot].len[b])
				memcpy(cache[slot].text[b], tmp.buf, cache[slot].len[b]);
			strbuf__free(&tmp);
		}
		cache[slot].layout = layout;
	}
	*len = cache[slot].len[i];
	return cache[slot].text[i];
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

static bool bound_kept(const struct hist_layout *layout, unsigned int i, enum classic_buckets c)
{
	return c == CLASSIC_BUCKETS_FULL ||
	       (c == CLASSIC_BUCKETS_COARSE && coarse_bound(layout, i));
}

/*
 * One histogram series with the classic buckets of layout that c keeps (+Inf always);
 * label is NULL or a name whose (escaped) value is value.
 */
static void histogram(struct strbuf *out, const char *name, const char *label, const char *value,
		      const struct hist *h, const struct hist_layout *layout,
		      enum classic_buckets c)
{
	unsigned int decimals = layout_decimals(layout);
	struct strbuf prefix = {};
	uint64_t cumulative = 0;

	open_labels(&prefix, name, "_bucket", label, value);
	strbuf__puts(&prefix, label ? ",le=\"" : "le=\"");
	if (prefix.oom) {
		out->oom = true;
		return;
	}
	for (unsigned int i = 0; i <= layout->nr_bounds; i++) {
		size_t len;
		const char *le;

		cumulative += h->counts[i];
		if (i < layout->nr_bounds && !bound_kept(layout, i, c))
			continue;
		le = le_string(layout, i, &len);
		strbuf__append(out, prefix.buf, prefix.len);
		strbuf__append(out, le, len);
		strbuf__append(out, "\"} ", 3);
		/* +Inf is the count itself */
		strbuf__put_u64(out, i < layout->nr_bounds ? cumulative : h->count);
		strbuf__putc(out, '\n');
	}
	strbuf__free(&prefix);
	open_labels(out, name, "_sum", label, value);
	strbuf__puts(out, "} ");
	exposition__decimal(out, h->sum, decimals);
	strbuf__putc(out, '\n');
	open_labels(out, name, "_count", label, value);
	strbuf__puts(out, "} ");
	strbuf__put_u64(out, h->count);
	strbuf__putc(out, '\n');
}

/* Series of one tool histogram: the buckets c keeps, +Inf, _sum and _count. */
static unsigned int histogram_series(const struct hist_layout *layout, enum classic_buckets c)
{
	unsigned int n = 3;

	for (unsigned int i = 0; i < layout->nr_bounds; i++)
		n += bound_kept(layout, i, c);
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
static void tool_pair(struct strbuf *out, const struct snapshot *s, const char *const *esc,
		      const char *name, const char *help, const char *label, const char *v0,
		      const char *v1, size_t offset, double scale)
{
	exposition__family(out, name, "counter", help);
	for (size_t i = 0; i < s->nr_tools; i++) {
		const uint64_t *pair =
		    (const uint64_t *)((const char *)&s->tools[i].stats + offset);

		for (int k = 0; k < 2; k++) {
			tool_label(out, name, esc[i]);
			strbuf__appendf(out, ",%s=\"%s\"} ", label, k ? v1 : v0);
			if (scale == 1e9)
				exposition__decimal(out, pair[k], 9);
			else
				strbuf__appendf(out, "%" PRIu64, pair[k]);
			strbuf__putc(out, '\n');
		}
	}
}

/* A per-tool counter or gauge family whose value is one field of tool_stats. */
static void tool_family(struct strbuf *out, const struct snapshot *s, const char *const *esc,
			const char *name, const char *type, const char *help, size_t offset)
{
	exposition__family(out, name, type, help);
	for (size_t i = 0; i < s->nr_tools; i++) {
		const char *p = (const char *)&s->tools[i].stats + offset;
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		tool_counter(out, name, esc[i], v);
	}
}

static bool family_on(const struct snapshot *s, enum tool_family f)
{
	return !(s->metrics.disabled & (1u << f));
}

static void render_tools(const struct snapshot *s, const char *const *esc, struct strbuf *out)
{
	const struct metrics_config *c = &s->metrics;

	if (family_on(s, TOOL_FAMILY_DURATION)) {
		exposition__family(
		    out, "tool_execution_duration_seconds", "histogram",
		    "Wall-clock time from exec to exit of fully observed executions.");
		for (size_t i = 0; i < s->nr_tools; i++)
			histogram(out, "tool_execution_duration_seconds", "tool", esc[i],
				  &s->tools[i].stats.duration, &hist_duration_layout, c->classic);
	}
	tool_family(out, s, esc, "tool_executions_total", "counter", "Executions that ended.",
		    offsetof(struct tool_stats, executions));
	if (family_on(s, TOOL_FAMILY_SUCCESS))
		tool_family(out, s, esc, "tool_execution_success_total", "counter",
			    "Executions that exited with status 0.",
			    offsetof(struct tool_stats, successes));
	if (family_on(s, TOOL_FAMILY_FAILURE)) {
		exposition__family(out, "tool_execution_failure_total", "counter",
				   "Executions that failed, by how they failed.");
		for (size_t i = 0; i < s->nr_tools; i++) {
			for (int t = 0; t < ERROR_TYPE_MAX; t++) {
				if (c->skip_zero_failures && !s->tools[i].stats.failures[t])
					continue;
				tool_label(out, "tool_execution_failure_total", esc[i]);
				strbuf__appendf(out, ",error_type=\"%s\"} %" PRIu64 "\n",
						error_type__name(t), s->tools[i].stats.failures[t]);
			}
		}
	}
	if (family_on(s, TOOL_FAMILY_RUNNING))
		tool_family(out, s, esc, "tool_running", "gauge", "Executions running now.",
			    offsetof(struct tool_stats, running));

	if (family_on(s, TOOL_FAMILY_PEAK_MEMORY)) {
		exposition__family(out, "tool_peak_memory_bytes", "histogram",
				   "Peak resident set size of each ended execution.");
		for (size_t i = 0; i < s->nr_tools; i++)
			histogram(out, "tool_peak_memory_bytes", "tool", esc[i],
				  &s->tools[i].stats.peak_memory, &hist_memory_layout, c->classic);
	}
	if (family_on(s, TOOL_FAMILY_MEMORY_USAGE))
		tool_family(out, s, esc, "tool_memory_usage_bytes", "gauge",
			    "Resident set size of the running executions, summed.",
			    offsetof(struct tool_stats, memory_bytes));
	if (family_on(s, TOOL_FAMILY_CPU))
		tool_pair(out, s, esc, "tool_cpu_seconds_total",
			  "CPU time of executions and their children.", "mode", "user", "system",
			  offsetof(struct tool_stats, cpu_ns), 1e9);
	if (family_on(s, TOOL_FAMILY_DISK))
		tool_pair(out, s, esc, "tool_disk_bytes_total",
			  "Bytes read from and written to storage.", "direction", "read", "write",
			  offsetof(struct tool_stats, disk_bytes), 1);
	if (s->probe_enabled[PROBE_NET] && family_on(s, TOOL_FAMILY_NETWORK))
		tool_pair(out, s, esc, "tool_network_bytes_total",
			  "Socket payload bytes sent and received (IPv4/IPv6).", "direction", "tx",
			  "rx", offsetof(struct tool_stats, net_bytes), 1);
	if (s->probe_enabled[PROBE_TCP] && family_on(s, TOOL_FAMILY_TCP_CONNECTIONS))
		tool_family(out, s, esc, "tool_tcp_connections_total", "counter",
			    "TCP connections opened with connect().",
			    offsetof(struct tool_stats, tcp_connects));
	if (s->probe_enabled[PROBE_TCP] && family_on(s, TOOL_FAMILY_TCP_RETRANSMITS))
		tool_family(out, s, esc, "tool_tcp_retransmits_total", "counter",
			    "TCP retransmits on connections the tool opened.",
			    offsetof(struct tool_stats, tcp_retransmits));
}

/*
 * Run-queue and block I/O wait per tool, and whether delay accounting measures the latter:
 * while kernel.task_delayacct is off the blkio series is absent, not zero.
 */
static void render_waits(const struct snapshot *s, const char *const *esc, struct strbuf *out)
{
	static const char *const reasons[WAIT_REASONS] = {"runqueue", "blkio"};
	int nr = s->host.delayacct ? WAIT_REASONS : 1;

	if (!family_on(s, TOOL_FAMILY_WAIT))
		nr = 0;
	else
		exposition__family(
		    out, "tool_wait_seconds_total", "counter",
		    "Time executions and their children waited for a CPU (runqueue) or for "
		    "block I/O (blkio, only while delay accounting is on).");
	for (size_t i = 0; nr && i < s->nr_tools; i++) {
		for (int k = 0; k < nr; k++) {
			tool_label(out, "tool_wait_seconds_total", esc[i]);
			strbuf__appendf(out, ",reason=\"%s\"} ", reasons[k]);
			exposition__decimal(out, s->tools[i].stats.wait_ns[k], 9);
			strbuf__putc(out, '\n');
		}
	}
	if (s->host.delayacct_known)
		exposition__gauge1(
		    out, "toolwatch_delay_accounting_enabled",
		    "Whether kernel.task_delayacct is on (block I/O wait is measured).",
		    s->host.delayacct);
}

static void render_host(const struct snapshot *s, struct strbuf *out)
{
	if (s->probe_enabled[PROBE_RUNQLAT]) {
		exposition__family(out, "toolwatch_runqueue_latency_seconds", "histogram",
				   "Time runnable tasks waited for a CPU (log2 resolution).");
		histogram(out, "toolwatch_runqueue_latency_seconds", NULL, NULL, &s->host.runqueue,
			  &hist_latency_layout, CLASSIC_BUCKETS_FULL);
	}
	if (s->probe_enabled[PROBE_BLOCKIO]) {
		exposition__family(
		    out, "toolwatch_block_io_latency_seconds", "histogram",
		    "Block device request latency, issue to completion (log2 resolution).");
		for (unsigned int op = 0; op < HOST_BLOCK_OPS; op++)
			histogram(out, "toolwatch_block_io_latency_seconds", "op",
				  block_op__name(op), &s->host.block[op], &hist_latency_layout,
				  CLASSIC_BUCKETS_FULL);
	}
	if (s->probe_enabled[PROBE_TCP])
		exposition__counter1(out, "toolwatch_tcp_retransmits_total",
				     "TCP retransmits on the host.", s->host.tcp_retransmits);
	if (s->probe_enabled[PROBE_OOM])
		exposition__counter1(out, "toolwatch_oom_kills_total",
				     "Processes chosen by the OOM killer.", s->host.oom_kills);
}

void exposition__gauge1(struct strbuf *out, const char *name, const char *help, uint64_t v)
{
	exposition__family(out, name, "gauge", help);
	strbuf__appendf(out, "%s %" PRIu64 "\n", name, v);
}

void exposition__counter1(struct strbuf *out, const char *name, const char *help, uint64_t v)
{
	exposition__family(out, name, "counter", help);
	strbuf__appendf(out, "%s %" PRIu64 "\n", name, v);
}

/* The three anomaly families, each over tools and over the host. */
enum anomaly_metric {
	METRIC_FLAG,   /* *_anomaly */
	METRIC_RATIO,  /* *_anomaly_deviation_ratio */
	METRIC_RAISED, /* *_anomalies_total */
};

/* One anomaly family over tools (host = false) or the host. */
static void anomaly_family(struct strbuf *out, const struct snapshot *s, bool host,
			   enum anomaly_metric metric, const char *suffix, const char *type,
			   const char *help)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_%s", host ? "host" : "tool", suffix);
	exposition__family(out, name, type, help);
	for (size_t i = 0; i < s->nr_anomalies; i++) {
		const struct snapshot_anomaly *a = &s->anomalies[i];

		if (host != !a->tool)
			continue;
		/* NEW_TOOL has no baseline to deviate from */
		if (metric == METRIC_RATIO && a->kind == ANOMALY_NEW_TOOL)
			continue;
		strbuf__appendf(out, "%s{", name);
		if (!host) {
			strbuf__puts(out, "tool=\"");
			exposition__escape_label(out, a->tool);
			strbuf__puts(out, "\",");
		}
		strbuf__appendf(out, "kind=\"%s\"", anomaly_kind__name(a->kind));
		switch (metric) {
		case METRIC_FLAG:
			strbuf__appendf(out, ",severity=\"%s\"} %d\n",
					anomaly_kind__severity(a->kind), a->active);
			break;
		case METRIC_RATIO:
			strbuf__appendf(out, "} %.6g\n", a->deviation_ratio);
			break;
		case METRIC_RAISED:
			strbuf__appendf(out, "} %" PRIu64 "\n", a->raised_total);
			break;
		}
	}
}

static void render_anomalies(const struct snapshot *s, struct strbuf *out)
{
	if (!s->anomaly_enabled)
		return;
	for (int host = 0; host < 2; host++) {
		anomaly_family(out, s, host, METRIC_FLAG, "anomaly", "gauge",
			       "1 while an anomaly of this kind is flagged against the baseline.");
		anomaly_family(out, s, host, METRIC_RATIO, "anomaly_deviation_ratio", "gauge",
			       "Current window's figure divided by the baseline's.");
		anomaly_family(out, s, host, METRIC_RAISED, "anomalies_total", "counter",
			       "Times an anomaly of this kind was raised.");
	}
}

/* tool_anomaly_cause{tool,kind,cause} 1 for each raised latency flag with a named cause. */
static void render_anomaly_causes(const struct snapshot *s, struct strbuf *out)
{
	if (!s->anomaly_enabled)
		return;
	exposition__family(
	    out, "tool_anomaly_cause", "gauge",
	    "1 while a latency flag is raised: the component of the execution time that "
	    "grew most (cpu, runqueue, blkio, other).");
	for (size_t i = 0; i < s->nr_anomalies; i++) {
		const struct snapshot_anomaly *a = &s->anomalies[i];
		const char *cause = anomaly_cause__name(a->cause);

		if (!a->tool || !a->active || !cause)
			continue;
		strbuf__puts(out, "tool_anomaly_cause{tool=\"");
		exposition__escape_label(out, a->tool);
		strbuf__appendf(out, "\",kind=\"%s\",cause=\"%s\"} 1\n",
				anomaly_kind__name(a->kind), cause);
	}
}

/*
 * A series key as the tool's escaped value followed by the chosen identity labels:
 * `sh",namespace="prod",pod="web` — every family writes tool="<this>", so each gets them.
 */
static void escape_series(struct strbuf *out, const char *key, unsigned int mask)
{
	struct identity_labels labels;
	const char *tool = identity__split_key(key, &labels);

	exposition__escape_label(out, tool);
	for (int i = 0; i < IDENTITY_LABELS; i++) {
		if (!(mask & (1u << i)))
			continue;
		strbuf__appendf(out, "\",%s=\"", identity_label_names[i]);
		exposition__escape_label(out, labels.value[i]);
	}
}

void exposition__render(const struct snapshot *s, const char *version, struct strbuf *out)
{
	struct strbuf arena = {};
	const char **esc = calloc(s->nr_tools ? s->nr_tools : 1, sizeof(*esc));
	size_t *off = calloc(s->nr_tools ? s->nr_tools : 1, sizeof(*off));

	/* each name is escaped once, not once per series */
	for (size_t i = 0; esc && off && i < s->nr_tools; i++) {
		off[i] = arena.len;
		if (s->identity_labels)
			escape_series(&arena, s->tools[i].name, s->identity_labels);
		else
			exposition__escape_label(&arena, s->tools[i].name);
		strbuf__putc(&arena, '\0');
	}
	if (!esc || !off || arena.oom) {
		out->oom = true;
		goto out;
	}
	for (size_t i = 0; i < s->nr_tools; i++)
		esc[i] = arena.buf + off[i];
	render_tools(s, esc, out);
	render_waits(s, esc, out);
	render_host(s, out);
	render_anomalies(s, out);
	render_anomaly_causes(s, out);
	exposition__render_agent(s, version, out);
	exposition__render_kube(&s->kube, out);
	exposition__render_identity(s, out);
out:
	strbuf__free(&arena);
	free(esc);
	free(off);
}
