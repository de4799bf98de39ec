/* SPDX-License-Identifier: GPL-2.0 */
/* `toolwatch backtest`: the anomaly detector over a tool's recorded history. */
#ifndef TOOLWATCH_BACKTEST_H
#define TOOLWATCH_BACKTEST_H

/*
 * Runs the command on argv[0..argc) (flags only). Returns the exit status: 0, 1 for a
 * runtime failure (unreadable or malformed file, unreachable server, no data), 2 for bad
 * usage (a bad flag, a window the data cannot resolve). Failures print one line.
 */
int backtest__main(int argc, char **argv);

#endif /* TOOLWATCH_BACKTEST_H */
