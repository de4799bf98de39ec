// SPDX-License-Identifier: GPL-2.0
/* The agent's and the exporter's own families: toolwatch_* self metrics and process_*. */
#include <stdio.h>
#include <stdlib.h>

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

#if defined(__clang__)
#define TOOLWATCH_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define TOOLWATCH_COMPILER "gcc " __VERSION__
#else
#define TOOLWATCH_COMPILER "unknown"
#endif

/* toolwatch_build_info{version,revision,branch,compiler,libbpf} 1 */
static void render_build_info(struct expo *w, const char *version)
{
	struct strbuf set = {};
	struct expo_labels lab;

	expo__family(w, "toolwatch_build_info", EXPO_GAUGE, "Build information; the value is 1.");
	expo__label(w, &set, "version", version);
	expo__label(w, &set, "revision", TOOLWATCH_REVISION);
	expo__label(w, &set, "branch", TOOLWATCH_BRANCH);
	expo__label(w, &set, "compiler", TOOLWATCH_COMPILER);
	expo__label(w, &set, "libbpf", TOOLWATCH_LIBBPF);
	if (set.oom)
		w->out->oom = true;
	lab = (struct expo_labels){set.buf, set.len};
	expo__u64(w, &lab, NULL, NULL, 1);
	strbuf__free(&set);
}

void exposition__render_agent(struct expo *w, const struct snapshot *s, const char *version)
{
	const struct agent_stats *a = &s->agent;
	uint64_t partial = 0;

	render_build_info(w, version);

	expo__family(w, "toolwatch_events_total", EXPO_COUNTER,
		     "Records received from the kernel, by type.");
	expo__u64(w, NULL, "type", "exec", a->events_exec);
	expo__u64(w, NULL, "type", "exit", a->events_exit);
	expo__u64(w, NULL, "type", "exec_fail", a->events_exec_fail);

	expo__family(w, "toolwatch_events_lost_total", EXPO_COUNTER,
		     "Events dropped before aggregation, by reason.");
	for (unsigned int i = 0; i < s->nr_lost; i++)
		expo__u64(w, NULL, "reason", lost_reason__name(i), s->lost[i]);
	expo__u64(w, NULL, "reason", "malformed", a->events_malformed);
	expo__u64(w, NULL, "reason", "exit_unseen", a->exits_lost);

	expo__gauge1(
	    w, "toolwatch_exit_timer_ready",
	    "Whether exits get their final CPU time from the exit timer (1) or from a program "
	    "on every context switch or the sampler's pass (0).",
	    s->exits.timer);
	expo__counter1(w, "toolwatch_exit_slots_full_total",
		       "Exits that found their CPU's exit slots busy and waited in the kernel's "
		       "exits_pending map instead (nothing lost).",
		       s->exits.unslotted);
	expo__gauge1(
	    w, "toolwatch_bpf_execs_spilled",
	    "Processes tracked in the kernel's execs_spill map: their slot in execs (the PID "
	    "modulo its size) is another live process's.",
	    s->exits.execs_spilled > 0 ? (uint64_t)s->exits.execs_spilled : 0);
	expo__family(w, "toolwatch_exits_cpu_inexact_total", EXPO_COUNTER,
		     "Exits emitted without their task's last stretch of CPU time, by reason.");
	expo__u64(w, NULL, "reason", "late", s->exits.late);
	expo__u64(w, NULL, "reason", "last_switch_unseen", s->exits.unseen_switch);

	expo__counter1(w, "toolwatch_exits_unmatched_total",
		       "Exits whose exec record was lost; the tool was named from the task comm.",
		       a->exits_unmatched);
	expo__counter1(w, "toolwatch_tools_overflow_total",
		       "Executions counted under tool=\"other\" because --tools.max (or, without "
		       "--metrics.labels, --metrics.max-series) was reached.",
		       a->tools_overflow);
	expo__family(
	    w, "toolwatch_rules_match_errors_total", EXPO_COUNTER,
	    "Naming-rule regexes that hit a match bound or failed on an execution's argv (the "
	    "rule did not match), by reason.");
	for (int e = 0; e < RULES_MATCH_ERROR_MAX; e++)
		expo__u64(w, NULL, "reason", rules_match_error__name(e), a->rules_match_errors[e]);
	expo__counter1(w, "toolwatch_tools_evicted_total",
		       "Tool names dropped from the table after --tools.idle-timeout without use.",
		       a->tools_evicted);
	expo__gauge1(w, "toolwatch_tools_tracked",
		     "Distinct tool names tracked, \"other\" included.",
		     s->identity_labels ? s->nr_tool_names : s->nr_tools);
	expo__gauge1(w, "toolwatch_series_tracked",
		     "Series of the tool_* families on /metrics (text format), the unit of "
		     "--metrics.max-series; tool_anomaly* are not counted.",
		     exposition__tool_series(s));
	if (s->metrics.max_series)
		expo__gauge1(
		    w, "toolwatch_series_limit",
		    "--metrics.max-series: tool_* series at most; the tools and (tool, identity) "
		    "pairs past it are counted as tool=\"other\".",
		    s->metrics.max_series);
	expo__gauge1(w, "toolwatch_inflight_executions", "Executions the agent tracks as running.",
		     a->inflight);
	partial = a->partial_evicted;
	for (size_t i = 0; i < s->nr_tools; i++)
		partial += s->tools[i].stats.partial;
	expo__counter1(
	    w, "toolwatch_partial_executions_total",
	    "Ended executions that started before the agent (not in duration histograms).",
	    partial);

	expo__family(w, "toolwatch_probe_enabled", EXPO_GAUGE,
		     "Whether a probe family is attached (1) or disabled (0).");
	for (int p = 0; p < PROBE_MAX; p++)
		expo__u64(w, NULL, "probe", probe__name(p), s->probe_enabled[p]);

	if (!s->prog_stats_enabled)
		return;
	expo__family(w, "toolwatch_bpf_program_run_seconds_total", EXPO_COUNTER,
		     "Time spent in each BPF program (kernel.bpf_stats_enabled=1).");
	for (unsigned int i = 0; i < s->nr_progs; i++)
		expo__fixed(w, NULL, "program", s->progs[i].name, s->progs[i].run_ns, 9);
	expo__family(w, "toolwatch_bpf_program_runs_total", EXPO_COUNTER,
		     "Runs of each BPF program (kernel.bpf_stats_enabled=1).");
	for (unsigned int i = 0; i < s->nr_progs; i++)
		expo__u64(w, NULL, "program", s->progs[i].name, s->progs[i].run_count);
}

/* toolwatch_kubernetes_*: the Kubernetes API client's figures, when it runs. */
void exposition__render_kube(struct expo *w, const struct kube_stats *k)
{
	uint64_t failed = 0;

	if (!k->enabled)
		return;
	for (int f = 0; f < KUBE_FAIL_MAX; f++)
		failed += k->failures[f];
	expo__family(w, "toolwatch_kubernetes_requests_total", EXPO_COUNTER,
		     "Pod lists requested from the Kubernetes API, by result.");
	expo__u64(w, NULL, "result", "success", k->requests_ok);
	expo__u64(w, NULL, "result", "failure", failed);
	expo__family(w, "toolwatch_kubernetes_failures_total", EXPO_COUNTER,
		     "Failed pod lists, by reason; the last good list stays in force.");
	for (int f = 0; f < KUBE_FAIL_MAX; f++)
		expo__u64(w, NULL, "reason", kube_failure__name(f), k->failures[f]);
	expo__gauge1(w, "toolwatch_kubernetes_pods",
		     "Pods of this node known from the last good list.", k->pods);
	expo__gauge1(w, "toolwatch_kubernetes_containers",
		     "Container ids known from the last good list.", k->containers);
	expo__counter1(
	    w, "toolwatch_kubernetes_items_dropped_total",
	    "Pods and containers left out of good lists for missing or malformed fields.",
	    k->items_dropped);
	expo__family(w, "toolwatch_kubernetes_lookups_total", EXPO_COUNTER,
		     "Name lookups by pod uid, by result (miss: the pod is not known).");
	expo__u64(w, NULL, "result", "hit", k->lookups_hit);
	expo__u64(w, NULL, "result", "miss", k->lookups_miss);
	expo__family(w, "toolwatch_kubernetes_last_success_timestamp_seconds", EXPO_GAUGE,
		     "Unix time of the last good pod list; 0 before the first.");
	expo__double(w, NULL, NULL, NULL, "%.3f", k->last_success_unix);
	expo__family(w, "toolwatch_kubernetes_request_duration_seconds", EXPO_GAUGE,
		     "Duration of the last pod list request, good or bad.");
	expo__double(w, NULL, NULL, NULL, "%.6f", k->last_duration_secs);
}

/* The identity resolver's and the series table's self metrics. */
void exposition__render_identity(struct expo *w, const struct snapshot *s)
{
	const struct identity_stats *st = &s->identity;

	if (!st->enabled)
		return;
	expo__gauge1(
	    w, "toolwatch_identity_cgroup2",
	    "Whether a cgroup v2 hierarchy resolves cgroup ids to containers (0: labels empty).",
	    st->cgroup2);
	expo__counter1(
	    w, "toolwatch_series_overflow_total",
	    "Executions counted under tool=\"other\" because --metrics.max-series was reached.",
	    st->series_overflow);
	expo__counter1(w, "toolwatch_series_evicted_total",
		       "Labelled series dropped after --metrics.identity-idle-timeout without use.",
		       st->series_evicted);
	expo__family(
	    w, "toolwatch_cgroup_resolutions_total", EXPO_COUNTER,
	    "New cgroup ids looked up, by how: proc (/proc/PID/cgroup), walk (found by a walk "
	    "of the cgroup2 tree), unresolved (no path: empty labels).");
	expo__u64(w, NULL, "how", "proc", st->proc_hits);
	expo__u64(w, NULL, "how", "walk", st->walk_hits);
	expo__u64(w, NULL, "how", "unresolved", st->unresolved);
	expo__counter1(w, "toolwatch_cgroup_walks_total",
		       "Walks of the cgroup2 tree for an unknown cgroup id (at most one a second).",
		       st->walks);
	expo__counter1(w, "toolwatch_cgroup_cache_resets_total",
		       "Times the cgroup id cache was full and started over.", st->cache_resets);
	expo__gauge1(w, "toolwatch_cgroup_cache_entries", "Cgroup ids cached.", st->cached);
}

static void double1(struct expo *w, const char *name, enum expo_type type, const char *help,
		    double v)
{
	expo__family(w, name, type, help);
	expo__double(w, NULL, NULL, NULL, "%.15g", v);
}

void exposition__exporter_families(struct expo *w, const struct exporter_stats *e)
{
	if (e->process) {
		double1(w, "process_cpu_seconds_total", EXPO_COUNTER,
			"Total user and system CPU time spent in seconds.", e->cpu_seconds);
		expo__gauge1(w, "process_resident_memory_bytes", "Resident memory size in bytes.",
			     e->resident_memory_bytes);
		expo__gauge1(w, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
			     e->virtual_memory_bytes);
		double1(w, "process_start_time_seconds", EXPO_GAUGE,
			"Start time of the process since unix epoch in seconds.",
			e->start_time_seconds);
		expo__gauge1(w, "process_open_fds", "Number of open file descriptors.",
			     e->open_fds);
		expo__gauge1(w, "process_max_fds", "Maximum number of open file descriptors.",
			     e->max_fds);
	}
	if (e->http) {
		expo__counter1(
		    w, "toolwatch_http_header_timeouts_total",
		    "Connections closed because their request headers did not arrive in time.",
		    e->header_timeouts);
		expo__counter1(w, "toolwatch_http_client_limit_refusals_total",
			       "Connections closed at accept: their address had "
			       "--web.max-connections-per-client open.",
			       e->client_limit_refusals);
		expo__counter1(w, "toolwatch_http_auth_failures_total",
			       "Requests refused for missing or wrong basic auth credentials.",
			       e->auth_failures);
		expo__family(
		    w, "toolwatch_http_metrics_responses_total", EXPO_COUNTER,
		    "Answers to the metrics path, by exposition format (protobuf: the scraper "
		    "asked for it in its Accept header).");
		for (int f = 0; f < EXPOSITION_FORMAT_MAX; f++)
			expo__u64(w, NULL, "format", exposition_format__name(f), e->responses[f]);
		expo__counter1(
		    w, "toolwatch_http_auth_throttled_total",
		    "Requests refused with 429 because too many credentials waited for bcrypt "
		    "(in total, or from their address).",
		    e->auth_throttled);
		expo__counter1(
		    w, "toolwatch_http_responses_refused_total",
		    "Scrapes refused with 503 because the metrics pages being sent reached "
		    "their memory cap and none could be shared.",
		    e->responses_refused);
		expo__counter1(w, "toolwatch_web_config_reloads_total",
			       "Times the web config file was read anew and applied.",
			       e->web_config_reloads);
		expo__counter1(
		    w, "toolwatch_web_config_reload_failures_total",
		    "Times a changed web config file was refused; the last good one stays.",
		    e->web_config_reload_failures);
	}
}

void exposition__render_exporter(const struct exporter_stats *e, struct strbuf *out)
{
	struct expo w;

	expo__init(&w, out, false);
	exposition__exporter_families(&w, e);
	expo__finish(&w);
}
