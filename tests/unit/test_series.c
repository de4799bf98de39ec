// SPDX-License-Identifier: GPL-2.0
/* --metrics.labels end to end without the kernel: consumer -> series -> exposition, trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "events/consumer.h"
#include "exec_rec.h"
#include "exposition.h"
#include "identity/identity.h"
#include "agent/options.h"
#include "naming/tools.h"
#include "trace/trace_format.h"
#include "trace/trace_options.h"

#define CID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* A fake cgroup tree: id 10 -> pod A's container, 20 -> pod B's, anything else the host. */
static const char *path_of(uint64_t cgroup_id)
{
	switch (cgroup_id) {
	case 10:
		return "/kubepods/burstable/poduid-a/" CID_A;
	case 20:
		return "/kubepods.slice/kubepods-pod"
		       "uid_b.slice/cri-containerd-" CID_B ".scope";
	case 30:
		return "/kubepods/pod"
		       "uid-c/" CID_B;
	default:
		return "/user.slice";
	}
}

static bool fake_names(void *ctx, const char *pod_uid, const char *container_id,
		       struct kube_pod_names *out)
{
	(void)ctx;
	(void)container_id;
	if (!strcmp(pod_uid, "uid-a")) {
		snprintf(out->namespace_, sizeof(out->namespace_), "prod");
		snprintf(out->pod, sizeof(out->pod), "web-1");
		snprintf(out->container, sizeof(out->container), "app");
		return true;
	}
	if (!strcmp(pod_uid, "uid-b")) {
		snprintf(out->namespace_, sizeof(out->namespace_), "prod");
		snprintf(out->pod, sizeof(out->pod), "we\"b\\2");
		return true;
	}
	return false; /* uid-c: a pod the source does not know */
}

struct fixture {
	struct registry *r, *series;
	struct consumer *c;
	unsigned int mask;
	struct identity_labels labels;
	int calls;
	uint64_t gone[64]; /* cgroup ids removed, for fake_gone */
	int nr_gone, gone_calls;
};

static bool fake_gone(uint64_t cgroup_id, void *ctx)
{
	struct fixture *f = ctx;

	f->gone_calls++;
	for (int i = 0; i < f->nr_gone; i++) {
		if (f->gone[i] == cgroup_id)
			return true;
	}
	return false;
}

static const struct identity_labels *labels_of(uint64_t cgroup_id, uint32_t tgid, void *ctx)
{
	struct fixture *f = ctx;
	struct name_source src = {fake_names, NULL};
	struct cgroup_identity id;

	(void)tgid;
	f->calls++;
	identity__parse(path_of(cgroup_id), &id);
	identity__labels(&id, &src, f->mask, &f->labels);
	/* as the agent does: a series with any label value is counted from its cgroup */
	registry__set_origin(f->series, 0);
	for (int i = 0; i < IDENTITY_LABELS; i++) {
		if (f->labels.value[i][0]) {
			registry__set_origin(f->series, cgroup_id);
			break;
		}
	}
	return &f->labels;
}

static int setup(void **state)
{
	static struct fixture f;
	struct consumer_config cfg = {};

	memset(&f, 0, sizeof(f));
	f.r = registry__new(10);
	f.series = registry__new(4);
	f.mask = (1u << IDENTITY_LABEL_NAMESPACE) | (1u << IDENTITY_LABEL_POD) |
		 (1u << IDENTITY_LABEL_POD_UID);
	cfg.registry = f.r;
	f.c = consumer__new(&cfg);
	if (!f.c || !f.series)
		return -1;
	consumer__set_series(f.c, f.series, labels_of, &f);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	consumer__free(f->c);
	registry__free(f->r);
	registry__free(f->series);
	return 0;
}

static void run(struct fixture *f, uint32_t tgid, uint64_t cgroup, const char *path,
		uint32_t status)
{
	struct tw_exit_rec x = {.type = TW_REC_EXIT, .tgid = tgid, .start_ns = 1000};
	union exec_buf e;
	size_t size = make_exec(&e, tgid, 1000, path, NULL, 0);

	e.rec.cgroup_id = cgroup;
	consumer__handle(f->c, &e, size);
	x.cgroup_id = cgroup;
	x.end_ns = 1000 + 2000000;
	x.exit_code = status;
	x.usage.cpu_user_ns = 1000;
	consumer__handle(f->c, &x, sizeof(x));
}

/* The series id of tool under those labels, -1 when there is none. */
static int series_id_of(struct fixture *f, const char *tool, const char *ns, const char *pod,
			const char *uid)
{
	struct identity_labels l = {};
	char key[2048];

	snprintf(l.value[IDENTITY_LABEL_NAMESPACE], IDENTITY_NAME_MAX, "%s", ns);
	snprintf(l.value[IDENTITY_LABEL_POD], IDENTITY_NAME_MAX, "%s", pod);
	snprintf(l.value[IDENTITY_LABEL_POD_UID], IDENTITY_NAME_MAX, "%s", uid);
	assert_true(identity__key(&l, tool, key, sizeof(key)));
	return tool_table__lookup(registry__tools(f->series), key);
}

static struct tool_stats *series_of(struct fixture *f, const char *tool, const char *ns,
				    const char *pod, const char *uid)
{
	struct identity_labels l = {};
	char key[2048];
	int id;

	snprintf(l.value[IDENTITY_LABEL_NAMESPACE], IDENTITY_NAME_MAX, "%s", ns);
	snprintf(l.value[IDENTITY_LABEL_POD], IDENTITY_NAME_MAX, "%s", pod);
	snprintf(l.value[IDENTITY_LABEL_POD_UID], IDENTITY_NAME_MAX, "%s", uid);
	assert_true(identity__key(&l, tool, key, sizeof(key)));
	id = tool_table__lookup(registry__tools(f->series), key);
	return id < 0 ? NULL : registry__stats(f->series, (unsigned int)id);
}

static void test_series_split_by_identity(void **state)
{
	struct fixture *f = *state;
	struct tool_stats *a, *b, *c, *host, *tool;

	run(f, 1, 10, "/usr/bin/curl", 0);
	run(f, 2, 10, "/usr/bin/curl", 3 << 8);
	run(f, 3, 20, "/usr/bin/curl", 0);
	run(f, 4, 30, "/usr/bin/curl", 0);
	run(f, 5, 1, "/usr/bin/curl", 0);
	a = series_of(f, "curl", "prod", "web-1", "uid-a");
	b = series_of(f, "curl", "prod", "we\"b\\2", "uid-b");
	c = series_of(f, "curl", "", "", "uid-c"); /* names unknown: the uid stays */
	host = series_of(f, "curl", "", "", "");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(host);
	assert_int_equal(a->executions, 2);
	assert_int_equal(a->successes, 1);
	assert_int_equal(a->failures[ERROR_EXIT_CODE], 1);
	assert_int_equal(a->cpu_ns[MODE_USER], 2000);
	assert_int_equal(a->duration.count, 2);
	assert_int_equal(b->executions, 1);
	assert_int_equal(c->executions, 1);
	assert_int_equal(host->executions, 1);
	/* the per-tool figures (anomaly baselines) are the sum, unchanged */
	tool =
	    registry__stats(f->r, (unsigned int)tool_table__lookup(registry__tools(f->r), "curl"));
	assert_int_equal(tool->executions, 5);
	assert_int_equal(tool->cpu_ns[MODE_USER], 5000);
	assert_int_equal(a->running + b->running + tool->running, 0);
	/* looked up once per execution start (the resolver caches per cgroup) */
	assert_int_equal(f->calls, 5);
}

static void test_series_cap_overflows_to_other(void **state)
{
	struct fixture *f = *state;
	struct tool_stats *other;

	/* cap 4: curl in 4 identities fills it, the fifth goes to "other" */
	run(f, 1, 10, "/usr/bin/curl", 0);
	run(f, 2, 20, "/usr/bin/curl", 0);
	run(f, 3, 30, "/usr/bin/curl", 0);
	run(f, 4, 1, "/usr/bin/curl", 0);
	run(f, 5, 1, "/usr/bin/wget", 0);
	assert_null(series_of(f, "wget", "", "", ""));
	other = registry__stats(f->series, TOOL_OTHER_ID);
	assert_int_equal(other->executions, 1);
	assert_int_equal(tool_table__overflows(registry__tools(f->series)), 1);
	/* idle series leave; then there is room again */
	registry__set_now(f->series, 5);
	assert_int_equal(registry__evict_idle(f->series, 10 * 1000000000ULL, 1000000000ULL), 4);
	run(f, 6, 1, "/usr/bin/wget", 0);
	assert_non_null(series_of(f, "wget", "", "", ""));
}

static void test_series_running_pins_the_series(void **state)
{
	struct fixture *f = *state;
	union exec_buf e;
	size_t size = make_exec(&e, 9, 1, "/bin/sleep", NULL, 0);
	struct tool_stats *s;

	e.rec.cgroup_id = 10;
	consumer__handle(f->c, &e, size);
	s = series_of(f, "sleep", "prod", "web-1", "uid-a");
	assert_non_null(s);
	assert_int_equal(s->running, 1);
	assert_int_equal(registry__evict_idle(f->series, 100 * 1000000000ULL, 1), 0);
	assert_non_null(series_of(f, "sleep", "prod", "web-1", "uid-a"));
}

/* An exec again in another cgroup (same tool name) moves the execution to that series. */
static void test_series_reexec_in_another_cgroup_moves_it(void **state)
{
	struct fixture *f = *state;
	struct tw_exit_rec x = {.type = TW_REC_EXIT, .tgid = 9, .start_ns = 1, .end_ns = 2000001};
	union exec_buf e;
	size_t size = make_exec(&e, 9, 1, "/usr/bin/app", NULL, 0);
	struct tool_stats *a, *b;

	e.rec.cgroup_id = 10;
	consumer__handle(f->c, &e, size);
	size = make_exec(&e, 9, 1, "/usr/bin/app", NULL, 0);
	e.rec.cgroup_id = 20;
	e.rec.flags = TW_F_REEXEC;
	consumer__handle(f->c, &e, size);
	a = series_of(f, "app", "prod", "web-1", "uid-a");
	b = series_of(f, "app", "prod", "we\"b\\2", "uid-b");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->running, 0);
	assert_int_equal(b->running, 1);
	x.cgroup_id = 20;
	x.flags = TW_F_REEXEC;
	consumer__handle(f->c, &x, sizeof(x));
	assert_int_equal(a->executions, 0);
	assert_int_equal(b->executions, 1);
	assert_int_equal(b->running, 0);
}

#define SEC 1000000000ULL

static void test_series_leave_when_idle_and_gone(void **state)
{
	struct fixture *f = *state;
	struct registry_evict_rule rule = {.idle_ns = 5 * SEC, .recheck_ns = 2 * SEC};
	struct tool_stats *b;

	registry__set_gone(f->series, fake_gone, f);
	registry__set_now(f->series, 1 * SEC);
	run(f, 1, 10, "/usr/bin/curl", 0); /* pod A */
	run(f, 2, 20, "/usr/bin/curl", 0); /* pod B */
	run(f, 3, 20, "/usr/bin/curl", 0);
	run(f, 4, 1, "/usr/bin/curl", 0); /* the host: no origin */
	assert_int_equal(registry__origins(f->series, 1), 1);
	assert_int_equal(
	    registry__origins(f->series, (unsigned int)series_id_of(f, "curl", "", "", "")), 0);
	/* not idle long enough: nothing is tested */
	assert_int_equal(registry__evict_gone(f->series, 5 * SEC, &rule), 0);
	assert_int_equal(f->gone_calls, 0);
	/* idle, but both pods live and the host never goes (originless 0: never) */
	assert_int_equal(registry__evict_gone(f->series, 7 * SEC, &rule), 0);
	assert_int_equal(f->gone_calls, 2);
	/* pod A's cgroup is removed: not tested again before the recheck time */
	f->gone[f->nr_gone++] = 10;
	assert_int_equal(registry__evict_gone(f->series, 8 * SEC, &rule), 0);
	assert_int_equal(f->gone_calls, 2);
	assert_int_equal(registry__evict_gone(f->series, 9 * SEC, &rule), 1);
	assert_null(series_of(f, "curl", "prod", "web-1", "uid-a"));
	/* the living pod's series stays, with its exact count */
	b = series_of(f, "curl", "prod", "we\"b\\2", "uid-b");
	assert_non_null(b);
	assert_int_equal(b->executions, 2);
	assert_non_null(series_of(f, "curl", "", "", ""));
	/* pod B goes too; the host's series follows --tools.idle-timeout (15 s here) */
	f->gone[f->nr_gone++] = 20;
	rule.originless_idle_ns = 15 * SEC;
	assert_int_equal(registry__evict_gone(f->series, 11 * SEC, &rule), 1);
	assert_null(series_of(f, "curl", "prod", "we\"b\\2", "uid-b"));
	assert_non_null(series_of(f, "curl", "", "", ""));
	assert_int_equal(registry__evict_gone(f->series, 20 * SEC, &rule), 1);
	assert_null(series_of(f, "curl", "", "", ""));
	assert_int_equal(registry__agent(f->series)->tools_evicted, 3);
}

static void test_series_running_or_live_pins_and_the_cap_overflows(void **state)
{
	struct fixture *f = *state;
	struct registry_evict_rule rule = {.idle_ns = SEC, .recheck_ns = SEC};

	/* cap 4, full of idle series of live pods: they stay, a new one counts as "other" */
	registry__set_gone(f->series, fake_gone, f);
	registry__set_now(f->series, 0);
	run(f, 1, 10, "/usr/bin/a", 0);
	run(f, 2, 10, "/usr/bin/b", 0);
	run(f, 3, 20, "/usr/bin/c", 0);
	run(f, 4, 30, "/usr/bin/d", 0);
	assert_int_equal(registry__evict_gone(f->series, 100 * SEC, &rule), 0);
	run(f, 5, 20, "/usr/bin/e", 0);
	assert_null(series_of(f, "e", "prod", "we\"b\\2", "uid-b"));
	assert_int_equal(registry__stats(f->series, TOOL_OTHER_ID)->executions, 1);
	assert_int_equal(tool_table__overflows(registry__tools(f->series)), 1);
	/* pod A goes: its two series leave, and there is room again */
	f->gone[f->nr_gone++] = 10;
	assert_int_equal(registry__evict_gone(f->series, 102 * SEC, &rule), 2);
	run(f, 6, 20, "/usr/bin/e", 0);
	assert_non_null(series_of(f, "e", "prod", "we\"b\\2", "uid-b"));
}

static void test_series_of_many_cgroups_goes_with_the_last(void **state)
{
	struct fixture *f = *state;
	struct registry_evict_rule rule = {.idle_ns = SEC, .recheck_ns = 0};
	unsigned int id;

	/* labels=namespace: pods A and B (cgroups 10, 20) share the series prod/curl */
	f->mask = 1u << IDENTITY_LABEL_NAMESPACE;
	registry__set_gone(f->series, fake_gone, f);
	registry__set_now(f->series, 0);
	run(f, 1, 10, "/usr/bin/curl", 0);
	run(f, 2, 20, "/usr/bin/curl", 0);
	run(f, 3, 10, "/usr/bin/curl", 0);
	id = (unsigned int)series_id_of(f, "curl", "prod", "", "");
	assert_int_equal(registry__origins(f->series, id), 2);
	f->gone[f->nr_gone++] = 10;
	assert_int_equal(registry__evict_gone(f->series, 10 * SEC, &rule), 0);
	assert_int_equal(registry__origins(f->series, id), 1); /* the gone one left the set */
	f->gone[f->nr_gone++] = 20;
	assert_int_equal(registry__evict_gone(f->series, 11 * SEC, &rule), 1);
	assert_int_equal(registry__origins(f->series, id), 0);
}

static void test_series_origin_sets_stay_small_under_churn(void **state)
{
	struct fixture *f = *state;
	unsigned int id;

	/* a series fed by 1,000 short-lived cgroups, each removed before the next: gone
	 * origins are pruned when the set fills, so it holds a few, not a thousand */
	registry__set_gone(f->series, fake_gone, f);
	for (uint64_t cg = 1000; cg < 2000; cg++) {
		registry__set_origin(f->series, cg);
		id = registry__tool_id(f->series, "churn");
		f->gone[0] = cg;
		f->nr_gone = 1;
	}
	assert_true(registry__origins(f->series, id) <= 2);
	/* without a gone test one origin marks the series, and idle time alone decides */
	registry__set_gone(f->series, NULL, NULL);
	registry__set_origin(f->series, 7);
	id = registry__tool_id(f->series, "plain");
	registry__set_origin(f->series, 8);
	assert_int_equal(registry__tool_id(f->series, "plain"), id);
	assert_int_equal(registry__origins(f->series, id), 1);
	assert_int_equal(registry__evict_gone(f->series, 100 * SEC,
					      &(struct registry_evict_rule){.idle_ns = SEC}),
			 2);
}

static void test_series_gone_tests_are_budgeted_per_pass(void **state)
{
	struct fixture *f = *state;
	struct registry_evict_rule rule = {.idle_ns = SEC, .recheck_ns = 0, .max_tests = 3};
	struct registry *r = registry__new(100);
	char name[16];
	size_t left = 10, got;

	/* 10 idle series of 10 gone cgroups, 3 tests a pass: 3, 3, 3, then the last one */
	registry__set_gone(r, fake_gone, f);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		registry__set_origin(r, 100 + (uint64_t)i);
		registry__tool_id(r, name);
		f->gone[f->nr_gone++] = 100 + (uint64_t)i;
	}
	for (int pass = 0; pass < 4; pass++) {
		f->gone_calls = 0;
		got = registry__evict_gone(r, 10 * SEC, &rule);
		assert_int_equal(got, pass < 3 ? 3 : 1);
		assert_true(f->gone_calls <= 3);
		left -= got;
	}
	assert_int_equal(left, 0);
	registry__free(r);
}

static void test_series_exposition_labels(void **state)
{
	struct fixture *f = *state;
	struct snapshot *s;
	struct strbuf out = {};

	run(f, 1, 10, "/usr/bin/curl", 0);
	run(f, 2, 20, "/usr/bin/curl", 0);
	run(f, 3, 1, "/usr/bin/curl", 0);
	s = registry__snapshot(f->series, 1);
	assert_non_null(s);
	s->identity_labels = f->mask;
	s->identity.enabled = true;
	exposition__render(s, "test", &out);
	assert_non_null(out.buf);
	assert_non_null(strstr(out.buf, "tool_executions_total{tool=\"curl\",pod_uid=\"uid-a\","
					"namespace=\"prod\",pod=\"web-1\"} 1\n"));
	/* hostile names are escaped like any label value (visible form, then the text format) */
	assert_non_null(strstr(out.buf, "tool_executions_total{tool=\"curl\",pod_uid=\"uid-b\","
					"namespace=\"prod\",pod=\"we\\\"b\\\\\\\\2\"} 1\n"));
	/* outside any container: empty values */
	assert_non_null(strstr(out.buf, "tool_executions_total{tool=\"curl\",pod_uid=\"\","
					"namespace=\"\",pod=\"\"} 1\n"));
	/* "other" has every label, empty */
	assert_non_null(strstr(out.buf, "tool_executions_total{tool=\"other\",pod_uid=\"\","
					"namespace=\"\",pod=\"\"} 0\n"));
	/* histograms and split families carry them too */
	assert_non_null(strstr(out.buf,
			       "tool_execution_duration_seconds_bucket{tool=\"curl\","
			       "pod_uid=\"uid-a\",namespace=\"prod\",pod=\"web-1\",le=\""));
	assert_non_null(strstr(out.buf,
			       "tool_cpu_seconds_total{tool=\"curl\",pod_uid=\"uid-a\","
			       "namespace=\"prod\",pod=\"web-1\",mode=\"user\"} 0.000001\n"));
	/*
	 * 4 pairs of 65 text series each: 26 + 24 of the histograms, 6 failure types, 9 more
	 * (no net or tcp probe, runqueue wait only)
	 */
	assert_non_null(strstr(out.buf, "toolwatch_series_tracked 260\n"));
	/* no container_id asked for: none shown */
	assert_null(strstr(out.buf, "container_id="));
	strbuf__free(&out);
	snapshot__put(s);
}

static void test_series_metrics_labels_flag(void **state)
{
	struct agent_options o;
	char err[256];
	char *ok[] = {"--metrics.labels=namespace,pod,container", "--metrics.max-series=500",
		      "--metrics.identity-idle-timeout=30s"};
	char *bad[] = {"--metrics.labels=pod,node"};

	(void)state;
	agent_options__init(&o);
	assert_int_equal(o.metrics_labels, 0);
	assert_int_equal(o.metrics_max_series, 20000);
	assert_int_equal(o.metrics_identity_idle_timeout_ns, 600ULL * 1000000000ULL);
	assert_int_equal(agent_options__parse(&o, 3, ok, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(o.metrics_labels, (1u << IDENTITY_LABEL_NAMESPACE) |
					       (1u << IDENTITY_LABEL_POD) |
					       (1u << IDENTITY_LABEL_CONTAINER));
	assert_int_equal(o.metrics_max_series, 500);
	assert_int_equal(o.metrics_identity_idle_timeout_ns, 30ULL * 1000000000ULL);
	agent_options__init(&o);
	assert_int_equal(agent_options__parse(&o, 1, bad, err, sizeof(err)), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--metrics.labels"));
	assert_non_null(strstr(err, "node"));
	assert_null(strchr(err, '\n'));
}

static struct exec_event trace_event(const struct cgroup_identity *id,
				     const struct kube_pod_names *names)
{
	static struct tw_usage u;
	struct exec_event ev = {
	    .kind = EXEC_EVENT_END,
	    .tool = "curl",
	    .comm = "curl",
	    .tgid = 7,
	    .start_ns = 1,
	    .end_ns = 2,
	    .success = true,
	    .usage = &u,
	    .identity = id,
	    .names = names,
	};

	return ev;
}

static void test_series_trace_identity_output(void **state)
{
	struct trace_layout wide = {.wide = true, .width = 80, .measured = TRACE_MEASURE_ALL};
	struct trace_clock clock = {};
	struct cgroup_identity id;
	struct kube_pod_names names = {.namespace_ = "prod", .pod = "web-1", .container = "app"};
	struct exec_event ev;
	struct strbuf out = {};

	(void)state;
	identity__parse(path_of(10), &id);
	ev = trace_event(&id, &names);
	trace_format__line(&out, &wide, &clock, &ev);
	assert_non_null(strstr(out.buf, " 0 aaaaaaaaaaaa "));
	strbuf__reset(&out);
	trace_format__json(&out, &wide, &clock, &ev);
	assert_non_null(strstr(out.buf, "\"container_id\":\"" CID_A "\",\"pod_uid\":\"uid-a\","
					"\"namespace\":\"prod\",\"pod\":\"web-1\","
					"\"container\":\"app\","));
	/* without names: ids only, no name fields */
	ev = trace_event(&id, NULL);
	strbuf__reset(&out);
	trace_format__json(&out, &wide, &clock, &ev);
	assert_non_null(strstr(out.buf, "\"pod_uid\":\"uid-a\","));
	assert_null(strstr(out.buf, "\"namespace\""));
	strbuf__free(&out);
}

static void test_series_trace_filters(void **state)
{
	struct trace_options o;
	struct cgroup_identity a, host;
	struct kube_pod_names names = {.namespace_ = "prod", .pod = "web-1"};
	struct exec_event ev;

	(void)state;
	identity__parse(path_of(10), &a);
	identity__parse(path_of(1), &host);
	trace_options__init(&o);
	snprintf(o.container, sizeof(o.container), "aaaa");
	ev = trace_event(&a, NULL);
	assert_true(trace_options__match(&o, &ev));
	ev = trace_event(&host, NULL);
	assert_false(trace_options__match(&o, &ev));
	ev = trace_event(NULL, NULL); /* not resolved */
	assert_false(trace_options__match(&o, &ev));
	snprintf(o.container, sizeof(o.container), "aaab");
	ev = trace_event(&a, NULL);
	assert_false(trace_options__match(&o, &ev));

	/* --pod: the name when known (glob), else the uid's prefix */
	trace_options__init(&o);
	snprintf(o.pod, sizeof(o.pod), "web-*");
	ev = trace_event(&a, &names);
	assert_true(trace_options__match(&o, &ev));
	ev = trace_event(&a, NULL);
	assert_false(trace_options__match(&o, &ev));
	snprintf(o.pod, sizeof(o.pod), "uid-");
	assert_true(trace_options__match(&o, &ev));
	ev = trace_event(&host, NULL);
	assert_false(trace_options__match(&o, &ev));

	/* --namespace: names only */
	trace_options__init(&o);
	snprintf(o.namespace_, sizeof(o.namespace_), "prod");
	ev = trace_event(&a, &names);
	assert_true(trace_options__match(&o, &ev));
	ev = trace_event(&a, NULL);
	assert_false(trace_options__match(&o, &ev));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_series_split_by_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_series_cap_overflows_to_other, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_series_running_pins_the_series, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_series_reexec_in_another_cgroup_moves_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_series_leave_when_idle_and_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_series_running_or_live_pins_and_the_cap_overflows,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_series_of_many_cgroups_goes_with_the_last, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_series_origin_sets_stay_small_under_churn, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_series_gone_tests_are_budgeted_per_pass, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_series_exposition_labels, setup, teardown),
	    cmocka_unit_test(test_series_metrics_labels_flag),
	    cmocka_unit_test(test_series_trace_identity_output),
	    cmocka_unit_test(test_series_trace_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
