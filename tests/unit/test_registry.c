// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/registry.h"
#include "events/snapshot.h"
#include "naming/tools.h"

#define S 1000000000ULL

static const struct snapshot_tool *find(const struct snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nr_tools; i++) {
		if (!strcmp(s->tools[i].name, name))
			return &s->tools[i];
	}
	return NULL;
}

static void test_registry_evicts_idle_names_not_running_ones(void **state)
{
	struct registry *r = registry__new(3);
	unsigned int a, b, c, d;
	struct snapshot *s;

	(void)state;
	registry__set_now(r, 10 * S);
	a = registry__tool_id(r, "idle");
	b = registry__tool_id(r, "running");
	registry__started(r, b);
	registry__stats(r, a)->executions = 5;
	registry__stats(r, a)->partial = 2;
	registry__set_now(r, 50 * S);
	c = registry__tool_id(r, "recent");
	assert_int_equal(registry__tool_id(r, "late"), 0); /* the cap */
	/* at 65s: "idle" and "running" are 55s old, "recent" 15s */
	assert_int_equal(registry__evict_idle(r, 65 * S, 30 * S), 1);
	assert_int_equal(registry__agent(r)->tools_evicted, 1);
	assert_int_equal(registry__agent(r)->partial_evicted, 2);
	assert_int_equal(registry__generation(r, a), 1);
	assert_null(tool_table__name(registry__tools(r), a));
	/* room again: a new name gets a series of its own, from zero */
	d = registry__tool_id(r, "new");
	assert_int_equal(d, a);
	assert_int_equal(registry__stats(r, d)->executions, 0);
	s = registry__snapshot(r, 70 * S);
	assert_non_null(s);
	assert_non_null(find(s, "new"));
	assert_non_null(find(s, "running"));
	assert_non_null(find(s, "recent"));
	assert_null(find(s, "idle"));
	assert_int_equal(s->agent.tools_evicted, 1);
	/* the snapshot keeps its names after the registry lets them go */
	registry__stopped(r, b);
	assert_int_equal(registry__evict_idle(r, 1000 * S, 30 * S), 3);
	assert_non_null(find(s, "running"));
	snapshot__put(s);
	s = registry__snapshot(r, 1000 * S);
	assert_int_equal(s->nr_tools, 1); /* "other" only */
	assert_string_equal(s->tools[0].name, "other");
	snapshot__put(s);
	(void)c;
	registry__free(r);
}

static void test_registry_clock_behind_stamp_never_evicts(void **state)
{
	struct registry *r = registry__new(10);

	(void)state;
	registry__set_now(r, 5 * S);
	registry__tool_id(r, "x");
	/* a clock behind the stamp never evicts */
	assert_int_equal(registry__evict_idle(r, 1 * S, 0), 0);
	registry__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry_evicts_idle_names_not_running_ones),
	    cmocka_unit_test(test_registry_clock_behind_stamp_never_evicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
