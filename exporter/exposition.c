// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.h"
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

static void family(struct strbuf *out, const char *name, const char *type, const char *help)
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

/* One histogram series; label is NULL or a name whose (escaped) value is value. */
static void histogram(struct strbuf *out, const char *name, const char *label, const char *value,
		      const struct hist *h, const struct hist_layout *layout)
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
		const char *le = le_string(layout, i, &len);

		cumulative += h->counts[i];
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

/* A per-tool counter whose value is a pair of tool_stats fields, split by one label. */
static void tool_pair(struct strbuf *out, const struct snapshot *s, const char *const *esc,
		      const char *name, const char *help, const char *label, const char *v0,
		      const char *v1, size_t offset, double scale)
{
	family(out, name, "counter", help);
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
	family(out, name, type, help);
	for (size_t i = 0; i < s->nr_tools; i++) {
		const char *p = (const char *)&s->tools[i].stats + offset;
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		tool_counter(out, name, esc[i], v);
	}
}

static void counter1(struct strbuf *out, const char *name, const char *help, uint64_t v);
static void gauge1(struct strbuf *out, const char *name, const char *help, uint64_t v);

static void render_tools(const struct snapshot *s, const char *const *esc, struct strbuf *out)
{
	family(out, "tool_execution_duration_seconds", "histogram",
	       "Wall-clock time from exec to exit of fully observed executions.");
	for (size_t i = 0; i < s->nr_tools; i++)
		histogram(out, "tool_execution_duration_seconds", "tool", esc[i],
			  &s->tools[i].stats.duration, &hist_duration_layout);
	tool_family(out, s, esc, "tool_executions_total", "counter", "Executions that ended.",
		    offsetof(struct tool_stats, executions));
	tool_family(out, s, esc, "tool_execution_success_total", "counter",
		    "Executions that exited with status 0.",
		    offsetof(struct tool_stats, successes));
	family(out, "tool_execution_failure_total", "counter",
	       "Executions that failed, by how they failed.");
	for (size_t i = 0; i < s->nr_tools; i++) {
		for (int t = 0; t < ERROR_TYPE_MAX; t++) {
			tool_label(out, "tool_execution_failure_total", esc[i]);
			strbuf__appendf(out, ",error_type=\"%s\"} %" PRIu64 "\n",
					error_type__name(t), s->tools[i].stats.failures[t]);
		}
	}
	tool_family(out, s, esc, "tool_running", "gauge", "Executions running now.",
		    offsetof(struct tool_stats, running));

	family(out, "tool_peak_memory_bytes", "histogram",
	       "Peak resident set size of each ended execution.");
	for (size_t i = 0; i < s->nr_tools; i++)
		histogram(out, "tool_peak_memory_bytes", "tool", esc[i],
			  &s->tools[i].stats.peak_memory, &hist_memory_layout);
	tool_family(out, s, esc, "tool_memory_usage_bytes", "gauge",
		    "Resident set size of the running executions, summed.",
		    offsetof(struct tool_stats, memory_bytes));
	tool_pair(out, s, esc, "tool_cpu_seconds_total",
		  "CPU time of executions and their children.", "mode", "user", "system",
		  offsetof(struct tool_stats, cpu_ns), 1e9);
	tool_pair(out, s, esc, "tool_disk_bytes_total", "Bytes read from and written to storage.",
		  "direction", "read", "write", offsetof(struct tool_stats, disk_bytes), 1);
	if (s->probe_enabled[PROBE_NET])
		tool_pair(out, s, esc, "tool_network_bytes_total",
			  "Socket payload bytes sent and received (IPv4/IPv6).", "direction", "tx",
			  "rx", offsetof(struct tool_stats, net_bytes), 1);
	if (s->probe_enabled[PROBE_TCP]) {
		tool_family(out, s, esc, "tool_tcp_connections_total", "counter",
			    "TCP connections opened with connect().",
			    offsetof(struct tool_stats, tcp_connects));
		tool_family(out, s, esc, "tool_tcp_retransmits_total", "counter",
			    "TCP retransmits on connections the tool opened.",
			    offsetof(struct tool_stats, tcp_retransmits));
	}
}

/*
 * Run-queue and block I/O wait per tool, and whether delay accounting measures the latter:
 * while kernel.task_delayacct is off the blkio series is absent, not zero.
 */
static void render_waits(const struct snapshot *s, const char *const *esc, struct strbuf *out)
{
	static const char *const reasons[WAIT_REASONS] = {"runqueue", "blkio"};
	int nr = s->host.delayacct ? WAIT_REASONS : 1;

	family(out, "tool_wait_seconds_total", "counter",
	       "Time executions and their children waited for a CPU (runqueue) or for block "
	       "I/O (blkio, only while delay accounting is on).");
	for (size_t i = 0; i < s->nr_tools; i++) {
		for (int k = 0; k < nr; k++) {
			tool_label(out, "tool_wait_seconds_total", esc[i]);
			strbuf__appendf(out, ",reason=\"%s\"} ", reasons[k]);
			exposition__decimal(out, s->tools[i].stats.wait_ns[k], 9);
			strbuf__putc(out, '\n');
		}
	}
	if (s->host.delayacct_known)
		gauge1(out, "toolwatch_delay_accounting_enabled",
		       "Whether kernel.task_delayacct is on (block I/O wait is measured).",
		       s->host.delayacct);
}

static void render_host(const struct snapshot *s, struct strbuf *out)
{
	if (s->probe_enabled[PROBE_RUNQLAT]) {
		family(out, "toolwatch_runqueue_latency_seconds", "histogram",
		       "Time runnable tasks waited for a CPU (log2 resolution).");
		histogram(out, "toolwatch_runqueue_latency_seconds", NULL, NULL, &s->host.runqueue,
			  &hist_latency_layout);
	}
	if (s->probe_enabled[PROBE_BLOCKIO]) {
		family(out, "toolwatch_block_io_latency_seconds", "histogram",
		       "Block device request latency, issue to completion (log2 resolution).");
		for (unsigned int op = 0; op < HOST_BLOCK_OPS; op++)
			histogram(out, "toolwatch_block_io_latency_seconds", "op",
				  block_op__name(op), &s->host.block[op], &hist_latency_layout);
	}
	if (s->probe_enabled[PROBE_TCP])
		counter1(out, "toolwatch_tcp_retransmits_total", "TCP retransmits on the host.",
			 s->host.tcp_retransmits);
	if (s->probe_enabled[PROBE_OOM])
		counter1(out, "toolwatch_oom_kills_total", "Processes chosen by the OOM killer.",
			 s->host.oom_kills);
}

static void gauge1(struct strbuf *out, const char *name, const char *help, uint64_t v)
{
	family(out, name, "gauge", help);
	strbuf__appendf(out, "%s %" PRIu64 "\n", name, v);
}

static void counter1(struct strbuf *out, const char *name, const char *help, uint64_t v)
{
	family(out, name, "counter", help);
	strbuf__appendf(out, "%s %" PRIu64 "\n", name, v);
}

#ifndef TOOLWATCH_REVISION
#define TOOLWATCH_REVISION "unknown"
#endif
#ifndef TOOLWATCH_BRANCH
#define TOOLWATCH_BRANCH "unknown"
#endif
#ifndef TOOLWATCH_LIBBPF
#define TOOLWATCH_LIBBPF "unknown"
#endif

/* the rest of toolwatch_build_info's labels, after version's value */
static void render_build_labels(struct strbuf *out)
{
	strbuf__puts(out, "\",revision=\"");
	exposition__escape_label(out, TOOLWATCH_REVISION);
	strbuf__puts(out, "\",branch=\"");
	exposition__escape_label(out, TOOLWATCH_BRANCH);
	strbuf__puts(out, "\",compiler=\"");
#if defined(__clang__)
	exposition__escape_label(out, "clang " __clang_version__);
#elif defined(__GNUC__)
	exposition__escape_label(out, "gcc " __VERSION__);
#else
	exposition__escape_label(out, "unknown");
#endif
	strbuf__puts(out, "\",libbpf=\"");
	exposition__escape_label(out, TOOLWATCH_LIBBPF);
}

static void render_agent(const struct snapshot *s, const char *version, struct strbuf *out)
{
	const struct agent_stats *a = &s->agent;
	uint64_t partial = 0;

	family(out, "toolwatch_build_info", "gauge", "Build information; the value is 1.");
	strbuf__puts(out, "toolwatch_build_info{version=\"");
	exposition__escape_label(out, version);
	render_build_labels(out);
	strbuf__puts(out, "\"} 1\n");

	family(out, "toolwatch_events_total", "counter",
	       "Records received from the kernel, by type.");
	strbuf__appendf(out, "toolwatch_events_total{type=\"exec\"} %" PRIu64 "\n", a->events_exec);
	strbuf__appendf(out, "toolwatch_events_total{type=\"exit\"} %" PRIu64 "\n", a->events_exit);
	strbuf__appendf(out, "toolwatch_events_total{type=\"exec_fail\"} %" PRIu64 "\n",
			a->events_exec_fail);

	family(out, "toolwatch_events_lost_total", "counter",
	       "Events dropped before aggregation, by reason.");
	for (unsigned int i = 0; i < s->nr_lost; i++)
		strbuf__appendf(out, "toolwatch_events_lost_total{reason=\"%s\"} %" PRIu64 "\n",
				lost_reason__name(i), s->lost[i]);
	strbuf__appendf(out, "toolwatch_events_lost_total{reason=\"malformed\"} %" PRIu64 "\n",
			a->events_malformed);
	strbuf__appendf(out, "toolwatch_events_lost_total{reason=\"exit_unseen\"} %" PRIu64 "\n",
			a->exits_lost);

	gauge1(out, "toolwatch_exit_timer_ready",
	       "Whether exits get their final CPU time from the exit timer (1) or from a program "
	       "on every context switch or the sampler's pass (0).",
	       s->exits.timer);
	counter1(out, "toolwatch_exit_slots_full_total",
		 "Exits that found their CPU's exit slots busy and waited in the kernel's "
		 "exits_pending map instead (nothing lost).",
		 s->exits.unslotted);
	family(out, "toolwatch_exits_cpu_inexact_total", "counter",
	       "Exits emitted without their task's last stretch of CPU time, by reason.");
	strbuf__appendf(out, "toolwatch_exits_cpu_inexact_total{reason=\"late\"} %" PRIu64 "\n",
			s->exits.late);
	strbuf__appendf(
	    out, "toolwatch_exits_cpu_inexact_total{reason=\"last_switch_unseen\"} %" PRIu64 "\n",
	    s->exits.unseen_switch);

	counter1(out, "toolwatch_exits_unmatched_total",
		 "Exits whose exec record was lost; the tool was named from the task comm.",
		 a->exits_unmatched);
	counter1(out, "toolwatch_tools_overflow_total",
		 "Executions counted under tool=\"other\" because --tools.max was reached.",
		 a->tools_overflow);
	family(out, "toolwatch_rules_match_errors_total", "counter",
	       "Naming-rule regexes that hit a match bound or failed on an execution's argv (the "
	       "rule did not match), by reason.");
	for (int e = 0; e < RULES_MATCH_ERROR_MAX; e++)
		strbuf__appendf(out,
				"toolwatch_rules_match_errors_total{reason=\"%s\"} %" PRIu64 "\n",
				rules_match_error__name(e), a->rules_match_errors[e]);
	counter1(out, "toolwatch_tools_evicted_total",
		 "Tool names dropped from the table after --tools.idle-timeout without use.",
		 a->tools_evicted);
	gauge1(out, "toolwatch_tools_tracked", "Distinct tool names tracked, \"other\" included.",
	       s->identity_labels ? s->nr_tool_names : s->nr_tools);
	gauge1(out, "toolwatch_inflight_executions", "Executions the agent tracks as running.",
	       a->inflight);
	partial = a->partial_evicted;
	for (size_t i = 0; i < s->nr_tools; i++)
		partial += s->tools[i].stats.partial;
	counter1(out, "toolwatch_partial_executions_total",
		 "Ended executions that started before the agent (not in duration histograms).",
		 partial);

	family(out, "toolwatch_probe_enabled", "gauge",
	       "Whether a probe family is attached (1) or disabled (0).");
	for (int p = 0; p < PROBE_MAX; p++)
		strbuf__appendf(out, "toolwatch_probe_enabled{probe=\"%s\"} %d\n", probe__name(p),
				s->probe_enabled[p]);

	if (!s->prog_stats_enabled)
		return;
	family(out, "toolwatch_bpf_program_run_seconds_total", "counter",
	       "Time spent in each BPF program (kernel.bpf_stats_enabled=1).");
	for (unsigned int i = 0; i < s->nr_progs; i++) {
		strbuf__appendf(out, "toolwatch_bpf_program_run_seconds_total{program=\"%s\"} ",
				s->progs[i].name);
		exposition__decimal(out, s->progs[i].run_ns, 9);
		strbuf__putc(out, '\n');
	}
	family(out, "toolwatch_bpf_program_runs_total", "counter",
	       "Runs of each BPF program (kernel.bpf_stats_enabled=1).");
	for (unsigned int i = 0; i < s->nr_progs; i++)
		strbuf__appendf(out,
				"toolwatch_bpf_program_runs_total{program=\"%s\"} %" PRIu64 "\n",
				s->progs[i].name, s->progs[i].run_count);
}

/* toolwatch_kubernetes_*: the Kubernetes API client's figures, when it runs. */
static void render_kube(const struct kube_stats *k, struct strbuf *out)
{
	uint64_t failed = 0;

	if (!k->enabled)
		return;
	for (int f = 0; f < KUBE_FAIL_MAX; f++)
		failed += k->failures[f];
	family(out, "toolwatch_kubernetes_requests_total", "counter",
	       "Pod lists requested from the Kubernetes API, by result.");
	strbuf__appendf(out,
			"toolwatch_kubernetes_requests_total{result=\"success\"} %" PRIu64 "\n",
			k->requests_ok);
	strbuf__appendf(
	    out, "toolwatch_kubernetes_requests_total{result=\"failure\"} %" PRIu64 "\n", failed);
	family(out, "toolwatch_kubernetes_failures_total", "counter",
	       "Failed pod lists, by reason; the last good list stays in force.");
	for (int f = 0; f < KUBE_FAIL_MAX; f++)
		strbuf__appendf(out,
				"toolwatch_kubernetes_failures_total{reason=\"%s\"} %" PRIu64 "\n",
				kube_failure__name(f), k->failures[f]);
	gauge1(out, "toolwatch_kubernetes_pods", "Pods of this node known from the last good list.",
	       k->pods);
	gauge1(out, "toolwatch_kubernetes_containers",
	       "Container ids known from the last good list.", k->containers);
	counter1(out, "toolwatch_kubernetes_items_dropped_total",
		 "Pods and containers left out of good lists for missing or malformed fields.",
		 k->items_dropped);
	family(out, "toolwatch_kubernetes_lookups_total", "counter",
	       "Name lookups by pod uid, by result (miss: the pod is not known).");
	strbuf__appendf(out, "toolwatch_kubernetes_lookups_total{result=\"hit\"} %" PRIu64 "\n",
			k->lookups_hit);
	strbuf__appendf(out, "toolwatch_kubernetes_lookups_total{result=\"miss\"} %" PRIu64 "\n",
			k->lookups_miss);
	family(out, "toolwatch_kubernetes_last_success_timestamp_seconds", "gauge",
	       "Unix time of the last good pod list; 0 before the first.");
	strbuf__appendf(out, "toolwatch_kubernetes_last_success_timestamp_seconds %.3f\n",
			k->last_success_unix);
	family(out, "toolwatch_kubernetes_request_duration_seconds", "gauge",
	       "Duration of the last pod list request, good or bad.");
	strbuf__appendf(out, "toolwatch_kubernetes_request_duration_seconds %.6f\n",
			k->last_duration_secs);
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
	family(out, name, type, help);
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
	family(out, "tool_anomaly_cause", "gauge",
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

/* The identity resolver's and the series table's self metrics. */
static void render_identity(const struct snapshot *s, struct strbuf *out)
{
	const struct identity_stats *st = &s->identity;

	if (!st->enabled)
		return;
	gauge1(out, "toolwatch_identity_cgroup2",
	       "Whether a cgroup v2 hierarchy resolves cgroup ids to containers (0: labels empty).",
	       st->cgroup2);
	gauge1(out, "toolwatch_series_tracked",
	       "Labelled (tool, identity) series tracked, \"other\" included.", s->nr_tools);
	counter1(
	    out, "toolwatch_series_overflow_total",
	    "Executions counted under tool=\"other\" because --metrics.max-series was reached.",
	    st->series_overflow);
	counter1(out, "toolwatch_series_evicted_total",
		 "Labelled series dropped after --metrics.identity-idle-timeout without use.",
		 st->series_evicted);
	family(out, "toolwatch_cgroup_resolutions_total", "counter",
	       "New cgroup ids looked up, by how: proc (/proc/PID/cgroup), walk (found by a walk "
	       "of the cgroup2 tree), unresolved (no path: empty labels).");
	strbuf__appendf(out, "toolwatch_cgroup_resolutions_total{how=\"proc\"} %" PRIu64 "\n",
			st->proc_hits);
	strbuf__appendf(out, "toolwatch_cgroup_resolutions_total{how=\"walk\"} %" PRIu64 "\n",
			st->walk_hits);
	strbuf__appendf(out, "toolwatch_cgroup_resolutions_total{how=\"unresolved\"} %" PRIu64 "\n",
			st->unresolved);
	counter1(out, "toolwatch_cgroup_walks_total",
		 "Walks of the cgroup2 tree for an unknown cgroup id (at most one a second).",
		 st->walks);
	counter1(out, "toolwatch_cgroup_cache_resets_total",
		 "Times the cgroup id cache was full and started over.", st->cache_resets);
	gauge1(out, "toolwatch_cgroup_cache_entries", "Cgroup ids cached.", st->cached);
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
	render_agent(s, version, out);
	render_kube(&s->kube, out);
	render_identity(s, out);
out:
	strbuf__free(&arena);
	free(esc);
	free(off);
}

static void gauge_double(struct strbuf *out, const char *name, const char *type, const char *help,
			 double v)
{
	family(out, name, type, help);
	strbuf__appendf(out, "%s %.15g\n", name, v);
}

void exposition__render_exporter(const struct exporter_stats *e, struct strbuf *out)
{
	if (e->process) {
		gauge_double(out, "process_cpu_seconds_total", "counter",
			     "Total user and system CPU time spent in seconds.", e->cpu_seconds);
		gauge1(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
		       e->resident_memory_bytes);
		gauge1(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
		       e->virtual_memory_bytes);
		gauge_double(out, "process_start_time_seconds", "gauge",
			     "Start time of the process since unix epoch in seconds.",
			     e->start_time_seconds);
		gauge1(out, "process_open_fds", "Number of open file descriptors.", e->open_fds);
		gauge1(out, "process_max_fds", "Maximum number of open file descriptors.",
		       e->max_fds);
	}
	if (e->http) {
		counter1(out, "toolwatch_http_header_timeouts_total",
			 "Connections closed because their request headers did not arrive in time.",
			 e->header_timeouts);
		counter1(out, "toolwatch_http_client_limit_refusals_total",
			 "Connections closed at accept: their address had "
			 "--web.max-connections-per-client open.",
			 e->client_limit_refusals);
		counter1(out, "toolwatch_http_auth_failures_total",
			 "Requests refused for missing or wrong basic auth credentials.",
			 e->auth_failures);
		counter1(out, "toolwatch_http_auth_throttled_total",
			 "Requests refused with 429 because too many credentials waited for bcrypt "
			 "(in total, or from their address).",
			 e->auth_throttled);
		counter1(out, "toolwatch_http_responses_refused_total",
			 "Scrapes refused with 503 because the metrics pages being sent reached "
			 "their memory cap and none could be shared.",
			 e->responses_refused);
		counter1(out, "toolwatch_web_config_reloads_total",
			 "Times the web config file was read anew and applied.",
			 e->web_config_reloads);
		counter1(out, "toolwatch_web_config_reload_failures_total",
			 "Times a changed web config file was refused; the last good one stays.",
			 e->web_config_reload_failures);
	}
}
