/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line flags of `toolwatch agent`, parsed into plain structs; pure. */
#ifndef TOOLWATCH_OPTIONS_H
#define TOOLWATCH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly.h"
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
	uint64_t state_save_interval_ns; /* 0: only at exit */
};

enum options_result {
	OPTIONS_OK = 0,
	OPTIONS_HELP = 1,    /* --help given: print usage, exit 0 */
	OPTIONS_VERSION = 2, /* --version given */
	OPTIONS_ERROR = -1,  /* err holds one line naming the flag: exit 2 */
};

/* Fills o with the documented defaults. */
void agent_options__init(struct agent_options *o);

/*
 * Parses argv[0..argc) (flags only, no program or command name) into o, which holds
 * defaults already. Accepts --flag=value and --flag value; booleans also bare.
 */
enum options_result agent_options__parse(struct agent_options *o, int argc, char **argv,
					 char *err, size_t err_size);

/* Usage text of `toolwatch agent`. */
extern const char agent_usage[];

#endif /* TOOLWATCH_OPTIONS_H */
