/* SPDX-License-Identifier: GPL-2.0 */
/* `toolwatch trace`: ad-hoc tracing of executions from the command line, no HTTP. */
#ifndef TOOLWATCH_TRACE_H
#define TOOLWATCH_TRACE_H

/*
 * Runs `toolwatch trace` with argv[0..argc) being the flags after "trace": loads its own
 * instance of the BPF programs (independent of a running agent), prints events or
 * summaries until SIGINT/SIGTERM/SIGHUP, the end of --duration or a closed stdout, then
 * detaches everything. Returns the exit status: 0, 1 on a runtime failure, 2 on bad usage.
 */
int trace__main(int argc, char **argv);

#endif /* TOOLWATCH_TRACE_H */
