// SPDX-License-Identifier: GPL-2.0
/* toolwatch: command dispatch. */
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "backtest/backtest.h"
#include "lib/log.h"
#include "agent/options.h"
#include "trace/trace.h"

static const char commands_usage[] =
    "\n"
    "COMMANDS:\n"
    "  agent    the daemon (the default; flags above)\n"
    "  trace    ad-hoc tracing of executions, execsnoop/exitsnoop style, with\n"
    "           filters, JSON Lines and per-tool summaries: toolwatch trace --help\n"
    "  backtest the anomaly detector over a tool's recorded history (Prometheus\n"
    "           or a file), no root: toolwatch backtest --help\n";

int main(int argc, char **argv)
{
	struct agent_options opts;
	char err[512];
	int first = 1;

	if (argc > 1 && !strcmp(argv[1], "trace"))
		return trace__main(argc - 2, argv + 2);
	if (argc > 1 && !strcmp(argv[1], "backtest"))
		return backtest__main(argc - 2, argv + 2);
	if (argc > 1 && !strcmp(argv[1], "agent"))
		first = 2;
	agent_options__init(&opts);
	switch (agent_options__parse(&opts, argc - first, argv + first, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(agent_usage, stdout);
		fputs(commands_usage, stdout);
		return 0;
	case OPTIONS_VERSION:
		printf("toolwatch %s\n", TOOLWATCH_VERSION);
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "toolwatch: %s (see 'toolwatch --help')\n", err);
		return 2;
	case OPTIONS_OK:
		break;
	}
	log_level = opts.log_level;
	log__set_format(opts.log_format);
	return agent__run(&opts);
}
