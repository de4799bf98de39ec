/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Baselines and anomaly flags, pure: closed windows in, flags out. No I/O, no libbpf, no
 * HTTP; single-threaded (the agent's event loop owns the detector).
 *
 * Every window (default 1m) the agent feeds, for each tool, what finished in that window
 * (deltas, not totals) and, for the host, its CPU utilisation. The detector keeps for each
 * tool a baseline learned over `baseline_ns` (default 7d) and raises a flag of a kind after
 * `raise_after` consecutive anomalous windows, clears it after `clear_after` clean ones.
 *
 * | kind                | severity | anomalous window when (defaults)                       |
 * |---------------------|----------|--------------------------------------------------------|
 * | LATENCY_DEGRADATION | high     | window p95 duration > 1.5 x baseline p95, significant  |
 * | STATISTICAL_OUTLIER | medium   | ln(window mean duration) more than 3 sigma from the    |
 * |                     |          | baseline median of ln(window means), sigma = 1.4826 x  |
 * |                     |          | MAD, at least ln(1.02) (and ~1 us): both directions    |
 * | FAILURE_RATE        | critical | failures / executions > 5%, >= 20 executions,          |
 * |                     |          | significant                                            |
 * | CPU_SPIKE (tool)    | medium   | CPU s per execution > 1.3 x baseline p90 and at least  |
 * |                     |          | 5 ms above it                                          |
 * | CPU_SPIKE (host)    | medium   | utilisation > 1.3 x baseline p90 and >= 0.5            |
 * | MEMORY_SPIKE        | medium   | window p95 peak memory > 1.5 x baseline p95,           |
 * |                     |          | significant                                            |
 * | NEW_TOOL            | info     | a tool never seen appears after the learning period    |
 * |                     |          | (24h of detector age); stays raised for 1h             |
 *
 * "Significant" is a binomial test on the window's executions, because the plain rules
 * fire on noise (measured on synthetic steady workloads: a p95 of 20 executions of a
 * log-normal sigma 0.6 tool exceeds 1.5 x p95 in 0.6% of windows; 2 failures of 20, 10%,
 * happen in 1.7% of the windows of a tool failing 1% of the time). p95 rules: the share of
 * window samples above 1.5 x baseline p95 must be improbable (p < tail_alpha) for samples
 * drawn from the baseline, which has its own share above it. FAILURE_RATE: the failures
 * must be improbable (p < failure_alpha) at a rate of exactly 5%: 4 of 20 fire, 3 do not.
 * A real shift (10 ms -> 50 ms) passes both with as few as 3 executions. alpha 1 turns a
 * test off. Durations are judged in log space for STATISTICAL_OUTLIER because they are
 * skewed to the right: a linear band fires on the long side. A 3-sigma band is crossed by
 * chance in 0.27% of windows, so STATISTICAL_OUTLIER waits for 3 windows in a row
 * (outlier_raise_after): with 2, steady synthetic tools raised it about once per 25,000
 * windows; with 3, not once in 2,250,000 (9 workload shapes, sparse and heavy-tailed).
 *
 * Baselines, with bounded memory independent of the span. The span is the time constant
 * of an exponential decay: a window's weight falls by e^-(age/span), so a window `span`
 * old weighs 1/e of a new one. Per-execution distributions (duration, peak memory) are
 * decayed copies of the input histograms (one double per bucket): baseline p95 is read
 * from them with the same interpolation as Prometheus. Per-window statistics (mean
 * duration, CPU per execution, host utilisation) go into a decayed reservoir sample of
 * 128 windows (Efraimidis-Spirakis weighted sampling with forward decay, seeded PRNG so
 * runs are reproducible): a uniform sample of the decayed window distribution from which
 * median, MAD and p90 are exact order statistics. 7d of 1m windows is 10,080 windows; the
 * detector keeps 128 of them per statistic (48 in an hour-of-day baseline). Memory per
 * tool is ~5 KiB, ~56 KiB with `seasonal` (24 hourly baselines of ~2 KiB); the state
 * file holds about as much.
 *
 * Trust: a baseline is used only once it has learned >= min_windows windows and
 * >= min_samples executions (for the host: windows only). Before the tool's duration
 * baseline is trusted nothing fires for it (FAILURE_RATE included), except NEW_TOOL.
 *
 * Seasonality (`seasonal`): each tool and the host also keep one baseline per hour of the
 * day (UTC, from the window's last second); a window is judged against its hour's baseline
 * once that is trusted, against the global one until then.
 *
 * Poisoning: while a flag is raised, the windows it finds anomalous do not update the
 * baselines it is judged from (a baseline still learning takes every window; with
 * `seasonal`, an hour's baseline learns its hour even while the global one flags it). So a
 * flag stays raised while the anomaly lasts, and the clean windows meanwhile (a flag held
 * by clear_after or keep_firing_ns, a tool whose normal drifts) keep the baseline current. Lone
 * anomalous windows are learned: they are the tail of normal behaviour, and leaving them out
 * shrinks the learned tail until normal windows fire. An anomaly lasting `relearn_after_ns`
 * (default 24h) with its windows still anomalous is taken as the new normal: the baselines
 * behind the kind restart learning, the flag then clears after clear_after windows and nothing
 * fires from them until they are trusted again (the global one after `relearn_min_windows`
 * when set, else min_windows).
 *
 * Optional rules, off by default (the agent's defaults are the synthetic guarantees above):
 * - spikes (`outlier_spike_sigmas`): a window that far out (and beyond the usual range,
 *   below) raises STATISTICAL_OUTLIER at once instead of after outlier_raise_after;
 * - the usual range (`outlier_beyond_range`): STATISTICAL_OUTLIER also needs the window's
 *   ln(mean) more than sigma outside the 1st..99th percentile of the baseline's windows. A
 *   tool whose windows are mostly alike (MAD near 0) but regularly different (a nightly
 *   batch, a square wave) then does not fire on them; it costs sensitivity to small
 *   shifts of unimodal tools (+20% takes ~10 windows, not 3). Spikes always need it;
 * - a floor below the median (`outlier_log_offset`, a share s of the baseline's median
 *   m): below m, STATISTICAL_OUTLIER judges ln(mean + s m), shifted to meet ln(mean) at m,
 *   for the baseline's windows and the judged one alike. A window whose mean is near 0 (a
 *   tool that suddenly returns at once; a count of 0) is then at most ln(1 + 1/s) below
 *   the median instead of infinitely far in plain logarithms. Above the median nothing
 *   changes;
 * - `keep_firing_ns` (Prometheus' keep_firing_for): a raised flag clears no earlier than
 *   this after its raise (or its last relearn), so a flapping anomaly raises once. Once
 *   clear_after clean windows have ended its anomaly the flag is only held: windows are
 *   learned as while clear (lone anomalous ones too), and a run that would raise a clear
 *   flag is a new anomaly under the same raise: guarded, and relearned once the raise is
 *   relearn_after_ns old (at once when it already is: the shift keeps coming back).
 * The NAB benchmark score (docs/backtest.md) is obtained with them on.
 *
 * Empty windows (executions == 0, or no samples for a statistic) are neither judged nor
 * learned. They neither extend nor break a run of anomalous windows (so K anomalous
 * windows of a tool that runs every 10 minutes still raise) and count as clean for
 * clearing (a flag on a tool that stopped running clears). A window that cannot be judged
 * for a kind (baseline not trusted, fewer than failure_min_executions) counts the same
 * way for that kind, but is still learned.
 *
 * Cause: LATENCY_DEGRADATION and STATISTICAL_OUTLIER name the component of execution
 * time (enum anomaly_split: CPU, run-queue wait, block I/O wait, other) whose mean per
 * execution grew most (in seconds) from the duration baseline's to the latest anomalous
 * window's; the baseline keeps a decayed sum of each component and of executions, learned
 * with the duration group (same poisoning guard). No cause without split figures.
 * Run-queue wait is judged as a rate per CPU second: the wait more CPU would have met at
 * the baseline's rate counts as CPU growth (more work on a busy node is "cpu", the same
 * work behind more competitors is "runqueue").
 *
 * deviation_ratio = current / baseline of the last judged window: p95 / baseline p95
 * (LATENCY, MEMORY), mean / baseline median of window means (OUTLIER), failure rate /
 * failure_rate (FAILURE_RATE), value / baseline p90 (CPU_SPIKE). Always finite, in
 * [0, 1e6]: 1 when both are 0, 1e6 when only the baseline is 0. NEW_TOOL has no
 * baseline: its ratio is 0.
 */
#ifndef TOOLWATCH_ANOMALY_H
#define TOOLWATCH_ANOMALY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hist.h"
#include "events/snapshot.h"

#define ANOMALY_TOOL_NAME_MAX 256 /* including the NUL */
#define ANOMALY_RATIO_MAX     1e6 /* deviation_ratio is clamped to [0, ANOMALY_RATIO_MAX] */

/* Tunables; anomaly_config__init() sets the defaults shown. Durations in ns. */
struct anomaly_config {
	uint64_t window_ns;   /* 60 s: length of one window (the caller's clock) */
	uint64_t baseline_ns; /* 7 d: decay time constant of the baselines */
	bool seasonal;	      /* false: also keep hour-of-day baselines */

	uint32_t min_windows;	       /* 60: windows a baseline needs before it is trusted */
	uint32_t seasonal_min_windows; /* 0: min_windows; windows of its own hour an
					* hour-of-day baseline needs */
	uint64_t min_samples;	       /* 100: executions a baseline needs before it is trusted */
	uint32_t raise_after;	       /* 2: consecutive anomalous windows that raise a flag */
	uint32_t outlier_raise_after;  /* 3: the same for STATISTICAL_OUTLIER (see above) */
	uint32_t clear_after;	       /* 3: consecutive clean windows that clear it */

	double latency_ratio;	     /* 1.5: window p95 duration vs baseline p95 */
	double outlier_sigmas;	     /* 3.0: robust standard deviations of the window mean */
	double outlier_min_sigma;    /* 0.02: floor of sigma, relative (ln(1.02) in log space) */
	double outlier_spike_sigmas; /* 0: off; a window this many sigmas out raises
				      * STATISTICAL_OUTLIER at once (see above) */
	bool outlier_beyond_range;   /* false: STATISTICAL_OUTLIER also needs the window
				      * beyond the baseline's usual range (see above) */
	double outlier_log_offset;   /* 0: off; below the baseline median STATISTICAL_OUTLIER
				      * judges ln(mean + this x median) (see above) */
	double tail_alpha;	     /* 0.001: significance of the p95 rules (LATENCY,
				      * MEMORY); 1 disables the test */
	double failure_rate;	     /* 0.05: failures / executions */
	uint64_t failure_min_executions; /* 20: executions a window needs for FAILURE_RATE */
	double failure_alpha;		 /* 0.05: significance of FAILURE_RATE; 1 disables */
	double cpu_ratio;		 /* 1.3: CPU seconds per execution vs baseline p90 */
	double cpu_min_excess_s;	 /* 0.005: and at least this far above the p90 */
	double host_cpu_ratio;		 /* 1.3: host utilisation vs baseline p90 */
	double host_cpu_min_utilisation; /* 0.5: and at least this utilisation (0..1) */
	double memory_ratio;		 /* 1.5: window p95 peak memory vs baseline p95 */

	uint64_t new_tool_learning_ns; /* 24 h: detector age before NEW_TOOL can fire */
	uint64_t new_tool_hold_ns;     /* 1 h: how long NEW_TOOL stays raised; 0 disables it */
	uint64_t relearn_after_ns;     /* 24 h: a flag raised this long restarts its
					* baselines (the new normal); 0 never */
	uint32_t relearn_min_windows;  /* 0: min_windows; windows a restarted global
					* baseline needs before it is trusted again */
	uint64_t keep_firing_ns;       /* 0: a raised flag clears no earlier than this
					* after its raise, however clean the windows */
	uint32_t max_tools;	       /* 2048: tools kept; the least recently active is
					* forgotten beyond (its name stays known for NEW_TOOL) */
};

/* Fills cfg with the defaults documented in struct anomaly_config. */
void anomaly_config__init(struct anomaly_config *cfg);

/* Components of execution time, summed in anomaly_tool_window.split_seconds. */
enum anomaly_split {
	ANOMALY_SPLIT_CPU,
	ANOMALY_SPLIT_RUNQUEUE,
	ANOMALY_SPLIT_BLKIO, /* 0 while delay accounting is off (then it is in other) */
	ANOMALY_SPLIT_OTHER, /* duration - the others, clamped at 0 */
	ANOMALY_SPLIT_MAX,
};

/* One tool's observations during one closed window (the window's deltas, not totals). */
struct anomaly_tool_window {
	uint64_t executions;	 /* finished executions in the window, failures included */
	uint64_t failures;	 /* <= executions */
	struct hist duration;	 /* hist_duration_layout (ns), this window only */
	double cpu_seconds;	 /* user+system CPU of the executions finished in the window */
	struct hist peak_memory; /* hist_memory_layout (bytes), this window only; may be empty */
	/* where the time of fully observed executions went (0 of them: no cause is named) */
	uint64_t split_executions;
	double split_seconds[ANOMALY_SPLIT_MAX]; /* summed over those executions */
};

/* The host's observations during one closed window. */
struct anomaly_host_window {
	double cpu_utilisation; /* 0..1 of all CPUs over the window */
};

struct anomaly_detector;

/*
 * Creates a detector with a copy of cfg (NULL: defaults). Returns NULL and sets errno:
 * EINVAL for an inconsistent config (zero window, baseline shorter than the window, zero
 * raise_after/clear_after/max_tools, a non-finite or non-positive ratio), ENOMEM.
 */
struct anomaly_detector *anomaly__new(const struct anomaly_config *cfg);

/* Frees d and everything it owns; NULL is a no-op. */
void anomaly__free(struct anomaly_detector *d);

/*
 * Feeds one closed window of one tool. Call it once per window for every tool that has
 * ever been seen (executions may be 0), with the same window_end_unix_s (end of the
 * window, wall clock, seconds) for all calls of a window; a new value advances the
 * detector's age by one window and gives the hour of day for seasonality. A tool the
 * detector does not know yet is created (and raises NEW_TOOL after the learning period).
 * Returns 0; -EINVAL for a NULL or empty name, failures > executions or a negative or
 * non-finite cpu_seconds; -ENAMETOOLONG for a name of ANOMALY_TOOL_NAME_MAX bytes or more;
 * -ENOMEM. On error nothing is recorded.
 */
int anomaly__observe_tool(struct anomaly_detector *d, const char *tool,
			  const struct anomaly_tool_window *w, int64_t window_end_unix_s);

/*
 * Feeds one closed window of the host (its CPU_SPIKE). Utilisation above 1 is taken as 1.
 * Returns 0, or -EINVAL for a negative or non-finite utilisation (nothing recorded).
 */
int anomaly__observe_host(struct anomaly_detector *d, const struct anomaly_host_window *w,
			  int64_t window_end_unix_s);

/* The state of one (tool, kind) pair, for exposition. */
struct anomaly_state {
	const char *tool; /* NULL for the host; valid during the callback only */
	enum anomaly_kind kind;
	bool active;		  /* the flag is raised */
	double deviation_ratio;	  /* finite, 0..ANOMALY_RATIO_MAX (see above) */
	uint64_t raised_total;	  /* times the flag was raised (persisted) */
	enum anomaly_cause cause; /* latency kinds while raised: the component that grew most */
};

/*
 * Calls fn for every (tool, kind) pair that has a trusted baseline or has ever been
 * raised: the host first (tool NULL, kind CPU_SPIKE only), then tools in strcmp order,
 * kinds in enum order. Stops early when fn returns non-zero.
 */
void anomaly__for_each(const struct anomaly_detector *d,
		       int (*fn)(const struct anomaly_state *s, void *ctx), void *ctx);

/*
 * Calls fn for each flag raised or cleared since the previous call, oldest first (active
 * tells which; a flag raised and cleared in between shows up twice), then forgets them
 * all, including those after an early stop (fn returning non-zero). At most 4096 changes
 * are kept between calls; returns how many were dropped beyond that (normally 0).
 */
uint64_t anomaly__for_each_change(struct anomaly_detector *d,
				  int (*fn)(const struct anomaly_state *s, void *ctx), void *ctx);

/* Number of tools the detector keeps a baseline for. */
size_t anomaly__nr_tools(const struct anomaly_detector *d);

/* The detector's age: distinct windows observed since it started learning (persisted). */
uint64_t anomaly__age_windows(const struct anomaly_detector *d);

#endif /* TOOLWATCH_ANOMALY_H */
