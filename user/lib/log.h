/* SPDX-License-Identifier: GPL-2.0 */
/* Leveled logging to stderr, xdp-tools style: one logger for the agent and `trace`. */
#ifndef TOOLWATCH_LOG_H
#define TOOLWATCH_LOG_H

#include <stddef.h>
#include <stdint.h>

/*
 * LOG_NOTICE sits between warnings and chatter: `trace` runs at it, so its own notes show
 * while the loader's progress notes (info) stay quiet. It is not a --log.level value.
 */
enum log_level { LOG_ERROR, LOG_WARN, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

/* How a line looks: the daemon's "toolwatch: level=<l> msg" or a CLI's "<prefix>: msg". */
enum log_style { LOG_STYLE_DAEMON, LOG_STYLE_CLI };

/* The agent's line format (--log.format): readable text, or promslog's logfmt or JSON. */
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };

/* Messages above this level are dropped; default LOG_INFO. */
extern enum log_level log_level;

/*
 * Sets the level and the style; prefix names the command in LOG_STYLE_CLI lines
 * ("toolwatch trace"), a static string.
 */
void log__setup(enum log_level level, enum log_style style, const char *prefix);

/* Sets the line format of LOG_STYLE_DAEMON lines (CLI lines keep their style). */
void log__set_format(enum log_format format);
/* Parses "text", "logfmt", "json"; 0 or -EINVAL. */
int log__parse_format(const char *s, enum log_format *out);
/*
 * Formats one line (with its newline) into out: ts= (RFC 3339 UTC, milliseconds), level=,
 * msg= in logfmt (quoted when needed) or a JSON object; TEXT is "<prefix>: level=<l> msg".
 * Pure: time is passed in (unix ns). Returns the length, truncated to out_size - 1.
 */
size_t log__format_line(char *out, size_t out_size, enum log_format format, const char *prefix,
			const char *level, const char *msg, uint64_t unix_ns);

/* Parses "error", "warn", "info", "debug"; 0 or -EINVAL. */
int log__parse_level(const char *s, enum log_level *out);
/* Writes one line to stderr when level <= log_level; trailing newlines are dropped. */
void log__print(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...)    log__print(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)   log__print(LOG_WARN, __VA_ARGS__)
#define pr_notice(...) log__print(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...)   log__print(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)  log__print(LOG_DEBUG, __VA_ARGS__)

#endif /* TOOLWATCH_LOG_H */
