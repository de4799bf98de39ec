// SPDX-License-Identifier: GPL-2.0
/* The agent's and the exporter's own families: toolwatch_* self metrics and process_*. */
#include <inttypes.h>
#include <stdio.h>

#include "exposition.h"
#include "exposition_internal.h"
#include "identity/identity.h"
#include "kernel/probes.h"
#include "events/snapshot.h"
#include "lib/strbuf.h"

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

void exposition__render_agent(const struct snapshot *s, const char *version, struct strbuf *out)
{
	const struct agent_stats *a = &s->agent;
	uint64_t partial = 0;

	exposition__family(out, "toolwatch_build_info", "gauge",
			   "Build information; the value is 1.");
	strbuf__puts(out, "toolwatch_build_info{version=\"");
	exposition__escape_label(out, version);
	render_build_labels(out);
	strbuf__puts(out, "\"} 1\n");

	exposition__family(out, "toolwatch_events_total", "counter",
			   "Records received from the kernel, by type.");
	strbuf__appendf(out, "toolwatch_events_total{type=\"exec\"} %" PRIu64 "\n", a->events_exec);
	strbuf__appendf(out, "toolwatch_events_total{type=\"exit\"} %" PRIu64 "\n", a->events_exit);
	strbuf__appendf(out, "toolwatch_events_total{type=\"exec_fail\"} %" PRIu64 "\n",
			a->events_exec_fail);

	exposition__family(out, "toolwatch_events_lost_total", "counter",
			   "Events dropped before aggregation, by reason.");
	for (unsigned int i = 0; i < s->nr_lost; i++)
		strbuf__appendf(out, "toolwatch_events_lost_total{reason=\"%s\"} %" PRIu64 "\n",
				lost_reason__name(i), s->lost[i]);
	strbuf__appendf(out, "toolwatch_events_lost_total{reason=\"malformed\"} %" PRIu64 "\n",
			a->events_malformed);
	strbuf__appendf(out, "toolwatch_events_lost_total{reason=\"exit_unseen\"} %" PRIu64 "\n",
			a->exits_lost);

	exposition__gauge1(
	    out, "toolwatch_exit_timer_ready",
	    "Whether exits get their final CPU time from the exit timer (1) or from a program "
	    "on every context switch or the sampler's pass (0).",
	    s->exits.timer);
	exposition__counter1(
	    out, "toolwatch_exit_slots_full_total",
	    "Exits that found their CPU's exit slots busy and waited in the kernel's "
	    "exits_pending map instead (nothing lost).",
	    s->exits.unslotted);
	exposition__family(
	    out, "toolwatch_exits_cpu_inexact_total", "counter",
	    "Exits emitted without their task's last stretch of CPU time, by reason.");
	strbuf__appendf(out, "toolwatch_exits_cpu_inexact_total{reason=\"late\"} %" PRIu64 "\n",
			s->exits.late);
	strbuf__appendf(
	    out, "toolwatch_exits_cpu_inexact_total{reason=\"last_switch_unseen\"} %" PRIu64 "\n",
	    s->exits.unseen_switch);

	exposition__counter1(
	    out, "toolwatch_exits_unmatched_total",
	    "Exits whose exec record was lost; the tool was named from the task comm.",
	    a->exits_unmatched);
	exposition__counter1(
	    out, "toolwatch_tools_overflow_total",
	    "Executions counted under tool=\"other\" because --tools.max (or, without "
	    "--metrics.labels, --metrics.max-series) was reached.",
	    a->tools_overflow);
	exposition__family(
	    out, "toolwatch_rules_match_errors_total", "counter",
	    "Naming-rule regexes that hit a match bound or failed on an execution's argv (the "
	    "rule did not match), by reason.");
	for (int e = 0; e < RULES_MATCH_ERROR_MAX; e++)
		strbuf__appendf(out,
				"toolwatch_rules_match_errors_total{reason=\"%s\"} %" PRIu64 "\n",
				rules_match_error__name(e), a->rules_match_errors[e]);
	exposition__counter1(
	    out, "toolwatch_tools_evicted_total",
	    "Tool names dropped from the table after --tools.idle-timeout without use.",
	    a->tools_evicted);
	exposition__gauge1(out, "toolwatch_tools_tracked",
			   "Distinct tool names tracked, \"other\" included.",
			   s->identity_labels ? s->nr_tool_names : s->nr_tools);
	exposition__gauge1(out, "toolwatch_series_tracked",
			   "Series of the tool_* families on /metrics (text format), the unit of "
			   "--metrics.max-series; tool_anomaly* are not counted.",
			   exposition__tool_series(s));
	if (s->metrics.max_series)
		exposition__gauge1(
		    out, "toolwatch_series_limit",
		    "--metrics.max-series: tool_* series at most; the tools and (tool, identity) "
		    "pairs past it are counted as tool=\"other\".",
		    s->metrics.max_series);
	exposition__gauge1(out, "toolwatch_inflight_executions",
			   "Executions the agent tracks as running.", a->inflight);
	partial = a->partial_evicted;
	for (size_t i = 0; i < s->nr_tools; i++)
		partial += s->tools[i].stats.partial;
	exposition__counter1(
	    out, "toolwatch_partial_executions_total",
	    "Ended executions that started before the agent (not in duration histograms).",
	    partial);

	exposition__family(out, "toolwatch_probe_enabled", "gauge",
			   "Whether a probe family is attached (1) or disabled (0).");
	for (int p = 0; p < PROBE_MAX; p++)
		strbuf__appendf(out, "toolwatch_probe_enabled{probe=\"%s\"} %d\n", probe__name(p),
				s->probe_enabled[p]);

	if (!s->prog_stats_enabled)
		return;
	exposition__family(out, "toolwatch_bpf_program_run_seconds_total", "counter",
			   "Time spent in each BPF program (kernel.bpf_stats_enabled=1).");
	for (unsigned int i = 0; i < s->nr_progs; i++) {
		strbuf__appendf(out, "toolwatch_bpf_program_run_seconds_total{program=\"%s\"} ",
				s->progs[i].name);
		exposition__decimal(out, s->progs[i].run_ns, 9);
		strbuf__putc(out, '\n');
	}
	exposition__family(out, "toolwatch_bpf_program_runs_total", "counter",
			   "Runs of each BPF program (kernel.bpf_stats_enabled=1).");
	for (unsigned int i = 0; i < s->nr_progs; i++)
		strbuf__appendf(out,
				"toolwatch_bpf_program_runs_total{program=\"%s\"} %" PRIu64 "\n",
				s->progs[i].name, s->progs[i].run_count);
}

/* toolwatch_kubernetes_*: the Kubernetes API client's figures, when it runs. */
void exposition__render_kube(const struct kube_stats *k, struct strbuf *out)
{
	uint64_t failed = 0;

	if (!k->enabled)
		return;
	for (int f = 0; f < KUBE_FAIL_MAX; f++)
		failed += k->failures[f];
	exposition__family(out, "toolwatch_kubernetes_requests_total", "counter",
			   "Pod lists requested from the Kubernetes API, by result.");
	strbuf__appendf(out,
			"toolwatch_kubernetes_requests_total{result=\"success\"} %" PRIu64 "\n",
			k->requests_ok);
	strbuf__appendf(
	    out, "toolwatch_kubernetes_requests_total{result=\"failure\"} %" PRIu64 "\n", failed);
	exposition__family(out, "toolwatch_kubernetes_failures_total", "counter",
			   "Failed pod lists, by reason; the last good list stays in force.");
	for (int f = 0; f < KUBE_FAIL_MAX; f++)
		strbuf__appendf(out,
				"toolwatch_kubernetes_failures_total{reason=\"%s\"} %" PRIu64 "\n",
				kube_failure__name(f), k->failures[f]);
	exposition__gauge1(out, "toolwatch_kubernetes_pods",
			   "Pods of this node known from the last good list.", k->pods);
	exposition__gauge1(out, "toolwatch_kubernetes_containers",
			   "Container ids known from the last good list.", k->containers);
	exposition__counter1(
	    out, "toolwatch_kubernetes_items_dropped_total",
	    "Pods and containers left out of good lists for missing or malformed fields.",
	    k->items_dropped);
	exposition__family(out, "toolwatch_kubernetes_lookups_total", "counter",
			   "Name lookups by pod uid, by result (miss: the pod is not known).");
	strbuf__appendf(out, "toolwatch_kubernetes_lookups_total{result=\"hit\"} %" PRIu64 "\n",
			k->lookups_hit);
	strbuf__appendf(out, "toolwatch_kubernetes_lookups_total{result=\"miss\"} %" PRIu64 "\n",
			k->lookups_miss);
	exposition__family(out, "toolwatch_kubernetes_last_success_timestamp_seconds", "gauge",
			   "Unix time of the last good pod list; 0 before the first.");
	strbuf__appendf(out, "toolwatch_kubernetes_last_success_timestamp_seconds %.3f\n",
			k->last_success_unix);
	exposition__family(out, "toolwatch_kubernetes_request_duration_seconds", "gauge",
			   "Duration of the last pod list request, good or bad.");
	strbuf__appendf(out, "toolwatch_kubernetes_request_duration_seconds %.6f\n",
			k->last_duration_secs);
}

/* The identity resolver's and the series table's self metrics. */
void exposition__render_identity(const struct snapshot *s, struct strbuf *out)
{
	const struct identity_stats *st = &s->identity;

	if (!st->enabled)
		return;
	exposition__gauge1(
	    out, "toolwatch_identity_cgroup2",
	    "Whether a cgroup v2 hierarchy resolves cgroup ids to containers (0: labels empty).",
	    st->cgroup2);
	exposition__counter1(
	    out, "toolwatch_series_overflow_total",
	    "Executions counted under tool=\"other\" because --metrics.max-series was reached.",
	    st->series_overflow);
	exposition__counter1(
	    out, "toolwatch_series_evicted_total",
	    "Labelled series dropped after --metrics.identity-idle-timeout without use.",
	    st->series_evicted);
	exposition__family(
	    out, "toolwatch_cgroup_resolutions_total", "counter",
	    "New cgroup ids looked up, by how: proc (/proc/PID/cgroup), walk (found by a walk "
	    "of the cgroup2 tree), unresolved (no path: empty labels).");
	strbuf__appendf(out, "toolwatch_cgroup_resolutions_total{how=\"proc\"} %" PRIu64 "\n",
			st->proc_hits);
	strbuf__appendf(out, "toolwatch_cgroup_resolutions_total{how=\"walk\"} %" PRIu64 "\n",
			st->walk_hits);
	strbuf__appendf(out, "toolwatch_cgroup_resolutions_total{how=\"unresolved\"} %" PRIu64 "\n",
			st->unresolved);
	exposition__counter1(
	    out, "toolwatch_cgroup_walks_total",
	    "Walks of the cgroup2 tree for an unknown cgroup id (at most one a second).",
	    st->walks);
	exposition__counter1(out, "toolwatch_cgroup_cache_resets_total",
			     "Times the cgroup id cache was full and started over.",
			     st->cache_resets);
	exposition__gauge1(out, "toolwatch_cgroup_cache_entries", "Cgroup ids cached.", st->cached);
}

static void gauge_double(struct strbuf *out, const char *name, const char *type, const char *help,
			 double v)
{
	exposition__family(out, name, type, help);
	strbuf__appendf(out, "%s %.15g\n", name, v);
}

void exposition__render_exporter(const struct exporter_stats *e, struct strbuf *out)
{
	if (e->process) {
		gauge_double(out, "process_cpu_seconds_total", "counter",
			     "Total user and system CPU time spent in seconds.", e->cpu_seconds);
		exposition__gauge1(out, "process_resident_memory_bytes",
				   "Resident memory size in bytes.", e->resident_memory_bytes);
		exposition__gauge1(out, "process_virtual_memory_bytes",
				   "Virtual memory size in bytes.", e->virtual_memory_bytes);
		gauge_double(out, "process_start_time_seconds", "gauge",
			     "Start time of the process since unix epoch in seconds.",
			     e->start_time_seconds);
		exposition__gauge1(out, "process_open_fds", "Number of open file descriptors.",
				   e->open_fds);
		exposition__gauge1(out, "process_max_fds",
				   "Maximum number of open file descriptors.", e->max_fds);
	}
	if (e->http) {
		exposition__counter1(
		    out, "toolwatch_http_header_timeouts_total",
		    "Connections closed because their request headers did not arrive in time.",
		    e->header_timeouts);
		exposition__counter1(out, "toolwatch_http_client_limit_refusals_total",
				     "Connections closed at accept: their address had "
				     "--web.max-connections-per-client open.",
				     e->client_limit_refusals);
		exposition__counter1(
		    out, "toolwatch_http_auth_failures_total",
		    "Requests refused for missing or wrong basic auth credentials.",
		    e->auth_failures);
		exposition__family(
		    out, "toolwatch_http_metrics_responses_total", "counter",
		    "Answers to the metrics path, by exposition format (protobuf: the scraper "
		    "asked for it in its Accept header).");
		for (int f = 0; f < EXPOSITION_FORMAT_MAX; f++)
			strbuf__appendf(
			    out,
			    "toolwatch_http_metrics_responses_total{format=\"%s\"} %" PRIu64 "\n",
			    exposition_format__name(f), e->responses[f]);
		exposition__counter1(
		    out, "toolwatch_http_auth_throttled_total",
		    "Requests refused with 429 because too many credentials waited for bcrypt "
		    "(in total, or from their address).",
		    e->auth_throttled);
		exposition__counter1(
		    out, "toolwatch_http_responses_refused_total",
		    "Scrapes refused with 503 because the metrics pages being sent reached "
		    "their memory cap and none could be shared.",
		    e->responses_refused);
		exposition__counter1(out, "toolwatch_web_config_reloads_total",
				     "Times the web config file was read anew and applied.",
				     e->web_config_reloads);
		exposition__counter1(
		    out, "toolwatch_web_config_reload_failures_total",
		    "Times a changed web config file was refused; the last good one stays.",
		    e->web_config_reload_failures);
	}
}
