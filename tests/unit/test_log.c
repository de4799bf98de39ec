// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/log.h"

#define TS_NS 1796165376123456789ULL /* 2026-12-01T22:49:36.123Z */

static void test_log_format_logfmt(void **state)
{
	char line[256];

	log__format_line(line, sizeof(line), LOG_FORMAT_LOGFMT, "toolwatch", "info", "started",
			 TS_NS);
	assert_string_equal(line, "ts=2026-12-01T22:49:36.123Z level=info msg=started\n");
	log__format_line(line, sizeof(line), LOG_FORMAT_LOGFMT, "toolwatch", "warn",
			 "cannot open 'a \"b\"'\nx", TS_NS);
	assert_string_equal(line, "ts=2026-12-01T22:49:36.123Z level=warn "
				  "msg=\"cannot open 'a \\\"b\\\"'\\nx\"\n");
	log__format_line(line, sizeof(line), LOG_FORMAT_LOGFMT, "toolwatch", "info", "", TS_NS);
	assert_string_equal(line, "ts=2026-12-01T22:49:36.123Z level=info msg=\"\"\n");
}

static void test_log_format_json(void **state)
{
	char line[256];

	log__format_line(line, sizeof(line), LOG_FORMAT_JSON, "toolwatch", "error",
			 "bad \x01 \xff byte", TS_NS);
	assert_string_equal(line, "{\"ts\":\"2026-12-01T22:49:36.123Z\",\"level\":\"error\","
				  "\"msg\":\"bad \\u0001 \xef\xbf\xbd byte\"}\n");
}

static void test_log_format_text_is_the_readable_default(void **state)
{
	char line[256];

	log__format_line(line, sizeof(line), LOG_FORMAT_TEXT, "toolwatch", "info", "a b", TS_NS);
	assert_string_equal(line, "toolwatch: level=info a b\n");
}

static void test_log_format_truncated_is_one_line(void **state)
{
	char line[16];
	size_t n = log__format_line(line, sizeof(line), LOG_FORMAT_JSON, "toolwatch", "info",
				    "a long message", TS_NS);

	assert_int_equal(n, sizeof(line) - 1);
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(strchr(line, '\n') - line, (long)n - 1);
}

static void test_log_parse_format(void **state)
{
	enum log_format f;

	assert_int_equal(log__parse_format("logfmt", &f), 0);
	assert_int_equal(f, LOG_FORMAT_LOGFMT);
	assert_int_equal(log__parse_format("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log__parse_format("text", &f), 0);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log__parse_format("JSON", &f), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_format_logfmt),
	    cmocka_unit_test(test_log_format_json),
	    cmocka_unit_test(test_log_format_text_is_the_readable_default),
	    cmocka_unit_test(test_log_format_truncated_is_one_line),
	    cmocka_unit_test(test_log_parse_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
