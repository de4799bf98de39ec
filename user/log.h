/* SPDX-License-Identifier: GPL-2.0 */
/* Leveled logging to stderr, xdp-tools style. */
#ifndef TOOLWATCH_LOG_H
#define TOOLWATCH_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped; default LOG_INFO. */
extern enum log_level log_level;

/* Parses "error", "warn", "info", "debug"; 0 or -EINVAL. */
int log__parse_level(const char *s, enum log_level *out);
/* Writes "level=<l> msg" to stderr when level <= log_level. */
void log__print(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...) log__print(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) log__print(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log__print(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log__print(LOG_DEBUG, __VA_ARGS__)

#endif /* TOOLWATCH_LOG_H */
