// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "events/snapshot.h"

static void test_snapshot_new_is_zeroed_with_one_reference(void **state)
{
	struct snapshot *s = snapshot__new(3);

	assert_non_null(s);
	assert_int_equal(s->refs, 1);
	assert_int_equal(s->nr_tools, 3);
	assert_non_null(s->tools);
	assert_null(s->tools[2].name);
	assert_int_equal(s->tools[2].stats.executions, 0);
	assert_int_equal(s->nr_lost, 0);
	assert_false(s->probe_enabled[PROBE_EXEC]);
	assert_false(s->anomaly_enabled);
	snapshot__put(s);
}

static void test_snapshot_new_without_tools(void **state)
{
	struct snapshot *s = snapshot__new(0);

	assert_non_null(s);
	assert_int_equal(s->nr_tools, 0);
	snapshot__put(s);
}

/* The last put frees the snapshot and the anomalies it owns (checked under ASan). */
static void test_snapshot_get_put_counts_references(void **state)
{
	struct snapshot *s = snapshot__new(1);

	assert_non_null(s);
	s->anomalies = calloc(2, sizeof(*s->anomalies));
	assert_non_null(s->anomalies);
	s->anomalies[0].tool = strdup("make");
	s->nr_anomalies = 2; /* the second is the host's: tool NULL */
	assert_ptr_equal(snapshot__get(s), s);
	assert_int_equal(s->refs, 2);
	snapshot__put(s);
	assert_int_equal(s->refs, 1);
	snapshot__put(s);
	snapshot__put(NULL);
}

static void test_snapshot_label_tables(void **state)
{
	static const char *const errors[] = {"exit_code",   "signal",	"core_dump",
					     "exec_failed", "oom_kill", "not_found"};
	static const char *const ops[] = {"read", "write", "flush", "discard", "other"};

	for (int t = 0; t < ERROR_TYPE_MAX; t++)
		assert_string_equal(error_type__name(t), errors[t]);
	assert_string_equal(error_type__name(ERROR_TYPE_MAX), "unknown");
	assert_string_equal(error_type__name((enum error_type) - 1), "unknown");
	for (unsigned int op = 0; op < HOST_BLOCK_OPS; op++)
		assert_string_equal(block_op__name(op), ops[op]);
	assert_string_equal(block_op__name(HOST_BLOCK_OPS), "other");
	assert_string_equal(anomaly_kind__name(ANOMALY_FAILURE_RATE), "FAILURE_RATE");
	assert_string_equal(anomaly_kind__severity(ANOMALY_FAILURE_RATE), "critical");
	assert_string_equal(anomaly_kind__name(ANOMALY_KIND_MAX), "UNKNOWN");
	assert_string_equal(anomaly_kind__severity(ANOMALY_KIND_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshot_new_is_zeroed_with_one_reference),
	    cmocka_unit_test(test_snapshot_new_without_tools),
	    cmocka_unit_test(test_snapshot_get_put_counts_references),
	    cmocka_unit_test(test_snapshot_label_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
