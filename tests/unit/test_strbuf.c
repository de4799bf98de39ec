// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/strbuf.h"

/* The visible form of len bytes of s, compared with the golden string want. */
static void assert_visible(const char *s, size_t len, const char *want)
{
	struct strbuf sb = {0};

	strbuf__put_visible(&sb, s, len);
	strbuf__putc(&sb, '\0');
	assert_false(sb.oom);
	assert_string_equal(sb.buf, want);
	strbuf__free(&sb);
}

#define VISIBLE(lit, want) assert_visible(lit, sizeof(lit) - 1, want)

/* Encodes len bytes of s, checks the form is valid UTF-8 without controls, decodes it. */
static void assert_round_trip(const char *s, size_t len)
{
	struct strbuf enc = {0}, dec = {0};
	const unsigned char *u;
	size_t seq;

	strbuf__put_visible(&enc, s, len);
	u = (const unsigned char *)enc.buf;
	for (size_t i = 0; i < enc.len; i += seq) {
		seq = utf8__seq_len(u + i, enc.len - i);
		assert_int_not_equal(seq, 0);
		assert_true(seq > 1 || (u[i] >= 0x20 && u[i] < 0x7f));
	}
	assert_true(utf8__visible_decode(&dec, enc.buf ? enc.buf : "", enc.len));
	assert_int_equal(dec.len, len);
	assert_memory_equal(dec.buf ? dec.buf : "", s, len);
	strbuf__free(&enc);
	strbuf__free(&dec);
}

static void test_visible_plain_text_unchanged(void **state)
{
	(void)state;
	VISIBLE("", "");
	VISIBLE("make", "make");
	VISIBLE("a b/c\"d'<e>", "a b/c\"d'<e>");
	VISIBLE("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
		"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
	VISIBLE("\xef\xbf\xbd", "\xef\xbf\xbd");
}

static void test_visible_escapes_backslash_and_controls(void **state)
{
	(void)state;
	VISIBLE("a\\b", "a\\\\b");
	VISIBLE("\t\n\r", "\\t\\n\\r");
	VISIBLE("\x1b[31m", "\\x1b[31m");
	VISIBLE("\x7f", "\\x7f");
	VISIBLE("a\0b", "a\\x00b");
	/* C1 CSI, right-to-left override, line separator: per UTF-8 byte */
	VISIBLE("\xc2\x9b", "\\xc2\\x9b");
	VISIBLE("\xe2\x80\xae", "\\xe2\\x80\\xae");
	VISIBLE("\xe2\x80\xa8", "\\xe2\\x80\\xa8");
	/* U+00A0 and U+202F are printable neighbours of those ranges */
	VISIBLE("\xc2\xa0\xe2\x80\xaf", "\xc2\xa0\xe2\x80\xaf");
}

static void test_visible_invalid_bytes_escaped(void **state)
{
	(void)state;
	VISIBLE("\xff\xfe", "\\xff\\xfe");
	VISIBLE("x\xe2\x82", "x\\xe2\\x82");
	VISIBLE("\xc0\x80", "\\xc0\\x80");
	VISIBLE("\xed\xa0\x80", "\\xed\\xa0\\x80");
	VISIBLE("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
}

/* The set that collapsed into U+FFFD U+FFFD, and look-alikes of its escapes. */
static void test_visible_colliding_set_distinct(void **state)
{
	static const char *const names[] = {
	    "\xff\xfe",	  "\xfe\xff",	  "\xff\xff",  "\xef\xbf\xbd\xef\xbf\xbd",
	    "\\xff\\xfe", "\\\\xff\\xfe", "\\xff\xfe", "\xff\\xfe",
	    "\\x1b",	  "\x1b",	  "\\t",       "\t",
	};
	size_t n = sizeof(names) / sizeof(names[0]);
	struct strbuf forms[sizeof(names) / sizeof(names[0])] = {0};

	for (size_t i = 0; i < n; i++) {
		strbuf__put_visible(&forms[i], names[i], strlen(names[i]));
		assert_round_trip(names[i], strlen(names[i]));
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(forms[i].buf, forms[j].buf);
	for (size_t i = 0; i < n; i++)
		strbuf__free(&forms[i]);
}

/* Every one- and two-byte string round-trips; so do random longer ones. */
static void test_visible_round_trip_exhaustive(void **state)
{
	unsigned char buf[64];

	(void)state;
	for (unsigned int a = 0; a < 256; a++) {
		buf[0] = (unsigned char)a;
		assert_round_trip((const char *)buf, 1);
		for (unsigned int b = 0; b < 256; b++) {
			buf[1] = (unsigned char)b;
			assert_round_trip((const char *)buf, 2);
		}
	}
	srand(10);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand() % (int)sizeof(buf));

		for (size_t i = 0; i < len; i++) /* biased towards UTF-8 lead/continuation bytes */
			buf[i] = (unsigned char)(rand() % 3 ? 0x80 + rand() % 0x80 : rand() % 256);
		assert_round_trip((const char *)buf, len);
	}
}

static void test_visible_decode_rejects_bad_escapes(void **state)
{
	struct strbuf sb = {0};

	(void)state;
	assert_false(utf8__visible_decode(&sb, "\\", 1));
	assert_false(utf8__visible_decode(&sb, "\\q", 2));
	assert_false(utf8__visible_decode(&sb, "\\x4", 3));
	assert_false(utf8__visible_decode(&sb, "\\xg0", 4));
	assert_false(utf8__visible_decode(&sb, "\\xFF", 4)); /* the form is lowercase */
	strbuf__free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_visible_plain_text_unchanged),
	    cmocka_unit_test(test_visible_escapes_backslash_and_controls),
	    cmocka_unit_test(test_visible_invalid_bytes_escaped),
	    cmocka_unit_test(test_visible_colliding_set_distinct),
	    cmocka_unit_test(test_visible_round_trip_exhaustive),
	    cmocka_unit_test(test_visible_decode_rejects_bad_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
