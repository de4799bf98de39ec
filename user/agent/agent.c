// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

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
#include "naming/rules.h"
#include "events/runtime.h"
#include "events/snapshot.h"
#include "exposition.h"
#include "anomaly/state.h"
#include "naming/tools.h"
#include "anomaly/windows.h"

#define HOUSEKEEPING_NS	       (5ULL * NS_PER_S)    /* web config changes, idle names: this often */
#define SERIES_HOUSEKEEPING_NS NS_PER_S		    /* with --metrics.labels: pods come and go */
#define TICK_SLACK_NS	       (10ULL * 1000000ULL) /* work due this soon is done now */
#define SNAPSHOT_WAIT_MS       250		 /* a scrape waits this long for a fresh snapshot */
#define STALL_NS	       (5ULL * NS_PER_S) /* /healthz fails past this without a loop turn */
#define HEALTH_WAIT_MS	       1000		 /* /healthz waits this long for an idle loop */
#define SAMPLE_MAX_AGE_NS      200000000ULL	 /* a scrape reads live usage older than this */
#define SOCKETS_MAX_AGE_NS     NS_PER_S		 /* and live TCP bytes older than this */
#define CGROUP_CACHE_MAX       65536		 /* cgroup ids the resolver caches */
#define CGROUP_WALK_GAP_NS     NS_PER_S		 /* the cgroup2 tree is walked at most this often */

struct agent {
	const struct agent_options *opts;
	struct metrics_config metrics; /* --metrics.*, copied into every snapshot */
	uint32_t series_cap;	       /* tools or pairs --metrics.max-series admits */
	struct runtime *rt;
	struct registry *registry; /* the runtime's */
	struct consumer *consumer; /* the runtime's */
	struct loader *loader;	   /* the runtime's */
	struct http_server *http;
	struct hub hub;
	bool hub_ready;
	uint64_t heartbeat_ns; /* written by the loop, read by the HTTP thread */
	uint64_t sampled_ns;
	uint64_t sockets_sampled_ns;
	int tick_timer; /* runtime__timer() id of tick() */
	uint64_t next_housekeeping_ns;
	struct anomaly_detector *detector;
	struct windows *windows;
	uint64_t next_window_ns;
	uint64_t next_save_ns;
	uint64_t cpu_busy, cpu_total; /* /proc/stat at the last window close */
	bool prog_stats;	      /* --bpf.stats and the kernel is measuring */
	struct rules *rules;	      /* --tools.rules, NULL without */
	struct kube *kube;	      /* --kubernetes.enable, NULL without */
	/* --metrics.labels: (tool, identity) series, cgroup id -> identity, names */
	struct registry *series;	 /* NULL without --metrics.labels */
	struct cgroup_resolver *cgroups; /* NULL on a host without cgroup v2 */
	struct name_source names;	 /* lookup NULL: no names (ids only) */
	struct identity_labels labels;	 /* the last labels handed to the consumer */
	/* per series id: cumulative figures at the last window close, and the window's growth */
	struct series_window *windowed;
	size_t nr_windowed;
	struct identity_share *shares; /* scratch for a flag's contributors */
	struct {
		uint32_t uid;
		bool used;
		char name[64];
	} users[64]; /* {{.Username}} cache, by uid modulo its size */
};

static uint64_t now_ns(void)
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
	uint64_t now = now_ns();
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
static bool loop_healthy(void *ctx)
{
	struct agent *a = ctx;
	struct snapshot *s;

	if (now_ns() - __atomic_load_n(&a->heartbeat_ns, __ATOMIC_RELAXED) < STALL_NS)
		return true;
	s = hub__acquire(&a->hub, HEALTH_WAIT_MS);
	snapshot__put(s);
	return now_ns() - __atomic_load_n(&a->heartbeat_ns, __ATOMIC_RELAXED) < STALL_NS;
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

static void publish(struct agent *a, uint64_t gen)
{
	uint64_t lost[TW_LOST_MAX];
	struct snapshot *s;

	sample_live(a, SAMPLE_MAX_AGE_NS);
	s = registry__snapshot(a->registry, now_ns());
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
static double host_cpu_utilisation(struct agent *a)
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

static void save_state(struct agent *a)
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
	n = windows__close(a->windows, a->registry, a->detector, host_cpu_utilisation(a),
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
static void tick(void *ctx)
{
	struct agent *a = ctx;
	uint64_t now = now_ns(), soon = now + TICK_SLACK_NS, next;
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
		save_state(a);
		a->next_save_ns = now + a->opts->state_save_interval_ns;
	}
	next = earliest(a->sampled_ns + a->opts->sample_interval_ns, a->next_window_ns);
	next = earliest(next, a->next_housekeeping_ns);
	if (a->opts->state_save_interval_ns)
		next = earliest(next, a->next_save_ns);
	now = now_ns();
	err = runtime__arm(a->rt, a->tick_timer, next > now ? next - now : 1);
	if (err)
		pr_warn("cannot arm the agent's timer: %s", strerror(-err));
}

/* After every turn of the loop: a heartbeat for /healthz, a snapshot when a scrape waits. */
static bool after_turn(void *ctx)
{
	struct agent *a = ctx;
	uint64_t gen;

	__atomic_store_n(&a->heartbeat_ns, now_ns(), __ATOMIC_RELAXED);
	gen = hub__wanted(&a->hub);
	if (gen)
		publish(a, gen);
	return true;
}

/* The user name of uid for {{.Username}}, cached; NULL (the number is used) when unknown. */
static const char *username(uint32_t uid, void *ctx)
{
	struct agent *a = ctx;
	size_t slot = uid % (sizeof(a->users) / sizeof(a->users[0]));
	struct passwd pw, *found = NULL;
	char buf[1024];

	if (!a->users[slot].used || a->users[slot].uid != uid) {
		if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) || !found)
			snprintf(a->users[slot].name, sizeof(a->users[slot].name), "%u", uid);
		else
			snprintf(a->users[slot].name, sizeof(a->users[slot].name), "%s",
				 found->pw_name);
		a->users[slot].uid = uid;
		a->users[slot].used = true;
	}
	return a->users[slot].name;
}

/* Loads --tools.rules at start: 0, or -EINVAL after one line saying why (exit status 2). */
static int rules_start(struct agent *a)
{
	char why[512];
	int err;

	if (!a->opts->tools_rules[0])
		return 0;
	err = rules__load(a->opts->tools_rules, &a->rules, why, sizeof(why));
	if (err) {
		pr_err("bad --tools.rules: %s", why);
		return -EINVAL;
	}
	pr_info("loaded %zu naming rules from '%s'", rules__count(a->rules), a->opts->tools_rules);
	return 0;
}

/* Reloads --tools.rules; a bad file keeps the rules in force. */
static void rules_reload(struct agent *a)
{
	struct rules *fresh;
	char why[512];

	if (rules__load(a->opts->tools_rules, &fresh, why, sizeof(why))) {
		pr_warn("rules not reloaded, keeping the %zu in force: %s", rules__count(a->rules),
			why);
		return;
	}
	consumer__set_rules(a->consumer, fresh, username, a);
	rules__free(a->rules);
	a->rules = fresh;
	pr_info("reloaded %zu naming rules from '%s'", rules__count(fresh), a->opts->tools_rules);
}

/* SIGHUP: re-reads the web config and --tools.rules; a bad file keeps what is in force. */
static void on_hangup(void *ctx)
{
	struct agent *a = ctx;

	if (!a->opts->web_config_file[0] && !a->opts->tools_rules[0]) {
		pr_info("nothing to reload: flags take effect at the next start");
		return;
	}
	if (a->opts->web_config_file[0])
		http__reload(a->http, true);
	if (a->opts->tools_rules[0])
		rules_reload(a);
}

/*
 * The Kubernetes API client (its own thread): 0, also when neither flags nor environment
 * name an API or a node (not in a pod: one warning, names stay empty), or -EINVAL (a
 * malformed value) / -errno after one line.
 */
/* --metrics.labels asks for names: namespace, pod or container */
#define NAME_LABELS                                                                                \
	((1U << IDENTITY_LABEL_NAMESPACE) | (1U << IDENTITY_LABEL_POD) |                           \
	 (1U << IDENTITY_LABEL_CONTAINER))

/*
 * The Kubernetes API client, with --kubernetes.enable or when --metrics.labels asks for
 * names. Outside a cluster (nothing names an API or a node) the agent runs without names.
 */
static int kube_start(struct agent *a)
{
	char why[512];

	if (!a->opts->kube.enable && !(a->opts->metrics_labels & NAME_LABELS))
		return 0;
	a->kube = kube__start(&a->opts->kube, why, sizeof(why));
	if (!a->kube && errno == ENOENT) {
		pr_warn("%s; running without pod names", why);
		return 0;
	}
	if (!a->kube) {
		pr_err("%s", why);
		return errno == EINVAL ? -EINVAL : -EIO;
	}
	pr_info("kubernetes: listing pods from '%s'", kube__url(a->kube));
	return 0;
}

/* The detector, with the baselines saved under --state.dir when they are usable. */
static int detector_start(struct agent *a)
{
	const struct agent_options *o = a->opts;
	char why[512];
	int err;

	a->detector = anomaly__new(&o->anomaly);
	a->windows = windows__new();
	if (!a->detector || !a->windows) {
		pr_err("cannot create the anomaly detector: %s", strerror(errno));
		return -ENOMEM;
	}
	err = state__load(a->detector, o->state_dir, why, sizeof(why));
	if (!err)
		pr_info("loaded baselines of %zu tools (%llu windows old) from '%s'",
			anomaly__nr_tools(a->detector),
			(unsigned long long)anomaly__age_windows(a->detector), o->state_dir);
	else if (err == -ENOENT)
		pr_info("no saved baselines under '%s': learning from scratch", o->state_dir);
	else
		pr_warn("ignoring saved baselines: %s", why);
	return 0;
}

/* The consumer's labels callback: the cgroup's identity and the names the source knows. */
static const struct identity_labels *cgroup_labels(uint64_t cgroup_id, uint32_t tgid, void *ctx)
{
	struct agent *a = ctx;
	const struct cgroup_identity *id;

	registry__set_origin(a->series, 0);
	if (!a->cgroups)
		return NULL;
	id = cgroup_resolver__lookup(a->cgroups, cgroup_id, tgid, now_ns(), CGROUP_WALK_GAP_NS);
	if (!id)
		return NULL;
	identity__labels(id, &a->names, a->opts->metrics_labels, &a->labels);
	/* a labelled series is counted from this cgroup: it stays while the cgroup does */
	for (int i = 0; i < IDENTITY_LABELS; i++) {
		if (a->labels.value[i][0]) {
			registry__set_origin(a->series, cgroup_id);
			break;
		}
	}
	return &a->labels;
}

/* The series' gone test: the cgroup was removed (cannot tell: it stays). */
static bool cgroup_gone(uint64_t cgroup_id, void *ctx)
{
	struct agent *a = ctx;

	return cgroup_resolver__exists(a->cgroups, cgroup_id) == 0;
}

/* The name source over the Kubernetes API client (never waits for the network). */
static bool kube_names(void *ctx, const char *pod_uid, const char *container_id,
		       struct kube_pod_names *out)
{
	return kube__lookup(ctx, pod_uid, container_id, out);
}

/*
 * --metrics.labels: the cgroup resolver, before the programs load (the capability report
 * says what it lacks). A mount that shows only the agent's cgroup namespace (a pod's own
 * /sys/fs/cgroup) hides the pods' cgroups from walks: said once.
 */
static void cgroups_start(struct agent *a)
{
	if (!a->opts->metrics_labels)
		return;
	a->cgroups = cgroup_resolver__new(NULL, CGROUP_CACHE_MAX);
	if (!a->cgroups) {
		pr_warn("no cgroup v2 hierarchy (%s): --metrics.labels values stay empty",
			strerror(errno));
		return;
	}
	pr_info("resolving container identity under '%s'", cgroup_resolver__mount(a->cgroups));
	if (!cgroup_resolver__whole_tree(a->cgroups))
		pr_warn("the cgroup2 mount '%s' shows only the agent's cgroup namespace: "
			"executions that end before their record is read lose their pod (mount "
			"the host's /sys/fs/cgroup there)",
			cgroup_resolver__mount(a->cgroups));
}

/*
 * --metrics.labels: the series table and the cgroup resolver. Without a cgroup v2
 * hierarchy (a v1-only host) the series carry empty labels: said once, not fatal.
 */
static int identity_start(struct agent *a)
{
	const struct agent_options *o = a->opts;

	if (!o->metrics_labels)
		return 0;
	a->series = registry__new(a->series_cap);
	if (!a->series) {
		pr_err("cannot allocate the series table: %s", strerror(errno));
		return -ENOMEM;
	}
	if (a->cgroups && cgroup_resolver__can_probe(a->cgroups))
		registry__set_gone(a->series, cgroup_gone, a);
	else if (a->cgroups)
		pr_warn("cannot tell live cgroups from gone ones (the mount shows only the agent's "
			"cgroup namespace and cgroups do not open by id without "
			"CAP_DAC_READ_SEARCH): labelled series leave on "
			"--metrics.identity-idle-timeout alone, live pods' too");
	if (a->kube)
		a->names = (struct name_source){.lookup = kube_names, .ctx = a->kube};
	consumer__set_series(a->consumer, a->series, cgroup_labels, a);
	registry__set_now(a->series, now_ns());
	return 0;
}

/* The runtime, with the executions already running counted in. */
static int tracing_start(struct agent *a)
{
	const struct agent_options *o = a->opts;
	struct runtime_config rcfg = {
	    .loader =
		{
		    .ringbuf_bytes = o->ringbuf_bytes,
		    .max_processes = o->max_processes,
		    .wakeup_bytes = o->ringbuf_bytes / 16,
		    .timer_stats = a->prog_stats,
		},
	    /* without labels the tools are the series --metrics.max-series counts */
	    .tools_max =
		o->metrics_labels || o->tools_max < a->series_cap ? o->tools_max : a->series_cap,
	    .after_turn = after_turn,
	    .on_hangup = on_hangup,
	    /*
	     * with --metrics.labels, records are read while their process lives (its cgroup
	     * from /proc/PID/cgroup): the loop polls the ring buffer then
	     */
	    .wake_only = !o->metrics_labels,
	    .ctx = a,
	};
	int err;

	memcpy(rcfg.loader.disable, o->disable, sizeof(rcfg.loader.disable));
	cgroups_start(a);
	rcfg.loader.bpf_stats = o->bpf_stats;
	rcfg.loader.cgroup_by_id = a->cgroups && !cgroup_resolver__whole_tree(a->cgroups);
	a->rt = runtime__new(&rcfg);
	if (!a->rt)
		return -EIO; /* the runtime said why */
	a->registry = runtime__registry(a->rt);
	a->consumer = runtime__consumer(a->rt);
	a->loader = runtime__loader(a->rt);
	consumer__set_rules(a->consumer, a->rules, username, a);
	consumer__set_normalize(a->consumer, o->tools_normalize);
	registry__set_now(a->registry, now_ns());
	err = identity_start(a);
	if (err)
		return err;
	err = loader__dump_tasks(a->loader, runtime__feed, a->rt);
	if (err && err != -EOPNOTSUPP)
		pr_warn("cannot list running processes: %s", strerror(-err));
	pr_info("tracking %zu processes already running", consumer__inflight(a->consumer));
	pr_info("--metrics.max-series=%u: %u series per %s, %u of them tracked besides \"other\"",
		o->metrics_max_series, exposition__series_per_tool(&a->metrics),
		o->metrics_labels ? "(tool, identity) pair" : "tool", a->series_cap);
	return 0;
}

/* Every listen address bound (and the web config read) before any program is loaded. */
static int serving_bind(struct agent *a)
{
	const struct agent_options *o = a->opts;
	struct http_config hcfg = {
	    .telemetry_path = o->telemetry_path,
	    .web_config_file = o->web_config_file,
	    .max_connections = o->max_connections,
	    .max_per_client = o->max_per_client,
	    .header_timeout_ms = (unsigned int)(o->read_header_timeout_ns / 1000000ULL),
	    .idle_timeout_s = (unsigned int)(o->idle_timeout_ns / NS_PER_S),
	    .exporter_metrics = !o->disable_exporter_metrics,
	    .version = TOOLWATCH_VERSION,
	    .hub = &a->hub,
	    .snapshot_wait_ms = SNAPSHOT_WAIT_MS,
	    .healthy = loop_healthy,
	    .ctx = a,
	};
	char why[1024];

	snprintf(hcfg.listen[0].host, sizeof(hcfg.listen[0].host), "%s", o->listen_host);
	hcfg.listen[0].port = o->listen_port;
	for (unsigned int i = 0; i < o->nr_more_listen && i + 1 < HTTP_LISTEN_MAX; i++) {
		snprintf(hcfg.listen[i + 1].host, sizeof(hcfg.listen[i + 1].host), "%s",
			 o->more_listen[i].host);
		hcfg.listen[i + 1].port = o->more_listen[i].port;
	}
	hcfg.nr_listen = 1 + o->nr_more_listen;
	a->http = http__bind(&hcfg, why, sizeof(why));
	if (!a->http) {
		pr_err("%s", why);
		return errno == EINVAL ? -EINVAL : -EADDRINUSE;
	}
	return 0;
}

/* The hub, a first snapshot and serving on the bound addresses. */
static int serving_start(struct agent *a)
{
	const struct agent_options *o = a->opts;
	char why[1024];
	int err = hub__init(&a->hub);

	if (err) {
		pr_err("cannot create eventfd: %s", strerror(-err));
		return err;
	}
	a->hub_ready = true;
	err = runtime__watch(a->rt, a->hub.wake_fd, NULL);
	if (err) {
		pr_err("cannot watch the snapshot hub: %s", strerror(-err));
		return err;
	}
	publish(a, 0);
	a->heartbeat_ns = now_ns();
	err = http__serve(a->http, why, sizeof(why));
	if (err) {
		pr_err("%s", why);
		return err;
	}
	pr_info("listening on '%s:%u'%s, version %s", o->listen_host, o->listen_port,
		o->nr_more_listen ? " and more" : "", TOOLWATCH_VERSION);
	return 0;
}

/* Whether someone already turned on kernel.bpf_stats_enabled (then no capability is needed). */
static bool bpf_stats_sysctl_on(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int c = f ? fgetc(f) : EOF;

	if (f)
		fclose(f);
	return c == '1';
}

int agent__run(const struct agent_options *o)
{
	struct agent a = {.opts = o};
	int stats_fd = -1, status = 1, err;

	/*
	 * Labelled series come and go with pods, and scrape bodies and snapshots with them: a
	 * fixed mmap threshold hands such large blocks back to the system at free, where the
	 * default (raised by each free) would keep the peak's size in the heap for good.
	 */
	if (o->metrics_labels)
		mallopt(M_MMAP_THRESHOLD, 256 << 10);
	a.series_cap = agent_options__series_cap(o, &a.metrics);
	/* a taken port or a bad web config fails before anything BPF is touched */
	err = serving_bind(&a);
	if (err) {
		status = err == -EINVAL ? 2 : 1;
		goto cleanup;
	}
	if (o->bpf_stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		err = stats_fd < 0 ? errno : 0;
		a.prog_stats = stats_fd >= 0 || bpf_stats_sysctl_on();
		/* unmeasured run times would export as zeros: the families are left out */
		if (!a.prog_stats)
			pr_warn("cannot enable BPF run-time statistics: %s%s; "
				"toolwatch_bpf_program_* not exported",
				strerror(err), err == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	}
	/* a signal during start-up ends the agent cleanly, with its baselines saved */
	runtime__block_signals();
	if (rules_start(&a)) {
		status = 2;
		goto cleanup;
	}
	err = kube_start(&a);
	if (err) {
		status = err == -EINVAL ? 2 : 1;
		goto cleanup;
	}
	/* baselines first: the ring buffer fills undrained from the attach on */
	if (detector_start(&a) || tracing_start(&a) || serving_start(&a))
		goto cleanup;
	a.next_window_ns = now_ns() + o->anomaly.window_ns;
	a.next_save_ns = now_ns() + o->state_save_interval_ns;
	a.next_housekeeping_ns = now_ns() + HOUSEKEEPING_NS;
	a.tick_timer = runtime__timer(a.rt, tick);
	err = a.tick_timer < 0 ? a.tick_timer : runtime__arm(a.rt, a.tick_timer, NS_PER_S);
	if (err) {
		pr_err("cannot create timer: %s", strerror(-err));
		goto cleanup;
	}
	host_cpu_utilisation(&a);
	err = runtime__run(a.rt);
	status = err ? 1 : 0;
	save_state(&a);
cleanup:
	http__stop(a.http);
	kube__stop(a.kube);
	runtime__free(a.rt);
	if (a.hub_ready)
		hub__destroy(&a.hub);
	windows__free(a.windows);
	anomaly__free(a.detector);
	rules__free(a.rules);
	registry__free(a.series);
	free(a.windowed);
	free(a.shares);
	cgroup_resolver__free(a.cgroups);
	if (stats_fd >= 0)
		close(stats_fd);
	return status;
}
