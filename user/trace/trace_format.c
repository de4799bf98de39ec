// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/hist.h"
#include "lib/json.h"
#include "identity/identity.h"
#include "trace/trace_format.h"
#include "trace/trace_format_internal.h"

#define NS_PER_US	1000ULL
#define NS_PER_MS	1000000ULL
#define NS_PER_S	1000000000ULL
#define SECONDS_PER_DAY 86400LL
#define ELLIPSIS	"..."
#define ELLIPSIS_COLS	3
#define STARS_MAX	40

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
#define COL_CONTAINER	12 /* a container id's first 12 digits, as docker ps shows it */

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

/* How text() shows bytes. */
enum text_mode {
	TEXT_NUL_AS_SPACE = 1u << 0, /* NULs separate argv words */
	TEXT_QUOTE = 1u << 1,	     /* each word in double quotes */
};

/*
 * The terminal form of the character at s[0..n): its bytes (or escape) into out, its
 * length in *consumed, its columns in *cols. Returns the bytes written to out.
 */
static size_t text_token(const unsigned char *s, size_t n, unsigned int mode,
			 char out[VISIBLE_TOKEN_MAX], size_t *consumed, size_t *cols)
{
	size_t len;

	if (s[0] == 0 && (mode & TEXT_NUL_AS_SPACE)) {
		*consumed = 1;
		if (mode & TEXT_QUOTE) {
			memcpy(out, "\" \"", 3);
			*cols = 3;
			return 3;
		}
		out[0] = ' ';
		*cols = 1;
		return 1;
	}
	if (s[0] == '"' && (mode & TEXT_QUOTE)) {
		memcpy(out, "\\\"", 2);
		*consumed = 1;
		*cols = 2;
		return 2;
	}
	/* the labels' visible form: an escape is as wide as it is long, a character one */
	len = utf8__visible_token(s, n, out, consumed);
	*cols = out[0] == '\\' ? len : 1;
	return len;
}

/*
 * Appends s[0..len) shown per mode within max_cols columns, "..." at the end when it does
 * not fit or cut is set. Quoted text opens with '"' and closes with '"' unless cut inside.
 */
static size_t text(struct strbuf *sb, const char *s, size_t len, unsigned int mode, bool cut,
		   size_t max_cols)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t quotes = mode & TEXT_QUOTE ? 2 : 0, total = quotes, used = 0, budget, consumed;
	size_t cols, n, i;
	char tok[VISIBLE_TOKEN_MAX];
	bool whole;

	for (i = 0; i < len; i += consumed) {
		text_token(u + i, len - i, mode, tok, &consumed, &cols);
		total += cols;
	}
	if (!cut && total <= max_cols) {
		budget = max_cols;
	} else if (max_cols >= ELLIPSIS_COLS + quotes) {
		budget = max_cols - ELLIPSIS_COLS;
		cut = true;
	} else {
		budget = max_cols;
		cut = false; /* no room to say so */
	}
	if (quotes && budget) {
		strbuf__putc(sb, '"');
		used++;
	}
	for (i = 0; i < len; i += consumed) {
		n = text_token(u + i, len - i, mode, tok, &consumed, &cols);
		if (used + cols > budget)
			break;
		strbuf__append(sb, tok, n);
		used += cols;
	}
	/* the closing quote when every word is there and it fits */
	whole = i >= len;
	if (quotes && whole && used < budget) {
		strbuf__putc(sb, '"');
		used++;
	}
	if (cut) {
		strbuf__puts(sb, ELLIPSIS);
		used += ELLIPSIS_COLS;
	}
	return used;
}

size_t trace_format__text(struct strbuf *sb, const char *s, size_t len, bool nul_as_space, bool cut,
			  size_t max_cols)
{
	return text(sb, s, len, nul_as_space ? TEXT_NUL_AS_SPACE : 0, cut, max_cols);
}

static size_t text0(struct strbuf *sb, const char *s, size_t max_cols)
{
	return trace_format__text(sb, s ? s : "", s ? strlen(s) : 0, false, false, max_cols);
}

/*
 * The bytes of ev's argv to show: trailing NULs dropped when trim, cut after max_args words
 * (0: all). *cut says whether words are missing (cut here or by the kernel).
 */
size_t trace_format__argv_shown(const struct exec_event *ev, uint32_t max_args, bool trim,
				bool *cut)
{
	size_t len = ev->args ? ev->args_size : 0, words = 0;

	while (trim && len && !ev->args[len - 1])
		len--;
	*cut = len && (ev->flags & TW_F_ARGS_TRUNC);
	for (size_t i = 0; max_args && i < len; i++) {
		if (!ev->args[i] && ++words == max_args) {
			*cut = *cut || i + 1 < len; /* words after this one */
			return trim ? i : i + 1;    /* JSON: the NUL ends the last word */
		}
	}
	return len;
}

size_t trace_format__argv(struct strbuf *sb, const struct exec_event *ev, size_t max_cols,
			  bool quote, uint32_t max_args)
{
	bool cut;
	size_t len = trace_format__argv_shown(ev, max_args, true, &cut), cols;

	if (len)
		return text(sb, ev->args, len, TEXT_NUL_AS_SPACE | (quote ? TEXT_QUOTE : 0), cut,
			    max_cols);
	if (ev->filename && ev->filename[0])
		return text(sb, ev->filename, strlen(ev->filename), quote ? TEXT_QUOTE : 0, false,
			    max_cols);
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

void trace_cell__left(struct strbuf *sb, const char *s, size_t width)
{
	size_t n = strlen(s);

	strbuf__append(sb, s, n);
	pad(sb, n < width ? width - n + 1 : 1);
}

void trace_cell__right(struct strbuf *sb, const char *s, size_t width)
{
	size_t n = strlen(s);

	pad(sb, n < width ? width - n : 0);
	strbuf__append(sb, s, n);
	strbuf__putc(sb, ' ');
}

void trace_cell__u64(struct strbuf *sb, uint64_t v, size_t width)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	trace_cell__right(sb, buf, width);
}

void trace_cell__bytes(struct strbuf *sb, bool measured, uint64_t v, size_t width)
{
	char buf[16] = "-";

	if (measured)
		trace_format__bytes(buf, sizeof(buf), v);
	trace_cell__right(sb, buf, width);
}

void trace_cell__duration(struct strbuf *sb, bool known, uint64_t ns, size_t width)
{
	char buf[16] = "-";

	if (known)
		trace_format__duration(buf, sizeof(buf), ns);
	trace_cell__right(sb, buf, width);
}

void trace_cell__name(struct strbuf *sb, const char *s, size_t width, bool wide)
{
	size_t cols = text0(sb, s, wide ? SIZE_MAX : width);

	pad(sb, cols < width ? width - cols + 1 : 1);
}

void trace_format__end_line(struct strbuf *sb, size_t line_start)
{
	while (sb->len > line_start && sb->buf[sb->len - 1] == ' ')
		sb->len--;
	strbuf__putc(sb, '\n');
}

void trace_cell__usage_titles(struct strbuf *sb, size_t cpu_width)
{
	static const char *const titles[] = {"MAXRSS", "NET_TX", "NET_RX", "DISK_R", "DISK_W"};

	trace_cell__right(sb, "CPU", cpu_width);
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		trace_cell__right(sb, titles[i], COL_BYTES);
}

void trace_cell__usage(struct strbuf *sb, const struct tw_usage *u, unsigned int measured,
		       size_t cpu_width)
{
	static const struct tw_usage none;
	uint64_t cpu;
	bool m;

	if (!u) {
		u = &none;
		measured = 0;
	}
	cpu = u->cpu_user_ns + u->cpu_system_ns;
	trace_cell__duration(sb, measured & TRACE_MEASURE_CPU,
			     cpu < u->cpu_user_ns ? UINT64_MAX : cpu, cpu_width);
	trace_cell__bytes(sb, measured & TRACE_MEASURE_MEMORY, u->peak_rss_bytes, COL_BYTES);
	m = measured & TRACE_MEASURE_NET;
	trace_cell__bytes(sb, m, u->net_tx_bytes, COL_BYTES);
	trace_cell__bytes(sb, m, u->net_rx_bytes, COL_BYTES);
	m = measured & TRACE_MEASURE_DISK;
	trace_cell__bytes(sb, m, u->disk_read_bytes, COL_BYTES);
	trace_cell__bytes(sb, m, u->disk_write_bytes, COL_BYTES);
}

/* Columns before ARGS, separators included. */
static size_t fixed_cols(const struct trace_layout *l)
{
	if (l->wide)
		return COL_TIME + COL_TOOL_WIDE + 2 * COL_PID + COL_UID + COL_CONTAINER +
		       COL_DURATION + COL_STATUS_WIDE + 4 * COL_CPU + 5 * COL_BYTES + 17;
	return COL_TIME + COL_TOOL + 2 * COL_PID + COL_DURATION + COL_STATUS + 6 +
	       (l->uid ? COL_UID + 1 : 0);
}

void trace_format__header(struct strbuf *sb, const struct trace_layout *l)
{
	size_t start = sb->len;

	trace_cell__left(sb, l->relative ? "TIME(s)" : "TIME", COL_TIME);
	trace_cell__left(sb, "TOOL", l->wide ? COL_TOOL_WIDE : COL_TOOL);
	trace_cell__right(sb, "PID", COL_PID);
	trace_cell__right(sb, "PPID", COL_PID);
	if (l->wide || l->uid)
		trace_cell__right(sb, "UID", COL_UID);
	if (l->wide)
		trace_cell__left(sb, "CONTAINER", COL_CONTAINER);
	trace_cell__right(sb, "DURATION", COL_DURATION);
	trace_cell__left(sb, "STATUS", l->wide ? COL_STATUS_WIDE : COL_STATUS);
	if (l->wide) {
		trace_cell__usage_titles(sb, COL_CPU);
		trace_cell__right(sb, "RUNQ", COL_CPU);
		trace_cell__right(sb, "BLKIO", COL_CPU);
		trace_cell__right(sb, "OTHER", COL_CPU);
	}
	strbuf__puts(sb, "ARGS");
	trace_format__end_line(sb, start);
}

uint64_t trace_format__event_ns(const struct exec_event *ev)
{
	return ev->kind == EXEC_EVENT_START ? ev->start_ns : ev->end_ns;
}

/* The usage figures an event carries: only ends of executions have them. */
const struct tw_usage *trace_format__end_usage(const struct exec_event *ev)
{
	return ev->kind == EXEC_EVENT_END ? ev->usage : NULL;
}

bool trace_format__has_duration(const struct exec_event *ev)
{
	return ev->kind == EXEC_EVENT_END && !(ev->flags & TW_F_PARTIAL) &&
	       ev->end_ns >= ev->start_ns;
}

void trace_format__line(struct strbuf *sb, const struct trace_layout *l,
			const struct trace_clock *c, const struct exec_event *ev)
{
	size_t start = sb->len, fixed = fixed_cols(l), args_cols;
	char buf[64];

	if (l->relative) {
		uint64_t t = trace_format__event_ns(ev);

		t = t > l->start_ns ? t - l->start_ns : 0;
		snprintf(buf, sizeof(buf), "%llu.%03llu", (unsigned long long)(t / 1000000000ULL),
			 (unsigned long long)(t / 1000000ULL % 1000));
	} else {
		trace_format__local_time(buf, sizeof(buf),
					 trace_clock__wall_ns(c, trace_format__event_ns(ev)),
					 c->utc_offset_s);
	}
	trace_cell__left(sb, buf, COL_TIME);
	trace_cell__name(sb, ev->tool, l->wide ? COL_TOOL_WIDE : COL_TOOL, l->wide);
	trace_cell__u64(sb, ev->tgid, COL_PID);
	trace_cell__u64(sb, ev->ppid, COL_PID);
	if (l->wide || l->uid)
		trace_cell__u64(sb, ev->uid, COL_UID);
	if (l->wide) {
		const char *cid = ev->identity ? ev->identity->container_id : "";

		snprintf(buf, sizeof(buf), "%.*s", COL_CONTAINER, cid[0] ? cid : "-");
		trace_cell__left(sb, buf, COL_CONTAINER);
	}
	trace_cell__duration(sb, trace_format__has_duration(ev), ev->end_ns - ev->start_ns,
			     COL_DURATION);
	trace_format__status(buf, sizeof(buf), ev);
	trace_cell__left(sb, buf, l->wide ? COL_STATUS_WIDE : COL_STATUS);
	if (l->wide) {
		const struct tw_usage *u = trace_format__end_usage(ev);
		bool timed = u && trace_format__has_duration(ev);

		trace_cell__usage(sb, u, l->measured, COL_CPU);
		trace_cell__duration(sb, u, u ? u->runq_wait_ns : 0, COL_CPU);
		trace_cell__duration(sb, u && ev->blkio, u ? u->blkio_wait_ns : 0, COL_CPU);
		trace_cell__duration(
		    sb, timed, timed ? usage__other_ns(ev->end_ns - ev->start_ns, u, ev->blkio) : 0,
		    COL_CPU);
	}
	/* a long cell above pushed ARGS right: it still ends at the terminal's edge */
	fixed = sb->len - start > fixed ? sb->len - start : fixed;
	if (l->wide)
		args_cols = SIZE_MAX;
	else if (l->width > fixed + TRACE_ARGS_MIN_COLS)
		args_cols = l->width - fixed;
	else
		args_cols = TRACE_ARGS_MIN_COLS;
	trace_format__argv(sb, ev, args_cols, l->quote, l->max_args);
	trace_format__end_line(sb, start);
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
		strbuf__appendf(sb, "%*" PRIu64 " -> %-*" PRIu64 " : %-8" PRIu64 " |", width,
				hist_log2__low((unsigned int)i), width,
				hist_log2__high((unsigned int)i), slots[i]);
		stars(sb, slots[i], val_max, nstars);
		strbuf__puts(sb, "|\n");
	}
}

void trace_format__anomaly(struct strbuf *sb, const struct trace_clock *c, uint64_t wall_ns,
			   const char *tool, const char *kind, const char *severity, bool active,
			   double ratio, uint64_t raised_total, const char *cause, bool json)
{
	struct json_object w;
	char when[16];

	if (!json) {
		trace_format__local_time(when, sizeof(when), wall_ns, c->utc_offset_s);
		strbuf__appendf(sb, "%s ANOMALY %s %s %s ratio=%.3g ", when,
				active ? "raised" : "cleared", kind, severity, ratio);
		if (cause)
			strbuf__appendf(sb, "cause=%s ", cause);
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
	json_object__begin(&w, sb);
	trace_format__json_time(&w, "time", true, wall_ns);
	json_object__string(&w, "event", "anomaly");
	json_object__visible(&w, "tool", tool);
	json_object__string(&w, "kind", kind);
	json_object__string(&w, "severity", severity);
	json_object__string(&w, "state", active ? "raised" : "cleared");
	json_object__key(&w, "deviation_ratio");
	strbuf__appendf(sb, "%.6g", ratio);
	json_object__u64(&w, "raised_total", raised_total);
	json_object__string(&w, "cause", cause);
	json_object__end(&w);
	strbuf__putc(sb, '\n');
}
