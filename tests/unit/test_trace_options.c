// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "trace/trace_options.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_S  1000000000ULL
#define MAX_ARGS  32

static char err[512];

/* Parses a NULL-terminated list of flags into o (defaults first). */
static enum options_result parse_list(struct trace_options *o, const char *const *args)
{
	char *argv[MAX_ARGS];
	int argc = 0;

	while (args[argc]) {
		assert_true(argc < MAX_ARGS);
		argv[argc] = (char *)args[argc];
		argc++;
	}
	trace_options__init(o);
	err[0] = '\0';
	return trace_options__parse(o, argc, argv, err, sizeof(err));
}

#define PARSE(o, ...) parse_list(o, (const char *const[]){__VA_ARGS__, NULL})

/* The flags must be refused with a message that names flag. */
#define REJECT(flag, ...)                                                                          \
	do {                                                                                       \
		struct trace_options o_;                                                           \
		if (PARSE(&o_, __VA_ARGS__) != OPTIONS_ERROR)                                      \
			fail_msg("accepted: %s", #__VA_ARGS__);                                    \
		if (!strstr(err, flag))                                                            \
			fail_msg("message '%s' does not name '%s'", err, flag);                    \
		assert_null(strchr(err, '\n'));                                                    \
	} while (0)

static void test_trace_options_defaults(void **state)
{
	struct trace_options o;

	(void)state;
	assert_int_equal(parse_list(&o, (const char *const[]){NULL}), OPTIONS_OK);
	assert_int_equal(o.events, TRACE_EVENT_EXIT);
	assert_int_equal(o.filter.tgid, 0);
	assert_int_equal(o.filter.ppid, 0);
	assert_false(o.filter.uid_set);
	assert_int_equal(o.filter.min_duration_ns, 0);
	assert_false(o.filter.failed_only);
	assert_int_equal(o.duration_ns, 0);
	assert_int_equal(o.interval_ns, 0);
	assert_false(o.json);
	assert_false(o.summary);
	assert_false(o.wide);
	assert_string_equal(o.comm, "");
	assert_string_equal(o.tool, "");
	assert_string_equal(o.cgroup_path, "");
}

static void test_trace_options_every_flag(void **state)
{
	struct trace_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--pid", "42", "--ppid=7", "--uid", "0", "--comm", "make",
			       "--tool=py*", "--cgroup", "system.slice/cron.service",
			       "--min-duration", "10ms", "--failed", "--events", "exec,exit",
			       "--duration=1.5s", "--json", "-w"),
			 OPTIONS_OK);
	assert_int_equal(o.filter.tgid, 42);
	assert_int_equal(o.filter.ppid, 7);
	assert_true(o.filter.uid_set);
	assert_int_equal(o.filter.uid, 0);
	assert_string_equal(o.comm, "make");
	assert_string_equal(o.tool, "py*");
	assert_string_equal(o.cgroup_path, "system.slice/cron.service");
	assert_int_equal(o.filter.min_duration_ns, 10 * NS_PER_MS);
	assert_true(o.filter.failed_only);
	assert_int_equal(o.events, TRACE_EVENT_EXEC | TRACE_EVENT_EXIT);
	assert_int_equal(o.duration_ns, 1500 * NS_PER_MS);
	assert_true(o.json);
	assert_true(o.wide);
	assert_false(o.summary);

	assert_int_equal(PARSE(&o, "--summary", "--wide", "--interval", "2m"), OPTIONS_OK);
	assert_true(o.summary);
	assert_true(o.wide);
	assert_int_equal(o.interval_ns, 120 * NS_PER_S);
}

static void test_trace_options_durations(void **state)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} cases[] = {
	    {"500us", 500000ULL},   {"10ms", 10 * NS_PER_MS}, {"1.5s", 1500 * NS_PER_MS},
	    {"2m", 120 * NS_PER_S}, {"1h", 3600 * NS_PER_S},  {"1m30s", 90 * NS_PER_S},
	    {"250ns", 250},
	};
	struct trace_options o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
		    PARSE(&o, "--duration", cases[i].text, "--min-duration", cases[i].text),
		    OPTIONS_OK);
		assert_int_equal(o.duration_ns, cases[i].ns);
		assert_int_equal(o.filter.min_duration_ns, cases[i].ns);
	}
	/* zero is "no filter" for --min-duration, but no run at all for --duration */
	assert_int_equal(PARSE(&o, "--min-duration=0"), OPTIONS_OK);
	assert_int_equal(o.filter.min_duration_ns, 0);
	REJECT("--duration", "--duration=0");
	REJECT("--interval", "--interval=0");
	REJECT("--interval", "--interval=500us");
}

static void test_trace_options_rejects_garbage(void **state)
{
	(void)state;
	REJECT("--duration", "--duration", "5");
	REJECT("--duration", "--duration=5 s");
	REJECT("--duration", "--duration=-1s");
	REJECT("--duration", "--duration=1.s");
	REJECT("--duration", "--duration=abc");
	REJECT("--duration", "--duration=");
	REJECT("--duration", "--duration=99999999999999999h");
	REJECT("--min-duration", "--min-duration", "10 ms");
	REJECT("--min-duration", "--min-duration=1x");
	REJECT("--interval", "--interval=soon");
	REJECT("--pid", "--pid=0");
	REJECT("--pid", "--pid=-1");
	REJECT("--pid", "--pid=12a");
	REJECT("--pid", "--pid=4194305");
	REJECT("--pid", "--pid=0x10");
	REJECT("--ppid", "--ppid=");
	REJECT("--ppid", "--ppid= 1");
	REJECT("--uid", "--uid=a:b");
	REJECT("--uid", "--uid=a b");
	REJECT("--uid", "--uid=4294967295");
	REJECT("--uid", "--uid=-5");
	REJECT("--comm", "--comm=");
	REJECT("--tool", "--tool=");
	REJECT("--cgroup", "--cgroup=");
	REJECT("--events", "--events=");
	REJECT("--events", "--events=exec,,exit");
	REJECT("--events", "--events=exec,");
	REJECT("--events", "--events=bogus");
	REJECT("bogus", "--events=exit,bogus");
	REJECT("--json", "--json=maybe");
	REJECT("--failed", "--failed=2");
}

/* libbpf-tools' short flags, as execsnoop and exitsnoop users type them */
static void test_trace_options_short_flags(void **state)
{
	struct trace_options o;

	assert_int_equal(PARSE(&o, "-p", "42", "-u", "1000", "-x", "-t"), OPTIONS_OK);
	assert_int_equal(o.filter.tgid, 42);
	assert_true(o.filter.uid_set);
	assert_int_equal(o.filter.uid, 1000);
	assert_true(o.filter.failed_only);
	assert_true(o.timestamp);
	assert_int_equal(PARSE(&o, "-T"), OPTIONS_OK);
	assert_true(o.clock_time);
	assert_int_equal(PARSE(&o, "-V"), OPTIONS_VERSION);
	assert_int_equal(PARSE(&o, "--version"), OPTIONS_VERSION);
	assert_int_equal(PARSE(&o, "-h"), OPTIONS_HELP);
	REJECT("-t", "-t", "-T");
	REJECT("--pid", "-p", "1", "--pid", "2");
	REJECT("--pid", "-p", "0");
	assert_non_null(strstr(trace_usage, "EXAMPLES"));
	assert_non_null(strstr(trace_usage, "-p 1234"));
}

static void test_trace_options_unknown_and_malformed_flags(void **state)
{
	struct trace_options o;

	(void)state;
	REJECT("--bogus", "--bogus");
	REJECT("--bogus", "--bogus=1");
	REJECT("-Q", "-Q");
	REJECT("-P", "-P", "1");
	REJECT("--PID", "--PID=1");
	REJECT("'pid'", "pid");
	REJECT("'-'", "-");
	REJECT("'1234'", "--json", "1234");
	REJECT("--", "--");
	REJECT("--web.listen-address", "--web.listen-address=:9477");
	/* a value flag at the end without its value */
	REJECT("--pid", "--pid");
	REJECT("--events", "--json", "--events");
	/* help wins over what follows, not over an error before it */
	assert_int_equal(PARSE(&o, "--json", "-h", "--bogus"), OPTIONS_HELP);
	assert_int_equal(PARSE(&o, "--help"), OPTIONS_HELP);
	REJECT("--bogus", "--bogus", "--help");
}

static void test_trace_options_conflicts(void **state)
{
	struct trace_options o;

	(void)state;
	/* two filters of one kind: and? or? refused */
	REJECT("--pid", "--pid=1", "--pid=2");
	REJECT("--tool", "--tool=a", "--tool", "b");
	REJECT("--duration", "--duration=1s", "--duration=2s");
	REJECT("--events", "--events=exec", "--events=exit");
	/* repeating a switch is harmless */
	assert_int_equal(PARSE(&o, "--json", "--json", "-w", "--wide"), OPTIONS_OK);
	assert_true(o.json);
	/* --interval implies --summary; a switch can be turned off explicitly */
	assert_int_equal(PARSE(&o, "--interval=1s", "--summary=false"), OPTIONS_OK);
	assert_true(o.summary);
	assert_int_equal(PARSE(&o, "--json=false", "--failed=no"), OPTIONS_OK);
	assert_false(o.json);
	assert_false(o.filter.failed_only);
}

/* Both command lines refuse alike: the same line for the same mistake on a shared flag. */
static void test_trace_options_errors_shaped_as_the_agents(void **state)
{
	static const char *const cases[][3] = {
	    {"--bogus", NULL, "unknown flag '--bogus'"},
	    {"stray", NULL, "unexpected argument 'stray'"},
	    {"--state.dir=/a", "--state.dir=/b", "flag '--state.dir' given twice"},
	    {"--anomaly.min-samples", NULL, "flag '--anomaly.min-samples' needs a value"},
	    {"--anomaly.min-windows=0", NULL, "invalid --anomaly.min-windows '0': want 1..1000000"},
	    {"--anomaly.window=5", NULL,
	     "invalid --anomaly.window '5': want a duration such as 500us, 10ms, 1.5s, 2m or 1h "
	     "(at least 1s)"},
	};
	char agent_err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[2] = {(char *)cases[i][0], (char *)cases[i][1]};
		int argc = cases[i][1] ? 2 : 1;
		struct agent_options a;
		struct trace_options t;

		agent_options__init(&a);
		trace_options__init(&t);
		assert_int_equal(agent_options__parse(&a, argc, argv, agent_err, sizeof(agent_err)),
				 OPTIONS_ERROR);
		assert_int_equal(trace_options__parse(&t, argc, argv, err, sizeof(err)),
				 OPTIONS_ERROR);
		assert_string_equal(agent_err, cases[i][2]);
		assert_string_equal(err, cases[i][2]);
	}
}

static void test_trace_options_comm_cut_to_kernel_length(void **state)
{
	struct trace_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--comm=systemd-journald"), OPTIONS_OK);
	assert_string_equal(o.comm, "systemd-journal"); /* what the kernel keeps: 15 bytes */
	assert_int_equal(PARSE(&o, "--comm=systemd-journ*ld"), OPTIONS_OK);
	assert_string_equal(o.comm, "systemd-journ*ld"); /* a pattern is left alone */
}

static void test_trace_events_parse(void **state)
{
	unsigned int mask = 0;
	char bad[32];

	(void)state;
	assert_int_equal(trace_events__parse("exit", &mask, bad, sizeof(bad)), 0);
	assert_int_equal(mask, TRACE_EVENT_EXIT);
	assert_int_equal(trace_events__parse("anomaly,exec", &mask, bad, sizeof(bad)), 0);
	assert_int_equal(mask, TRACE_EVENT_ANOMALY | TRACE_EVENT_EXEC);
	assert_int_equal(trace_events__parse("all", &mask, bad, sizeof(bad)), 0);
	assert_int_equal(mask, TRACE_EVENT_ALL);
	assert_int_equal(trace_events__parse("exit,exit", &mask, bad, sizeof(bad)), 0);
	assert_int_equal(mask, TRACE_EVENT_EXIT);

	mask = 99;
	assert_int_equal(trace_events__parse("exec,Exit", &mask, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "Exit");
	assert_int_equal(mask, 99);
	assert_int_equal(trace_events__parse(",exec", &mask, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "");
	assert_int_equal(trace_events__parse("", &mask, bad, sizeof(bad)), -EINVAL);
	assert_int_equal(trace_events__parse("exec ", &mask, bad, sizeof(bad)), -EINVAL);
	/* only what produces lines is offered */
	assert_int_equal(trace_events__parse("exit,net", &mask, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "net");
	assert_int_equal(trace_events__parse("mem", &mask, bad, sizeof(bad)), -EINVAL);
	assert_null(strstr(trace_usage, "exit, net"));
	assert_non_null(strstr(trace_usage, "exec, exit, anomaly or all"));

	assert_string_equal(trace_event__name(TRACE_EVENT_EXEC), "exec");
	assert_string_equal(trace_event__name(TRACE_EVENT_ANOMALY), "anomaly");
	assert_string_equal(trace_event__name(3), "?");
}

static struct exec_event event(enum exec_event_kind kind)
{
	struct exec_event ev = {
	    .kind = kind,
	    .tool = "make",
	    .comm = "make",
	    .tgid = 100,
	    .ppid = 10,
	    .uid = 1000,
	    .cgroup_id = 77,
	    .start_ns = 1 * NS_PER_S,
	    .end_ns = 1 * NS_PER_S + 20 * NS_PER_MS,
	    .success = true,
	};
	if (kind == EXEC_EVENT_FAIL) {
		ev.success = false;
		ev.error = ERROR_EXEC_FAILED;
		ev.exec_errno = ENOENT;
		ev.end_ns = ev.start_ns;
	}
	return ev;
}

static void test_trace_options_match_user_space_filters(void **state)
{
	struct trace_options o;
	struct exec_event ev = event(EXEC_EVENT_END);

	(void)state;
	assert_int_equal(PARSE(&o, "--comm=ma*"), OPTIONS_OK);
	assert_true(trace_options__match(&o, &ev));
	ev.comm = "cc1";
	assert_false(trace_options__match(&o, &ev));
	assert_int_equal(PARSE(&o, "--tool=make"), OPTIONS_OK);
	assert_true(trace_options__match(&o, &ev));
	ev.tool = "gmake";
	assert_false(trace_options__match(&o, &ev));
	ev.tool = NULL;
	assert_false(trace_options__match(&o, &ev));
	assert_int_equal(PARSE(&o, "--tool=python[0-9]*"), OPTIONS_OK);
	ev.tool = "python3.11";
	assert_true(trace_options__match(&o, &ev));
	/* the label value as /metrics shows it matches too, taken literally */
	ev.tool = "a\xff\\b";
	assert_int_equal(PARSE(&o, "--tool=a\\xff\\\\b"), OPTIONS_OK);
	assert_true(trace_options__match(&o, &ev));
	assert_int_equal(PARSE(&o, "--tool=a\\xff*"), OPTIONS_OK);
	assert_true(trace_options__match(&o, &ev));
	assert_int_equal(PARSE(&o, "--tool=a\\xfe*"), OPTIONS_OK);
	assert_false(trace_options__match(&o, &ev));
}

static void test_trace_options_match_outcome_filters(void **state)
{
	struct trace_options o;
	struct exec_event start = event(EXEC_EVENT_START), end = event(EXEC_EVENT_END);
	struct exec_event fail = event(EXEC_EVENT_FAIL);

	(void)state;
	assert_int_equal(PARSE(&o, "--min-duration=10ms"), OPTIONS_OK);
	assert_true(trace_options__match(&o, &start)); /* outcome not known yet */
	assert_true(trace_options__match(&o, &end));   /* 20ms */
	end.end_ns = end.start_ns + 9 * NS_PER_MS;
	assert_false(trace_options__match(&o, &end));
	end.end_ns = end.start_ns + 10 * NS_PER_MS; /* at least D: D itself is in */
	assert_true(trace_options__match(&o, &end));
	assert_false(trace_options__match(&o, &fail)); /* never ran */

	assert_int_equal(PARSE(&o, "--failed"), OPTIONS_OK);
	assert_true(trace_options__match(&o, &start));
	assert_false(trace_options__match(&o, &end));
	end.success = false;
	end.status = 3 << 8;
	assert_true(trace_options__match(&o, &end));
	assert_true(trace_options__match(&o, &fail));
}

static void test_trace_options_match_refilters_failed_execs(void **state)
{
	struct trace_options o;
	struct exec_event fail = event(EXEC_EVENT_FAIL), end = event(EXEC_EVENT_END);

	(void)state;
	/* the kernel reports failed execs unfiltered: user space does it */
	assert_int_equal(PARSE(&o, "--pid=100", "--ppid=10", "--uid=1000"), OPTIONS_OK);
	o.filter.cgroup_id = 77;
	assert_true(trace_options__match(&o, &fail));
	fail.tgid = 101;
	assert_false(trace_options__match(&o, &fail));
	fail = event(EXEC_EVENT_FAIL);
	fail.ppid = 11;
	assert_false(trace_options__match(&o, &fail));
	fail = event(EXEC_EVENT_FAIL);
	fail.uid = 0;
	assert_false(trace_options__match(&o, &fail));
	fail = event(EXEC_EVENT_FAIL);
	fail.cgroup_id = 1;
	assert_false(trace_options__match(&o, &fail));
	/* an execution keeps what it matched at exec: a reparented child still shows */
	end.ppid = 1;
	assert_true(trace_options__match(&o, &end));
}

static void test_trace_options_shows_selected_events(void **state)
{
	struct trace_options o;
	struct exec_event start = event(EXEC_EVENT_START), end = event(EXEC_EVENT_END);
	struct exec_event fail = event(EXEC_EVENT_FAIL);

	(void)state;
	assert_int_equal(PARSE(&o, "--json"), OPTIONS_OK);
	assert_false(trace_options__shows(&o, &start));
	assert_true(trace_options__shows(&o, &end));
	assert_true(trace_options__shows(&o, &fail));
	assert_int_equal(PARSE(&o, "--events=exec"), OPTIONS_OK);
	assert_true(trace_options__shows(&o, &start));
	assert_false(trace_options__shows(&o, &end));
	assert_true(trace_options__shows(&o, &fail));
	assert_int_equal(PARSE(&o, "--events=anomaly"), OPTIONS_OK);
	assert_false(trace_options__shows(&o, &start));
	assert_false(trace_options__shows(&o, &end));
	assert_false(trace_options__shows(&o, &fail));
}

/* execsnoop's flags: -U, -q, -n, -l, --max-args; -u by name; --tools.rules */
static void test_trace_options_execsnoop_flags(void **state)
{
	struct trace_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "-U", "-q", "-n", "^ma", "-l", "-j[0-9]", "--max-args", "5",
			       "--tools.rules", "/etc/rules.yml"),
			 OPTIONS_OK);
	assert_true(o.print_uid);
	assert_true(o.quote);
	assert_string_equal(o.name, "^ma");
	assert_string_equal(o.line, "-j[0-9]");
	assert_non_null(o.name_re);
	assert_non_null(o.line_re);
	assert_int_equal(o.max_args, 5);
	assert_string_equal(o.tools_rules, "/etc/rules.yml");
	trace_options__free(&o);
	assert_null(o.name_re);
	assert_int_equal(
	    PARSE(&o, "--print-uid", "--quote", "--name=x", "--line=y", "--max-args=256"),
	    OPTIONS_OK);
	assert_true(o.print_uid && o.quote);
	assert_int_equal(o.max_args, 256);
	trace_options__free(&o);
	/* defaults: no regex, every argv word */
	assert_int_equal(PARSE(&o, "--json"), OPTIONS_OK);
	assert_null(o.name_re);
	assert_null(o.line_re);
	assert_int_equal(o.max_args, 0);
	assert_false(o.print_uid || o.quote);
	REJECT("--max-args", "--max-args=0");
	REJECT("--max-args", "--max-args=257");
	REJECT("--max-args", "--max-args=x");
	REJECT("--name", "-n", "");
	REJECT("--name", "-n", "a", "-n", "b");
	REJECT("--tools.rules", "--tools.rules=");
}

static void test_trace_options_uid_by_name_or_number(void **state)
{
	struct trace_options o;

	(void)state;
	/* a name is looked up by the caller; the kernel filter waits for it */
	assert_int_equal(PARSE(&o, "-u", "nobody"), OPTIONS_OK);
	assert_string_equal(o.user, "nobody");
	assert_false(o.filter.uid_set);
	assert_int_equal(PARSE(&o, "--uid=65534"), OPTIONS_OK);
	assert_string_equal(o.user, "");
	assert_true(o.filter.uid_set);
	assert_int_equal(o.filter.uid, 65534);
	assert_int_equal(PARSE(&o, "-u", "build-bot_1.x"), OPTIONS_OK);
	assert_string_equal(o.user, "build-bot_1.x");
	REJECT("--uid", "-u", "1x");
	REJECT("--uid", "-u", "a/b");
}

static void test_trace_options_bad_regex_one_line_naming_flag(void **state)
{
	struct trace_options o;

	(void)state;
	REJECT("--name", "-n", "(");
	assert_string_equal(err, "invalid --name '(': missing closing parenthesis at offset 1");
	REJECT("--line", "--json", "-l", "a[b");
	assert_non_null(strstr(err, "invalid --line 'a[b': missing terminating ]"));
	REJECT("--line", "-l", "x\\");
	/* a long pattern is cut in the message, which stays one line */
	REJECT("--name", "-n",
	       "(\n0123456789012345678901234567890123456789012345678901234567890123456789");
	assert_non_null(strstr(err, "..."));
	/* the first flag's regex is freed when the second one is bad */
	assert_int_equal(PARSE(&o, "-n", "ok", "-l", "("), OPTIONS_ERROR);
	assert_null(o.name_re);
	assert_null(o.line_re);
}

static void test_trace_options_match_name_and_line_regexes(void **state)
{
	struct trace_options o;
	struct exec_event ev = event(EXEC_EVENT_END), fail = event(EXEC_EVENT_FAIL);

	(void)state;
	ev.args = "make\0-j8\0all\0";
	ev.args_size = 13;
	/* -n: the task name or the tool name, anywhere in it */
	assert_int_equal(PARSE(&o, "-n", "ak"), OPTIONS_OK);
	assert_true(trace_options__match(&o, &ev));
	ev.comm = "gmake-wrapper";
	ev.tool = "build";
	assert_true(trace_options__match(&o, &ev)); /* by comm */
	ev.comm = "sh";
	assert_false(trace_options__match(&o, &ev));
	ev.tool = "remake";
	assert_true(trace_options__match(&o, &ev)); /* by tool */
	trace_options__free(&o);
	assert_int_equal(PARSE(&o, "-n", "^make$"), OPTIONS_OK);
	assert_false(trace_options__match(&o, &ev));
	trace_options__free(&o);

	/* -l: argv joined by spaces */
	ev = event(EXEC_EVENT_END);
	ev.args = "make\0-j8\0all\0";
	ev.args_size = 13;
	assert_int_equal(PARSE(&o, "-l", "-j8 all$"), OPTIONS_OK);
	assert_true(trace_options__match(&o, &ev));
	ev.args = "make\0-j8\0clean\0";
	ev.args_size = 15;
	assert_false(trace_options__match(&o, &ev));
	/* no argv (an exit seen alone): no match; a failed exec: its path */
	ev.args = NULL;
	ev.args_size = 0;
	assert_false(trace_options__match(&o, &ev));
	trace_options__free(&o);
	assert_int_equal(PARSE(&o, "-l", "^/opt/.*/tool$"), OPTIONS_OK);
	fail.filename = "/opt/x/tool";
	assert_true(trace_options__match(&o, &fail));
	fail.filename = "/opt/x/tool2";
	assert_false(trace_options__match(&o, &fail));
	trace_options__free(&o);

	/* argv bytes that are not UTF-8 do not stop a search */
	ev.args = "cat\0\xff\xfe\0secret\0";
	ev.args_size = 14;
	assert_int_equal(PARSE(&o, "-l", "secret"), OPTIONS_OK);
	assert_true(trace_options__match(&o, &ev));
	trace_options__free(&o);
}

static void test_trace_regex_limit_counts_as_no_match(void **state)
{
	char subject[64], why[128];
	struct trace_regex *re;

	(void)state;
	memset(subject, 'a', 40);
	subject[40] = 'c';
	/* exponential backtracking: bounded, then no match and counted */
	re = trace_regex__new("^(a+)+$", why, sizeof(why));
	assert_non_null(re);
	assert_false(trace_regex__search(re, subject, 41));
	assert_int_equal(trace_regex__limited(re), 1);
	assert_false(trace_regex__search(re, subject, 41));
	assert_int_equal(trace_regex__limited(re), 2);
	/* an ordinary miss is not counted */
	assert_false(trace_regex__search(re, "xyz", 3));
	assert_int_equal(trace_regex__limited(re), 2);
	assert_true(trace_regex__search(re, "aaa", 3));
	trace_regex__free(re);
	assert_int_equal(trace_regex__limited(NULL), 0);
	assert_null(trace_regex__new("(", why, sizeof(why)));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(why, "missing closing parenthesis at offset 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trace_options_defaults),
	    cmocka_unit_test(test_trace_options_every_flag),
	    cmocka_unit_test(test_trace_options_durations),
	    cmocka_unit_test(test_trace_options_rejects_garbage),
	    cmocka_unit_test(test_trace_options_unknown_and_malformed_flags),
	    cmocka_unit_test(test_trace_options_short_flags),
	    cmocka_unit_test(test_trace_options_conflicts),
	    cmocka_unit_test(test_trace_options_errors_shaped_as_the_agents),
	    cmocka_unit_test(test_trace_options_comm_cut_to_kernel_length),
	    cmocka_unit_test(test_trace_events_parse),
	    cmocka_unit_test(test_trace_options_match_user_space_filters),
	    cmocka_unit_test(test_trace_options_match_outcome_filters),
	    cmocka_unit_test(test_trace_options_match_refilters_failed_execs),
	    cmocka_unit_test(test_trace_options_shows_selected_events),
	    cmocka_unit_test(test_trace_options_execsnoop_flags),
	    cmocka_unit_test(test_trace_options_uid_by_name_or_number),
	    cmocka_unit_test(test_trace_options_bad_regex_one_line_naming_flag),
	    cmocka_unit_test(test_trace_options_match_name_and_line_regexes),
	    cmocka_unit_test(test_trace_regex_limit_counts_as_no_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
