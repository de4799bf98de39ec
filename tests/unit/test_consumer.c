// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "events/consumer.h"
#include "exec_rec.h"
#include "naming/rules.h"
#include "naming/tools.h"

struct fixture {
	struct registry *r;
	struct consumer *c;
	int ends;
	struct exec_event last; /* its pointers are dangling after the callback */
	char last_filename[TW_PATH_LEN];
};

static void sink(const struct exec_event *ev, void *ctx)
{
	struct fixture *f = ctx;

	if (ev->kind != EXEC_EVENT_START)
		f->ends++;
	f->last = *ev;
	snprintf(f->last_filename, sizeof(f->last_filename), "%s",
		 ev->filename ? ev->filename : "");
}

static int setup(void **state)
{
	static struct fixture f;
	struct consumer_config cfg = {};

	memset(&f, 0, sizeof(f));
	f.r = registry__new(10);
	cfg.registry = f.r;
	cfg.sink = sink;
	cfg.sink_ctx = &f;
	cfg.keep_args = true;
	f.c = consumer__new(&cfg);
	*state = &f;
	return f.c ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	consumer__free(f->c);
	registry__free(f->r);
	return 0;
}

static void exec_rec(struct fixture *f, uint32_t tgid, uint64_t start, const char *path,
		     uint32_t flags)
{
	union exec_buf b;
	size_t size = make_exec(&b, tgid, start, path, NULL, 0);

	b.rec.flags = flags;
	consumer__handle(f->c, &b, size);
}

static void exit_rec(struct fixture *f, uint32_t tgid, uint64_t start, uint64_t end,
		     uint32_t status, uint32_t flags, const struct tw_usage *u)
{
	struct tw_exit_rec rec = {.type = TW_REC_EXIT, .tgid = tgid, .start_ns = start};

	rec.end_ns = end;
	rec.exit_code = status;
	rec.flags = flags;
	strncpy(rec.comm, "fromcomm", sizeof(rec.comm) - 1);
	if (u)
		rec.usage = *u;
	consumer__handle(f->c, &rec, sizeof(rec));
}

static struct tool_stats *stats_of(struct fixture *f, const char *name)
{
	int id = tool_table__lookup(registry__tools(f->r), name);

	assert_true(id >= 0);
	return registry__stats(f->r, (unsigned int)id);
}

static void test_consumer_exec_then_exit_counts_duration(void **state)
{
	struct fixture *f = *state;
	struct tool_stats *s;

	exec_rec(f, 100, 1000, "/usr/bin/curl", 0);
	s = stats_of(f, "curl");
	assert_int_equal(s->running, 1);
	assert_int_equal(consumer__inflight(f->c), 1);
	exit_rec(f, 100, 1000, 1000 + 3000000, 0, 0, NULL);
	assert_int_equal(s->executions, 1);
	assert_int_equal(s->successes, 1);
	assert_int_equal(s->running, 0);
	assert_int_equal(s->duration.count, 1);
	assert_int_equal(s->duration.sum, 3000000);
	/* the exact 3 ms in its native bucket too: (2^(-68/8), 2^(-67/8)] s */
	assert_int_equal(native_hist__count(&s->duration_native), 1);
	assert_int_equal(s->duration_native.nr, 1);
	assert_int_equal(s->duration_native.first, native_hist__key(0.003, NATIVE_HIST_SCHEMA));
	assert_int_equal(f->ends, 1);
	assert_string_equal(f->last_filename, "/usr/bin/curl");
	assert_int_equal(consumer__inflight(f->c), 0);
}

static void test_consumer_reexec_renames_one_execution(void **state)
{
	struct fixture *f = *state;
	struct tool_stats *entry, *env, *prog;
	unsigned int via_count;

	exec_rec(f, 100, 1000, "/app/entry.sh", 0);
	exec_rec(f, 100, 1000, "/usr/bin/env", TW_F_REEXEC);
	exec_rec(f, 100, 1000, "/usr/bin/prog", TW_F_REEXEC);
	entry = stats_of(f, "entry.sh");
	env = stats_of(f, "env");
	prog = stats_of(f, "prog");
	assert_int_equal(entry->running + env->running, 0);
	assert_int_equal(prog->running, 1);
	assert_int_equal(consumer__inflight(f->c), 1);
	exit_rec(f, 100, 1000, 1000 + 5000000, 3 << 8, TW_F_REEXEC, NULL);
	via_count = f->last.via_count;
	assert_int_equal(entry->executions + env->executions, 0);
	assert_int_equal(prog->executions, 1);
	assert_int_equal(prog->failures[ERROR_EXIT_CODE], 1);
	assert_int_equal(prog->duration.sum, 5000000);
	assert_int_equal(via_count, 2);
	assert_int_equal(consumer__inflight(f->c), 0);
}

static void test_consumer_shell_child_without_exec_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct tw_no_exec_rec rec = {.type = TW_REC_NO_EXEC, .tgid = 101, .owner = 100};
	struct tool_stats *s;

	static const char args[] = "/bin/bash\0./build.sh";
	union exec_buf b;
	size_t size = make_exec(&b, 100, 1000, "./build.sh", args, sizeof(args));

	/* a script: its comm and path are the script's, argv[0] the shell */
	consumer__handle(f->c, &b, size);
	rec.owner_start_ns = 1000;
	strncpy(rec.comm, "build.sh", sizeof(rec.comm) - 1);
	consumer__handle(f->c, &rec, sizeof(rec));
	s = stats_of(f, "build.sh");
	assert_int_equal(s->executions, 1);
	assert_int_equal(s->failures[ERROR_NOT_FOUND], 1);
	assert_int_equal(s->running, 1);
	/* not a shell: a program's own child exiting 127 is not a missing command */
	exec_rec(f, 200, 2000, "/usr/bin/python3", 0);
	rec.owner = 200;
	rec.owner_start_ns = 2000;
	consumer__handle(f->c, &rec, sizeof(rec));
	assert_int_equal(stats_of(f, "python3")->executions, 0);
}

static void test_consumer_classifies_failures(void **state)
{
	struct fixture *f = *state;
	struct tool_stats *s;

	exec_rec(f, 1, 10, "/bin/t", 0);
	exit_rec(f, 1, 10, 20, 3 << 8, 0, NULL); /* exit 3 */
	exec_rec(f, 2, 10, "/bin/t", 0);
	exit_rec(f, 2, 10, 20, 9, 0, NULL); /* SIGKILL */
	exec_rec(f, 3, 10, "/bin/t", 0);
	exit_rec(f, 3, 10, 20, 0x80 | 11, 0, NULL); /* SIGSEGV, core */
	exec_rec(f, 4, 10, "/bin/t", 0);
	exit_rec(f, 4, 10, 20, 9, TW_F_OOM_KILLED, NULL); /* OOM kill */
	s = stats_of(f, "t");
	assert_int_equal(s->executions, 4);
	assert_int_equal(s->successes, 0);
	assert_int_equal(s->failures[ERROR_EXIT_CODE], 1);
	assert_int_equal(s->failures[ERROR_SIGNAL], 1);
	assert_int_equal(s->failures[ERROR_CORE_DUMP], 1);
	assert_int_equal(s->failures[ERROR_OOM_KILL], 1);
}

static void test_consumer_exec_failure_names_the_missing_program(void **state)
{
	struct fixture *f = *state;
	struct tw_exec_fail_rec rec = {.type = TW_REC_EXEC_FAIL, .tgid = 7, .error = 2};
	struct tool_stats *s;

	strcpy(rec.filename, "/opt/missing/frob");
	strcpy(rec.comm, "bash");
	consumer__handle(f->c, &rec, sizeof(rec));
	s = stats_of(f, "frob");
	assert_int_equal(s->executions, 1);
	assert_int_equal(s->failures[ERROR_EXEC_FAILED], 1);
	assert_int_equal(s->duration.count, 0);
	assert_int_equal(f->last.exec_errno, 2);
}

static void test_consumer_partial_execution_has_no_duration(void **state)
{
	struct fixture *f = *state;
	struct tool_stats *s;

	exec_rec(f, 50, 5, "/usr/sbin/sshd", TW_F_PARTIAL);
	exit_rec(f, 50, 5, 999999999, 0, TW_F_PARTIAL, NULL);
	s = stats_of(f, "sshd");
	assert_int_equal(s->executions, 1);
	assert_int_equal(s->partial, 1);
	assert_int_equal(s->duration.count, 0);
	assert_int_equal(native_hist__count(&s->duration_native), 0);
}

static void test_consumer_unmatched_exit_named_by_comm(void **state)
{
	struct fixture *f = *state;

	exit_rec(f, 77, 5, 10, 0, 0, NULL);
	assert_int_equal(registry__agent(f->r)->exits_unmatched, 1);
	assert_int_equal(stats_of(f, "fromcomm")->executions, 1);
}

static void test_consumer_stale_entry_counts_lost_exit(void **state)
{
	struct fixture *f = *state;

	exec_rec(f, 9, 100, "/bin/a", 0);
	exec_rec(f, 9, 200, "/bin/b", 0); /* the exit of a was lost */
	assert_int_equal(registry__agent(f->r)->exits_lost, 1);
	assert_int_equal(stats_of(f, "a")->running, 0);
	assert_int_equal(stats_of(f, "b")->running, 1);
	exit_rec(f, 9, 200, 300, 0, 0, NULL);
	assert_int_equal(stats_of(f, "b")->executions, 1);
	assert_int_equal(stats_of(f, "a")->executions, 0);
}

static void test_consumer_malformed_records_counted(void **state)
{
	struct fixture *f = *state;
	uint32_t junk[2] = {99, 0};
	struct tw_exit_rec rec = {.type = TW_REC_EXIT};

	consumer__handle(f->c, junk, sizeof(junk));
	consumer__handle(f->c, junk, 2);
	consumer__handle(f->c, &rec, sizeof(rec) - 1); /* truncated */
	assert_int_equal(registry__agent(f->r)->events_malformed, 3);
}

static void test_consumer_sized_exec_record_names_by_argv(void **state)
{
	struct fixture *f = *state;
	static const char argv[] = "sh\0/opt/jobs/nightly-backup.sh\0--full";
	union exec_buf b;
	size_t size = make_exec(&b, 77, 10, "/bin/sh", argv, sizeof(argv));

	/* exactly the bytes used: header, 8 of path, 38 of argv (no fixed-size slots) */
	assert_int_equal(size, sizeof(struct tw_exec_rec) + 8 + sizeof(argv));
	consumer__handle(f->c, &b, size);
	assert_int_equal(registry__agent(f->r)->events_malformed, 0);
	assert_int_equal(stats_of(f, "nightly-backup.sh")->running, 1);
	assert_string_equal(f->last_filename, "/bin/sh");
	assert_int_equal(f->last.args_size, sizeof(argv));
	/* a record without argv names by path */
	size = make_exec(&b, 78, 10, "/usr/bin/curl", NULL, 0);
	assert_int_equal(size, sizeof(struct tw_exec_rec) + 14);
	consumer__handle(f->c, &b, size);
	assert_int_equal(stats_of(f, "curl")->running, 1);
}

static void test_consumer_malformed_exec_records_counted(void **state)
{
	struct fixture *f = *state;
	union exec_buf b;
	size_t size = make_exec(&b, 5, 1, "/bin/true", "true", 5);

	consumer__handle(f->c, &b, size - 1); /* argv cut short */
	consumer__handle(f->c, &b, size + 1); /* a trailing byte no part accounts for */
	b.rec.filename_size = TW_PATH_LEN + 1;
	b.rec.args_size = 0;
	consumer__handle(f->c, &b, sizeof(b.rec) + TW_PATH_LEN + 1); /* path over its limit */
	b.rec.filename_size = 0;
	b.rec.args_size = TW_ARGS_LEN + 1;
	consumer__handle(f->c, &b, sizeof(b.rec) + TW_ARGS_LEN + 1); /* argv over its limit */
	b.rec.args_size = 0xffff;
	consumer__handle(f->c, &b, sizeof(b.rec) - 1); /* not even a header */
	assert_int_equal(registry__agent(f->r)->events_malformed, 5);
	assert_int_equal(registry__agent(f->r)->events_exec, 0);
	assert_int_equal(consumer__inflight(f->c), 0);
	/* the largest valid record passes */
	memset(b.rec.data, 'a', TW_PATH_LEN + TW_ARGS_LEN);
	b.rec.data[TW_PATH_LEN - 1] = '\0';
	b.rec.filename_size = TW_PATH_LEN;
	b.rec.args_size = TW_ARGS_LEN;
	consumer__handle(f->c, &b, TW_EXEC_REC_MAX);
	assert_int_equal(registry__agent(f->r)->events_malformed, 5);
	assert_int_equal(registry__agent(f->r)->events_exec, 1);
}

static void sample(struct fixture *f, uint32_t tgid, uint64_t start, uint64_t cpu, uint64_t rss,
		   uint64_t tx)
{
	struct tw_sample_rec rec = {.type = TW_REC_SAMPLE, .exec_tgid = tgid, .start_ns = start};

	rec.raw.cpu_ns = cpu;
	rec.rss_bytes = rss;
	rec.usage.net_tx_bytes = tx;
	rec.is_exec_leader = 1;
	consumer__handle(f->c, &rec, sizeof(rec));
}

static void test_consumer_live_samples_credit_then_exit_settles(void **state)
{
	struct fixture *f = *state;
	struct tw_usage final = {.cpu_user_ns = 900, .net_tx_bytes = 5000};
	struct tool_stats *s;

	exec_rec(f, 300, 1, "/usr/bin/daemon", 0);
	s = stats_of(f, "daemon");
	consumer__begin_samples(f->c);
	sample(f, 300, 1, 500, 4096, 1000);
	consumer__end_samples(f->c);
	assert_int_equal(s->cpu_ns[MODE_USER], 500);
	assert_int_equal(s->net_bytes[DIR_TX], 1000);
	assert_int_equal(s->memory_bytes, 4096);
	/* a later reading that went down (e.g. an exited child) never lowers a counter */
	consumer__begin_samples(f->c);
	sample(f, 300, 1, 400, 8192, 3000);
	consumer__end_samples(f->c);
	assert_int_equal(s->cpu_ns[MODE_USER], 500);
	assert_int_equal(s->net_bytes[DIR_TX], 3000);
	assert_int_equal(s->memory_bytes, 8192);
	/* samples of another execution with the same pid are ignored */
	consumer__begin_samples(f->c);
	sample(f, 300, 999, 100000, 1, 100000);
	consumer__end_samples(f->c);
	assert_int_equal(s->net_bytes[DIR_TX], 3000);
	assert_int_equal(s->memory_bytes, 0);
	exit_rec(f, 300, 1, 50, 0, 0, &final);
	assert_int_equal(s->cpu_ns[MODE_USER], 900);
	assert_int_equal(s->net_bytes[DIR_TX], 5000);
}

/* Wait times: threads' live readings summed with the leader's folded ones, then the exit. */
static void test_consumer_wait_times_live_and_at_exit(void **state)
{
	struct fixture *f = *state;
	struct tw_sample_rec leader = {.type = TW_REC_SAMPLE, .exec_tgid = 400, .start_ns = 1};
	struct tw_sample_rec thread = leader;
	struct tw_usage final = {.runq_wait_ns = 9000, .blkio_wait_ns = 700};
	struct tool_stats *s;

	exec_rec(f, 400, 1, "/usr/bin/waiter", 0);
	s = stats_of(f, "waiter");
	leader.is_exec_leader = 1;
	leader.raw.runq_ns = 1000;
	leader.raw.blkio_ns = 100;
	leader.usage.runq_wait_ns = 500; /* exited threads and children */
	thread.raw.runq_ns = 2000;
	thread.raw.blkio_ns = 200;
	consumer__begin_samples(f->c);
	consumer__handle(f->c, &leader, sizeof(leader));
	consumer__handle(f->c, &thread, sizeof(thread));
	consumer__end_samples(f->c);
	assert_int_equal(s->wait_ns[WAIT_RUNQUEUE], 3500);
	assert_int_equal(s->wait_ns[WAIT_BLKIO], 300);
	exit_rec(f, 400, 1, 1 + 20000, 0, 0, &final);
	assert_int_equal(s->wait_ns[WAIT_RUNQUEUE], 9000);
	assert_int_equal(s->wait_ns[WAIT_BLKIO], 700);
	/* what the anomaly windows compare: fully observed executions only */
	assert_int_equal(s->observed_executions, 1);
	assert_int_equal(s->observed_duration_ns, 20000);
	assert_int_equal(s->observed_wait_ns[WAIT_RUNQUEUE], 9000);
	assert_false(f->last.blkio); /* delay accounting was not on */
	registry__host(f->r)->delayacct = true;
	exec_rec(f, 401, 5, "/usr/bin/waiter", TW_F_PARTIAL);
	exit_rec(f, 401, 5, 9, 0, TW_F_PARTIAL, &final);
	assert_true(f->last.blkio);
	assert_int_equal(s->observed_executions, 1); /* a partial one has no duration */
	assert_int_equal(s->wait_ns[WAIT_RUNQUEUE], 18000);
}

static bool never_alive(uint32_t tgid, uint64_t start_ns, void *ctx)
{
	return false;
}

static void test_consumer_rules_name_first_then_default_and_normalize(void **state)
{
	static const char yaml[] = "process_names:\n  - name: 'by-rule'\n    comm: [comm]\n";
	struct fixture *f = *state;
	struct rules *rules;
	char err[128];

	assert_int_equal(rules__parse(yaml, sizeof(yaml) - 1, "t", &rules, err, sizeof(err)), 0);
	consumer__set_rules(f->c, rules, NULL, NULL);
	exec_rec(f, 300, 1000, "/usr/bin/curl", 0); /* comm "comm" */
	assert_int_equal(stats_of(f, "by-rule")->running, 1);
	consumer__set_rules(f->c, NULL, NULL, NULL);
	rules__free(rules);
	exec_rec(f, 301, 1000, "/usr/bin/curl", 0);
	assert_int_equal(stats_of(f, "curl")->running, 1);
	consumer__set_normalize(f->c, true);
	exec_rec(f, 302, 1000, "/tmp/job-12345678", 0);
	assert_int_equal(stats_of(f, "job-*")->running, 1);
	assert_int_equal(tool_table__lookup(registry__tools(f->r), "job-12345678"), -1);
}

static void test_consumer_reconcile_drops_dead(void **state)
{
	struct fixture *f = *state;

	for (uint32_t pid = 1; pid <= 3000; pid++)
		exec_rec(f, pid, pid, "/bin/x", 0);
	assert_int_equal(consumer__inflight(f->c), 3000);
	/* a first miss may be an exit record still in flight: nothing dropped yet */
	assert_int_equal(consumer__reconcile(f->c, never_alive, NULL), 0);
	assert_int_equal(consumer__inflight(f->c), 3000);
	assert_int_equal(consumer__reconcile(f->c, never_alive, NULL), 3000);
	assert_int_equal(consumer__inflight(f->c), 0);
	assert_int_equal(stats_of(f, "x")->running, 0);
	assert_int_equal(registry__agent(f->r)->exits_lost, 3000);
}

static void test_cpu_split_like_cputime_adjust(void **state)
{
	uint64_t u, s;

	cpu__split(1000, 0, 0, &u, &s);
	assert_true(u == 1000 && s == 0);
	cpu__split(1000, 0, 5, &u, &s);
	assert_true(u == 0 && s == 1000);
	cpu__split(1000, 3, 1, &u, &s);
	assert_true(u == 750 && s == 250);
	cpu__split(UINT64_MAX / 2, UINT64_MAX / 4, UINT64_MAX / 4, &u, &s);
	assert_true(u + s == UINT64_MAX / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_consumer_exec_then_exit_counts_duration, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_reexec_renames_one_execution, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_shell_child_without_exec_is_not_found,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_classifies_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_exec_failure_names_the_missing_program,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_partial_execution_has_no_duration, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_unmatched_exit_named_by_comm, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_stale_entry_counts_lost_exit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_malformed_records_counted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_sized_exec_record_names_by_argv, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_malformed_exec_records_counted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_wait_times_live_and_at_exit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_live_samples_credit_then_exit_settles,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consumer_reconcile_drops_dead, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_consumer_rules_name_first_then_default_and_normalize, setup, teardown),
	    cmocka_unit_test(test_cpu_split_like_cputime_adjust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
