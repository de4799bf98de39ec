/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line flags of `toolwatch agent`, parsed into plain structs; pure. */
#ifndef TOOLWATCH_OPTIONS_H
#define TOOLWATCH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly/anomaly.h"
#include "events/snapshot.h"
#include "lib/flags.h"
#include "identity/kube.h"
#include "kernel/probes.h"
#include "lib/log.h"

#define OPTIONS_HOST_MAX   256
#define OPTIONS_PATH_MAX   4096
#define OPTIONS_LISTEN_MAX 8 /* --web.listen-address given this many times at most */

struct listen_address {
	char host[OPTIONS_HOST_MAX]; /* "" = every address */
	uint16_t port;
};

struct agent_options {
	char listen_host[OPTIONS_HOST_MAX]; /* "" = every address */
	uint16_t listen_port;
	uint32_t tools_max;
	enum log_level log_level;
	uint64_t ringbuf_bytes;
	uint32_t max_processes;
	bool bpf_stats;
	bool disable[PROBE_MAX];
	struct anomaly_config anomaly;
	char state_dir[OPTIONS_PATH_MAX];
	uint64_t state_save_interval_ns; /* 0: only at exit */
	uint64_t sample_interval_ns;	 /* running executions read without a scrape */
	/* --web.listen-address given again: the addresses after the first */
	bool listen_given;
	struct listen_address more_listen[OPTIONS_LISTEN_MAX - 1];
	unsigned int nr_more_listen;
	char web_config_file[OPTIONS_PATH_MAX]; /* "" none */
	char telemetry_path[256];
	bool disable_exporter_metrics;
	uint32_t max_connections;
	uint32_t max_per_client;
	uint64_t read_header_timeout_ns;
	uint64_t idle_timeout_ns;
	enum log_format log_format;
	char tools_rules[OPTIONS_PATH_MAX]; /* "" = no rules file */
	uint64_t tools_idle_timeout_ns;	    /* 0: names stay for the agent's life */
	bool tools_normalize;
	struct kube_options kube;	 /* --kubernetes.* */
	unsigned int metrics_labels;	 /* bit (1 << enum identity_label) per label */
	uint32_t metrics_max_series;	 /* tool_* series (text format), tools or pairs alike */
	unsigned int metrics_disable;	 /* bit (1 << enum tool_family) per family off */
	enum native_mode metrics_native; /* --metrics.native-histograms */
	enum classic_buckets metrics_classic; /* --metrics.classic-buckets */
	bool metrics_skip_zero_failures;
	uint64_t metrics_identity_idle_timeout_ns; /* idle series leave /metrics; 0 never */
};

/*
 * The tool_* series --metrics.* lets one tool or (tool, identity) pair have, and from the
 * budget --metrics.max-series how many tools (or pairs) are tracked before "other": at
 * least 1. Fills c with what snapshots carry.
 */
uint32_t agent_options__series_cap(const struct agent_options *o, struct metrics_config *c);

/* Fills o with the documented defaults. */
void agent_options__init(struct agent_options *o);

/*
 * Parses argv[0..argc) (flags only, no program or command name) into o, which holds
 * defaults already, with flags__parse(): --flag=value, --flag value, bare switches,
 * -h/--help, --version; every refusal (unknown, repeated, positional, missing or bad
 * value) is one line in err naming the flag and OPTIONS_ERROR (exit status 2).
 */
enum options_result agent_options__parse(struct agent_options *o, int argc, char **argv, char *err,
					 size_t err_size);

/* Usage text of `toolwatch agent`. */
extern const char agent_usage[];

/*
 * Copies the agent's --anomaly.* flag specs (its own table's entries, so every command
 * that runs the detector takes the same names, bounds and defaults) into out[max], their
 * fields moved from struct agent_options' anomaly member to a struct anomaly_config at
 * config_offset of another options struct. Returns how many were copied (at most max).
 */
size_t agent_options__anomaly_flags(struct flag *out, size_t max, size_t config_offset);

/* The help lines of the --anomaly.* flags, as `toolwatch agent --help` prints them. */
#define AGENT_ANOMALY_USAGE                                                                        \
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
	"  --anomaly.relearn-min-windows=N  windows a baseline restarted by\n"                     \
	"                             --anomaly.relearn-after needs; 0: --anomaly.min-windows\n"   \
	"                             (default 0)\n"                                               \
	"  --anomaly.latency-ratio=X  LATENCY_DEGRADATION: window p95 above X times\n"             \
	"                             the baseline p95 (default 1.5)\n"                            \
	"  --anomaly.outlier-sigmas=X  STATISTICAL_OUTLIER: window mean X robust\n"                \
	"                             standard deviations out (default 3)\n"                       \
	"  --anomaly.outlier-spike-sigmas=X  a window this far out raises\n"                       \
	"                             STATISTICAL_OUTLIER at once; 0 off (default 0)\n"            \
	"  --anomaly.outlier-beyond-range  STATISTICAL_OUTLIER also needs the window\n"            \
	"                             beyond what 98% of baseline windows show\n"                  \
	"  --anomaly.outlier-log-offset=X  below the baseline median, STATISTICAL_OUTLIER\n"       \
	"                             judges ln(mean + X x median); 0 off (default 0)\n"           \
	"  --anomaly.keep-firing-for=D  a raised flag clears no earlier than this\n"               \
	"                             (default 0)\n"                                               \
	"  --anomaly.max-tools=N      tools with baselines (default 2048)\n"

#endif /* TOOLWATCH_OPTIONS_H */
