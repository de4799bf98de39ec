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
#include "agent/agent_internal.h"

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
	bool read_args;

	if (rules__load(a->opts->tools_rules, &fresh, why, sizeof(why))) {
		pr_warn("rules not reloaded, keeping the %zu in force: %s", rules__count(a->rules),
			why);
		return;
	}
	/*
	 * argv in every exec record before a rule may read it; the records already queued,
	 * some without argv, are named by the rules they were made under
	 */
	read_args = rules__read_args(fresh);
	if (read_args)
		loader__set_args_all(a->loader, true);
	runtime__drain(a->rt);
	consumer__set_rules(a->consumer, fresh, username, a);
	if (!read_args)
		loader__set_args_all(a->loader, false);
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
	id = cgroup_resolver__lookup(a->cgroups, cgroup_id, tgid, agent_now_ns(),
				     CGROUP_WALK_GAP_NS);
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
	registry__set_now(a->series, agent_now_ns());
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
	    .after_turn = agent_after_turn,
	    .on_hangup = on_hangup,
	    /*
	     * with --metrics.labels, records are read while their process lives (its cgroup
	     * from /proc/PID/cgroup): the loop polls the ring buffer then
	     */
	    .wake_only = !o->metrics_labels,
	    .ctx = a,
	};
	static char argv_keys[TW_ARGV_COMMS_MAX][TOOL_COMM_LEN];
	int err;

	memcpy(rcfg.loader.disable, o->disable, sizeof(rcfg.loader.disable));
	/* argv only where the naming (or a rule) reads it */
	rcfg.loader.nr_argv_keys = tool__argv_keys(argv_keys, TW_ARGV_COMMS_MAX);
	rcfg.loader.argv_keys = argv_keys;
	rcfg.loader.args_all = rules__read_args(a->rules);
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
	registry__set_now(a->registry, agent_now_ns());
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
	    .healthy = agent_loop_healthy,
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
	agent_publish(a, 0);
	a->heartbeat_ns = agent_now_ns();
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
	 * Scrape bodies and snapshots are large blocks that each scrape replaces (and labelled
	 * series come and go with pods): a fixed mmap threshold hands them back to the system
	 * at free, where the default (raised by each free) would keep the largest in the heap
	 * beside the live ones (1,000 tools, 70,000 series: 42 MiB RSS instead of 32)
	 */
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
	a.next_window_ns = agent_now_ns() + o->anomaly.window_ns;
	a.next_save_ns = agent_now_ns() + o->state_save_interval_ns;
	a.next_housekeeping_ns = agent_now_ns() + HOUSEKEEPING_NS;
	a.tick_timer = runtime__timer(a.rt, agent_tick);
	err = a.tick_timer < 0 ? a.tick_timer : runtime__arm(a.rt, a.tick_timer, NS_PER_S);
	if (err) {
		pr_err("cannot create timer: %s", strerror(-err));
		goto cleanup;
	}
	agent_host_cpu_utilisation(&a);
	err = runtime__run(a.rt);
	status = err ? 1 : 0;
	agent_save_state(&a);
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
