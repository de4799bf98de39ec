// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/parse.h"

#define NS_PER_S 1000000000ULL

static void assert_duration(const char *s, uint64_t want)
{
	uint64_t ns = 12345;
	int err = parse_duration_ns(s, &ns);

	if (err)
		fail_msg("'%s': error %d", s, err);
	if (ns != want)
		fail_msg("'%s': got %llu ns, want %llu", s, (unsigned long long)ns,
			 (unsigned long long)want);
}

static void assert_duration_error(const char *s, int want)
{
	uint64_t ns = 12345;
	int err = parse_duration_ns(s, &ns);

	if (err != want)
		fail_msg("'%s': got %d, want %d", s, err, want);
	assert_int_equal(ns, 12345); /* untouched on failure */
}

static void test_parse_duration_single_units(void **state)
{
	(void)state;
	assert_duration("250ns", 250);
	assert_duration("500us", 500000);
	assert_duration("500\xc2\xb5s", 500000); /* U+00B5 micro sign */
	assert_duration("500\xce\xbcs", 500000); /* U+03BC greek mu */
	assert_duration("10ms", 10000000);
	assert_duration("1s", NS_PER_S);
	assert_duration("2m", 120 * NS_PER_S);
	assert_duration("1h", 3600 * NS_PER_S);
	assert_duration("7d", 7 * 86400 * NS_PER_S);
	assert_duration("1w", 7 * 86400 * NS_PER_S);
	assert_duration("1y", 365 * 86400 * NS_PER_S);
	assert_duration("0s", 0);
	assert_duration("0", 0);
	assert_duration("007s", 7 * NS_PER_S);
}

static void test_parse_duration_decimals(void **state)
{
	(void)state;
	assert_duration("1.5s", 1500000000);
	assert_duration("0.5ms", 500000);
	assert_duration("2.25h", 8100 * NS_PER_S);
	assert_duration("1.5ns", 1); /* sub-nanosecond part truncated */
	assert_duration("0.000000001s", 1);
	assert_duration("0.0000000019s", 1);
	assert_duration("1.10000000000000000000000000001s", 1100000000);
	assert_duration("0.1w", 60480 * NS_PER_S);
}

static void test_parse_duration_compound(void **state)
{
	(void)state;
	assert_duration("1m30s", 90 * NS_PER_S);
	assert_duration("1h30m", 5400 * NS_PER_S);
	assert_duration("1d12h", 36 * 3600 * NS_PER_S);
	assert_duration("1w1d1h1m1s1ms1us1ns", 694861 * NS_PER_S + 1001001);
	assert_duration("1m0.5s", 60500000000ULL);
	assert_duration("1s500ms", 1500000000);
	assert_duration("1m30ms", 60030000000ULL); /* ms is smaller than m */
}

static void test_parse_duration_rejects_garbage(void **state)
{
	static const char *const bad[] = {
	    "",	     "s",     "10",	"1.5",	  "00",	    "ms",   "-1s",    "+1s",   " 1s",
	    "1s ",   "1 s",   "1\ts",	"1x",	  "1sec",   "1S",   "1M",     "1.s",   ".5s",
	    "1..5s", "1.5.s", "NaN",	"nan",	  "inf",    "Infs", "1e3s",   "0x10s", "1s1s",
	    "30s1m", "1ms1s", "1us1µs", "1s-1ms", "1h 30m", "1,5s", "1_000s", "1m30",  "1d\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_duration_error(bad[i], -EINVAL);
	assert_int_equal(parse_duration_ns(NULL, &(uint64_t){0}), -EINVAL);
}

static void test_parse_duration_overflow(void **state)
{
	(void)state;
	assert_duration("18446744073709551615ns", UINT64_MAX);
	assert_duration_error("18446744073709551616ns", -ERANGE);
	assert_duration_error("99999999999999999999999999999999999999999999ns", -ERANGE);
	assert_duration("213503d", 213503ULL * 86400 * NS_PER_S);
	assert_duration_error("213504d", -ERANGE);
	assert_duration_error("585y", -ERANGE);
	assert_duration("584y343d", (584ULL * 365 + 343) * 86400 * NS_PER_S);
	assert_duration_error("584y344d", -ERANGE);
	assert_duration_error("18446744073709551615ns1ns", -EINVAL); /* ns twice */
	assert_duration_error("18446744073709551615us1ns", -ERANGE);
	assert_duration_error("18446744073.709551616s", -ERANGE);
	assert_duration("18446744073.709551615s", UINT64_MAX);
	/* syntax beats range */
	assert_duration_error("99999999999999999999999999x", -EINVAL);
}

static void test_parse_u64_ranges(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("500", 1, 1000, &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(parse_u64("0010", 0, 100, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_u64("1001", 1, 1000, &v), -ERANGE);
	assert_int_equal(parse_u64("0", 1, 1000, &v), -ERANGE);
	assert_int_equal(v, 7);
}

static void test_parse_u64_rejects_garbage(void **state)
{
	static const char *const bad[] = {
	    "",
	    "-1",
	    "+1",
	    " 1",
	    "1 ",
	    "0x10",
	    "1e3",
	    "1.0",
	    "1k",
	    "abc",
	    "١",
	    "1\n",
	    "99999999999999999999999x",
	};
	uint64_t v = 7;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_u64(bad[i], 0, UINT64_MAX, &v) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	}
	assert_int_equal(parse_u64(NULL, 0, 1, &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void assert_size(const char *s, uint64_t want)
{
	uint64_t v = 0;
	int err = parse_size_bytes(s, &v);

	if (err || v != want)
		fail_msg("'%s': err %d, got %llu, want %llu", s, err, (unsigned long long)v,
			 (unsigned long long)want);
}

static void test_parse_size_units(void **state)
{
	(void)state;
	assert_size("0", 0);
	assert_size("1024", 1024);
	assert_size("1024B", 1024);
	assert_size("64k", 65536);
	assert_size("64K", 65536);
	assert_size("64Ki", 65536);
	assert_size("64KiB", 65536);
	assert_size("8M", 8ULL << 20);
	assert_size("8m", 8ULL << 20);
	assert_size("8MiB", 8ULL << 20);
	assert_size("1G", 1ULL << 30);
	assert_size("1GiB", 1ULL << 30);
	assert_size("3g", 3ULL << 30);
	assert_size("2T", 2ULL << 40);
	assert_size("1PiB", 1ULL << 50);
	assert_size("15E", 15ULL << 60);
	assert_size("18446744073709551615", UINT64_MAX);
}

static void test_parse_size_rejects_garbage_and_overflow(void **state)
{
	static const char *const bad[] = {
	    "",	   "k",	  "KiB", "-1",	 "+1",	  " 1k", "1k ",	 "1 k", "1.5G",
	    "1KB", "1MB", "1kb", "1Kib", "1KiBB", "1x",	 "0x10", "1e3", "1GiB\n",
	};
	uint64_t v = 7;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_size_bytes(bad[i], &v) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	}
	assert_int_equal(parse_size_bytes("16E", &v), -ERANGE);
	assert_int_equal(parse_size_bytes("17179869184G", &v), -ERANGE);
	assert_int_equal(parse_size_bytes("18446744073709551616", &v), -ERANGE);
	assert_int_equal(parse_size_bytes(NULL, &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void assert_listen(const char *s, const char *want_host, uint16_t want_port)
{
	char host[64];
	uint16_t port = 1;
	int err;

	memset(host, 'X', sizeof(host));
	err = parse_listen_address(s, host, sizeof(host), &port);
	if (err)
		fail_msg("'%s': error %d", s, err);
	assert_string_equal(host, want_host);
	assert_int_equal(port, want_port);
}

static void test_parse_listen_address_forms(void **state)
{
	(void)state;
	assert_listen(":9477", "", 9477);
	assert_listen("0.0.0.0:9477", "0.0.0.0", 9477);
	assert_listen("127.0.0.1:80", "127.0.0.1", 80);
	assert_listen("[::1]:9477", "::1", 9477);
	assert_listen("[::]:9477", "::", 9477);
	assert_listen("[fe80::1%eth0]:9477", "fe80::1%eth0", 9477);
	assert_listen("[::ffff:10.0.0.1]:1", "::ffff:10.0.0.1", 1);
	assert_listen("localhost:9477", "localhost", 9477);
	assert_listen("metrics-1.example.com:0", "metrics-1.example.com", 0);
	assert_listen(":65535", "", 65535);
}

static void test_parse_listen_address_rejects_bad(void **state)
{
	static const char *const bad[] = {
	    "",		  "9477",      "localhost",    ":",	     "localhost:", "[::1]",
	    "[::1]:",	  "[::1]9477", "[::1:9477",    "::1]:9477",  "::1:9477",   "[]:80",
	    "[zz::1]:80", "[::1%]:80", ":port",	       ":-1",	     ":+80",	   ": 80",
	    ":80 ",	  " :80",      "host name:80", "a/b:80",     "*:80",	   "[:80",
	    "]:80",	  "h:80:90",   "[::1]:80x",    "[[::1]]:80",
	};
	char host[64] = "keep";
	uint16_t port = 7;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_listen_address(bad[i], host, sizeof(host), &port) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	}
	assert_int_equal(parse_listen_address(":65536", host, sizeof(host), &port), -ERANGE);
	assert_int_equal(
	    parse_listen_address(":99999999999999999999999", host, sizeof(host), &port), -ERANGE);
	assert_int_equal(parse_listen_address(NULL, host, sizeof(host), &port), -EINVAL);
	assert_string_equal(host, "keep");
	assert_int_equal(port, 7);
}

static void test_parse_listen_address_host_must_fit(void **state)
{
	char host[10] = "keep";
	uint16_t port = 7;

	(void)state;
	assert_int_equal(parse_listen_address("123456789:80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "123456789");
	assert_int_equal(parse_listen_address("1234567890:80", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(parse_listen_address("[1:2:3:4:5:6]:80", host, sizeof(host), &port),
			 -EINVAL);
	assert_string_equal(host, "123456789");
	assert_int_equal(parse_listen_address(":80", host, 0, &port), -EINVAL);
	assert_int_equal(parse_listen_address(":80", host, 1, &port), 0);
	assert_string_equal(host, "");
	assert_int_equal(port, 80);
}

static void test_parse_bool_words(void **state)
{
	static const char *const truths[] = {"true", "TRUE", "True", "yes", "YES", "1"};
	static const char *const lies[] = {"false", "False", "no", "NO", "0"};
	static const char *const bad[] = {"",	   "2",	 "y",  "n",	"on", "off",
					  "true ", " 1", "01", "truee", "t"};
	size_t i;
	bool b;

	(void)state;
	for (i = 0; i < sizeof(truths) / sizeof(truths[0]); i++) {
		b = false;
		assert_int_equal(parse_bool(truths[i], &b), 0);
		assert_true(b);
	}
	for (i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		b = true;
		assert_int_equal(parse_bool(lies[i], &b), 0);
		assert_false(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		if (parse_bool(bad[i], &b) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(b);
	}
	assert_int_equal(parse_bool(NULL, &b), -EINVAL);
}

static void test_parse_path_bounds(void **state)
{
	char out[8] = "keep";

	assert_int_equal(parse_path("", out, sizeof(out)), -EINVAL);
	assert_int_equal(parse_path("/var/lib", out, sizeof(out)), -ENAMETOOLONG);
	assert_string_equal(out, "keep");
	assert_int_equal(parse_path("/tmp/x", out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_duration_single_units),
	    cmocka_unit_test(test_parse_duration_decimals),
	    cmocka_unit_test(test_parse_duration_compound),
	    cmocka_unit_test(test_parse_duration_rejects_garbage),
	    cmocka_unit_test(test_parse_duration_overflow),
	    cmocka_unit_test(test_parse_u64_ranges),
	    cmocka_unit_test(test_parse_u64_rejects_garbage),
	    cmocka_unit_test(test_parse_size_units),
	    cmocka_unit_test(test_parse_size_rejects_garbage_and_overflow),
	    cmocka_unit_test(test_parse_listen_address_forms),
	    cmocka_unit_test(test_parse_listen_address_rejects_bad),
	    cmocka_unit_test(test_parse_listen_address_host_must_fit),
	    cmocka_unit_test(test_parse_bool_words),
	    cmocka_unit_test(test_parse_path_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
