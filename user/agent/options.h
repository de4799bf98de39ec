/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line flags of `toolwatch agent`, parsed into plain structs; pure. */
#ifndef TOOLWATCH_OPTIONS_H
#define TOOLWATCH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly/anomaly.h"
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
	struct kube_options kube;    /* --kubernetes.* */
	unsigned int metrics_labels; /* bit (1 << enum identity_label) per label */
	uint32_t metrics_max_series; /* (tool, identity) series with --metrics.labels */
	uint64_t metrics_identity_idle_timeout_ns; /* idle series leave /metrics; 0 never */
};

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

#endif /* TOOLWATCH_OPTIONS_H */
