// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/flags.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_S  1000000000ULL
#define MAX_ARGS  16

struct opts {
	bool verbose;
	uint32_t count;
	uint64_t total;
	uint64_t timeout_ns;
	uint64_t buffer_bytes;
	char name[8];
	unsigned int colors;
	unsigned int tags;
	int custom_calls;
	char last_custom[16];
	uint64_t unlimited;
	uint64_t wrong_size; /* the table says FLAG_U32: a table bug */
};

static const char *const colors[] = {"red", "green", "blue", NULL};

static int set_custom(void *o, const char *value, char *why, size_t n)
{
	struct opts *opts = o;

	if (!strcmp(value, "bad")) {
		snprintf(why, n, "want anything but bad");
		return -EINVAL;
	}
	if (!strcmp(value, "quiet"))
		return -EINVAL; /* no reason given: the flag's want */
	opts->custom_calls++;
	snprintf(opts->last_custom, sizeof(opts->last_custom), "%s", value);
	return 0;
}

#define AT(member) FLAG_FIELD(struct opts, member)

static const struct flag table[] = {
    {"verbose", 'v', .kind = FLAG_BOOL, AT(verbose)},
    {"count", 'c', .kind = FLAG_U32, AT(count), .min = 1, .max = 100, .want = "a count"},
    {"total", .kind = FLAG_U64, AT(total), .min = 0, .max = 1000},
    {"timeout", .kind = FLAG_DURATION, AT(timeout_ns), .min = NS_PER_S, .max = 60 * NS_PER_S},
    {"buffer", .kind = FLAG_SIZE, AT(buffer_bytes), .min = 4096, .max = 1 << 20},
    {"name", .kind = FLAG_STRING, AT(name), .want = "a short name"},
    {"colors", .kind = FLAG_LIST, AT(colors), .names = colors},
    {"tags", .kind = FLAG_LIST, AT(tags), .names = colors, .repeatable = true},
    {"custom", .kind = FLAG_CUSTOM, .set = set_custom, .want = "a custom value",
     .repeatable = true},
    {"unlimited", .kind = FLAG_U64, AT(unlimited)},
    {"wrong-size", .kind = FLAG_U32, AT(wrong_size)},
};

static const struct flag_set set = {
    .flags = table,
    .count = sizeof(table) / sizeof(table[0]),
    .has_version = true,
};

static char err[256];

/* Parses a NULL-terminated list of arguments into o (zeroed first). */
static enum options_result parse_list(const struct flag_set *s, struct opts *o,
				      const char *const *args)
{
	char *argv[MAX_ARGS];
	int argc = 0;

	while (args[argc]) {
		assert_true(argc < MAX_ARGS);
		argv[argc] = (char *)args[argc];
		argc++;
	}
	memset(o, 0, sizeof(*o));
	memset(err, 0, sizeof(err));
	return flags__parse(s, o, argc, argv, err, sizeof(err));
}

#define PARSE(o, ...) parse_list(&set, o, (const char *const[]){__VA_ARGS__, NULL})

/* The arguments must be refused with exactly this one-line message. */
#define REJECT(message, ...)                                                                       \
	do {                                                                                       \
		struct opts o_;                                                                    \
		if (PARSE(&o_, __VA_ARGS__) != OPTIONS_ERROR)                                      \
			fail_msg("accepted: %s", #__VA_ARGS__);                                    \
		assert_string_equal(err, message);                                                 \
	} while (0)

static void test_flags_equals_and_separate_values(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "--count=7", "--total", "1000", "--name", "make", "--timeout=1m",
			       "--buffer", "64KiB"),
			 OPTIONS_OK);
	assert_int_equal(o.count, 7);
	assert_int_equal(o.total, 1000);
	assert_string_equal(o.name, "make");
	assert_int_equal(o.timeout_ns, 60 * NS_PER_S);
	assert_int_equal(o.buffer_bytes, 64 << 10);
	/* a value may look like a flag: it is the value */
	assert_int_equal(PARSE(&o, "--name", "--count"), OPTIONS_OK);
	assert_string_equal(o.name, "--count");
}

static void test_flags_bare_and_explicit_switches(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "--verbose"), OPTIONS_OK);
	assert_true(o.verbose);
	assert_int_equal(PARSE(&o, "--verbose=true", "--verbose=no"), OPTIONS_OK);
	assert_false(o.verbose);
	/* a switch never takes the next argument */
	REJECT("unexpected argument 'false'", "--verbose", "false");
	REJECT("invalid --verbose 'maybe': want true or false (or no value)", "--verbose=maybe");
}

static void test_flags_short_aliases(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "-v", "-c", "3"), OPTIONS_OK);
	assert_true(o.verbose);
	assert_int_equal(o.count, 3);
	REJECT("unknown flag '-x'", "-x");
	REJECT("unknown flag '-vc'", "-vc");
	REJECT("flag '--count' given twice", "-c", "1", "--count=2");
}

static void test_flags_help_and_version_end_parsing(void **state)
{
	static const struct flag_set no_version = {table, 1, false};
	struct opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "--count=1", "--help", "--bogus"), OPTIONS_HELP);
	assert_int_equal(PARSE(&o, "-h"), OPTIONS_HELP);
	assert_int_equal(PARSE(&o, "--version", "--bogus"), OPTIONS_VERSION);
	/* an error before them still wins */
	REJECT("unknown flag '--bogus'", "--bogus", "--help");
	assert_int_equal(parse_list(&no_version, &o, (const char *const[]){"--version", NULL}),
			 OPTIONS_ERROR);
	assert_string_equal(err, "unknown flag '--version'");
}

static void test_flags_unknown_flag(void **state)
{
	(void)state;
	REJECT("unknown flag '--bogus'", "--bogus");
	REJECT("unknown flag '--bogus'", "--bogus=1");
	REJECT("unknown flag '--COUNT'", "--COUNT=1");
	REJECT("unknown flag '--'", "--");
	REJECT("unknown flag '--coun'", "--coun=1"); /* no prefix matching */
}

static void test_flags_positional_argument(void **state)
{
	(void)state;
	REJECT("unexpected argument 'stray'", "stray");
	REJECT("unexpected argument '-'", "-");
	REJECT("unexpected argument '5'", "--count=1", "5");
}

static void test_flags_missing_value(void **state)
{
	(void)state;
	REJECT("flag '--count' needs a value", "--count");
	REJECT("flag '--name' needs a value", "--verbose", "--name");
	REJECT("invalid --name '': want a short name, 1..7 bytes", "--name=");
}

static void test_flags_repeated_flag(void **state)
{
	struct opts o;

	(void)state;
	REJECT("flag '--count' given twice", "--count=1", "--count=1");
	REJECT("flag '--colors' given twice", "--colors=red", "--colors", "blue");
	/* switches may repeat, the last wins */
	assert_int_equal(PARSE(&o, "-v", "--verbose", "--verbose=false"), OPTIONS_OK);
	assert_false(o.verbose);
	/* repeatable: a list adds up, a custom flag sees every value */
	assert_int_equal(PARSE(&o, "--tags=red", "--tags", "blue"), OPTIONS_OK);
	assert_int_equal(o.tags, 1u << 0 | 1u << 2);
	assert_int_equal(PARSE(&o, "--custom=a", "--custom=b"), OPTIONS_OK);
	assert_int_equal(o.custom_calls, 2);
	assert_string_equal(o.last_custom, "b");
}

static void test_flags_numeric_limits(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "--count=100", "--total=0"), OPTIONS_OK);
	assert_int_equal(o.count, 100);
	REJECT("invalid --count '0': want a count, 1..100", "--count=0");
	REJECT("invalid --count '101': want a count, 1..100", "--count=101");
	REJECT("invalid --count '1x': want a count, 1..100", "--count", "1x");
	REJECT("invalid --total '-1': want 0..1000", "--total=-1");
	/* max 0: the type's own */
	assert_int_equal(PARSE(&o, "--unlimited=18446744073709551615"), OPTIONS_OK);
	assert_int_equal(o.unlimited, UINT64_MAX);
}

static void test_flags_duration_and_size_limits(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "--timeout=1s", "--buffer=1MiB"), OPTIONS_OK);
	assert_int_equal(o.timeout_ns, NS_PER_S);
	assert_int_equal(o.buffer_bytes, 1 << 20);
	REJECT("invalid --timeout '999ms': want a duration such as 500us, 10ms, 1.5s, 2m or 1h "
	       "(1s..1m)",
	       "--timeout=999ms");
	REJECT("invalid --timeout '61s': want a duration such as 500us, 10ms, 1.5s, 2m or 1h "
	       "(1s..1m)",
	       "--timeout=61s");
	REJECT("invalid --timeout '5': want a duration such as 500us, 10ms, 1.5s, 2m or 1h "
	       "(1s..1m)",
	       "--timeout=5");
	REJECT("invalid --buffer '4095': want a size such as 64KiB or 4MiB, 4KiB..1MiB",
	       "--buffer=4095");
	REJECT("invalid --buffer '2MiB': want a size such as 64KiB or 4MiB, 4KiB..1MiB",
	       "--buffer=2MiB");
}

static void test_flags_string_bounds(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "--name=1234567"), OPTIONS_OK);
	assert_string_equal(o.name, "1234567");
	REJECT("invalid --name '12345678': want a short name, 1..7 bytes", "--name=12345678");
}

static void test_flags_list_names_and_all(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "--colors=blue,red,blue"), OPTIONS_OK);
	assert_int_equal(o.colors, 1u << 2 | 1u << 0);
	assert_int_equal(PARSE(&o, "--colors=all"), OPTIONS_OK);
	assert_int_equal(o.colors, 7);
	REJECT("invalid --colors 'red,pink': unknown item 'pink'; want a list of red, green, blue "
	       "or all",
	       "--colors=red,pink");
	REJECT("invalid --colors 'red,': empty item; want a list of red, green, blue or all",
	       "--colors=red,");
	REJECT("invalid --colors '': empty item; want a list of red, green, blue or all",
	       "--colors=");
}

static void test_flags_custom_callback_reason(void **state)
{
	(void)state;
	REJECT("invalid --custom 'bad': want anything but bad", "--custom=bad");
	REJECT("invalid --custom 'quiet': want a custom value", "--custom=quiet");
}

static void test_flags_table_field_size_checked(void **state)
{
	struct opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "--wrong-size=1"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--wrong-size"));
	assert_non_null(strstr(err, "wrong size"));
	assert_int_equal(o.wrong_size, 0);
}

static void test_flags_error_is_one_bounded_line(void **state)
{
	char long_value[200];

	(void)state;
	REJECT("invalid --count '1?2': want a count, 1..100", "--count=1\n2");
	REJECT("unexpected argument 'a?b'", "a\tb");
	memset(long_value, 'x', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	REJECT("invalid --count "
	       "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...': "
	       "want a count, 1..100",
	       "--count", long_value);
}

static void test_flag_list_parse(void **state)
{
	unsigned int mask = 99;
	char bad[8];

	(void)state;
	assert_int_equal(flag_list__parse(colors, "green", &mask, bad, sizeof(bad)), 0);
	assert_int_equal(mask, 1u << 1);
	assert_int_equal(flag_list__parse(colors, "red,all", &mask, bad, sizeof(bad)), 0);
	assert_int_equal(mask, 7);
	mask = 99;
	assert_int_equal(flag_list__parse(colors, "green,Red", &mask, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "Red");
	assert_int_equal(mask, 99);
	assert_int_equal(flag_list__parse(colors, ",red", &mask, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "");
	assert_int_equal(flag_list__parse(colors, "red ", &mask, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "red ");
	assert_int_equal(flag_list__parse(colors, "", &mask, bad, sizeof(bad)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flags_equals_and_separate_values),
	    cmocka_unit_test(test_flags_bare_and_explicit_switches),
	    cmocka_unit_test(test_flags_short_aliases),
	    cmocka_unit_test(test_flags_help_and_version_end_parsing),
	    cmocka_unit_test(test_flags_unknown_flag),
	    cmocka_unit_test(test_flags_positional_argument),
	    cmocka_unit_test(test_flags_missing_value),
	    cmocka_unit_test(test_flags_repeated_flag),
	    cmocka_unit_test(test_flags_numeric_limits),
	    cmocka_unit_test(test_flags_duration_and_size_limits),
	    cmocka_unit_test(test_flags_string_bounds),
	    cmocka_unit_test(test_flags_list_names_and_all),
	    cmocka_unit_test(test_flags_custom_callback_reason),
	    cmocka_unit_test(test_flags_table_field_size_checked),
	    cmocka_unit_test(test_flags_error_is_one_bounded_line),
	    cmocka_unit_test(test_flag_list_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
