/* SPDX-License-Identifier: GPL-2.0 */
/* The daemon: loads the probes, runs the event loop, serves /metrics. */
#ifndef TOOLWATCH_AGENT_H
#define TOOLWATCH_AGENT_H

#include "agent/options.h"

/* Runs until SIGINT/SIGTERM. Returns the process exit status (0 or 1). */
int agent__run(const struct agent_options *o);

#endif /* TOOLWATCH_AGENT_H */
