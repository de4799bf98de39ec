// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's and trace's flag parsers on an argv made of the input split at NUL bytes:
 * every input is accepted or refused with a one-line, NUL-terminated message.
 */
#include <string.h>

#include "fuzz.h"
#include "agent/options.h"
#include "trace/trace_options.h"

#define MAX_ARGS 64

static void check_message(enum options_result r, const char *err, size_t size)
{
	if (r != OPTIONS_ERROR)
		return;
	FUZZ_CHECK(memchr(err, '\0', size));
	FUZZ_CHECK(err[0]);
	FUZZ_CHECK(!strchr(err, '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 1], err[512];
	struct agent_options agent;
	struct trace_options trace;
	enum options_result r;
	int argc = 0;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	/* the first byte picks the parser; the rest is argv, one argument per NUL */
	for (size_t i = 1; i < size + 1 && argc < MAX_ARGS; i += strlen(copy + i) + 1)
		argv[argc++] = copy + i;
	argv[argc] = NULL;
	memset(err, 'x', sizeof(err));
	if (size && (data[0] & 1)) {
		trace_options__init(&trace);
		r = trace_options__parse(&trace, argc, argv, err, sizeof(err));
		trace_options__free(&trace); /* the --name and --line regexes it compiled */
	} else {
		agent_options__init(&agent);
		r = agent_options__parse(&agent, argc, argv, err, sizeof(err));
	}
	check_message(r, err, sizeof(err));
	free(copy);
	return 0;
}
