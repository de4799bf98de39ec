/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line flags of `toolwatch agent`, parsed into plain structs; pure. */
#ifndef TOOLWATCH_OPTIONS_H
#define TOOLWATCH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly.h"
#include "flags.h"
#include "probes.h"
#include "log.h"

#define OPTIONS_HOST_MAX 256
#define OPTIONS_PATH_MAX 4096

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
	uint64_t state_save_interval_ns;    /* 0: only at exit */
	char tools_rules[OPTIONS_PATH_MAX]; /* "" = no rules file */
	uint64_t tools_idle_timeout_ns;	    /* 0: names stay for the agent's life */
	bool tools_normalize;
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
