// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/json.h"

/* s_len bytes of s encoded, compared with the golden string want. */
static void assert_json(const char *s, size_t s_len, const char *want)
{
	struct strbuf sb = {0};

	json__append_string(&sb, s, s_len);
	assert_false(sb.oom);
	assert_int_equal(sb.len, strlen(want));
	assert_string_equal(sb.buf, want);
	strbuf__free(&sb);
}

#define JSON(lit, want) assert_json(lit, sizeof(lit) - 1, want)

static void test_json_plain_ascii_quoted(void **state)
{
	(void)state;
	JSON("", "\"\"");
	JSON("make", "\"make\"");
	JSON("a b/c'd<e>&", "\"a b/c'd<e>&\"");
}

static void test_json_escapes_quote_and_backslash(void **state)
{
	(void)state;
	JSON("say \"hi\"", "\"say \\\"hi\\\"\"");
	JSON("C:\\dir\\", "\"C:\\\\dir\\\\\"");
	JSON("\"", "\"\\\"\"");
}

static void test_json_escapes_control_chars(void **state)
{
	(void)state;
	JSON("a\nb\rc\td\be\ff", "\"a\\nb\\rc\\td\\be\\ff\"");
	JSON("\x01\x1f", "\"\\u0001\\u001f\"");
	JSON("\x1b[31mred", "\"\\u001b[31mred\"");
	JSON("del\x7f", "\"del\\u007f\"");
	JSON("\v", "\"\\u000b\"");
	/* an embedded NUL is data when the length says so */
	JSON("a\0b", "\"a\\u0000b\"");
}

static void test_json_passes_valid_utf8(void **state)
{
	(void)state;
	JSON("caf\xc3\xa9", "\"caf\xc3\xa9\""); /* é */
	JSON("\xe2\x82\xac"
	     "5",
	     "\"\xe2\x82\xac"
	     "5\"");					  /* € */
	JSON("\xf0\x9f\x9a\x80", "\"\xf0\x9f\x9a\x80\""); /* U+1F680 */
	JSON("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");	  /* U+FFFF */
	JSON("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
	JSON("\xc2\x80", "\"\xc2\x80\"");		  /* U+0080 (C1 control) */
}

static void test_json_replaces_invalid_utf8(void **state)
{
	(void)state;
	JSON("\xff", "\"\\ufffd\"");
	JSON("a\xfe\xff"
	     "b",
	     "\"a\\ufffd\\ufffdb\"");
	JSON("\x80", "\"\\ufffd\"");				      /* stray continuation */
	JSON("\xc3", "\"\\ufffd\"");				      /* truncated at the end */
	JSON("\xc3(", "\"\\ufffd(\"");				      /* bad continuation */
	JSON("\xe2\x82", "\"\\ufffd\\ufffd\"");			      /* truncated 3-byte */
	JSON("\xc0\xaf", "\"\\ufffd\\ufffd\"");			      /* overlong '/' */
	JSON("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");	      /* overlong */
	JSON("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");	      /* surrogate U+D800 */
	JSON("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
	JSON("\xe2\x82\xac\xe2\x82", "\"\xe2\x82\xac\\ufffd\\ufffd\"");
	/* a valid sequence right after an invalid lead byte survives */
	JSON("\xe2\xc3\xa9", "\"\\ufffd\xc3\xa9\"");
}

static void test_json_length_bounds_input(void **state)
{
	struct strbuf sb = {0};

	(void)state;
	json__append_string(&sb, "abcdef", 3);
	assert_string_equal(sb.buf, "\"abc\"");
	/* a multibyte sequence cut by the length is invalid, not read past */
	strbuf__reset(&sb);
	json__append_string(&sb, "\xc3\xa9", 1);
	assert_string_equal(sb.buf, "\"\\ufffd\"");
	strbuf__reset(&sb);
	json__append_string(&sb, NULL, 0);
	assert_string_equal(sb.buf, "\"\"");
	strbuf__free(&sb);
}

static void test_json_appends_to_existing_content(void **state)
{
	struct strbuf sb = {0};

	(void)state;
	strbuf__puts(&sb, "{\"tool\":");
	json__append_string0(&sb, "x\"y");
	strbuf__puts(&sb, ",\"comm\":");
	json__append_string0(&sb, NULL);
	strbuf__putc(&sb, '}');
	assert_string_equal(sb.buf, "{\"tool\":\"x\\\"y\",\"comm\":\"\"}");
	strbuf__free(&sb);
}

static void test_json_every_byte_gives_valid_output(void **state)
{
	struct strbuf sb = {0};
	char all[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all); i++)
		all[i] = (char)i;
	json__append_string(&sb, all, sizeof(all));
	assert_false(sb.oom);
	/* no raw control byte, and every byte >= 0x80 of the input was replaced */
	for (i = 0; i < sb.len; i++) {
		unsigned char c = (unsigned char)sb.buf[i];

		assert_true(c >= 0x20 && c < 0x7f);
	}
	assert_non_null(strstr(sb.buf, "\\u0000\\u0001"));
	assert_non_null(strstr(sb.buf, " !\\\"#"));
	assert_non_null(strstr(sb.buf, "[\\\\]"));
	assert_non_null(strstr(sb.buf, "~\\u007f\\ufffd"));
	strbuf__free(&sb);
}

/* The tool member holds the exposition's label value: visible form, then JSON escapes. */
static void test_json_visible_matches_label_value(void **state)
{
	struct strbuf sb = {0};

	(void)state;
	json__append_visible(&sb, "a\xff\xfe\\b\x1b\"");
	assert_string_equal(sb.buf, "\"a\\\\xff\\\\xfe\\\\\\\\b\\\\x1b\\\"\"");
	strbuf__free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_visible_matches_label_value),
	    cmocka_unit_test(test_json_plain_ascii_quoted),
	    cmocka_unit_test(test_json_escapes_quote_and_backslash),
	    cmocka_unit_test(test_json_escapes_control_chars),
	    cmocka_unit_test(test_json_passes_valid_utf8),
	    cmocka_unit_test(test_json_replaces_invalid_utf8),
	    cmocka_unit_test(test_json_length_bounds_input),
	    cmocka_unit_test(test_json_appends_to_existing_content),
	    cmocka_unit_test(test_json_every_byte_gives_valid_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
