// SPDX-License-Identifier: GPL-2.0
// The agent loop's timed work: scrape-time sampling, snapshots, anomaly windows, housekeeping.
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "identity/cgroup.h"
#include "events/consumer.h"
#include "identity/identity.h"
#include "http.h"
#include "events/hub.h"
#include "identity/kube.h"
#include "kernel/loader.h"
#include "lib/log.h"
#include "events/registry.h"
#include "events/runtime.h"
#include "events/snapshot.h"
#include "anomaly/state.h"
#include "naming/tools.h"
#include "anomaly/windows.h"
#include "agent/agent_internal.h"

uint64_t agent_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/*
 * Reads the host histograms and the live usage of running executions, unless read less
 * than max_age_ns ago (their live TCP bytes: SOCKETS_MAX_AGE_NS, the pass costs more);
 * what the sampling pass emitted (exits it found) is consumed.
 */
static void sample_live(struct agent *a, uint64_t max_age_ns)
{
	uint64_t now = agent_now_ns();
	bool sockets;
	int err;

	loader__host(a->loader, registry__host(a->registry));
	if (now - a->sampled_ns < max_age_ns)
		return;
	a->sampled_ns = now;
	sockets = now - a->sockets_sampled_ns >=
		  (max_age_ns > SOCKETS_MAX_AGE_NS ? max_age_ns : SOCKETS_MAX_AGE_NS);
	if (sockets || !max_age_ns)
		a->sockets_sampled_ns = now;
	consumer__begin_samples(a->consumer);
	err = loader__sample(a->loader, sockets || !max_age_ns, runtime__feed, a->rt);
	if (err && err != -EOPNOTSUPP)
		pr_debug("cannot sample running executions: %s", strerror(-err));
	consumer__end_samples(a->consumer);
	runtime__drain(a->rt);
}

/*
 * The loop turned within STALL_NS. An idle loop sleeps until asked: it is asked for a
 * snapshot (a turn) first, and answers unless it is stuck.
 */
bool agent_loop_healthy(void *ctx)
{
	struct agent *a = ctx;
	struct snapshot *s;

	if (agent_now_ns() - __atomic_load_n(&a->heartbeat_ns, __ATOMIC_RELAXED) < STALL_NS)
		return true;
	s = hub__acquire(&a->hub, HEALTH_WAIT_MS);
	snapshot__put(s);
	return agent_now_ns() - __atomic_load_n(&a->heartbeat_ns, __ATOMIC_RELAXED) < STALL_NS;
}

/* Replaces the per-tool figures of s by the labelled series. 0 or -errno. */
static int series_into(struct agent *a, struct snapshot *s)
{
	struct snapshot *series = registry__snapshot(a->series, s->taken_ns);
	struct cgroup_resolver_stats st = {};
	struct identity_stats *id = &s->identity;

	if (!series)
		return -ENOMEM;
	s->nr_tool_names = s->nr_tools;
	free(s->tools);
	free(s->names);
	s->tools = series->tools;
	s->names = series->names;
	s->nr_tools = series->nr_tools;
	s->agent.partial_evicted = series->agent.partial_evicted;
	series->tools = NULL;
	series->names = NULL;
	series->nr_tools = 0;
	s->identity_labels = a->opts->metrics_labels;
	id->enabled = true;
	id->cgroup2 = a->cgroups != NULL;
	id->series_overflow = series->agent.tools_overflow;
	id->series_evicted = series->agent.tools_evicted;
	snapshot__put(series);
	if (a->cgroups)
		cgroup_resolver__stats(a->cgroups, &st);
	id->proc_hits = st.proc_hits;
	id->walk_hits = st.walk_hits;
	id->walks = st.walks;
	id->unresolved = st.unresolved;
	id->cache_resets = st.resets;
	id->cached = st.cached;
	return 0;
}

void agent_publish(struct agent *a, uint64_t gen)
{
	uint64_t lost[TW_LOST_MAX];
	struct snapshot *s;

	sample_live(a, SAMPLE_MAX_AGE_NS);
	s = registry__snapshot(a->registry, agent_now_ns());
	if (!s || (a->series && series_into(a, s))) {
		pr_warn("cannot build snapshot: %s", strerror(errno));
		snapshot__put(s);
		return;
	}
	loader__lost(a->loader, lost);
	for (unsigned int i = 0; i < TW_LOST_MAX && i < SNAPSHOT_MAX_LOST; i++)
		s->lost[s->nr_lost++] = lost[i];
	loader__probes_enabled(a->loader, s->probe_enabled);
	loader__exit_stats(a->loader, &s->exits);
	if (windows__snapshot(a->detector, s))
		pr_warn("snapshot without anomalies: out of memory");
	s->prog_stats_enabled = a->prog_stats;
	s->metrics = a->metrics;
	if (a->kube)
		kube__stats(a->kube, &s->kube);
	if (s->prog_stats_enabled)
		s->nr_progs = loader__prog_stats(a->loader, s->progs, SNAPSHOT_MAX_PROGS);
	hub__publish(&a->hub, s, gen);
}

/* Host CPU utilisation since the previous call (0..1), or -1 when unknown. */
double agent_host_cpu_utilisation(struct agent *a)
{
	unsigned long long v[8] = {};
	uint64_t busy, total;
	double util = -1;
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return -1;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) != 8) {
		fclose(f);
		return -1;
	}
	fclose(f);
	total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	busy = total - v[3] - v[4]; /* minus idle and iowait */
	if (a->cpu_total && total > a->cpu_total)
		util = (double)(busy - a->cpu_busy) / (double)(total - a->cpu_total);
	a->cpu_busy = busy;
	a->cpu_total = total;
	return util;
}

/* What a flag is about, per series: the figure its contributors are ranked by. */
enum window_figure { FIG_EXECUTIONS, FIG_DURATION, FIG_FAILURES, FIG_CPU, FIGS };

struct series_window {
	uint32_t generation;
	bool seen;
	uint64_t total[FIGS]; /* cumulative at the last close */
	uint64_t grew[FIGS];  /* in the window that just closed */
};

static void figures(const struct tool_stats *s, uint64_t *v)
{
	v[FIG_EXECUTIONS] = s->executions;
	v[FIG_DURATION] = s->observed_duration_ns;
	v[FIG_FAILURES] = 0;
	for (int t = 0; t < ERROR_TYPE_MAX; t++)
		v[FIG_FAILURES] += s->failures[t];
	v[FIG_CPU] = s->cpu_ns_ended;
}

/* Before a window is judged: what each labelled series added during it. */
static void series_window_close(struct agent *a)
{
	const struct tool_table *names = registry__tools(a->series);
	size_t n = tool_table__count(names);

	if (n > a->nr_windowed) {
		struct series_window *w = reallocarray(a->windowed, n, sizeof(*w));
		struct identity_share *sh = reallocarray(a->shares, n, sizeof(*sh));

		if (w)
			a->windowed = w;
		if (sh)
			a->shares = sh;
		if (!w || !sh)
			return; /* contributors stay unnamed this window */
		memset(w + a->nr_windowed, 0, (n - a->nr_windowed) * sizeof(*w));
		a->nr_windowed = n;
	}
	for (size_t id = 0; id < n; id++) {
		struct series_window *w = &a->windowed[id];
		struct tool_stats *s = registry__stats(a->series, (unsigned int)id);
		uint32_t gen = registry__generation(a->series, (unsigned int)id);
		uint64_t now[FIGS];

		if (!s || !tool_table__name(names, (unsigned int)id)) {
			memset(w, 0, sizeof(*w));
			continue;
		}
		if (!w->seen || w->generation != gen)
			memset(w->total, 0, sizeof(w->total)); /* a new series on a reused id */
		figures(s, now);
		for (int f = 0; f < FIGS; f++) {
			w->grew[f] = now[f] > w->total[f] ? now[f] - w->total[f] : 0;
			w->total[f] = now[f];
		}
		w->generation = gen;
		w->seen = true;
	}
}

/* " contributors=..." for a raised flag of a tool, "" without labelled series. */
static void contributors(struct agent *a, const struct anomaly_state *st, char *out, size_t size)
{
	enum window_figure fig = FIG_EXECUTIONS;
	size_t n = 0, len;

	out[0] = '\0';
	if (!a->series || !st->active || !st->tool || !a->shares)
		return;
	if (st->kind == ANOMALY_LATENCY_DEGRADATION || st->kind == ANOMALY_STATISTICAL_OUTLIER)
		fig = FIG_DURATION;
	else if (st->kind == ANOMALY_FAILURE_RATE)
		fig = FIG_FAILURES;
	else if (st->kind == ANOMALY_CPU_SPIKE)
		fig = FIG_CPU;
	for (size_t id = 0; id < a->nr_windowed; id++) {
		const char *key = tool_table__name(registry__tools(a->series), (unsigned int)id);

		if (key && a->windowed[id].seen)
			a->shares[n++] = (struct identity_share){key, a->windowed[id].grew[fig]};
	}
	snprintf(out, size, " contributors=");
	len = strlen(out);
	if (!identity__contributors(a->shares, n, st->tool, 3, out + len, size - len))
		out[0] = '\0';
}

static int log_change(const struct anomaly_state *st, void *ctx)
{
	const char *cause = anomaly_cause__name(st->cause);
	char who[1024];

	contributors(ctx, st, who, sizeof(who));
	pr_info("anomaly %s: tool='%s' kind=%s severity=%s ratio=%.3g%s%s%s",
		st->active ? "raised" : "cleared", st->tool ? st->tool : "(host)",
		anomaly_kind__name(st->kind), anomaly_kind__severity(st->kind), st->deviation_ratio,
		cause ? " cause=" : "", cause ? cause : "", who);
	return 0;
}

void agent_save_state(struct agent *a)
{
	int err = state__save(a->detector, a->opts->state_dir);

	if (err)
		pr_warn("cannot save baselines under '%s': %s", a->opts->state_dir, strerror(-err));
}

static void close_window(struct agent *a, uint64_t now)
{
	uint64_t dropped;
	int n;

	if (a->series)
		series_window_close(a);
	n = windows__close(a->windows, a->registry, a->detector, agent_host_cpu_utilisation(a),
			   (int64_t)time(NULL));
	if (n < 0)
		pr_warn("cannot close anomaly window: %s", strerror(-n));
	dropped = anomaly__for_each_change(a->detector, log_change, a);
	if (dropped)
		pr_warn("%llu anomaly changes not logged", (unsigned long long)dropped);
	a->next_window_ns += a->opts->anomaly.window_ns;
	if (a->next_window_ns <= now) /* the loop stalled: skip, don't replay windows */
		a->next_window_ns = now + a->opts->anomaly.window_ns;
}

/*
 * The labelled series that leave: idle for --metrics.identity-idle-timeout and every
 * cgroup they were counted from gone; the host's (empty labels) by --tools.idle-timeout.
 * An idle series of a live cgroup is tested again after a quarter of the timeout (1 s to
 * 30 s), and a tick tests at most SERIES_GONE_TESTS cgroups (~2 us each), the rest on the
 * next ticks: the loop never stalls on a node full of idle series.
 */
#define SERIES_GONE_TESTS 2048

static size_t evict_series(struct agent *a, uint64_t now)
{
	uint64_t idle = a->opts->metrics_identity_idle_timeout_ns, recheck = idle / 4;
	struct registry_evict_rule rule = {
	    .idle_ns = idle,
	    .originless_idle_ns = a->opts->tools_idle_timeout_ns,
	    .max_tests = SERIES_GONE_TESTS,
	};

	recheck = recheck < NS_PER_S ? NS_PER_S : recheck;
	rule.recheck_ns = recheck > 30 * NS_PER_S ? 30 * NS_PER_S : recheck;
	return registry__evict_gone(a->series, now, &rule);
}

/* Config reload and eviction of idle names and series: minutes matter, not seconds. */
static void housekeeping(struct agent *a, uint64_t now)
{
	http__reload(a->http, false); /* the web config and its certificates, when changed */
	/* after the window: an evicted name's last executions still reach its baseline */
	if (a->opts->tools_idle_timeout_ns)
		registry__evict_idle(a->registry, now, a->opts->tools_idle_timeout_ns);
	if (a->series) {
		registry__set_now(a->series, now);
		/* what a churn of pods left free goes back to the system, not only to malloc */
		if (a->opts->metrics_identity_idle_timeout_ns && evict_series(a, now)) {
			if (a->cgroups)
				cgroup_resolver__expire(a->cgroups, now,
							a->opts->metrics_identity_idle_timeout_ns);
			malloc_trim(0);
		}
	}
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * The loop's only timer: each run does what is due (a background sample when no scrape
 * read live usage within --sample.interval, a window close, housekeeping, a save) and
 * arms itself for the next due time. An idle agent wakes only then and at scrapes.
 */
void agent_tick(void *ctx)
{
	struct agent *a = ctx;
	uint64_t now = agent_now_ns(), soon = now + TICK_SLACK_NS, next;
	int err;

	if (soon - a->sampled_ns >= a->opts->sample_interval_ns)
		sample_live(a, 0);
	registry__set_now(a->registry, now);
	if (soon >= a->next_window_ns) {
		/* running executions' figures as they are at the close */
		sample_live(a, SAMPLE_MAX_AGE_NS);
		close_window(a, now);
	}
	if (soon >= a->next_housekeeping_ns) {
		housekeeping(a, now);
		a->next_housekeeping_ns =
		    now + (a->series ? SERIES_HOUSEKEEPING_NS : HOUSEKEEPING_NS);
	}
	if (a->opts->state_save_interval_ns && soon >= a->next_save_ns) {
		agent_save_state(a);
		a->next_save_ns = now + a->opts->state_save_interval_ns;
	}
	next = earliest(a->sampled_ns + a->opts->sample_interval_ns, a->next_window_ns);
	next = earliest(next, a->next_housekeeping_ns);
	if (a->opts->state_save_interval_ns)
		next = earliest(next, a->next_save_ns);
	now = agent_now_ns();
	err = runtime__arm(a->rt, a->tick_timer, next > now ? next - now : 1);
	if (err)
		pr_warn("cannot arm the agent's timer: %s", strerror(-err));
}

/* After every turn of the loop: a heartbeat for /healthz, a snapshot when a scrape waits. */
bool agent_after_turn(void *ctx)
{
	struct agent *a = ctx;
	uint64_t gen;

	__atomic_store_n(&a->heartbeat_ns, agent_now_ns(), __ATOMIC_RELAXED);
	gen = hub__wanted(&a->hub);
	if (gen)
		agent_publish(a, gen);
	return true;
}
