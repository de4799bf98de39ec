// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "tools.h"
#include "trace_format.h"

#define NS_PER_US	1000ULL
#define NS_PER_MS	1000000ULL
#define NS_PER_S	1000000000ULL
#define SECONDS_PER_DAY 86400LL
#define FINE_SUB_BITS	3 /* TRACE_FINE_SUB == 1 << FINE_SUB_BITS */
#define ELLIPSIS	"..."
#define ELLIPSIS_COLS	3
#define STARS_MAX	40

_Static_assert(TRACE_FINE_SUB == 1 << FINE_SUB_BITS, "TRACE_FINE_SUB must be 2^FINE_SUB_BITS");

/* Column widths of the text lines. */
#define COL_TIME	12
#define COL_TOOL	12
#define COL_TOOL_WIDE	20
#define COL_PID		7
#define COL_UID		6
#define COL_DURATION	8
#define COL_STATUS	12
#define COL_STATUS_WIDE 19
#define COL_CPU		7
#define COL_BYTES	6

/* Column widths of the summary table. */
#define SUM_TOOL      20
#define SUM_TOOL_WIDE 28
#define SUM_COUNT     7
#define SUM_FAIL      6
#define SUM_DURATION  7

uint64_t trace_clock__wall_ns(const struct trace_clock *c, uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + c->realtime_offset_ns);
}

void trace_format__local_time(char *buf, size_t size, uint64_t wall_ns, long utc_offset_s)
{
	int64_t secs = (int64_t)(wall_ns / NS_PER_S) + utc_offset_s;
	int64_t of_day = ((secs % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;

	snprintf(buf, size, "%02d:%02d:%02d.%03d", (int)(of_day / 3600), (int)(of_day / 60 % 60),
		 (int)(of_day % 60), (int)(wall_ns % NS_PER_S / NS_PER_MS));
}

void trace_format__utc_time(char *buf, size_t size, uint64_t wall_ns)
{
	time_t secs = (time_t)(wall_ns / NS_PER_S);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, size, "1970-01-01T00:00:00.000000000Z");
		return;
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRIu64 "Z", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (uint64_t)(wall_ns % NS_PER_S));
}

/* v in a unit of u ns with 3 significant digits, rounded down: "1.23", "12.3", "123". */
static size_t three_digits(char *buf, size_t size, uint64_t v, uint64_t u, const char *unit)
{
	uint64_t whole = v / u, rest = v % u;
	int n;

	if (whole < 10)
		n = snprintf(buf, size, "%" PRIu64 ".%02" PRIu64 "%s", whole, rest * 100 / u, unit);
	else if (whole < 100)
		n = snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%s", whole, rest * 10 / u, unit);
	else
		n = snprintf(buf, size, "%" PRIu64 "%s", whole, unit);
	return n < 0 ? 0 : (size_t)n;
}

size_t trace_format__duration(char *buf, size_t size, uint64_t ns)
{
	uint64_t s = ns / NS_PER_S;
	int n;

	if (ns < NS_PER_US)
		n = snprintf(buf, size, "%" PRIu64 "ns", ns);
	else if (ns < NS_PER_MS)
		return three_digits(buf, size, ns, NS_PER_US, "us");
	else if (ns < NS_PER_S)
		return three_digits(buf, size, ns, NS_PER_MS, "ms");
	else if (s < 100)
		return three_digits(buf, size, ns, NS_PER_S, "s");
	else if (s < 3600)
		n = snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 100 * 3600)
		n = snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
	else if (s < 100 * 86400)
		n = snprintf(buf, size, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
	else
		n = snprintf(buf, size, "%" PRIu64 "d", s / 86400);
	return n < 0 ? 0 : (size_t)n;
}

size_t trace_format__bytes(char *buf, size_t size, uint64_t bytes)
{
	static const char units[] = "KMGTPE";
	unsigned int i = 0;
	uint64_t whole;
	int n;

	if (bytes < 1024) {
		n = snprintf(buf, size, "%" PRIu64, bytes);
		return n < 0 ? 0 : (size_t)n;
	}
	while (i + 1 < sizeof(units) - 1 && bytes >> (10 * (i + 2)))
		i++;
	whole = bytes >> (10 * (i + 1));
	if (whole < 10)
		n = snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%c", whole,
			     ((bytes - (whole << (10 * (i + 1)))) * 10) >> (10 * (i + 1)),
			     units[i]);
	else
		n = snprintf(buf, size, "%" PRIu64 "%c", whole, units[i]);
	return n < 0 ? 0 : (size_t)n;
}

struct name {
	int value;
	const char *name;
};

#define NAME(x)                                                                                    \
	{                                                                                          \
		x, #x                                                                              \
	}

/* From <signal.h>: the numbers of this architecture. No aliases (SIGIOT, SIGPOLL). */
static const struct name signal_names[] = {
    NAME(SIGHUP),    NAME(SIGINT),   NAME(SIGQUIT), NAME(SIGILL),  NAME(SIGTRAP),
    NAME(SIGABRT),   NAME(SIGBUS),   NAME(SIGFPE),  NAME(SIGKILL), NAME(SIGUSR1),
    NAME(SIGSEGV),   NAME(SIGUSR2),  NAME(SIGPIPE), NAME(SIGALRM), NAME(SIGTERM),
#ifdef SIGSTKFLT
    NAME(SIGSTKFLT),
#endif
    NAME(SIGCHLD),   NAME(SIGCONT),  NAME(SIGSTOP), NAME(SIGTSTP), NAME(SIGTTIN),
    NAME(SIGTTOU),   NAME(SIGURG),   NAME(SIGXCPU), NAME(SIGXFSZ), NAME(SIGVTALRM),
    NAME(SIGPROF),   NAME(SIGWINCH), NAME(SIGIO),   NAME(SIGPWR),  NAME(SIGSYS),
};

/* What execve(2) and the loader can fail with, and then some. */
static const struct name errno_names[] = {
    NAME(EPERM),     NAME(ENOENT),    NAME(ESRCH),	  NAME(EINTR),	     NAME(EIO),
    NAME(ENXIO),     NAME(E2BIG),     NAME(ENOEXEC),	  NAME(EBADF),	     NAME(ECHILD),
    NAME(EAGAIN),    NAME(ENOMEM),    NAME(EACCES),	  NAME(EFAULT),	     NAME(EBUSY),
    NAME(EEXIST),    NAME(EXDEV),     NAME(ENODEV),	  NAME(ENOTDIR),     NAME(EISDIR),
    NAME(EINVAL),    NAME(ENFILE),    NAME(EMFILE),	  NAME(ENOTTY),	     NAME(ETXTBSY),
    NAME(EFBIG),     NAME(ENOSPC),    NAME(ESPIPE),	  NAME(EROFS),	     NAME(EMLINK),
    NAME(EPIPE),     NAME(EDOM),      NAME(ERANGE),	  NAME(EDEADLK),     NAME(ENAMETOOLONG),
    NAME(ENOLCK),    NAME(ENOSYS),    NAME(ENOTEMPTY),	  NAME(ELOOP),	     NAME(ENODATA),
    NAME(ELIBACC),   NAME(ELIBBAD),   NAME(ELIBSCN),	  NAME(ELIBMAX),     NAME(ELIBEXEC),
    NAME(EOVERFLOW), NAME(ESTALE),    NAME(EDQUOT),	  NAME(ENOMEDIUM),   NAME(EOPNOTSUPP),
    NAME(ENOTCONN),  NAME(ETIMEDOUT), NAME(ECONNREFUSED), NAME(EKEYREVOKED),
};

static const char *name_of(const struct name *table, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].value == value)
			return table[i].name;
	return NULL;
}

const char *trace_format__signal_name(int sig, char *buf, size_t size)
{
	const char *name =
	    name_of(signal_names, sizeof(signal_names) / sizeof(signal_names[0]), sig);

	if (name)
		return name;
	snprintf(buf, size, "SIG%d", sig);
	return buf;
}

const char *trace_format__errno_name(int err, char *buf, size_t size)
{
	const char *name = name_of(errno_names, sizeof(errno_names) / sizeof(errno_names[0]), err);

	if (name)
		return name;
	snprintf(buf, size, "errno %d", err);
	return buf;
}

/* How an END event ended: true for success, else *type. */
static bool end_classify(const struct exec_event *ev, enum error_type *type)
{
	return execution__classify(ev->status, ev->flags, type);
}

void trace_format__status(char *buf, size_t size, const struct exec_event *ev)
{
	enum error_type type;
	char tmp[32];

	switch (ev->kind) {
	case EXEC_EVENT_START:
		snprintf(buf, size, "exec");
		return;
	case EXEC_EVENT_FAIL:
		snprintf(buf, size, "exec failed: %s",
			 trace_format__errno_name(ev->exec_errno, tmp, sizeof(tmp)));
		return;
	case EXEC_EVENT_END:
		break;
	}
	if (end_classify(ev, &type)) {
		snprintf(buf, size, "ok");
		return;
	}
	switch (type) {
	case ERROR_OOM_KILL:
		snprintf(buf, size, "oom");
		break;
	case ERROR_SIGNAL:
	case ERROR_CORE_DUMP:
		snprintf(buf, size, "%s%s",
			 trace_format__signal_name((int)(ev->status & 0x7f), tmp, sizeof(tmp)),
			 type == ERROR_CORE_DUMP ? " core" : "");
		break;
	default:
		snprintf(buf, size, "exit %u", (ev->status >> 8) & 0xff);
		break;
	}
}

const char *trace_format__status_kind(const struct exec_event *ev)
{
	enum error_type type;

	switch (ev->kind) {
	case EXEC_EVENT_START:
		return "running";
	case EXEC_EVENT_FAIL:
		return error_type__name(ERROR_EXEC_FAILED);
	case EXEC_EVENT_END:
		break;
	}
	return end_classify(ev, &type) ? "ok" : error_type__name(type);
}

bool trace_format__measured(const struct exec_event *ev, unsigned int measured, unsigned int what)
{
	return ev->kind == EXEC_EVENT_END && ev->usage && (measured & what) == what;
}

/*
 * The terminal form of the character at s[0..n): its bytes (or escape) into out, its
 * length in *consumed. Returns the bytes written to out (the columns, but for UTF-8).
 */
static size_t text_token(const unsigned char *s, size_t n, bool nul_as_space, char out[8],
			 size_t *consumed, size_t *cols)
{
	static const char hex[] = "0123456789abcdef";
	size_t seq;

	*consumed = 1;
	*cols = 1;
	if (s[0] == 0 && nul_as_space) {
		out[0] = ' ';
		return 1;
	}
	if (s[0] >= 0x20 && s[0] < 0x7f) {
		out[0] = (char)s[0];
		return 1;
	}
	if (s[0] == '\n' || s[0] == '\t' || s[0] == '\r') {
		out[0] = '\\';
		out[1] = s[0] == '\n' ? 'n' : s[0] == '\t' ? 't' : 'r';
		*cols = 2;
		return 2;
	}
	seq = s[0] >= 0x80 ? utf8__seq_len(s, n) : 0;
	if (seq == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
		/* C1 control (U+0080..U+009F): CSI and friends in some terminals */
		memcpy(out, "\\u00", 4);
		out[4] = hex[s[1] >> 4];
		out[5] = hex[s[1] & 0xf];
		*consumed = 2;
		*cols = 6;
		return 6;
	}
	if (seq) {
		memcpy(out, s, seq);
		*consumed = seq;
		return seq;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[s[0] >> 4];
	out[3] = hex[s[0] & 0xf];
	*cols = 4;
	return 4;
}

size_t trace_format__text(struct strbuf *sb, const char *s, size_t len, bool nul_as_space, bool cut,
			  size_t max_cols)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t total = 0, used = 0, budget, consumed, cols, n;
	char tok[8];

	for (size_t i = 0; i < len; i += consumed) {
		text_token(u + i, len - i, nul_as_space, tok, &consumed, &cols);
		total += cols;
	}
	if (!cut && total <= max_cols) {
		budget = max_cols;
	} else if (max_cols >= ELLIPSIS_COLS) {
		budget = max_cols - ELLIPSIS_COLS;
		cut = true;
	} else {
		budget = max_cols;
		cut = false; /* no room to say so */
	}
	for (size_t i = 0; i < len; i += consumed) {
		n = text_token(u + i, len - i, nul_as_space, tok, &consumed, &cols);
		if (used + cols > budget)
			break;
		strbuf__append(sb, tok, n);
		used += cols;
	}
	if (cut) {
		strbuf__puts(sb, ELLIPSIS);
		used += ELLIPSIS_COLS;
	}
	return used;
}

static size_t text0(struct strbuf *sb, const char *s, size_t max_cols)
{
	return trace_format__text(sb, s ? s : "", s ? strlen(s) : 0, false, false, max_cols);
}

size_t trace_format__argv(struct strbuf *sb, const struct exec_event *ev, size_t max_cols)
{
	size_t len = ev->args ? ev->args_size : 0, cols;

	while (len && !ev->args[len - 1])
		len--;
	if (len)
		return trace_format__text(sb, ev->args, len, true, ev->flags & TW_F_ARGS_TRUNC,
					  max_cols);
	if (ev->filename && ev->filename[0])
		return text0(sb, ev->filename, max_cols);
	if (max_cols < 2)
		return 0;
	strbuf__putc(sb, '[');
	cols = text0(sb, ev->comm, max_cols - 2);
	strbuf__putc(sb, ']');
	return cols + 2;
}

static void pad(struct strbuf *sb, size_t n)
{
	static const char spaces[] = "                                ";

	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		strbuf__append(sb, spaces, k);
		n -= k;
	}
}

/* A left-aligned cell of plain ASCII text and the space after it. */
static void cell_left(struct strbuf *sb, const char *s, size_t width)
{
	size_t n = strlen(s);

	strbuf__append(sb, s, n);
	pad(sb, n < width ? width - n + 1 : 1);
}

/* A right-aligned cell of plain ASCII text and the space after it. */
static void cell_right(struct strbuf *sb, const char *s, size_t width)
{
	size_t n = strlen(s);

	pad(sb, n < width ? width - n : 0);
	strbuf__append(sb, s, n);
	strbuf__putc(sb, ' ');
}

static void cell_u64(struct strbuf *sb, uint64_t v, size_t width)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	cell_right(sb, buf, width);
}

static void cell_bytes(struct strbuf *sb, bool measured, uint64_t v, size_t width)
{
	char buf[16] = "-";

	if (measured)
		trace_format__bytes(buf, sizeof(buf), v);
	cell_right(sb, buf, width);
}

static void cell_duration(struct strbuf *sb, bool known, uint64_t ns, size_t width)
{
	char buf[16] = "-";

	if (known)
		trace_format__duration(buf, sizeof(buf), ns);
	cell_right(sb, buf, width);
}

/* An escaped name cut to width (unless wide) and padded to it, then a space. */
static void cell_name(struct strbuf *sb, const char *s, size_t width, bool wide)
{
	size_t cols = text0(sb, s, wide ? SIZE_MAX : width);

	pad(sb, cols < width ? width - cols + 1 : 1);
}

static void end_line(struct strbuf *sb, size_t line_start)
{
	while (sb->len > line_start && sb->buf[sb->len - 1] == ' ')
		sb->len--;
	strbuf__putc(sb, '\n');
}

/* Columns before ARGS, separators included. */
static size_t fixed_cols(const struct trace_layout *l)
{
	if (l->wide)
		return COL_TIME + COL_TOOL_WIDE + 2 * COL_PID + COL_UID + COL_DURATION +
		       COL_STATUS_WIDE + COL_CPU + 5 * COL_BYTES + 13;
	return COL_TIME + COL_TOOL + 2 * COL_PID + COL_DURATION + COL_STATUS + 6;
}

void trace_format__header(struct strbuf *sb, const struct trace_layout *l)
{
	size_t start = sb->len;

	cell_left(sb, "TIME", COL_TIME);
	cell_left(sb, "TOOL", l->wide ? COL_TOOL_WIDE : COL_TOOL);
	cell_right(sb, "PID", COL_PID);
	cell_right(sb, "PPID", COL_PID);
	if (l->wide)
		cell_right(sb, "UID", COL_UID);
	cell_right(sb, "DURATION", COL_DURATION);
	cell_left(sb, "STATUS", l->wide ? COL_STATUS_WIDE : COL_STATUS);
	if (l->wide) {
		cell_right(sb, "CPU", COL_CPU);
		cell_right(sb, "MAXRSS", COL_BYTES);
		cell_right(sb, "NET_TX", COL_BYTES);
		cell_right(sb, "NET_RX", COL_BYTES);
		cell_right(sb, "DISK_R", COL_BYTES);
		cell_right(sb, "DISK_W", COL_BYTES);
	}
	strbuf__puts(sb, "ARGS");
	end_line(sb, start);
}

static uint64_t event_time_ns(const struct exec_event *ev)
{
	return ev->kind == EXEC_EVENT_START ? ev->start_ns : ev->end_ns;
}

static bool has_duration(const struct exec_event *ev)
{
	return ev->kind == EXEC_EVENT_END && !(ev->flags & TW_F_PARTIAL) &&
	       ev->end_ns >= ev->start_ns;
}

void trace_format__line(struct strbuf *sb, const struct trace_layout *l,
			const struct trace_clock *c, const struct exec_event *ev)
{
	const struct tw_usage *u = ev->usage;
	size_t start = sb->len, fixed = fixed_cols(l), args_cols;
	char buf[64];
	bool m;

	trace_format__local_time(buf, sizeof(buf), trace_clock__wall_ns(c, event_time_ns(ev)),
				 c->utc_offset_s);
	cell_left(sb, buf, COL_TIME);
	cell_name(sb, ev->tool, l->wide ? COL_TOOL_WIDE : COL_TOOL, l->wide);
	cell_u64(sb, ev->tgid, COL_PID);
	cell_u64(sb, ev->ppid, COL_PID);
	if (l->wide)
		cell_u64(sb, ev->uid, COL_UID);
	cell_duration(sb, has_duration(ev), ev->end_ns - ev->start_ns, COL_DURATION);
	trace_format__status(buf, sizeof(buf), ev);
	cell_left(sb, buf, l->wide ? COL_STATUS_WIDE : COL_STATUS);
	if (l->wide) {
		m = trace_format__measured(ev, l->measured, TRACE_MEASURE_CPU);
		cell_duration(sb, m, m ? u->cpu_user_ns + u->cpu_system_ns : 0, COL_CPU);
		m = trace_format__measured(ev, l->measured, TRACE_MEASURE_MEMORY);
		cell_bytes(sb, m, m ? u->peak_rss_bytes : 0, COL_BYTES);
		m = trace_format__measured(ev, l->measured, TRACE_MEASURE_NET);
		cell_bytes(sb, m, m ? u->net_tx_bytes : 0, COL_BYTES);
		cell_bytes(sb, m, m ? u->net_rx_bytes : 0, COL_BYTES);
		m = trace_format__measured(ev, l->measured, TRACE_MEASURE_DISK);
		cell_bytes(sb, m, m ? u->disk_read_bytes : 0, COL_BYTES);
		cell_bytes(sb, m, m ? u->disk_write_bytes : 0, COL_BYTES);
	}
	/* a long cell above pushed ARGS right: it still ends at the terminal's edge */
	fixed = sb->len - start > fixed ? sb->len - start : fixed;
	if (l->wide)
		args_cols = SIZE_MAX;
	else if (l->width > fixed + TRACE_ARGS_MIN_COLS)
		args_cols = l->width - fixed;
	else
		args_cols = TRACE_ARGS_MIN_COLS;
	trace_format__argv(sb, ev, args_cols);
	end_line(sb, start);
}

/* JSON object writer: commas between members. */
struct jw {
	struct strbuf *sb;
	bool first;
};

static void jw_key(struct jw *w, const char *key)
{
	if (!w->first)
		strbuf__putc(w->sb, ',');
	w->first = false;
	strbuf__putc(w->sb, '"');
	strbuf__puts(w->sb, key);
	strbuf__puts(w->sb, "\":");
}

static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s)
		json__append_string0(w->sb, s);
	else
		strbuf__puts(w->sb, "null");
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	strbuf__appendf(w->sb, "%" PRIu64, v);
}

/* A number, or null when not known. */
static void jw_u64_or_null(struct jw *w, const char *key, bool known, uint64_t v)
{
	if (known) {
		jw_u64(w, key, v);
		return;
	}
	jw_key(w, key);
	strbuf__puts(w->sb, "null");
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	strbuf__puts(w->sb, v ? "true" : "false");
}

static void jw_time(struct jw *w, const char *key, bool known, uint64_t wall_ns)
{
	char buf[40];

	if (!known) {
		jw_str(w, key, NULL);
		return;
	}
	trace_format__utc_time(buf, sizeof(buf), wall_ns);
	jw_str(w, key, buf);
}

/* argv as an array of strings split at NULs; a last word without its NUL is kept. */
static void jw_argv(struct jw *w, const char *args, size_t len)
{
	size_t p = 0;

	jw_key(w, "argv");
	if (!args) {
		strbuf__puts(w->sb, "null");
		return;
	}
	strbuf__putc(w->sb, '[');
	while (p < len) {
		const char *nul = memchr(args + p, '\0', len - p);
		size_t end = nul ? (size_t)(nul - args) : len;

		if (p)
			strbuf__putc(w->sb, ',');
		json__append_string(w->sb, args + p, end - p);
		p = end + 1;
	}
	strbuf__putc(w->sb, ']');
}

static void jw_usage(struct jw *w, unsigned int measured, const struct exec_event *ev)
{
	static const struct tw_usage none;
	const struct tw_usage *u = ev->usage ? ev->usage : &none;
	bool m;

	m = trace_format__measured(ev, measured, TRACE_MEASURE_MEMORY);
	jw_u64_or_null(w, "peak_rss_bytes", m, u->peak_rss_bytes);
	m = trace_format__measured(ev, measured, TRACE_MEASURE_CPU);
	jw_u64_or_null(w, "cpu_user_ns", m, u->cpu_user_ns);
	jw_u64_or_null(w, "cpu_system_ns", m, u->cpu_system_ns);
	m = trace_format__measured(ev, measured, TRACE_MEASURE_NET);
	jw_u64_or_null(w, "net_tx_bytes", m, u->net_tx_bytes);
	jw_u64_or_null(w, "net_rx_bytes", m, u->net_rx_bytes);
	m = trace_format__measured(ev, measured, TRACE_MEASURE_DISK);
	jw_u64_or_null(w, "disk_read_bytes", m, u->disk_read_bytes);
	jw_u64_or_null(w, "disk_write_bytes", m, u->disk_write_bytes);
	m = trace_format__measured(ev, measured, TRACE_MEASURE_TCP);
	jw_u64_or_null(w, "tcp_connects", m, u->tcp_connects);
	jw_u64_or_null(w, "tcp_retransmits", m, u->tcp_retransmits);
}

void trace_format__json(struct strbuf *sb, const struct trace_layout *l,
			const struct trace_clock *c, const struct exec_event *ev)
{
	struct jw w = {.sb = sb, .first = true};
	bool end = ev->kind != EXEC_EVENT_START, signalled, exited;
	char status[64], tmp[32];

	strbuf__putc(sb, '{');
	jw_time(&w, "time", true, trace_clock__wall_ns(c, event_time_ns(ev)));
	jw_str(&w, "event", end ? "exit" : "exec");
	jw_str(&w, "tool", ev->tool);
	jw_str(&w, "comm", ev->comm);
	jw_u64(&w, "pid", ev->tgid);
	jw_u64(&w, "ppid", ev->ppid);
	jw_u64(&w, "uid", ev->uid);
	jw_u64(&w, "cgroup_id", ev->cgroup_id);
	if (end) {
		bool timed = has_duration(ev);

		jw_time(&w, "start_time", ev->kind == EXEC_EVENT_END,
			trace_clock__wall_ns(c, ev->start_ns));
		jw_u64_or_null(&w, "duration_ns", timed, timed ? ev->end_ns - ev->start_ns : 0);
		trace_format__status(status, sizeof(status), ev);
		jw_str(&w, "status", trace_format__status_kind(ev));
		jw_str(&w, "status_text", status);
		exited = ev->kind == EXEC_EVENT_END && !(ev->status & 0x7f);
		signalled = ev->kind == EXEC_EVENT_END && (ev->status & 0x7f);
		jw_u64_or_null(&w, "exit_code", exited, (ev->status >> 8) & 0xff);
		jw_str(&w, "signal",
		       signalled
			   ? trace_format__signal_name((int)(ev->status & 0x7f), tmp, sizeof(tmp))
			   : NULL);
		jw_bool(&w, "core_dumped", signalled && (ev->status & 0x80));
		jw_str(&w, "error",
		       ev->kind == EXEC_EVENT_FAIL
			   ? trace_format__errno_name(ev->exec_errno, tmp, sizeof(tmp))
			   : NULL);
		jw_u64_or_null(&w, "wait_status", ev->kind == EXEC_EVENT_END, ev->status);
		jw_bool(&w, "reexec", ev->flags & TW_F_REEXEC);
		jw_usage(&w, l->measured, ev);
	}
	jw_str(&w, "filename", ev->filename && ev->filename[0] ? ev->filename : NULL);
	jw_argv(&w, ev->args, ev->args ? ev->args_size : 0);
	jw_bool(&w, "argv_truncated", ev->flags & TW_F_ARGS_TRUNC);
	jw_bool(&w, "partial", ev->flags & TW_F_PARTIAL);
	strbuf__puts(sb, "}\n");
}

unsigned int trace_log2__slot(uint64_t v)
{
	return v < 2 ? 0 : 63 - (unsigned int)__builtin_clzll(v);
}

static void stars(struct strbuf *sb, uint64_t val, uint64_t val_max, unsigned int width)
{
	unsigned int n =
	    (unsigned int)((unsigned __int128)(val < val_max ? val : val_max) * width / val_max);

	for (unsigned int i = 0; i < width; i++)
		strbuf__putc(sb, i < n ? '*' : ' ');
	if (val > val_max)
		strbuf__putc(sb, '+');
}

void trace_log2__print(struct strbuf *sb, const uint64_t *slots, unsigned int nr_slots,
		       const char *unit)
{
	uint64_t val_max = 0;
	int idx_max = -1;
	unsigned int width, nstars;

	for (unsigned int i = 0; i < nr_slots; i++) {
		if (slots[i])
			idx_max = (int)i;
		if (slots[i] > val_max)
			val_max = slots[i];
	}
	if (idx_max < 0)
		return;
	/* the layout of BCC's print_log2_hist(), so that eyes used to runqlat read it */
	strbuf__appendf(sb, "%*s%-*s : count    distribution\n", idx_max <= 32 ? 5 : 15, "",
			idx_max <= 32 ? 19 : 29, unit);
	nstars = idx_max <= 32 ? STARS_MAX : STARS_MAX / 2;
	width = idx_max <= 32 ? 10 : 20;
	for (int i = 0; i <= idx_max; i++) {
		uint64_t low = i ? 1ULL << i : 0;
		uint64_t high = i == 63 ? UINT64_MAX : (1ULL << (i + 1)) - 1;

		strbuf__appendf(sb, "%*" PRIu64 " -> %-*" PRIu64 " : %-8" PRIu64 " |", width, low,
				width, high, slots[i]);
		stars(sb, slots[i], val_max, nstars);
		strbuf__puts(sb, "|\n");
	}
}

unsigned int trace_fine__bucket(uint64_t ns)
{
	unsigned int e;

	if (ns < 2 * TRACE_FINE_SUB)
		return (unsigned int)ns;
	e = 63 - (unsigned int)__builtin_clzll(ns); /* >= FINE_SUB_BITS + 1 */
	return 2 * TRACE_FINE_SUB + (e - FINE_SUB_BITS - 1) * TRACE_FINE_SUB +
	       (unsigned int)((ns >> (e - FINE_SUB_BITS)) & (TRACE_FINE_SUB - 1));
}

/* Smallest value of bucket b and the number of values it holds. */
static void fine_bounds(unsigned int b, uint64_t *lower, uint64_t *width)
{
	unsigned int e, sub;

	if (b < 2 * TRACE_FINE_SUB) {
		*lower = b;
		*width = 1;
		return;
	}
	e = (b - 2 * TRACE_FINE_SUB) / TRACE_FINE_SUB + FINE_SUB_BITS + 1;
	sub = (b - 2 * TRACE_FINE_SUB) % TRACE_FINE_SUB;
	*lower = (uint64_t)(TRACE_FINE_SUB + sub) << (e - FINE_SUB_BITS);
	*width = 1ULL << (e - FINE_SUB_BITS);
}

uint64_t trace_stats__quantile(const struct trace_tool_stats *t, double q)
{
	uint64_t rank, seen = 0, lower, width, lo, hi;
	double v;

	if (!t->timed)
		return 0;
	if (q <= 0)
		return t->min_ns;
	if (q >= 1)
		return t->max_ns;
	/* nearest rank: the smallest sample with at least q of them at or below it */
	rank = (uint64_t)(q * (double)t->timed + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > t->timed)
		rank = t->timed;
	for (unsigned int b = 0; b < TRACE_FINE_BUCKETS; b++) {
		uint64_t c = t->fine[b];

		if (!c || seen + c < rank) {
			seen += c;
			continue;
		}
		fine_bounds(b, &lower, &width);
		/* the bucket narrowed to what was seen: exact when all samples are equal */
		hi = lower + width - 1 < t->max_ns ? lower + width - 1 : t->max_ns;
		lo = lower > t->min_ns ? lower : t->min_ns;
		/* the k-th of c samples spread evenly over [lo, hi] */
		v = (double)lo + (double)(hi - lo) * ((double)(rank - seen) - 0.5) / (double)c;
		return (uint64_t)(v + 0.5);
	}
	return t->max_ns;
}

struct trace_summary {
	unsigned int max_tools;
	struct tool_table *tools;
	struct trace_tool_stats **stats; /* by tool id; NULL until a tool is seen */
	size_t nr_stats;
	uint64_t count, failures;
};

struct trace_summary *trace_summary__new(unsigned int max_tools)
{
	struct trace_summary *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->max_tools = max_tools;
	s->tools = tool_table__new(max_tools);
	if (!s->tools) {
		free(s);
		return NULL;
	}
	return s;
}

void trace_summary__free(struct trace_summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr_stats; i++)
		free(s->stats[i]);
	free(s->stats);
	tool_table__free(s->tools);
	free(s);
}

void trace_summary__reset(struct trace_summary *s)
{
	struct tool_table *fresh = tool_table__new(s->max_tools);

	for (size_t i = 0; i < s->nr_stats; i++) {
		free(s->stats[i]);
		s->stats[i] = NULL;
	}
	/* new names: the cap counts the tools of one period, not of every period */
	if (fresh) {
		tool_table__free(s->tools);
		s->tools = fresh;
	}
	s->count = s->failures = 0;
}

static struct trace_tool_stats *stats_of(struct trace_summary *s, unsigned int id)
{
	if (id >= s->nr_stats) {
		size_t n = s->nr_stats ? s->nr_stats : 16;
		struct trace_tool_stats **grown;

		while (n <= id)
			n *= 2;
		grown = realloc(s->stats, n * sizeof(*grown));
		if (!grown)
			return NULL;
		memset(grown + s->nr_stats, 0, (n - s->nr_stats) * sizeof(*grown));
		s->stats = grown;
		s->nr_stats = n;
	}
	if (!s->stats[id])
		s->stats[id] = calloc(1, sizeof(*s->stats[id]));
	return s->stats[id];
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

int trace_summary__add(struct trace_summary *s, const struct exec_event *ev)
{
	struct trace_tool_stats *t;
	enum error_type type = ERROR_EXEC_FAILED;
	bool ok = false;

	if (ev->kind == EXEC_EVENT_START)
		return 0;
	t = stats_of(s, tool_table__intern(s->tools, ev->tool ? ev->tool : TOOL_UNKNOWN_NAME));
	if (!t)
		return -ENOMEM;
	if (ev->kind == EXEC_EVENT_END)
		ok = end_classify(ev, &type);
	t->count++;
	s->count++;
	if (!ok) {
		t->failures++;
		t->failures_by_type[type]++;
		s->failures++;
	}
	if (has_duration(ev)) {
		uint64_t ns = ev->end_ns - ev->start_ns;

		if (!t->timed || ns < t->min_ns)
			t->min_ns = ns;
		if (ns > t->max_ns)
			t->max_ns = ns;
		t->timed++;
		t->sum_ns = sat_add(t->sum_ns, ns);
		t->log2_us[trace_log2__slot(ns / NS_PER_US)]++;
		t->fine[trace_fine__bucket(ns)]++;
	}
	if (ev->kind == EXEC_EVENT_END && ev->usage) {
		const struct tw_usage *u = ev->usage;

		t->has_usage = true;
		if (u->peak_rss_bytes > t->max_peak_rss_bytes)
			t->max_peak_rss_bytes = u->peak_rss_bytes;
		t->cpu_user_ns = sat_add(t->cpu_user_ns, u->cpu_user_ns);
		t->cpu_system_ns = sat_add(t->cpu_system_ns, u->cpu_system_ns);
		t->net_tx_bytes = sat_add(t->net_tx_bytes, u->net_tx_bytes);
		t->net_rx_bytes = sat_add(t->net_rx_bytes, u->net_rx_bytes);
		t->disk_read_bytes = sat_add(t->disk_read_bytes, u->disk_read_bytes);
		t->disk_write_bytes = sat_add(t->disk_write_bytes, u->disk_write_bytes);
	}
	return 0;
}

const struct trace_tool_stats *trace_summary__tool(const struct trace_summary *s, const char *tool)
{
	int id = tool_table__lookup(s->tools, tool);

	if (id < 0 || (size_t)id >= s->nr_stats)
		return NULL;
	return s->stats[id];
}

uint64_t trace_summary__count(const struct trace_summary *s)
{
	return s->count;
}

struct ranked {
	const char *name;
	const struct trace_tool_stats *t;
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->t->count != y->t->count)
		return x->t->count > y->t->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Tools with executions, busiest first; *n set. NULL when none (or no memory). */
static struct ranked *rank_tools(const struct trace_summary *s, size_t *n)
{
	struct ranked *r = NULL;

	*n = 0;
	for (size_t i = 0; i < s->nr_stats; i++)
		if (s->stats[i] && s->stats[i]->count)
			(*n)++;
	if (!*n || !(r = calloc(*n, sizeof(*r)))) {
		*n = 0;
		return NULL;
	}
	*n = 0;
	for (size_t i = 0; i < s->nr_stats; i++) {
		if (!s->stats[i] || !s->stats[i]->count)
			continue;
		r[*n].name = tool_table__name(s->tools, (unsigned int)i);
		if (!r[*n].name)
			r[*n].name = TOOL_UNKNOWN_NAME;
		r[*n].t = s->stats[i];
		(*n)++;
	}
	qsort(r, *n, sizeof(*r), ranked_cmp);
	return r;
}

static void summary_table_header(struct strbuf *sb, bool wide)
{
	size_t start = sb->len;

	cell_left(sb, "TOOL", wide ? SUM_TOOL_WIDE : SUM_TOOL);
	cell_right(sb, "COUNT", SUM_COUNT);
	cell_right(sb, "FAIL", SUM_FAIL);
	cell_right(sb, "P50", SUM_DURATION);
	cell_right(sb, "P95", SUM_DURATION);
	cell_right(sb, "P99", SUM_DURATION);
	if (wide) {
		cell_right(sb, "MAX", SUM_DURATION);
		cell_right(sb, "CPU", SUM_DURATION);
		cell_right(sb, "MAXRSS", COL_BYTES);
		cell_right(sb, "NET_TX", COL_BYTES);
		cell_right(sb, "NET_RX", COL_BYTES);
		cell_right(sb, "DISK_R", COL_BYTES);
		cell_right(sb, "DISK_W", COL_BYTES);
	} else {
		cell_right(sb, "MAXRSS", COL_BYTES);
		cell_right(sb, "NET", COL_BYTES);
		cell_right(sb, "DISK", COL_BYTES);
	}
	end_line(sb, start);
}

/* True when the tool has usage figures `what` and the kernel measures them. */
static bool stats_measured(const struct trace_tool_stats *t, unsigned int measured,
			   unsigned int what)
{
	return t->has_usage && (measured & what) == what;
}

static void summary_table_row(struct strbuf *sb, const struct ranked *r,
			      const struct trace_summary_view *v)
{
	const struct trace_tool_stats *t = r->t;
	bool timed = t->timed, wide = v->wide;
	bool cpu = stats_measured(t, v->measured, TRACE_MEASURE_CPU);
	bool mem = stats_measured(t, v->measured, TRACE_MEASURE_MEMORY);
	bool net = stats_measured(t, v->measured, TRACE_MEASURE_NET);
	bool disk = stats_measured(t, v->measured, TRACE_MEASURE_DISK);
	size_t start = sb->len;

	cell_name(sb, r->name, wide ? SUM_TOOL_WIDE : SUM_TOOL, wide);
	cell_u64(sb, t->count, SUM_COUNT);
	cell_u64(sb, t->failures, SUM_FAIL);
	cell_duration(sb, timed, trace_stats__quantile(t, 0.50), SUM_DURATION);
	cell_duration(sb, timed, trace_stats__quantile(t, 0.95), SUM_DURATION);
	cell_duration(sb, timed, trace_stats__quantile(t, 0.99), SUM_DURATION);
	if (wide) {
		cell_duration(sb, timed, t->max_ns, SUM_DURATION);
		cell_duration(sb, cpu, sat_add(t->cpu_user_ns, t->cpu_system_ns), SUM_DURATION);
		cell_bytes(sb, mem, t->max_peak_rss_bytes, COL_BYTES);
		cell_bytes(sb, net, t->net_tx_bytes, COL_BYTES);
		cell_bytes(sb, net, t->net_rx_bytes, COL_BYTES);
		cell_bytes(sb, disk, t->disk_read_bytes, COL_BYTES);
		cell_bytes(sb, disk, t->disk_write_bytes, COL_BYTES);
	} else {
		cell_bytes(sb, mem, t->max_peak_rss_bytes, COL_BYTES);
		cell_bytes(sb, net, sat_add(t->net_tx_bytes, t->net_rx_bytes), COL_BYTES);
		cell_bytes(sb, disk, sat_add(t->disk_read_bytes, t->disk_write_bytes), COL_BYTES);
	}
	end_line(sb, start);
}

void trace_summary__text(const struct trace_summary *s, struct strbuf *sb,
			 const struct trace_summary_view *v)
{
	char when[16], period[16];
	struct ranked *r;
	size_t n, drawn = 0;

	trace_format__local_time(when, sizeof(when), v->wall_ns, v->utc_offset_s);
	trace_format__duration(period, sizeof(period), v->period_ns);
	r = rank_tools(s, &n);
	strbuf__appendf(sb,
			"%s summary of %s: %" PRIu64 " executions, %" PRIu64 " failed, %zu %s\n",
			when, period, s->count, s->failures, n, n == 1 ? "tool" : "tools");
	if (!n) {
		strbuf__puts(sb, "no executions\n");
		free(r);
		return;
	}
	for (size_t i = 0; i < n && drawn < TRACE_SUMMARY_HISTS; i++) {
		if (!r[i].t->timed)
			continue;
		strbuf__puts(sb, "\ntool = ");
		text0(sb, r[i].name, SIZE_MAX);
		strbuf__putc(sb, '\n');
		trace_log2__print(sb, r[i].t->log2_us, TRACE_LOG2_SLOTS, "usecs");
		drawn++;
	}
	if (drawn == TRACE_SUMMARY_HISTS && n > drawn)
		strbuf__appendf(sb, "\n(histograms of the %u busiest tools of %zu)\n",
				TRACE_SUMMARY_HISTS, n);
	strbuf__putc(sb, '\n');
	summary_table_header(sb, v->wide);
	for (size_t i = 0; i < n; i++)
		summary_table_row(sb, &r[i], v);
	free(r);
}

void trace_summary__json(const struct trace_summary *s, struct strbuf *sb,
			 const struct trace_summary_view *v)
{
	struct ranked *r;
	size_t n;

	r = rank_tools(s, &n);
	for (size_t i = 0; i < n; i++) {
		const struct trace_tool_stats *t = r[i].t;
		struct jw w = {.sb = sb, .first = true};
		bool timed = t->timed, m;
		int last = -1;

		strbuf__putc(sb, '{');
		jw_time(&w, "time", true, v->wall_ns);
		jw_str(&w, "event", "summary");
		jw_u64(&w, "period_ns", v->period_ns);
		jw_str(&w, "tool", r[i].name);
		jw_u64(&w, "count", t->count);
		jw_u64(&w, "failures", t->failures);
		jw_key(&w, "failures_by_type");
		{
			struct jw inner = {.sb = sb, .first = true};

			strbuf__putc(sb, '{');
			for (int e = 0; e < ERROR_TYPE_MAX; e++)
				jw_u64(&inner, error_type__name(e), t->failures_by_type[e]);
			strbuf__putc(sb, '}');
		}
		jw_u64_or_null(&w, "duration_p50_ns", timed, trace_stats__quantile(t, 0.50));
		jw_u64_or_null(&w, "duration_p95_ns", timed, trace_stats__quantile(t, 0.95));
		jw_u64_or_null(&w, "duration_p99_ns", timed, trace_stats__quantile(t, 0.99));
		jw_u64_or_null(&w, "duration_max_ns", timed, t->max_ns);
		jw_key(&w, "duration_log2_us");
		for (int k = 0; k < TRACE_LOG2_SLOTS; k++)
			if (t->log2_us[k])
				last = k;
		strbuf__putc(sb, '[');
		for (int k = 0; k <= last; k++)
			strbuf__appendf(sb, "%s%" PRIu64, k ? "," : "", t->log2_us[k]);
		strbuf__putc(sb, ']');
		m = stats_measured(t, v->measured, TRACE_MEASURE_MEMORY);
		jw_u64_or_null(&w, "max_peak_rss_bytes", m, t->max_peak_rss_bytes);
		m = stats_measured(t, v->measured, TRACE_MEASURE_CPU);
		jw_u64_or_null(&w, "cpu_user_ns", m, t->cpu_user_ns);
		jw_u64_or_null(&w, "cpu_system_ns", m, t->cpu_system_ns);
		m = stats_measured(t, v->measured, TRACE_MEASURE_NET);
		jw_u64_or_null(&w, "net_tx_bytes", m, t->net_tx_bytes);
		jw_u64_or_null(&w, "net_rx_bytes", m, t->net_rx_bytes);
		m = stats_measured(t, v->measured, TRACE_MEASURE_DISK);
		jw_u64_or_null(&w, "disk_read_bytes", m, t->disk_read_bytes);
		jw_u64_or_null(&w, "disk_write_bytes", m, t->disk_write_bytes);
		strbuf__puts(sb, "}\n");
	}
	free(r);
}

void trace_format__anomaly(struct strbuf *sb, const struct trace_clock *c, uint64_t wall_ns,
			   const char *tool, const char *kind, const char *severity, bool active,
			   double ratio, uint64_t raised_total, bool json)
{
	struct jw w = {.sb = sb, .first = true};
	char when[16];

	if (!json) {
		trace_format__local_time(when, sizeof(when), wall_ns, c->utc_offset_s);
		strbuf__appendf(sb, "%s ANOMALY %s %s %s ratio=%.3g ", when,
				active ? "raised" : "cleared", kind, severity, ratio);
		/* the name last: it may be long and holds anything */
		if (tool) {
			strbuf__puts(sb, "tool=");
			trace_format__text(sb, tool, strlen(tool), false, false, 256);
		} else {
			strbuf__puts(sb, "host");
		}
		strbuf__putc(sb, '\n');
		return;
	}
	strbuf__putc(sb, '{');
	jw_time(&w, "time", true, wall_ns);
	jw_str(&w, "event", "anomaly");
	jw_str(&w, "tool", tool);
	jw_str(&w, "kind", kind);
	jw_str(&w, "severity", severity);
	jw_str(&w, "state", active ? "raised" : "cleared");
	jw_key(&w, "deviation_ratio");
	strbuf__appendf(sb, "%.6g", ratio);
	jw_u64(&w, "raised_total", raised_total);
	strbuf__puts(sb, "}\n");
}
