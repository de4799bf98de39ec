/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line flags of `toolwatch backtest`, parsed into a plain struct; pure. */
#ifndef TOOLWATCH_BACKTEST_OPTIONS_H
#define TOOLWATCH_BACKTEST_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly/anomaly.h"
#include "lib/flags.h"

#define BACKTEST_PATH_MAX 4096
#define BACKTEST_URL_MAX  2048

struct backtest_options {
	char file[BACKTEST_PATH_MAX];		   /* --file; "" none */
	char prometheus_url[BACKTEST_URL_MAX];	   /* --prometheus.url; "" none */
	char tool[ANOMALY_TOOL_NAME_MAX];	   /* --tool; "" none */
	char selector[1024];			   /* --prometheus.selector: more matchers */
	char ca_file[BACKTEST_PATH_MAX];	   /* --prometheus.ca-file */
	char cert_file[BACKTEST_PATH_MAX];	   /* --prometheus.cert-file (client TLS) */
	char key_file[BACKTEST_PATH_MAX];	   /* --prometheus.key-file */
	char username[256];			   /* --prometheus.username */
	char password_file[BACKTEST_PATH_MAX];	   /* --prometheus.password-file */
	char bearer_token_file[BACKTEST_PATH_MAX]; /* --prometheus.bearer-token-file */
	bool insecure_skip_verify;		   /* --prometheus.insecure-skip-verify */
	uint64_t timeout_ns;			   /* --prometheus.timeout (one request) */
	uint64_t max_body_bytes;		   /* --prometheus.max-body-size */
	int64_t start_unix_s;			   /* --start; 0: end - 24h */
	int64_t end_unix_s;			   /* --end; 0: now */
	bool json;				   /* --json */
	struct anomaly_config anomaly;		   /* --anomaly.*; window_ns 0: not given */
};

/* Fills o with the defaults: the agent's anomaly defaults, but no window (see above). */
void backtest_options__init(struct backtest_options *o);

/*
 * Parses argv[0..argc) (flags only) into o, which holds defaults already, then checks
 * them together: exactly one of --file and --prometheus.url, --tool with the latter,
 * --start before --end, --prometheus.* only with --prometheus.url, a password file only
 * with a username. Every refusal is one line in err and OPTIONS_ERROR (exit status 2).
 */
enum options_result backtest_options__parse(struct backtest_options *o, int argc, char **argv,
					    char *err, size_t err_size);

/* Usage text of `toolwatch backtest`. */
extern const char backtest_usage[];

#endif /* TOOLWATCH_BACKTEST_OPTIONS_H */
