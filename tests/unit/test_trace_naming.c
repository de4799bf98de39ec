// SPDX-License-Identifier: GPL-2.0
/* Naming rules on what trace prints: failed execs and exits whose exec record was lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "events/consumer.h"
#include "events/registry.h"
#include "naming/rules.h"

struct fixture {
	struct registry *r;
	struct consumer *c;
	struct rules *rules;
	char last_tool[256];
	unsigned int events;
};

static void sink(const struct exec_event *ev, void *ctx)
{
	struct fixture *f = ctx;

	snprintf(f->last_tool, sizeof(f->last_tool), "%s", ev->tool ? ev->tool : "");
	f->events++;
}

static const char rules_yaml[] = "process_names:\n"
				 "  - name: 'by-comm-{{.Comm}}'\n"
				 "    comm: [frob, lonely]\n"
				 "  - name: 'by-exe'\n"
				 "    exe: [/opt/tools/widget]\n"
				 "  - name: 'by-cmdline-{{.Matches.tool}}'\n"
				 "    cmdline: ['^/srv/(?P<tool>[a-z]+)/run$']\n";

static int setup(void **state)
{
	static struct fixture f;
	struct consumer_config cfg = {};
	char err[256];

	memset(&f, 0, sizeof(f));
	f.r = registry__new(100);
	cfg.registry = f.r;
	cfg.sink = sink;
	cfg.sink_ctx = &f;
	cfg.keep_args = true;
	f.c = consumer__new(&cfg);
	if (!f.r || !f.c ||
	    rules__parse(rules_yaml, sizeof(rules_yaml) - 1, "t", &f.rules, err, sizeof(err)))
		return -1;
	consumer__set_rules(f.c, f.rules, NULL, NULL);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	consumer__free(f->c);
	registry__free(f->r);
	rules__free(f->rules);
	return 0;
}

/* The tool name a failed exec of path, tried by a process named comm, gets. */
static const char *failed_exec(struct fixture *f, const char *path, const char *comm)
{
	struct tw_exec_fail_rec rec = {.type = TW_REC_EXEC_FAIL, .tgid = 7, .error = 2};

	snprintf(rec.filename, sizeof(rec.filename), "%s", path);
	snprintf(rec.comm, sizeof(rec.comm), "%s", comm);
	consumer__handle(f->c, &rec, sizeof(rec));
	return f->last_tool;
}

static void test_trace_naming_rules_name_failed_execs(void **state)
{
	struct fixture *f = *state;

	/* the program as it would have run: comm from the path's base name */
	assert_string_equal(failed_exec(f, "/opt/missing/frob", "bash"), "by-comm-frob");
	/* argv[0] is the path */
	assert_string_equal(failed_exec(f, "/opt/tools/widget", "bash"), "by-exe");
	assert_string_equal(failed_exec(f, "/srv/gadget/run", "sh"), "by-cmdline-gadget");
	/* no rule: the default naming, after the program */
	assert_string_equal(failed_exec(f, "/usr/bin/nothere", "bash"), "nothere");
	/* not the process that tried: "bash" is no rule's comm, nor is the tool bash */
	assert_string_equal(failed_exec(f, "/x/frob-not", "frob"), "frob-not");
	/* a comm is 15 bytes: a longer base name is cut as the kernel would cut it */
	assert_string_equal(failed_exec(f, "/opt/lonelyxxxxxxxxxxxxx", "x"), "lonelyxxxxxxxxxxxxx");
	assert_string_equal(failed_exec(f, "/opt/lonely", "x"), "by-comm-lonely");
	assert_int_equal(f->events, 7);
}

static void test_trace_naming_rules_name_exits_whose_exec_was_lost(void **state)
{
	struct fixture *f = *state;
	struct tw_exit_rec rec = {.type = TW_REC_EXIT, .tgid = 99, .start_ns = 1, .end_ns = 2};

	snprintf(rec.comm, sizeof(rec.comm), "%s", "lonely");
	consumer__handle(f->c, &rec, sizeof(rec));
	assert_string_equal(f->last_tool, "by-comm-lonely");
	assert_int_equal(registry__agent(f->r)->exits_unmatched, 1);
	/* no rule matches: the comm, as before */
	rec.tgid = 100;
	snprintf(rec.comm, sizeof(rec.comm), "%s", "solo");
	consumer__handle(f->c, &rec, sizeof(rec));
	assert_string_equal(f->last_tool, "solo");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_trace_naming_rules_name_failed_execs, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_trace_naming_rules_name_exits_whose_exec_was_lost,
					    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
