// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

enum log_level log_level = LOG_INFO;
static enum log_style log_style = LOG_STYLE_DAEMON;
static const char *log_prefix = "toolwatch";

/* a notice is info to log readers: --log.level has no "notice" */
static const char *const level_names[] = {
    [LOG_ERROR] = "error", [LOG_WARN] = "warn",	  [LOG_NOTICE] = "info",
    [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void log__setup(enum log_level level, enum log_style style, const char *prefix)
{
	log_level = level;
	log_style = style;
	log_prefix = prefix ? prefix : "toolwatch";
}

int log__parse_level(const char *s, enum log_level *out)
{
	static const enum log_level parsed[] = {LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG};

	for (unsigned int i = 0; i < sizeof(parsed) / sizeof(parsed[0]); i++) {
		if (!strcmp(s, level_names[parsed[i]])) {
			*out = parsed[i];
			return 0;
		}
	}
	return -EINVAL;
}

void log__print(enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	size_t n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (log_style == LOG_STYLE_CLI)
		fprintf(stderr, "%s: %s\n", log_prefix, msg);
	else
		fprintf(stderr, "%s: level=%s %s\n", log_prefix, level_names[level], msg);
}
