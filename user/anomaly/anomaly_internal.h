/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The anomaly detector's learned state, shared by its four files only: anomaly.c (the
 * detector), anomaly_judge.c (a window's verdicts and cause), anomaly_tools.c (the tool
 * table and the baselines' storage) and baseline_codec.c (the save format). Nothing else
 * includes this header.
 */
#ifndef TOOLWATCH_ANOMALY_INTERNAL_H
#define TOOLWATCH_ANOMALY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly/anomaly.h"
#include "anomaly/stats.h"

#define HOURS		 24
#define RESERVOIR_GLOBAL 128  /* windows sampled per statistic of a global baseline */
#define RESERVOIR_HOUR	 48   /* of an hour-of-day baseline: it sees 1/24 of the windows */
#define KNOWN_MAX	 4096 /* names of forgotten tools remembered for NEW_TOOL */
#define VALUE_MAX	 1e15 /* statistics are clamped to [0, VALUE_MAX] so sums stay finite */

_Static_assert(RESERVOIR_GLOBAL <= RESERVOIR_CAP_MAX, "reservoir readers need the room");

/* What a baseline learns, each with its own trust counters and poisoning guard. */
enum group {
	GROUP_DURATION, /* LATENCY_DEGRADATION, STATISTICAL_OUTLIER */
	GROUP_CPU,	/* CPU_SPIKE (tool: s per execution; host: utilisation) */
	GROUP_MEMORY,	/* MEMORY_SPIKE */
	GROUP_MAX,
	GROUP_NONE = -1,
};

/* Decayed sums of the components of execution time, for the cause of a latency flag. */
struct split_sums {
	uint64_t last_age; /* age of the last window added */
	double executions;
	double seconds[ANOMALY_SPLIT_MAX];
};

struct baseline {
	uint64_t windows[GROUP_MAX];	/* windows learned, not decayed: the trust gate */
	uint64_t samples[GROUP_MAX];	/* executions (observations) learned */
	struct dhist duration;		/* ns per execution */
	struct dhist memory;		/* peak bytes per execution */
	struct reservoir mean_duration; /* ln of the mean ns per execution of a window */
	struct reservoir cpu;		/* CPU s per execution of a window; host: utilisation */
	struct split_sums split;	/* learned with GROUP_DURATION */
};

struct flag {
	bool active;
	uint32_t bad_streak;  /* consecutive anomalous evaluated windows while clear */
	uint32_t good_streak; /* consecutive clean (or unevaluated) windows while raised */
	bool held;	      /* raised, its anomaly over (clear_after clean windows): kept
			       * by keep_firing_windows alone, anomalous runs counted in
			       * bad_streak as while clear (not saved: derived on load) */
	uint64_t raised_total;
	uint64_t raised_at_age;
	double ratio;
	enum anomaly_cause cause; /* latency kinds: set by anomalous windows, reset at clear */
};

/* A tool, or the host (name NULL, only flags[ANOMALY_CPU_SPIKE] and the cpu group used). */
struct tool {
	char *name;
	uint64_t last_active_age; /* age of the last window with executions */
	bool learned;		  /* the duration baseline has been trusted once */
	struct flag flags[ANOMALY_KIND_MAX];
	struct baseline global;
	struct baseline *hours; /* HOURS of them with cfg.seasonal, else NULL */
};

struct change {
	char *tool; /* NULL: the host */
	enum anomaly_kind kind;
	bool active;
	double ratio;
	uint64_t raised_total;
	enum anomaly_cause cause;
};

struct anomaly_detector {
	struct anomaly_config cfg;
	double span_windows; /* baseline_ns / window_ns: the decay time constant in windows */
	uint64_t learning_windows;
	uint64_t hold_windows;
	uint64_t relearn_windows;
	uint64_t keep_firing_windows;

	uint64_t age; /* distinct windows seen */
	int64_t last_window_end;
	bool have_window_end;
	uint64_t rng;

	struct tool host;
	struct tool **tools; /* sorted by name */
	size_t nr_tools;
	size_t cap_tools;

	uint64_t known[KNOWN_MAX]; /* ring of name hashes of forgotten tools */
	uint32_t nr_known;
	uint32_t known_next;

	struct change *changes;
	size_t nr_changes;
	uint64_t changes_dropped;
};

/* A kind's verdict on one window. */
enum verdict {
	VERDICT_NONE, /* not evaluated: no data or no trusted baseline */
	VERDICT_CLEAN,
	VERDICT_ANOMALOUS,
};

/* What one window contributes to a tool's baselines. */
struct window_stats {
	double duration_w[DHIST_BUCKETS];
	double nr_durations;
	double mean_duration_ns;
	double log_mean_duration; /* ln of mean_duration_ns (>= 1 ns) */
	double cpu_per_execution; /* host: utilisation */
	uint64_t executions;	  /* host: 1 */
	double memory_w[DHIST_BUCKETS];
	double nr_memory;
	double split_executions;
	double split_seconds[ANOMALY_SPLIT_MAX];
};

/* --- anomaly_tools.c --- */

/* Zeroes b and gives each of its reservoirs room for cap samples. Returns 0 or -ENOMEM. */
int anomaly_baseline__init(struct baseline *b, uint32_t cap);

/* Frees what anomaly_baseline__init() allocated; b's counters are left as they are. */
void anomaly_baseline__fini(struct baseline *b);

/*
 * Zeroes t and initialises its baselines (HOURS more with seasonal), not its name.
 * Returns 0, or -ENOMEM with t holding nothing to free.
 */
int anomaly_tool__init(struct tool *t, bool seasonal);

/* A new tool named name (copied). Returns NULL on ENOMEM. */
struct tool *anomaly_tool__new(const char *name, bool seasonal);

/* Frees what t owns (name, baselines), not t itself; NULL is a no-op. */
void anomaly_tool__free(struct tool *t);

/* Index of name in d's sorted tools, or the index where it would go (*found false). */
size_t anomaly_tools__index(const struct anomaly_detector *d, const char *name, bool *found);

/* Makes room for n tools in d->tools. Returns 0 or -ENOMEM. */
int anomaly_tools__reserve(struct anomaly_detector *d, size_t n);

/*
 * Inserts t (whose name d does not hold; room reserved) in name order, first forgetting
 * the least recently active tools while d holds max_tools or more.
 */
void anomaly_tools__insert(struct anomaly_detector *d, struct tool *t);

/* Forgets the least recently active tool (d holds at least one), remembering its name. */
void anomaly_tools__evict_one(struct anomaly_detector *d);

/* Whether name is the name of a tool d forgot (among the last KNOWN_MAX forgotten). */
bool anomaly_tools__forgotten(const struct anomaly_detector *d, const char *name);

/* --- anomaly_judge.c --- */

/* current / baseline, clamped to [0, ANOMALY_RATIO_MAX]; no baseline: the max or 1. */
double anomaly_judge__ratio(double current, double baseline);

/* Whether b's group g has learned enough windows (and, but for the host, samples). */
bool anomaly_baseline__trusted(const struct anomaly_detector *d, const struct baseline *b, int g,
			       bool host);

/* The same for an hour-of-day baseline: seasonal_min_windows of its own hour, when set. */
bool anomaly_baseline__hour_trusted(const struct anomaly_detector *d, const struct baseline *b,
				    int g, bool host);

/* The baseline a window is judged against: its hour's once trusted, else the global one. */
const struct baseline *anomaly_judge__baseline(const struct anomaly_detector *d,
					       const struct tool *t, int g, int hour);

/* The component of execution time that grew most from b to ws (NONE without a split). */
enum anomaly_cause anomaly_judge__cause(const struct baseline *b, const struct window_stats *ws);

/* VERDICT_ANOMALOUS when anomalous, else VERDICT_CLEAN. */
enum verdict anomaly_judge__above(bool anomalous);

/*
 * Fills v and ratio (by kind) with t's verdicts on window w (ws: its statistics), all but
 * NEW_TOOL; *spike: the outlier is extreme enough to raise on this window alone.
 */
void anomaly_judge__tool(const struct anomaly_detector *d, const struct tool *t, int hour,
			 const struct anomaly_tool_window *w, const struct window_stats *ws,
			 enum verdict *v, double *ratio, bool *spike);

/* --- anomaly.c --- */

/*
 * Moves fresh's learned state into d, keeping d's change list; tools beyond d's
 * max_tools are forgotten first. Frees fresh and d's old learned state.
 */
void anomaly__adopt(struct anomaly_detector *d, struct anomaly_detector *fresh);

#endif /* TOOLWATCH_ANOMALY_INTERNAL_H */
