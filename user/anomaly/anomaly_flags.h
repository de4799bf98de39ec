/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The --anomaly.* flags, one definition for every command that runs the detector
 * (`toolwatch agent`, `toolwatch backtest`): the same names, bounds and help lines, so a
 * backtest replays history with exactly the settings the agent would run with.
 */
#ifndef TOOLWATCH_ANOMALY_FLAGS_H
#define TOOLWATCH_ANOMALY_FLAGS_H

#include "anomaly/anomaly.h"
#include "lib/flags.h"

#define ANOMALY_FLAGS_SECOND_NS 1000000000ULL

/*
 * struct flag initializers for the --anomaly.* flags writing into the struct
 * anomaly_config `member` of the options struct `type`.
 */
#define ANOMALY_FLAGS(type, member)                                                                \
	{"anomaly.window", .kind = FLAG_DURATION, FLAG_FIELD(type, member.window_ns),              \
	 .min = ANOMALY_FLAGS_SECOND_NS},                                                          \
	    {"anomaly.baseline", .kind = FLAG_DURATION, FLAG_FIELD(type, member.baseline_ns),      \
	     .min = ANOMALY_FLAGS_SECOND_NS},                                                      \
	    {"anomaly.seasonal", .kind = FLAG_BOOL, FLAG_FIELD(type, member.seasonal)},            \
	    {"anomaly.min-windows", .kind = FLAG_U32, FLAG_FIELD(type, member.min_windows),        \
	     .min = 1, .max = 1000000},                                                            \
	    {"anomaly.seasonal-min-windows", .kind = FLAG_U32,                                     \
	     FLAG_FIELD(type, member.seasonal_min_windows), .max = 1000000},                       \
	    {"anomaly.min-samples", .kind = FLAG_U64, FLAG_FIELD(type, member.min_samples),        \
	     .min = 1, .max = 1000000000},                                                         \
	    {"anomaly.raise-after", .kind = FLAG_U32, FLAG_FIELD(type, member.raise_after),        \
	     .min = 1, .max = 1000},                                                               \
	    {"anomaly.clear-after", .kind = FLAG_U32, FLAG_FIELD(type, member.clear_after),        \
	     .min = 1, .max = 1000},                                                               \
	    {"anomaly.new-tool-learning", .kind = FLAG_DURATION,                                   \
	     FLAG_FIELD(type, member.new_tool_learning_ns)},                                       \
	    {"anomaly.new-tool-hold", .kind = FLAG_DURATION,                                       \
	     FLAG_FIELD(type, member.new_tool_hold_ns)},                                           \
	    {"anomaly.relearn-after", .kind = FLAG_DURATION,                                       \
	     FLAG_FIELD(type, member.relearn_after_ns)},                                           \
	    {"anomaly.latency-ratio", .kind = FLAG_DOUBLE, FLAG_FIELD(type, member.latency_ratio), \
	     .min_real = 1, .max_real = 1000},                                                     \
	    {"anomaly.outlier-sigmas", .kind = FLAG_DOUBLE,                                        \
	     FLAG_FIELD(type, member.outlier_sigmas), .min_real = 0.5, .max_real = 100},           \
	    {"anomaly.outlier-spike-sigmas", .kind = FLAG_DOUBLE,                                  \
	     FLAG_FIELD(type, member.outlier_spike_sigmas), .min_real = 0, .max_real = 1000},      \
	    {"anomaly.outlier-beyond-range", .kind = FLAG_BOOL,                                    \
	     FLAG_FIELD(type, member.outlier_beyond_range)},                                       \
	    {"anomaly.keep-firing-for", .kind = FLAG_DURATION,                                     \
	     FLAG_FIELD(type, member.keep_firing_ns)},                                             \
	{                                                                                          \
		"anomaly.max-tools", .kind = FLAG_U32, FLAG_FIELD(type, member.max_tools),         \
				     .min = 1, .max = 1000000                                      \
	}

/* Their help lines, in the order above. */
#define ANOMALY_FLAGS_USAGE                                                                        \
	"  --anomaly.window=D         anomaly window (default 1m)\n"                               \
	"  --anomaly.baseline=D       baseline span, decay time constant (default 7d)\n"           \
	"  --anomaly.seasonal         also learn hour-of-day baselines\n"                          \
	"  --anomaly.min-windows=N    windows before a baseline is trusted (default 60)\n"         \
	"  --anomaly.seasonal-min-windows=N  windows of its hour an hour-of-day baseline\n"        \
	"                             needs; 0: --anomaly.min-windows (default 0)\n"               \
	"  --anomaly.min-samples=N    executions before a baseline is trusted (default 100)\n"     \
	"  --anomaly.raise-after=N    anomalous windows in a row to raise (default 2)\n"           \
	"  --anomaly.clear-after=N    clean windows in a row to clear (default 3)\n"               \
	"  --anomaly.new-tool-learning=D  quiet period before NEW_TOOL fires (default 24h)\n"      \
	"  --anomaly.new-tool-hold=D  how long NEW_TOOL stays raised; 0 off (default 1h)\n"        \
	"  --anomaly.relearn-after=D  a flag raised this long becomes the new normal\n"            \
	"                             (default 24h; 0 never)\n"                                    \
	"  --anomaly.latency-ratio=X  LATENCY_DEGRADATION: window p95 above X times\n"             \
	"                             the baseline p95 (default 1.5)\n"                            \
	"  --anomaly.outlier-sigmas=X  STATISTICAL_OUTLIER: window mean X robust\n"                \
	"                             standard deviations out (default 3)\n"                       \
	"  --anomaly.outlier-spike-sigmas=X  a window this far out raises\n"                       \
	"                             STATISTICAL_OUTLIER at once; 0 off (default 0)\n"            \
	"  --anomaly.outlier-beyond-range  STATISTICAL_OUTLIER also needs the window\n"            \
	"                             beyond what 98% of baseline windows show\n"                  \
	"  --anomaly.keep-firing-for=D  a raised flag clears no earlier than this\n"               \
	"                             (default 0)\n"                                               \
	"  --anomaly.max-tools=N      tools with baselines (default 2048)\n"

#endif /* TOOLWATCH_ANOMALY_FLAGS_H */
