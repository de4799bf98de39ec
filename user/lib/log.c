// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/strbuf.h"

enum log_level log_level = LOG_INFO;
static enum log_style log_style = LOG_STYLE_DAEMON;
static const char *log_prefix = "toolwatch";
static enum log_format log_format = LOG_FORMAT_TEXT;

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

void log__set_format(enum log_format format)
{
	log_format = format;
}

int log__parse_format(const char *s, enum log_format *out)
{
	static const char *const names[] = {"text", "logfmt", "json"};

	for (unsigned int i = 0; i < 3; i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum log_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Appends msg quoted and escaped: JSON rules (also valid in logfmt); bad UTF-8 -> U+FFFD. */
static void put_quoted(struct strbuf *sb, const char *msg)
{
	const unsigned char *p = (const unsigned char *)msg;
	size_t left = strlen(msg);

	strbuf__putc(sb, '"');
	while (left) {
		size_t k;

		if (*p == '"' || *p == '\\') {
			strbuf__putc(sb, '\\');
			strbuf__putc(sb, (char)*p);
		} else if (*p == '\n') {
			strbuf__puts(sb, "\\n");
		} else if (*p == '\t') {
			strbuf__puts(sb, "\\t");
		} else if (*p < 0x20 || *p == 0x7f) {
			strbuf__appendf(sb, "\\u%04x", *p);
		} else if (*p >= 0x80) {
			k = utf8__seq_len(p, left);
			if (!k) {
				strbuf__puts(sb, "\xef\xbf\xbd");
				k = 1;
			} else {
				strbuf__append(sb, p, k);
			}
			p += k;
			left -= k;
			continue;
		} else {
			strbuf__putc(sb, (char)*p);
		}
		p++;
		left--;
	}
	strbuf__putc(sb, '"');
}

static bool logfmt_needs_quotes(const char *v)
{
	if (!*v)
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p >= 0x7f)
			return true;
	return false;
}

size_t log__format_line(char *out, size_t out_size, enum log_format format, const char *prefix,
			const char *level, const char *msg, uint64_t unix_ns)
{
	struct strbuf sb = {};
	char ts[40];
	time_t sec = (time_t)(unix_ns / 1000000000ULL);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03uZ", (unsigned int)(unix_ns / 1000000ULL % 1000));
	switch (format) {
	case LOG_FORMAT_LOGFMT:
		strbuf__appendf(&sb, "ts=%s level=%s msg=", ts, level);
		if (logfmt_needs_quotes(msg))
			put_quoted(&sb, msg);
		else
			strbuf__puts(&sb, msg);
		break;
	case LOG_FORMAT_JSON:
		strbuf__appendf(&sb, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level);
		put_quoted(&sb, msg);
		strbuf__putc(&sb, '}');
		break;
	default:
		strbuf__appendf(&sb, "%s: level=%s %s", prefix, level, msg);
		break;
	}
	strbuf__putc(&sb, '\n');
	n = 0;
	if (out_size) {
		n = sb.oom ? 0 : (sb.len < out_size ? sb.len : out_size - 1);
		if (n)
			memcpy(out, sb.buf, n);
		if (n && out[n - 1] != '\n')
			out[n - 1] = '\n'; /* truncated: still one line */
		out[n] = '\0';
	}
	strbuf__free(&sb);
	return n;
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
	if (log_style == LOG_STYLE_CLI) {
		fprintf(stderr, "%s: %s\n", log_prefix, msg);
	} else {
		char line[2048];
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		log__format_line(line, sizeof(line), log_format, log_prefix, level_names[level],
				 msg, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
		fputs(line, stderr);
	}
}
