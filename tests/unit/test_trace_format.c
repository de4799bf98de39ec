// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace/trace_format.h"

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_S  1000000000ULL
#define EPOCH_S	  1700000000ULL /* 2023-11-14T22:13:20Z */

/* Monotonic t maps to EPOCH_S + t. */
static const struct trace_clock utc_clock = {
    .realtime_offset_ns = (int64_t)(EPOCH_S * NS_PER_S),
    .utc_offset_s = 0,
};

static const struct trace_layout narrow = {
    .wide = false,
    .width = 80,
    .measured = TRACE_MEASURE_ALL,
};
static const struct trace_layout wide = {
    .wide = true,
    .width = 80,
    .measured = TRACE_MEASURE_ALL,
};

#define ARGS(lit) .args = lit, .args_size = sizeof(lit) - 1

/* make -j8 all: exited 0 after 1.2ms, 1s after the clock's epoch. */
static struct exec_event make_event(void)
{
	struct exec_event ev = {
	    .kind = EXEC_EVENT_END,
	    .tool = "make",
	    .comm = "make",
	    .tgid = 4242,
	    .ppid = 1,
	    .uid = 1000,
	    .cgroup_id = 77,
	    .start_ns = 1 * NS_PER_S,
	    .end_ns = 1 * NS_PER_S + 1200 * NS_PER_US,
	    .success = true,
	    .filename = "/usr/bin/make",
	    ARGS("make\0-j8\0all\0"),
	};
	return ev;
}

/* make_event() of another tool and argv. */
static struct exec_event event_with_args(const char *tool, const char *args, size_t args_size)
{
	struct exec_event ev = make_event();

	ev.tool = tool;
	ev.args = args;
	ev.args_size = args_size;
	return ev;
}

static void assert_duration(uint64_t ns, const char *want)
{
	char buf[16];
	size_t n = trace_format__duration(buf, sizeof(buf), ns);

	if (strcmp(buf, want))
		fail_msg("%llu ns: got '%s', want '%s'", (unsigned long long)ns, buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_trace_format_duration_human(void **state)
{
	(void)state;
	assert_duration(0, "0ns");
	assert_duration(999, "999ns");
	assert_duration(1000, "1.00us");
	assert_duration(12345, "12.3us");
	assert_duration(999999, "999us");
	assert_duration(1200 * NS_PER_US, "1.20ms");
	assert_duration(9999999, "9.99ms"); /* rounded down: never "10.00ms" */
	assert_duration(250 * NS_PER_MS, "250ms");
	assert_duration(3400 * NS_PER_MS, "3.40s");
	assert_duration(99999 * NS_PER_MS, "99.9s");
	assert_duration(125 * NS_PER_S, "2m05s");
	assert_duration(3599 * NS_PER_S, "59m59s");
	assert_duration(3720 * NS_PER_S, "1h02m");
	assert_duration(250 * 3600 * NS_PER_S, "10d10h");
	assert_duration(UINT64_MAX, "213503d");
}

static void assert_bytes(uint64_t v, const char *want)
{
	char buf[16];

	trace_format__bytes(buf, sizeof(buf), v);
	if (strcmp(buf, want))
		fail_msg("%llu bytes: got '%s', want '%s'", (unsigned long long)v, buf, want);
}

static void test_trace_format_bytes_human(void **state)
{
	(void)state;
	assert_bytes(0, "0");
	assert_bytes(1023, "1023");
	assert_bytes(1024, "1.0K");
	assert_bytes(1536, "1.5K");
	assert_bytes(10 * 1024 - 1, "9.9K");
	assert_bytes(10 * 1024, "10K");
	assert_bytes((1 << 20) - 1, "1023K");
	assert_bytes(1 << 20, "1.0M");
	assert_bytes(13107200, "12M");
	assert_bytes(5ULL << 30, "5.0G");
	assert_bytes(3ULL << 40, "3.0T");
	assert_bytes(UINT64_MAX, "15E");
}

static void test_trace_format_clock(void **state)
{
	uint64_t wall = EPOCH_S * NS_PER_S + 123456789;
	char buf[40];

	(void)state;
	trace_format__local_time(buf, sizeof(buf), wall, 0);
	assert_string_equal(buf, "22:13:20.123");
	trace_format__local_time(buf, sizeof(buf), wall, 3600);
	assert_string_equal(buf, "23:13:20.123");
	trace_format__local_time(buf, sizeof(buf), wall, 2 * 3600); /* past midnight */
	assert_string_equal(buf, "00:13:20.123");
	trace_format__local_time(buf, sizeof(buf), wall, -(23 * 3600)); /* the day before */
	assert_string_equal(buf, "23:13:20.123");
	trace_format__utc_time(buf, sizeof(buf), wall);
	assert_string_equal(buf, "2023-11-14T22:13:20.123456789Z");
	assert_int_equal(trace_clock__wall_ns(&utc_clock, 5 * NS_PER_S), (EPOCH_S + 5) * NS_PER_S);
}

static void assert_status(const struct exec_event *ev, const char *words, const char *kind)
{
	char buf[64];

	trace_format__status(buf, sizeof(buf), ev);
	assert_string_equal(buf, words);
	assert_string_equal(trace_format__status_kind(ev), kind);
}

static void test_trace_format_status_words(void **state)
{
	struct exec_event ev = make_event();

	(void)state;
	assert_status(&ev, "ok", "ok");
	ev.status = 3 << 8;
	assert_status(&ev, "exit 3", "exit_code");
	ev.status = 255 << 8;
	assert_status(&ev, "exit 255", "exit_code");
	ev.status = SIGKILL;
	assert_status(&ev, "SIGKILL", "signal");
	ev.status = SIGTERM;
	assert_status(&ev, "SIGTERM", "signal");
	ev.status = SIGSEGV | 0x80;
	assert_status(&ev, "SIGSEGV core", "core_dump");
	ev.status = SIGABRT | 0x80;
	assert_status(&ev, "SIGABRT core", "core_dump");
	ev.status = 40;
	assert_status(&ev, "SIG40", "signal");
	/* the OOM killer's SIGKILL is an OOM kill */
	ev.status = SIGKILL;
	ev.flags = TW_F_OOM_KILLED;
	assert_status(&ev, "oom", "oom_kill");
	/* an exec that replaced the image ended the execution well */
	ev.status = 0;
	ev.flags = TW_F_REEXEC;
	assert_status(&ev, "ok", "ok");

	ev = make_event();
	ev.kind = EXEC_EVENT_FAIL;
	ev.exec_errno = ENOENT;
	assert_status(&ev, "exec failed: ENOENT", "exec_failed");
	ev.exec_errno = EACCES;
	assert_status(&ev, "exec failed: EACCES", "exec_failed");
	ev.exec_errno = ENOEXEC;
	assert_status(&ev, "exec failed: ENOEXEC", "exec_failed");
	ev.exec_errno = 999;
	assert_status(&ev, "exec failed: errno 999", "exec_failed");
	ev.kind = EXEC_EVENT_START;
	assert_status(&ev, "exec", "running");
}

/* trace_format__text of len bytes of s into a fresh buffer; returns its columns. */
static size_t text(char *out, size_t out_size, const char *s, size_t len, bool nul_as_space,
		   bool cut, size_t max_cols)
{
	struct strbuf sb = {0};
	size_t cols = trace_format__text(&sb, s, len, nul_as_space, cut, max_cols);

	assert_false(sb.oom);
	assert_true(sb.len < out_size);
	memcpy(out, sb.buf ? sb.buf : "", sb.len + 1);
	strbuf__free(&sb);
	return cols;
}

#define TEXT(lit, max, want)                                                                       \
	do {                                                                                       \
		char out_[256];                                                                    \
		text(out_, sizeof(out_), lit, sizeof(lit) - 1, true, false, max);                  \
		assert_string_equal(out_, want);                                                   \
	} while (0)

static void test_trace_format_text_escapes_terminal_controls(void **state)
{
	(void)state;
	TEXT("plain text", SIZE_MAX, "plain text");
	TEXT("a\nb\tc\rd", SIZE_MAX, "a\\nb\\tc\\rd");
	TEXT("\x1b[2J\x1b]0;pwned\x07", SIZE_MAX, "\\x1b[2J\\x1b]0;pwned\\x07");
	TEXT("del\x7f", SIZE_MAX, "del\\x7f");
	TEXT("a\0b", SIZE_MAX, "a b"); /* argv separator */
	TEXT("caf\xc3\xa9 \xe2\x82\xac", SIZE_MAX, "caf\xc3\xa9 \xe2\x82\xac");
	TEXT("bad\xff\xfe", SIZE_MAX, "bad\\xff\\xfe");
	TEXT("\xc3(", SIZE_MAX, "\\xc3("); /* broken sequence */
	TEXT("\xc2\x9b"
	     "31m",
	     SIZE_MAX, "\\xc2\\x9b31m");	/* C1 CSI */
	TEXT("\xc2\xa0", SIZE_MAX, "\xc2\xa0"); /* U+00A0 is printable */
	{
		char out[64];

		text(out, sizeof(out), "a\0b", 3, false, false, SIZE_MAX);
		assert_string_equal(out, "a\\x00b");
	}
}

static void test_trace_format_text_truncates_to_columns(void **state)
{
	char out[64];

	(void)state;
	TEXT("0123456789", 10, "0123456789");
	TEXT("0123456789", 9, "012345...");
	TEXT("0123456789", 3, "...");
	TEXT("0123456789", 2, "01"); /* no room to say so */
	TEXT("0123456789", 0, "");
	/* an escape is never split; a UTF-8 character is one column */
	TEXT("ab\ncde", 6, "ab...");
	TEXT("ab\ncd", 6, "ab\\ncd");
	TEXT("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 5,
	     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	TEXT("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4, "\xc3\xa9...");
	/* cut: the source itself was cut short */
	assert_int_equal(text(out, sizeof(out), "abc", 3, true, true, SIZE_MAX), 6);
	assert_string_equal(out, "abc...");
	assert_int_equal(text(out, sizeof(out), "abcdef", 6, true, true, 6), 6);
	assert_string_equal(out, "abc...");
}

/* argv as shown with quote and max_args, in at most max columns. */
static void assert_argv_as(const struct exec_event *ev, size_t max, bool quote, uint32_t max_args,
			   const char *want)
{
	struct strbuf sb = {0};
	size_t cols = trace_format__argv(&sb, ev, max, quote, max_args);

	assert_string_equal(sb.buf ? sb.buf : "", want);
	assert_int_equal(cols, strlen(want)); /* ASCII here: a column per byte */
	strbuf__free(&sb);
}

static void assert_argv(const struct exec_event *ev, size_t max, const char *want)
{
	assert_argv_as(ev, max, false, 0, want);
}

static void test_trace_format_argv_forms(void **state)
{
	struct exec_event ev = make_event();

	(void)state;
	assert_argv(&ev, SIZE_MAX, "make -j8 all");
	assert_argv(&ev, 10, "make -j...");
	ev.args = "sh\0-c\0echo \"a\tb\"\n\0";
	ev.args_size = 18;
	assert_argv(&ev, SIZE_MAX, "sh -c echo \"a\\tb\"\\n");
	/* the kernel keeps 512 bytes of argv: the last word is cut without its NUL */
	ev.args = "cc\0-o\0ou";
	ev.args_size = 8;
	ev.flags = TW_F_ARGS_TRUNC;
	assert_argv(&ev, SIZE_MAX, "cc -o ou...");
	/* empty words stay visible as double spaces */
	ev.args = "printf\0\0x\0";
	ev.args_size = 10;
	ev.flags = 0;
	assert_argv(&ev, SIZE_MAX, "printf  x");
	/* no argv (failed exec): the path; no path either (exit seen alone): [comm] */
	ev.args = NULL;
	ev.args_size = 0;
	assert_argv(&ev, SIZE_MAX, "/usr/bin/make");
	ev.filename = "";
	assert_argv(&ev, SIZE_MAX, "[make]");
	ev.filename = NULL;
	ev.comm = "evil\x1b";
	assert_argv(&ev, SIZE_MAX, "[evil\\x1b]");
}

static char *render_line(const struct trace_layout *l, const struct exec_event *ev)
{
	struct strbuf sb = {0};

	trace_format__line(&sb, l, &utc_clock, ev);
	assert_false(sb.oom);
	return sb.buf;
}

static void assert_header(const struct trace_layout *l, const char *want)
{
	struct strbuf sb = {0};

	trace_format__header(&sb, l);
	assert_string_equal(sb.buf, want);
	strbuf__free(&sb);
}

static void test_trace_format_header_and_line_golden(void **state)
{
	struct exec_event ev = make_event();
	char *line;

	(void)state;
	assert_header(&narrow, "TIME         TOOL             PID    PPID DURATION STATUS       "
			       "ARGS\n");
	line = render_line(&narrow, &ev);
	assert_string_equal(line, "22:13:21.001 make            4242       1   1.20ms ok           "
				  "make -j8 all\n");
	free(line);

	ev.status = SIGSEGV | 0x80;
	ev.tool = "a_rather_long_tool_name";
	line = render_line(&narrow, &ev);
	assert_string_equal(line, "22:13:21.001 a_rather_...    4242       1   1.20ms SIGSEGV core "
				  "make -j8 all\n");
	free(line);

	ev = make_event();
	ev.kind = EXEC_EVENT_START;
	line = render_line(&narrow, &ev);
	assert_string_equal(line, "22:13:21.000 make            4242       1        - exec         "
				  "make -j8 all\n");
	free(line);
}

static void test_trace_format_line_fits_terminal(void **state)
{
	struct exec_event ev = make_event();
	struct trace_layout l = narrow;
	char *line;

	(void)state;
	ev.args = "/usr/bin/python3\0/opt/very/long/script/path.py\0--with\0many\0arguments\0";
	ev.args_size = 69;
	line = render_line(&narrow, &ev);
	assert_int_equal(strlen(line), 80 + 1);
	assert_string_equal(line + 64, "/usr/bin/pyth...\n");
	free(line);
	l.width = 120;
	line = render_line(&l, &ev);
	assert_int_equal(strlen(line), 120 + 1);
	free(line);
	/* a narrow terminal still shows the start of argv */
	l.width = 40;
	line = render_line(&l, &ev);
	assert_string_equal(line + 64, "/usr/...\n");
	free(line);
	/* a status longer than its column pushes argv right, not past the edge */
	ev.kind = EXEC_EVENT_FAIL;
	ev.exec_errno = ENOENT;
	ev.args = NULL;
	line = render_line(&narrow, &ev);
	assert_int_equal(strlen(line), 80 + 1);
	assert_non_null(strstr(line, "        - exec failed: ENOENT /usr/b...\n"));
	free(line);
	/* ... and keeps a few columns of argv even when that passes the edge */
	ev.exec_errno = ENAMETOOLONG;
	line = render_line(&narrow, &ev);
	assert_non_null(strstr(line, " exec failed: ENAMETOOLONG /usr/...\n"));
	free(line);
	/* wide: the whole argv whatever the terminal */
	ev = make_event();
	ev.args = "/usr/bin/python3\0/opt/very/long/script/path.py\0--with\0many\0arguments\0";
	ev.args_size = 69;
	line = render_line(&wide, &ev);
	assert_non_null(strstr(line, "/opt/very/long/script/path.py --with many arguments\n"));
	free(line);
}

static void test_trace_format_line_hostile_names_stay_on_one_line(void **state)
{
	struct exec_event ev = event_with_args("t\nx\x1b", "a\nb\0\x1b[31m\0", 10);
	char *line = render_line(&narrow, &ev);

	(void)state;
	assert_int_equal(strchr(line, '\n') - line, strlen(line) - 1);
	assert_null(strchr(line, '\x1b'));
	assert_non_null(strstr(line, "t\\nx\\x1b"));
	assert_non_null(strstr(line, "a\\nb \\x1b[31m\n"));
	free(line);
}

static void test_trace_format_wide_line_golden(void **state)
{
	struct tw_usage u = {
	    .cpu_user_ns = 3 * NS_PER_MS,
	    .cpu_system_ns = 1 * NS_PER_MS,
	    .peak_rss_bytes = 13107200,
	    .net_tx_bytes = 1536,
	    .disk_write_bytes = 1ULL << 30,
	};
	struct exec_event ev = make_event();
	char *line;

	(void)state;
	assert_header(
	    &wide, "TIME         TOOL                     PID    PPID    UID CONTAINER    DURATION "
		   "STATUS                  CPU MAXRSS NET_TX NET_RX DISK_R DISK_W "
		   "   RUNQ   BLKIO   OTHER ARGS\n");
	ev.usage = &u;
	line = render_line(&wide, &ev);
	assert_string_equal(
	    line, "22:13:21.001 make                    4242       1   1000 -              1.20ms "
		  "ok                   4.00ms    12M   1.5K      0      0   1.0G "
		  "    0ns       -     0ns make -j8 all\n");
	free(line);
	/* what the loaded programs do not measure shows as "-", not as zeros */
	{
		struct trace_layout no_net = wide;
		struct strbuf out = {0};

		no_net.measured &= ~TRACE_MEASURE_NET;
		trace_format__line(&out, &no_net, &utc_clock, &ev);
		assert_string_equal(
		    out.buf, "22:13:21.001 make                    4242       1   1000 - "
			     "             1.20ms ok                   4.00ms    12M      -      - "
			     "     0   1.0G     0ns       -     0ns make -j8 all\n");
		strbuf__reset(&out);
		trace_format__json(&out, &no_net, &utc_clock, &ev);
		assert_non_null(strstr(out.buf, "\"net_tx_bytes\":null,\"net_rx_bytes\":null,"));
		assert_non_null(strstr(out.buf, "\"peak_rss_bytes\":13107200,"));
		strbuf__free(&out);
	}
	/* an execution start has no usage yet */
	ev.kind = EXEC_EVENT_START;
	ev.usage = NULL;
	line = render_line(&wide, &ev);
	assert_string_equal(
	    line, "22:13:21.000 make                    4242       1   1000 -                   - "
		  "exec                      -      -      -      -      -      - "
		  "      -       -       - make -j8 all\n");
	free(line);
}

static char *render_json(const struct exec_event *ev)
{
	struct strbuf sb = {0};

	trace_format__json(&sb, &narrow, &utc_clock, ev);
	assert_false(sb.oom);
	return sb.buf;
}

static void test_trace_format_json_exit_golden(void **state)
{
	struct tw_usage u = {
	    .cpu_user_ns = 3000000,
	    .cpu_system_ns = 1000000,
	    .peak_rss_bytes = 13107200,
	    .net_tx_bytes = 1536,
	    .net_rx_bytes = 2,
	    .disk_read_bytes = 3,
	    .disk_write_bytes = 4,
	    .tcp_connects = 5,
	    .tcp_retransmits = 6,
	};
	struct exec_event ev = make_event();
	char *json;

	(void)state;
	ev.status = 3 << 8;
	ev.success = false;
	ev.usage = &u;
	json = render_json(&ev);
	assert_string_equal(
	    json,
	    "{\"time\":\"2023-11-14T22:13:21.001200000Z\",\"event\":\"exit\",\"tool\":\"make\","
	    "\"comm\":\"make\",\"pid\":4242,\"ppid\":1,\"uid\":1000,\"cgroup_id\":77,"
	    "\"container_id\":\"\",\"pod_uid\":\"\","
	    "\"start_time\":\"2023-11-14T22:13:21.000000000Z\",\"duration_ns\":1200000,"
	    "\"status\":\"exit_code\",\"status_text\":\"exit 3\",\"exit_code\":3,\"signal\":null,"
	    "\"core_dumped\":false,\"error\":null,\"wait_status\":768,\"reexec\":false,\"via\":[],"
	    "\"peak_rss_bytes\":13107200,\"cpu_user_ns\":3000000,\"cpu_system_ns\":1000000,"
	    "\"net_tx_bytes\":1536,\"net_rx_bytes\":2,\"disk_read_bytes\":3,"
	    "\"disk_write_bytes\":4,\"tcp_connects\":5,\"tcp_retransmits\":6,"
	    "\"runq_wait_ns\":0,\"blkio_wait_ns\":null,\"other_ns\":0,"
	    "\"filename\":\"/usr/bin/make\",\"argv\":[\"make\",\"-j8\",\"all\"],"
	    "\"argv_truncated\":false,\"partial\":false}\n");
	free(json);

	ev.status = SIGSEGV | 0x80;
	ev.usage = NULL;
	json = render_json(&ev);
	assert_non_null(strstr(json,
			       "\"status\":\"core_dump\",\"status_text\":\"SIGSEGV core\","
			       "\"exit_code\":null,\"signal\":\"SIGSEGV\",\"core_dumped\":true,"
			       "\"error\":null,\"wait_status\":139,"));
	assert_non_null(strstr(json, "\"peak_rss_bytes\":null,"));
	free(json);
}

static void test_trace_format_json_wait_split(void **state)
{
	struct tw_usage u = {
	    .cpu_user_ns = 150000,
	    .cpu_system_ns = 50000,
	    .runq_wait_ns = 300000,
	    .blkio_wait_ns = 100000,
	};
	struct exec_event ev = make_event(); /* 1.2 ms */
	char *json;

	(void)state;
	ev.usage = &u;
	ev.blkio = true;
	json = render_json(&ev);
	assert_non_null(strstr(json, "\"runq_wait_ns\":300000,\"blkio_wait_ns\":100000,"
				     "\"other_ns\":600000,"));
	free(json);
	/* delay accounting off: no block I/O figure, and it is not taken out of other */
	ev.blkio = false;
	json = render_json(&ev);
	assert_non_null(strstr(json, "\"runq_wait_ns\":300000,\"blkio_wait_ns\":null,"
				     "\"other_ns\":700000,"));
	free(json);
	/* parallel children: more CPU than wall time leaves nothing for other */
	u.cpu_user_ns = 5000000;
	assert_int_equal(usage__other_ns(1200000, &u, false), 0);
	assert_int_equal(usage__other_ns(1200000, &(struct tw_usage){.runq_wait_ns = 1}, true),
			 1199999);
}

static void test_trace_format_json_failed_exec_and_start(void **state)
{
	struct exec_event ev = make_event();
	char *json;

	(void)state;
	ev.kind = EXEC_EVENT_FAIL;
	ev.exec_errno = ENOENT;
	ev.start_ns = ev.end_ns;
	ev.args = NULL;
	ev.args_size = 0;
	ev.filename = "/no/such/tool";
	ev.tool = "tool";
	json = render_json(&ev);
	assert_string_equal(
	    json,
	    "{\"time\":\"2023-11-14T22:13:21.001200000Z\",\"event\":\"exit\",\"tool\":\"tool\","
	    "\"comm\":\"make\",\"pid\":4242,\"ppid\":1,\"uid\":1000,\"cgroup_id\":77,"
	    "\"container_id\":\"\",\"pod_uid\":\"\","
	    "\"start_time\":null,\"duration_ns\":null,\"status\":\"exec_failed\","
	    "\"status_text\":\"exec failed: ENOENT\",\"exit_code\":null,\"signal\":null,"
	    "\"core_dumped\":false,\"error\":\"ENOENT\",\"wait_status\":null,\"reexec\":false,"
	    "\"via\":[],"
	    "\"peak_rss_bytes\":null,\"cpu_user_ns\":null,\"cpu_system_ns\":null,"
	    "\"net_tx_bytes\":null,\"net_rx_bytes\":null,\"disk_read_bytes\":null,"
	    "\"disk_write_bytes\":null,\"tcp_connects\":null,\"tcp_retransmits\":null,"
	    "\"runq_wait_ns\":null,\"blkio_wait_ns\":null,\"other_ns\":null,"
	    "\"filename\":\"/no/such/tool\",\"argv\":null,\"argv_truncated\":false,"
	    "\"partial\":false}\n");
	free(json);

	ev = make_event();
	ev.kind = EXEC_EVENT_START;
	ev.flags = TW_F_ARGS_TRUNC;
	json = render_json(&ev);
	assert_string_equal(
	    json,
	    "{\"time\":\"2023-11-14T22:13:21.000000000Z\",\"event\":\"exec\",\"tool\":\"make\","
	    "\"comm\":\"make\",\"pid\":4242,\"ppid\":1,\"uid\":1000,\"cgroup_id\":77,"
	    "\"container_id\":\"\",\"pod_uid\":\"\","
	    "\"filename\":\"/usr/bin/make\",\"argv\":[\"make\",\"-j8\",\"all\"],"
	    "\"argv_truncated\":true,\"partial\":false}\n");
	free(json);
}

static void test_trace_format_json_hostile_argv(void **state)
{
	/* quotes, backslashes, control bytes, an escape sequence, invalid UTF-8, an empty
	 * word and a last word cut short without its NUL */
	struct exec_event ev = event_with_args(
	    "t\"o\\ol\n", "say \"hi\"\0C:\\x\0\x1b[2J\x7f\0\xc3(\xe2\x82\xac\0\0cut", 30);
	char *json;

	(void)state;
	ev.comm = "c\x01";
	ev.filename = "/tmp/\xff\xfe";
	json = render_json(&ev);
	assert_non_null(strstr(json, "\"tool\":\"t\\\"o\\\\\\\\ol\\\\n\",\"comm\":\"c\\u0001\","));
	assert_non_null(strstr(json, "\"filename\":\"/tmp/\\ufffd\\ufffd\","));
	assert_non_null(strstr(json,
			       "\"argv\":[\"say \\\"hi\\\"\",\"C:\\\\x\","
			       "\"\\u001b[2J\\u007f\",\"\\ufffd(\xe2\x82\xac\",\"\",\"cut\"],"));
	/* one line, nothing below 0x20 */
	for (const char *p = json; *p; p++)
		assert_true((unsigned char)*p >= 0x20 || (*p == '\n' && !p[1]));
	free(json);
}

static void test_trace_log2_print_like_runqlat(void **state)
{
	uint64_t slots[HIST_LOG2_SLOTS] = {0};
	struct strbuf sb = {0};

	(void)state;
	trace_log2__print(&sb, slots, HIST_LOG2_SLOTS, "usecs");
	assert_int_equal(sb.len, 0); /* nothing to draw */
	slots[0] = 1;
	slots[2] = 4;
	slots[3] = 8;
	slots[4] = 2;
	trace_log2__print(&sb, slots, HIST_LOG2_SLOTS, "usecs");
	assert_string_equal(
	    sb.buf,
	    "     usecs               : count    distribution\n"
	    "         0 -> 1          : 1        |*****                                   |\n"
	    "         2 -> 3          : 0        |                                        |\n"
	    "         4 -> 7          : 4        |********************                    |\n"
	    "         8 -> 15         : 8        |****************************************|\n"
	    "        16 -> 31         : 2        |**********                              |\n");
	strbuf__free(&sb);
}

static void test_trace_log2_print_wide_range(void **state)
{
	uint64_t slots[HIST_LOG2_SLOTS] = {0};
	struct strbuf sb = {0};
	const char *last;

	(void)state;
	slots[63] = 3;
	trace_log2__print(&sb, slots, HIST_LOG2_SLOTS, "nsecs");
	/* beyond slot 32 BCC widens the numbers and halves the stars */
	{
		static const char title[] =
		    "               nsecs                         : count    "
		    "distribution\n";

		assert_memory_equal(sb.buf, title, sizeof(title) - 1);
	}
	last = strrchr(sb.buf, '\n');
	while (last > sb.buf && last[-1] != '\n')
		last--;
	assert_string_equal(last, " 9223372036854775808 -> 18446744073709551615 : 3        "
				  "|********************|\n");
	strbuf__free(&sb);
}

static void test_trace_anomaly_line_golden(void **state)
{
	struct strbuf sb = {};
	uint64_t t = 1764097083123000000ULL; /* 2025-11-25T18:58:03.123Z */

	trace_format__anomaly(&sb, &utc_clock, t, "curl", "LATENCY_DEGRADATION", "high", true, 2.5,
			      3, "runqueue", false);
	assert_string_equal(sb.buf,
			    "18:58:03.123 ANOMALY raised LATENCY_DEGRADATION high ratio=2.5 "
			    "cause=runqueue tool=curl\n");
	strbuf__reset(&sb);
	trace_format__anomaly(&sb, &utc_clock, t, "curl", "LATENCY_DEGRADATION", "high", true, 2.5,
			      3, "cpu", true);
	assert_non_null(strstr(sb.buf, "\"raised_total\":3,\"cause\":\"cpu\"}\n"));
	strbuf__reset(&sb);
	trace_format__anomaly(&sb, &utc_clock, t, "a\nb", "FAILURE_RATE", "critical", false, 0.5, 1,
			      NULL, true);
	assert_string_equal(
	    sb.buf, "{\"time\":\"2025-11-25T18:58:03.123000000Z\",\"event\":\"anomaly\","
		    "\"tool\":\"a\\\\nb\",\"kind\":\"FAILURE_RATE\",\"severity\":\"critical\","
		    "\"state\":\"cleared\",\"deviation_ratio\":0.5,\"raised_total\":1,"
		    "\"cause\":null}\n");
	strbuf__reset(&sb);
	trace_format__anomaly(&sb, &utc_clock, t, NULL, "CPU_SPIKE", "medium", true, 1.4, 1, NULL,
			      false);
	assert_string_equal(sb.buf,
			    "18:58:03.123 ANOMALY raised CPU_SPIKE medium ratio=1.4 host\n");
	strbuf__free(&sb);
}

static void test_trace_format_text_escapes_backslash_injectively(void **state)
{
	(void)state;
	/* a backslash in the output always starts an escape: two names, two forms */
	TEXT("a\\x1b", SIZE_MAX, "a\\\\x1b");
	TEXT("a\x1b", SIZE_MAX, "a\\x1b");
	TEXT("c:\\dir\\", SIZE_MAX, "c:\\\\dir\\\\");
	/* as the labels' visible form: bidi and separators too */
	TEXT("ab\xe2\x80\xae"
	     "cd",
	     SIZE_MAX,
	     "ab\\xe2\\x80\\xae"
	     "cd");
	/* an escape is as wide as it is long: never split by a cut */
	TEXT("ab\\cd", 5, "ab...");
	TEXT("ab\\cd", 6, "ab\\\\cd");
}

static void test_trace_format_line_tool_column_escaped_as_label(void **state)
{
	struct exec_event ev = make_event();
	char *line;

	(void)state;
	ev.tool = "a\\b";
	line = render_line(&narrow, &ev);
	assert_string_equal(line,
			    "22:13:21.001 a\\\\b            4242       1   1.20ms ok           "
			    "make -j8 all\n");
	free(line);
}

static void test_trace_format_argv_quoted(void **state)
{
	struct exec_event ev = make_event();

	(void)state;
	assert_argv_as(&ev, SIZE_MAX, true, 0, "\"make\" \"-j8\" \"all\"");
	/* quotes and backslashes inside a word are escaped; an empty word shows */
	ev.args = "echo\0\0a \"b\"\0c\\d\0";
	ev.args_size = 16;
	assert_argv_as(&ev, SIZE_MAX, true, 0, "\"echo\" \"\" \"a \\\"b\\\"\" \"c\\\\d\"");
	assert_argv_as(&ev, SIZE_MAX, false, 0, "echo  a \"b\" c\\\\d");
	/* cut to the width: the closing quote goes with the rest */
	ev = make_event();
	assert_argv_as(&ev, 12, true, 0, "\"make\" \"-...");
	/* the kernel cut the last word */
	ev.args = "cc\0-o\0ou";
	ev.args_size = 8;
	ev.flags = TW_F_ARGS_TRUNC;
	assert_argv_as(&ev, SIZE_MAX, true, 0, "\"cc\" \"-o\" \"ou\"...");
	/* no argv: the path, quoted */
	ev.args = NULL;
	ev.args_size = 0;
	assert_argv_as(&ev, SIZE_MAX, true, 0, "\"/usr/bin/make\"");
}

static void test_trace_format_argv_max_args(void **state)
{
	struct exec_event ev = make_event();
	struct strbuf sb = {0};
	struct trace_layout l = narrow;
	char *line;

	(void)state;
	assert_argv_as(&ev, SIZE_MAX, false, 1, "make...");
	assert_argv_as(&ev, SIZE_MAX, false, 2, "make -j8...");
	assert_argv_as(&ev, SIZE_MAX, false, 3, "make -j8 all");
	assert_argv_as(&ev, SIZE_MAX, false, 4, "make -j8 all");
	assert_argv_as(&ev, SIZE_MAX, true, 2, "\"make\" \"-j8\"...");
	/* JSON: the first words, argv_truncated */
	l.max_args = 2;
	trace_format__json(&sb, &l, &utc_clock, &ev);
	assert_non_null(strstr(sb.buf, "\"argv\":[\"make\",\"-j8\"],\"argv_truncated\":true,"));
	strbuf__reset(&sb);
	l.max_args = 3;
	trace_format__json(&sb, &l, &utc_clock, &ev);
	assert_non_null(
	    strstr(sb.buf, "\"argv\":[\"make\",\"-j8\",\"all\"],\"argv_truncated\":false,"));
	strbuf__reset(&sb);
	/* an empty last word is a word */
	ev.args = "a\0\0";
	ev.args_size = 3;
	l.max_args = 2;
	trace_format__json(&sb, &l, &utc_clock, &ev);
	assert_non_null(strstr(sb.buf, "\"argv\":[\"a\",\"\"],\"argv_truncated\":false,"));
	strbuf__free(&sb);
	/* the text line */
	ev = make_event();
	l.max_args = 1;
	l.quote = true;
	line = render_line(&l, &ev);
	assert_string_equal(line, "22:13:21.001 make            4242       1   1.20ms ok           "
				  "\"make\"...\n");
	free(line);
}

static void test_trace_format_uid_column(void **state)
{
	struct exec_event ev = make_event();
	struct trace_layout l = narrow;
	char *line;

	(void)state;
	l.uid = true;
	assert_header(&l, "TIME         TOOL             PID    PPID    UID DURATION STATUS       "
			  "ARGS\n");
	line = render_line(&l, &ev);
	assert_string_equal(line,
			    "22:13:21.001 make            4242       1   1000   1.20ms ok        "
			    "   make -...\n");
	free(line);
	/* still 80 columns */
	ev.args = "/usr/bin/python3\0/opt/very/long/script/path.py\0--with\0many\0arguments\0";
	ev.args_size = 69;
	line = render_line(&l, &ev);
	assert_int_equal(strlen(line), 80 + 1);
	free(line);
	/* wide has it already: once */
	l = wide;
	l.uid = true;
	line = render_line(&l, &ev);
	assert_non_null(strstr(line, "   4242       1   1000 -  "));
	free(line);
}

static void test_trace_format_event_time(void **state)
{
	struct exec_event ev = make_event();

	(void)state;
	assert_int_equal(trace_format__event_ns(&ev), ev.end_ns);
	ev.kind = EXEC_EVENT_START;
	assert_int_equal(trace_format__event_ns(&ev), ev.start_ns);
	ev.kind = EXEC_EVENT_FAIL;
	ev.start_ns = ev.end_ns = 5;
	assert_int_equal(trace_format__event_ns(&ev), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trace_format_duration_human),
	    cmocka_unit_test(test_trace_format_bytes_human),
	    cmocka_unit_test(test_trace_format_clock),
	    cmocka_unit_test(test_trace_format_status_words),
	    cmocka_unit_test(test_trace_format_text_escapes_terminal_controls),
	    cmocka_unit_test(test_trace_format_text_truncates_to_columns),
	    cmocka_unit_test(test_trace_format_argv_forms),
	    cmocka_unit_test(test_trace_format_header_and_line_golden),
	    cmocka_unit_test(test_trace_format_line_fits_terminal),
	    cmocka_unit_test(test_trace_format_line_hostile_names_stay_on_one_line),
	    cmocka_unit_test(test_trace_format_wide_line_golden),
	    cmocka_unit_test(test_trace_format_json_exit_golden),
	    cmocka_unit_test(test_trace_format_json_wait_split),
	    cmocka_unit_test(test_trace_format_json_failed_exec_and_start),
	    cmocka_unit_test(test_trace_format_json_hostile_argv),
	    cmocka_unit_test(test_trace_log2_print_like_runqlat),
	    cmocka_unit_test(test_trace_log2_print_wide_range),
	    cmocka_unit_test(test_trace_anomaly_line_golden),
	    cmocka_unit_test(test_trace_format_text_escapes_backslash_injectively),
	    cmocka_unit_test(test_trace_format_line_tool_column_escaped_as_label),
	    cmocka_unit_test(test_trace_format_argv_quoted),
	    cmocka_unit_test(test_trace_format_argv_max_args),
	    cmocka_unit_test(test_trace_format_uid_column),
	    cmocka_unit_test(test_trace_format_event_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
