// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "anomaly/anomaly.h"
#include "identity/cgroup.h"
#include "identity/kube.h"
#include "events/consumer.h"
#include "identity/identity.h"
#include "kernel/loader.h"
#include "lib/log.h"
#include "events/registry.h"
#include "events/runtime.h"
#include "anomaly/state.h"
#include "lib/strbuf.h"
#include "naming/rules.h"
#include "trace/trace.h"
#include "trace/trace_format.h"
#include "trace/trace_options.h"
#include "trace/trace_reorder.h"
#include "trace/trace_summary.h"
#include "anomaly/windows.h"

#define LOST_REPORT_INTERVAL_NS	 NS_PER_S /* at most one "records lost" line a second */
#define TRACE_NAMES_MAX		 100000	  /* names on lines; then "other" (~1 KiB each) */
#define TRACE_SUMMARY_TOOLS_MAX	 1000	  /* tools of one summary period; then "other" */
#define TRACE_RINGBUF_BYTES	 (4ULL << 20)
#define TRACE_MAX_PROCESSES	 32768
#define TRACE_CGROUP_CACHE_MAX	 65536	  /* cgroup ids resolved to containers */
#define TRACE_CGROUP_WALK_GAP_NS NS_PER_S /* the cgroup2 tree walked at most this often */
/*
 * Lines wait this long after their event so that records of other CPUs that reach the
 * ring buffer later can still go before them: lines come out in time order.
 */
#define TRACE_REORDER_NS      (100 * 1000000ULL)
#define TRACE_REORDER_TICK_NS (20 * 1000000ULL) /* held lines looked at this often */
#define TRACE_REORDER_LINES   65536		/* then the oldest goes out early */
#define TRACE_USERS_CACHED    64		/* uid -> name for {{.Username}} */

#ifndef CAP_PERFMON /* Linux 5.8 headers */
#define CAP_PERFMON 38
#define CAP_BPF	    39
#endif

struct tracer {
	const struct trace_options *o;
	struct trace_clock clock;
	struct trace_layout layout;
	struct runtime *rt;
	struct trace_summary *summary;
	struct strbuf out;
	uint64_t period_start_ns; /* CLOCK_MONOTONIC start of the summary period */
	uint64_t lost_reported;	  /* records lost, as last told */
	uint64_t lost_reported_ns;
	struct anomaly_detector *detector; /* --events anomaly */
	struct windows *windows;
	struct cgroup_resolver *cgroups; /* --json, -w, --container/--pod/--namespace */
	struct name_source names;	 /* lookup NULL: no pod names */
	struct kube *kube;		 /* --pod/--namespace: the Kubernetes API client */
	struct trace_reorder *reorder;	 /* lines waiting for their turn */
	struct rules *rules;		 /* --tools.rules; NULL: default naming */
	struct {
		uint32_t uid;
		bool used;
		char name[64];
	} users[TRACE_USERS_CACHED];
	int write_err; /* first error writing stdout */
	bool summary_oom;
	bool reorder_oom;
	bool summaries_printed;
};

static void clock_init(struct trace_clock *c)
{
	uint64_t mono0 = clock_ns(CLOCK_MONOTONIC), real = clock_ns(CLOCK_REALTIME);
	uint64_t mono1 = clock_ns(CLOCK_MONOTONIC);
	time_t now = (time_t)(real / NS_PER_S);
	struct tm tm;

	/* the realtime reading lies between the two monotonic ones: take their middle */
	c->realtime_offset_ns = (int64_t)real - (int64_t)(mono0 + (mono1 - mono0) / 2);
	c->utc_offset_s = localtime_r(&now, &tm) ? tm.tm_gmtoff : 0;
}

static unsigned int terminal_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col;
	return TRACE_WIDTH_DEFAULT;
}

/* Writes what sb holds to stdout (buffered); remembers the first error. */
static void emit(struct tracer *t, struct strbuf *sb)
{
	if (t->write_err || !sb->len)
		return;
	if (sb->oom) {
		pr_err("out of memory formatting output");
		t->write_err = -ENOMEM;
		return;
	}
	if (fwrite(sb->buf, 1, sb->len, stdout) != sb->len)
		t->write_err = errno ? -errno : -EIO;
}

/* A line released by the reorder buffer goes to stdout. */
static void emit_line(const char *line, size_t len, void *ctx)
{
	struct tracer *t = ctx;

	if (t->write_err)
		return;
	if (fwrite(line, 1, len, stdout) != len)
		t->write_err = errno ? -errno : -EIO;
}

/* Holds the line in t->out until its turn: the time of its event, ts_ns (CLOCK_MONOTONIC). */
static void emit_at(struct tracer *t, uint64_t ts_ns)
{
	if (t->out.oom || !t->reorder) {
		emit(t, &t->out); /* says out of memory */
		return;
	}
	if (trace_reorder__push(t->reorder, ts_ns, t->out.buf, t->out.len, emit_line, t) &&
	    !t->reorder_oom) {
		pr_warn("out of memory: lines printed out of time order");
		t->reorder_oom = true;
	}
}

/* Releases the lines whose events are at least TRACE_REORDER_NS old. */
static void release_lines(void *ctx)
{
	struct tracer *t = ctx;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);

	if (t->reorder && now > TRACE_REORDER_NS)
		trace_reorder__release(t->reorder, now - TRACE_REORDER_NS, emit_line, t);
}

static void flush_lines(struct tracer *t)
{
	if (t->reorder)
		trace_reorder__flush(t->reorder, emit_line, t);
}

static void flush(struct tracer *t)
{
	if (!t->write_err && fflush(stdout))
		t->write_err = errno ? -errno : -EIO;
}

/* ev with the identity of its cgroup and the pod's names, when there is a resolver. */
static const struct exec_event *with_identity(struct tracer *t, const struct exec_event *ev,
					      struct exec_event *copy, struct kube_pod_names *names)
{
	const struct cgroup_identity *id;

	if (!t->cgroups)
		return ev;
	*copy = *ev;
	id = cgroup_resolver__lookup(t->cgroups, ev->cgroup_id, ev->tgid, clock_ns(CLOCK_MONOTONIC),
				     TRACE_CGROUP_WALK_GAP_NS);
	copy->identity = id;
	if (id && id->pod_uid[0] && t->names.lookup) {
		memset(names, 0, sizeof(*names));
		if (t->names.lookup(t->names.ctx, id->pod_uid, id->container_id, names))
			copy->names = names;
	}
	return copy;
}

static void on_event(const struct exec_event *raw, void *ctx)
{
	struct tracer *t = ctx;
	struct kube_pod_names names;
	struct exec_event copy;
	const struct exec_event *ev = with_identity(t, raw, &copy, &names);

	if (!trace_options__match(t->o, ev))
		return;
	if (t->summary) {
		if (trace_summary__add(t->summary, ev) && !t->summary_oom) {
			pr_warn("out of memory: summary incomplete");
			t->summary_oom = true;
		}
		return;
	}
	if (!trace_options__shows(t->o, ev))
		return;
	strbuf__reset(&t->out);
	if (t->o->json)
		trace_format__json(&t->out, &t->layout, &t->clock, ev);
	else
		trace_format__line(&t->out, &t->layout, &t->clock, ev);
	emit_at(t, trace_format__event_ns(ev));
}

static void print_summary(void *ctx)
{
	struct tracer *t = ctx;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct trace_summary_view v = {
	    .wall_ns = trace_clock__wall_ns(&t->clock, now),
	    .period_ns = now - t->period_start_ns,
	    .utc_offset_s = t->clock.utc_offset_s,
	    .wide = t->o->wide,
	    .measured = t->layout.measured,
	};

	flush_lines(t); /* anomaly lines before the summary */
	strbuf__reset(&t->out);
	if (t->o->json) {
		trace_summary__json(t->summary, &t->out, &v);
	} else {
		/* consecutive --interval summaries: a blank line between them */
		if (t->summaries_printed)
			strbuf__putc(&t->out, '\n');
		trace_summary__text(t->summary, &t->out, &v);
	}
	emit(t, &t->out);
	t->summaries_printed = true;
	trace_summary__reset(t->summary);
	t->period_start_ns = now;
}

static int print_anomaly(const struct anomaly_state *st, void *ctx)
{
	struct tracer *t = ctx;

	strbuf__reset(&t->out);
	trace_format__anomaly(&t->out, &t->clock, clock_ns(CLOCK_REALTIME), st->tool,
			      anomaly_kind__name(st->kind), anomaly_kind__severity(st->kind),
			      st->active, st->deviation_ratio, st->raised_total,
			      anomaly_cause__name(st->cause), t->o->json);
	emit_at(t, clock_ns(CLOCK_MONOTONIC));
	return 0;
}

/* Judges the window that just ended against the baselines; prints flags that changed. */
static void close_anomaly_window(void *ctx)
{
	struct tracer *t = ctx;

	windows__close(t->windows, runtime__registry(t->rt), t->detector, -1, (int64_t)time(NULL));
	anomaly__for_each_change(t->detector, print_anomaly, t);
}

/* Tells on stderr how many records the kernel dropped since the last time it told. */
static void report_lost(struct tracer *t, bool force)
{
	uint64_t lost[TW_LOST_MAX], total = 0, now = clock_ns(CLOCK_MONOTONIC);
	char detail[256] = "";
	size_t used = 0;

	loader__lost(runtime__loader(t->rt), lost);
	for (unsigned int i = 0; i < TW_LOST_MAX; i++) {
		total += lost[i];
		if (lost[i] && used < sizeof(detail)) {
			int n = snprintf(detail + used, sizeof(detail) - used, "%s%s %" PRIu64,
					 used ? ", " : "", lost_reason__name(i), lost[i]);
			used += n > 0 ? (size_t)n : 0;
		}
	}
	if (total == t->lost_reported)
		return;
	if (!force && now - t->lost_reported_ns < LOST_REPORT_INTERVAL_NS)
		return;
	pr_warn("%" PRIu64 " records lost since start (%s): output is incomplete", total, detail);
	t->lost_reported = total;
	t->lost_reported_ns = now;
}

/* Tells on stderr what was not as asked: lines out of order, regex searches cut short. */
static void report_late(struct tracer *t)
{
	uint64_t late = t->reorder ? trace_reorder__late(t->reorder) : 0;
	uint64_t limited =
	    trace_regex__limited(t->o->name_re) + trace_regex__limited(t->o->line_re);

	if (late)
		pr_warn("%" PRIu64 " lines reached trace more than %llums after their event: "
			"printed out of time order",
			late, TRACE_REORDER_NS / 1000000ULL);
	if (limited)
		pr_warn("%" PRIu64 " --name/--line searches hit the regex match limit and "
			"counted as no match",
			limited);
}

/* True when the effective capabilities allow loading tracing programs. */
static bool can_trace(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data))
		return true; /* cannot tell: let the loader find out */
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ULL << CAP_BPF)) && (eff & (1ULL << CAP_PERFMON));
}

/* --events anomaly: the agent's saved baselines, judged on this trace's own windows. */
static int anomaly_start(struct tracer *t)
{
	struct anomaly_config cfg;
	char why[512];
	int err;

	anomaly_config__init(&cfg);
	cfg.window_ns = t->o->anomaly_window_ns;
	if (t->o->anomaly_min_windows)
		cfg.min_windows = (uint32_t)t->o->anomaly_min_windows;
	if (t->o->anomaly_min_samples)
		cfg.min_samples = t->o->anomaly_min_samples;
	t->detector = anomaly__new(&cfg);
	t->windows = windows__new();
	if (!t->detector || !t->windows)
		return -ENOMEM;
	err = state__load(t->detector, t->o->state_dir, why, sizeof(why));
	if (err)
		pr_notice("--events anomaly: no usable baselines (%s): flags need a trusted "
			  "baseline, so none will show until one is learned",
			  why);
	else
		pr_notice("--events anomaly: baselines of %zu tools from '%s'",
			  anomaly__nr_tools(t->detector), t->o->state_dir);
	return 0;
}

static void print_ready(const struct trace_options *o)
{
	char d[16];

	if (o->duration_ns) {
		trace_format__duration(d, sizeof(d), o->duration_ns);
		pr_notice("tracing executions for %s, ctrl-c to end early", d);
	} else {
		pr_notice("tracing executions, ctrl-c to end");
	}
}

/* After every turn of the loop: lost records told, output flushed; a write error ends it. */
static bool after_turn(void *ctx)
{
	struct tracer *t = ctx;

	report_lost(t, false);
	release_lines(t);
	flush(t);
	return !t->write_err;
}

static void end_of_duration(void *ctx)
{
	struct tracer *t = ctx;

	runtime__stop(t->rt);
}

/* The user name of uid for {{.Username}}, cached; the number when unknown. */
static const char *username(uint32_t uid, void *ctx)
{
	struct tracer *t = ctx;
	size_t slot = uid % TRACE_USERS_CACHED;
	struct passwd pw, *found = NULL;
	char buf[1024];

	if (!t->users[slot].used || t->users[slot].uid != uid) {
		if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) || !found)
			snprintf(t->users[slot].name, sizeof(t->users[slot].name), "%u", uid);
		else
			snprintf(t->users[slot].name, sizeof(t->users[slot].name), "%s",
				 found->pw_name);
		t->users[slot].uid = uid;
		t->users[slot].used = true;
	}
	return t->users[slot].name;
}

/* -u NAME: the user's id into the kernel filter. 0, or 2 after one line. */
static int resolve_user(struct trace_options *o)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int err;

	if (!o->user[0])
		return 0;
	err = getpwnam_r(o->user, &pw, buf, sizeof(buf), &found);
	if (err || !found) {
		str__one_line(o->user);
		pr_err("invalid --uid '%s': %s (see 'toolwatch trace --help')", o->user,
		       err ? strerror(err) : "no such user");
		return 2;
	}
	o->filter.uid = (uint32_t)pw.pw_uid;
	o->filter.uid_set = true;
	return 0;
}

/*
 * Parses the command line, resolves --cgroup and -u NAME and loads --tools.rules: -1 to go
 * on, else the exit status.
 */
static int setup_options(struct tracer *t, struct trace_options *o, int argc, char **argv)
{
	char msg[512];

	trace_options__init(o);
	switch (trace_options__parse(o, argc, argv, msg, sizeof(msg))) {
	case OPTIONS_HELP:
		fputs(trace_usage, stdout);
		return 0;
	case OPTIONS_VERSION:
		printf("toolwatch trace %s\n", TOOLWATCH_VERSION);
		return 0;
	case OPTIONS_ERROR:
		pr_err("%s (see 'toolwatch trace --help')", msg);
		return 2;
	case OPTIONS_OK:
		break;
	}
	if (o->cgroup_path[0] &&
	    cgroup__resolve(o->cgroup_path, &o->filter.cgroup_id, msg, sizeof(msg))) {
		pr_err("%s", msg);
		return 2;
	}
	if (resolve_user(o))
		return 2;
	if (o->tools_rules[0] && rules__load(o->tools_rules, &t->rules, msg, sizeof(msg))) {
		pr_err("bad --tools.rules: %s", msg);
		return 2;
	}
	if (!can_trace()) {
		pr_err("needs root: loading BPF programs takes CAP_BPF and CAP_PERFMON (or "
		       "CAP_SYS_ADMIN)");
		return 1;
	}
	return -1;
}

static bool kube_names(void *ctx, const char *pod_uid, const char *container_id,
		       struct kube_pod_names *out)
{
	return kube__lookup(ctx, pod_uid, container_id, out);
}

/*
 * --pod/--namespace: pod names from the Kubernetes API (the agent's client). Without an
 * API (not in a pod, no --kubernetes.api-url) --pod matches pod uids only and --namespace
 * is refused. The first list is awaited (up to --kubernetes.timeout's default) so that
 * the first lines are not missed for want of names. 0, or an exit status.
 */
static int names_start(struct tracer *t)
{
	const struct trace_options *o = t->o;
	uint64_t end = clock_ns(CLOCK_MONOTONIC) + o->kube.timeout_ns;
	char why[512];

	t->kube = kube__start(&o->kube, why, sizeof(why));
	if (!t->kube) {
		if (errno == ENOENT && !o->namespace_[0]) {
			pr_warn("%s; --pod matches pod uids only", why);
			return 0;
		}
		pr_err("%s%s", why, errno == ENOENT ? " (--namespace needs pod names)" : "");
		return errno == ENOENT || errno == EINVAL ? 2 : 1;
	}
	while (!kube__generation(t->kube) && clock_ns(CLOCK_MONOTONIC) < end)
		usleep(10000);
	if (!kube__generation(t->kube))
		pr_warn("no pod list from '%s' yet: pods are named once it answers",
			kube__url(t->kube));
	t->names = (struct name_source){.lookup = kube_names, .ctx = t->kube};
	return 0;
}

/* Loads the programs (without the agent-only families) and registers the timers. */
static int tracing_start(struct tracer *t)
{
	const struct trace_options *o = t->o;
	struct runtime_config rcfg = {
	    .loader =
		{
		    .ringbuf_bytes = TRACE_RINGBUF_BYTES,
		    .max_processes = TRACE_MAX_PROCESSES,
		    .wakeup_bytes = 0, /* wake per record: lines show up as things happen */
		    .filter = o->filter,
		    /* agent-only: executions from before the start, live samples, host */
		    .disable =
			{
			    [PROBE_TASK_ITER] = true,
			    [PROBE_SAMPLER] = true,
			    [PROBE_RUNQLAT] = true,
			    [PROBE_BLOCKIO] = true,
			    [PROBE_DELAYACCT] = true, /* the agent's to turn on */
			    [PROBE_NETCALLS] = true,
			},
		},
	    .tools_max = TRACE_NAMES_MAX,
	    .keep_args = true,
	    .sink = on_event,
	    .after_turn = after_turn,
	    .ctx = t,
	};
	struct loader *l;
	int err;

	t->rt = runtime__new(&rcfg);
	if (!t->rt) {
		err = errno ? -errno : -EIO;
		pr_err("cannot start tracing: %s%s", strerror(-err),
		       err == -EPERM || err == -EACCES ? " (run as root: needs CAP_BPF and "
							 "CAP_PERFMON)"
						       : "");
		return err;
	}
	/* records wait in the ring buffer until the loop runs: every one is named by them */
	if (t->rules)
		consumer__set_rules(runtime__consumer(t->rt), t->rules, username, t);
	l = runtime__loader(t->rt);
	/* CPU, peak RSS and disk bytes are read at exit by the core programs */
	t->layout.measured = TRACE_MEASURE_CPU | TRACE_MEASURE_MEMORY | TRACE_MEASURE_DISK;
	if (loader__probe_enabled(l, PROBE_NET))
		t->layout.measured |= TRACE_MEASURE_NET;
	if (loader__probe_enabled(l, PROBE_TCP))
		t->layout.measured |= TRACE_MEASURE_TCP;
	if ((o->events & TRACE_EVENT_ANOMALY) && anomaly_start(t)) {
		pr_err("cannot allocate: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

/* --duration, --interval and anomaly windows, counted from the start of tracing. */
static int timers_start(struct tracer *t)
{
	const struct trace_options *o = t->o;
	int err = 0;

	if ((err = runtime__every(t->rt, TRACE_REORDER_TICK_NS, TRACE_REORDER_TICK_NS,
				  release_lines)) ||
	    (o->duration_ns && (err = runtime__every(t->rt, o->duration_ns, 0, end_of_duration))) ||
	    (o->interval_ns &&
	     (err = runtime__every(t->rt, o->interval_ns, o->interval_ns, print_summary))) ||
	    (t->detector && (err = runtime__every(t->rt, o->anomaly_window_ns, o->anomaly_window_ns,
						  close_anomaly_window))))
		pr_err("cannot create timer: %s", strerror(-err));
	return err;
}

int trace__main(int argc, char **argv)
{
	struct trace_options o;
	struct tracer t = {.o = &o};
	int status = 1, err;

	/* the loader's progress notes are agent talk; its warnings still matter here */
	log__setup(LOG_NOTICE, LOG_STYLE_CLI, "toolwatch trace");
	status = setup_options(&t, &o, argc, argv);
	if (status >= 0)
		goto cleanup;
	status = 1;
	t.layout.wide = o.wide;
	t.layout.uid = o.print_uid;
	t.layout.quote = o.quote;
	t.layout.max_args = o.max_args;
	t.reorder = trace_reorder__new(TRACE_REORDER_LINES);
	if (!t.reorder) {
		pr_err("cannot allocate: %s", strerror(errno));
		goto cleanup;
	}
	t.layout.width = terminal_width();
	if (o.summary && !(t.summary = trace_summary__new(TRACE_SUMMARY_TOOLS_MAX))) {
		pr_err("cannot allocate: %s", strerror(errno));
		goto cleanup;
	}
	if (o.json || o.wide || o.container[0] || o.pod[0] || o.namespace_[0]) {
		t.cgroups = cgroup_resolver__new(NULL, TRACE_CGROUP_CACHE_MAX);
		if (!t.cgroups && (o.container[0] || o.pod[0] || o.namespace_[0])) {
			pr_err("flags '--container', '--pod' and '--namespace' need a cgroup v2 "
			       "hierarchy: %s",
			       strerror(errno));
			status = 2;
			goto cleanup;
		}
	}
	if (o.pod[0] || o.namespace_[0]) {
		err = names_start(&t);
		if (err) {
			status = err;
			goto cleanup;
		}
	}
	if (tracing_start(&t))
		goto cleanup;
	/* timestamps are converted from the moment tracing starts */
	clock_init(&t.clock);
	t.period_start_ns = clock_ns(CLOCK_MONOTONIC);
	t.layout.relative = o.timestamp;
	t.layout.start_ns = t.period_start_ns;
	t.lost_reported_ns = t.period_start_ns;
	if (timers_start(&t))
		goto cleanup;
	if (!o.summary && !o.json) {
		trace_format__header(&t.out, &t.layout);
		emit(&t, &t.out);
	}
	flush(&t);
	print_ready(&o);

	err = runtime__run(t.rt);
	flush_lines(&t);
	if (!err && t.summary)
		print_summary(&t);
	flush(&t);
	report_lost(&t, true);
	report_late(&t);
	if (t.write_err && t.write_err != -EPIPE) {
		pr_err("cannot write output: %s", strerror(-t.write_err));
		goto cleanup;
	}
	/* a reader that went away (| head) is a normal end */
	status = err ? 1 : 0;
cleanup:
	runtime__free(t.rt);
	kube__stop(t.kube);
	trace_summary__free(t.summary);
	windows__free(t.windows);
	anomaly__free(t.detector);
	cgroup_resolver__free(t.cgroups);
	trace_reorder__free(t.reorder);
	rules__free(t.rules);
	trace_options__free(&o);
	strbuf__free(&t.out);
	return status;
}
