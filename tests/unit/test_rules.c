// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "naming/rules.h"

#define ARGV(lit) lit, sizeof(lit) - 1

/* process-exporter's README example, unchanged. */
static const char readme_example[] =
    "process_names:\n"
    "  # comm is the second field of /proc/<pid>/stat minus parens.\n"
    "  # It is the base executable name, truncated at 15 chars.\n"
    "  # It cannot be modified by the program, unlike exe.\n"
    "  - comm:\n"
    "    - bash\n"
    "\n"
    "  # exe is argv[0]. If no slashes, only basename of argv[0] need match.\n"
    "  # If exe contains slashes, argv[0] must match exactly.\n"
    "  - exe:\n"
    "    - postgres\n"
    "    - /usr/local/bin/prometheus\n"
    "\n"
    "  # cmdline is a list of regexps applied to argv.\n"
    "  # Each must match, and any captures are added to the .Matches map.\n"
    "  - name: \"{{.ExeFull}}:{{.Matches.Cfgfile}}\"\n"
    "    exe:\n"
    "    - /usr/local/bin/process-exporter\n"
    "    cmdline:\n"
    "    - -config.path\\s+(?P<Cfgfile>\\S+)\n";

static struct rules *parse_ok(const char *text)
{
	struct rules *r = NULL;
	char err[256];
	int ret = rules__parse(text, strlen(text), "r.yaml", &r, err, sizeof(err));

	if (ret)
		fail_msg("parse failed: %d %s", ret, err);
	return r;
}

static void assert_parse_error(const char *text, const char *want)
{
	struct rules *r = (struct rules *)1;
	char err[256];
	int ret = rules__parse(text, strlen(text), "r.yaml", &r, err, sizeof(err));

	assert_int_equal(ret, -EINVAL);
	assert_null(r);
	assert_null(strchr(err, '\n'));
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
}

static const char *name_of(struct rules *r, const char *comm, const char *args, size_t args_size,
			   uint32_t uid, char *out, size_t out_size)
{
	struct rules_process p = {.comm = comm, .args = args, .args_size = args_size, .uid = uid};

	if (!rules__name(r, &p, out, out_size))
		return NULL;
	return out;
}

static void assert_rule_name(struct rules *r, const char *comm, const char *args, size_t args_size,
			     const char *want)
{
	char out[64];
	const char *got = name_of(r, comm, args, args_size, 0, out, sizeof(out));

	if (!want && got)
		fail_msg("comm '%s': got '%s', want no match", comm, got);
	if (want && (!got || strcmp(got, want)))
		fail_msg("comm '%s': got '%s', want '%s'", comm, got ? got : "(no match)", want);
}

static void test_rules_readme_example(void **state)
{
	struct rules *r = parse_ok(readme_example);

	(void)state;
	assert_int_equal(rules__count(r), 3);
	/* default name {{.ExeBase}} */
	assert_rule_name(r, "bash", ARGV("-bash\0"), "-bash");
	assert_rule_name(r, "bash", ARGV("/bin/bash\0x.sh\0"), "bash");
	assert_rule_name(r, "postgres", ARGV("/usr/lib/postgresql/15/bin/postgres\0-D\0d\0"),
			 "postgres");
	assert_rule_name(r, "prometheus", ARGV("/usr/local/bin/prometheus\0"), "prometheus");
	/* a path must match argv[0] exactly */
	assert_rule_name(r, "prometheus", ARGV("/usr/bin/prometheus\0"), NULL);
	assert_rule_name(r, "process-exporte",
			 ARGV("/usr/local/bin/process-exporter\0-config.path\0/etc/pe.yml\0"),
			 "/usr/local/bin/process-exporter:/etc/pe.yml");
	/* all selectors must match */
	assert_rule_name(r, "process-exporte", ARGV("/usr/local/bin/process-exporter\0"), NULL);
	assert_rule_name(r, "ls", ARGV("ls\0-l\0"), NULL);
	rules__free(r);
}

static void test_rules_first_match_wins(void **state)
{
	struct rules *r = parse_ok("process_names:\n"
				   "  - name: first\n"
				   "    cmdline: ['^python3 .*manage\\.py']\n"
				   "  - name: \"{{.Comm}}-any\"\n"
				   "    cmdline: ['.+']\n");

	(void)state;
	assert_rule_name(r, "python3", ARGV("python3\0/srv/manage.py\0run\0"), "first");
	assert_rule_name(r, "python3", ARGV("python3\0other.py\0"), "python3-any");
	/* '.+' on an empty cmdline does not match */
	assert_rule_name(r, "kthreadd", NULL, 0, NULL);
	rules__free(r);
}

static void test_rules_cmdline_regexes_all_match_and_capture(void **state)
{
	struct rules *r = parse_ok(
	    "process_names:\n"
	    "  - name: \"job:{{.Matches.queue}}:{{ .Matches.worker }}:{{.Matches.none}}\"\n"
	    "    comm: [celery, worker]\n"
	    "    cmdline:\n"
	    "      - '-Q (?P<queue>\\w+)'\n"
	    "      - '(?P<worker>w\\d+)?$'\n");

	(void)state;
	assert_rule_name(r, "celery", ARGV("celery\0-Q\0mail\0w7\0"), "job:mail:w7:<no value>");
	/* an optional group that took no part is empty */
	assert_rule_name(r, "celery", ARGV("celery\0-Q\0mail\0"), "job:mail::<no value>");
	assert_rule_name(r, "celery", ARGV("celery\0-X\0mail\0"), NULL);
	/* comm is exact */
	assert_rule_name(r, "celeryd", ARGV("celery\0-Q\0mail\0"), NULL);
	rules__free(r);
}

static const char *fake_username(uint32_t uid, void *ctx)
{
	(void)ctx;
	return uid == 1000 ? "alice" : NULL;
}

static void test_rules_username_and_exe_fields(void **state)
{
	struct rules *r = parse_ok("process_names:\n"
				   "  - name: '{{.Username}}/{{.ExeBase}}/{{.ExeFull}}/{{.Comm}}'\n"
				   "    exe: [make]\n");
	struct rules_process p = {.comm = "make", .args = "/usr/bin/make\0-j2", .args_size = 17};
	char out[64];

	(void)state;
	p.uid = 1000;
	p.username = fake_username;
	assert_true(rules__name(r, &p, out, sizeof(out)));
	assert_string_equal(out, "alice/make//usr/bin/make/make");
	p.uid = 33;
	assert_true(rules__name(r, &p, out, sizeof(out)));
	assert_string_equal(out, "33/make//usr/bin/make/make");
	p.username = NULL;
	p.uid = 1000;
	assert_true(rules__name(r, &p, out, sizeof(out)));
	assert_string_equal(out, "1000/make//usr/bin/make/make");
	/* cut short without overflowing */
	assert_true(rules__name(r, &p, out, 8));
	assert_string_equal(out, "1000/ma");
	rules__free(r);
}

/* rules__read_args() of the rules text parses to */
static bool reads_args(const char *text)
{
	struct rules *r = parse_ok(text);
	bool read = rules__read_args(r);

	rules__free(r);
	return read;
}

static void test_rules_read_args_when_matching_or_naming_by_argv(void **state)
{
	(void)state;
	assert_false(rules__read_args(NULL));
	assert_false(reads_args("process_names:\n  - name: x\n    comm: [bash]\n"
				"  - name: '{{.Comm}}-{{.Username}}'\n    comm: [sh]\n"));
	/* an unnamed rule is named {{.ExeBase}}: argv[0]'s basename */
	assert_true(reads_args("process_names:\n  - comm: [bash]\n"));
	assert_true(reads_args("process_names:\n  - name: 'x-{{.ExeFull}}'\n    comm: [sh]\n"));
	assert_true(reads_args("process_names:\n  - comm: [bash]\n  - exe: [postgres]\n"));
	assert_true(reads_args("process_names:\n  - name: y\n    cmdline: ['-c']\n"));
}

static void test_rules_errors_name_file_line_and_key(void **state)
{
	(void)state;
	assert_parse_error("process_names:\n  - comm: [a]\n    bogus: 1\n", "r.yaml:3: bogus:");
	assert_parse_error("process_names:\n  - cmdline: ['(']\n", "r.yaml:2: cmdline: bad regex");
	assert_parse_error("process_names:\n  - name: '{{.PID}}'\n    comm: [a]\n",
			   "r.yaml:2: name: unsupported template action '{{.PID}}'");
	assert_parse_error("process_names:\n  - name: '{{.Comm'\n    comm: [a]\n",
			   "r.yaml:2: name: unclosed");
	assert_parse_error("process_names:\n  - name: x\n",
			   "r.yaml:2: process_names: rule without");
	assert_parse_error("process_names:\n  - comm: a\n", "r.yaml:2: comm: expected a list");
	assert_parse_error("other: 1\n", "r.yaml:1: other: unknown key");
	assert_parse_error("process_names: {a: 1}\n", "r.yaml:1: process_names: expected a list");
	assert_parse_error("process_names:\n  - comm: [a\n", "r.yaml:");
	assert_parse_error("", "r.yaml:1: process_names: missing");
	/* found by fuzz_rules: a second cmdline compiled over the first, leaking it */
	assert_parse_error("process_names:\n  - cmdline: [a]\n    cmdline: [b]\n",
			   "r.yaml:3: cmdline: given twice");
	assert_parse_error("process_names:\n  - comm: [a]\n    name: x\n    name: y\n",
			   "r.yaml:4: name: given twice");
	assert_parse_error("process_names:\n  - comm: [a]\nprocess_names:\n  - comm: [b]\n",
			   "r.yaml:3: process_names: given twice");
}

/* Found by fuzz_rules: a quoted template with a newline made a two-line error. */
static void test_rules_errors_stay_one_line(void **state)
{
	(void)state;
	assert_parse_error("process_names:\n  - name: \"{{.Matches.a\\nb}}\"\n    comm: [a]\n",
			   "unsupported template action '{{.Matches.a?b}}'");
	assert_parse_error("process_names:\n  - name: \"{{.Esc\\e[2J}}\"\n    comm: [a]\n",
			   "'{{.Esc?[2J}}'");
}

static void test_rules_load_missing_file(void **state)
{
	struct rules *r = (struct rules *)1;
	char err[256];

	(void)state;
	assert_int_equal(rules__load("/nonexistent/rules.yaml", &r, err, sizeof(err)), -ENOENT);
	assert_null(r);
	assert_non_null(strstr(err, "cannot read '/nonexistent/rules.yaml'"));
}

static void test_rules_hostile_input_stays_bounded(void **state)
{
	struct rules *r = parse_ok("process_names:\n"
				   "  - name: '{{.ExeBase}}{{.ExeBase}}{{.Matches.a}}'\n"
				   "    cmdline: ['(?P<a>.*)']\n");
	char args[300], out[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(args); i++)
		args[i] = (char)(i % 7 ? 0xff - i % 50 : 0);
	assert_non_null(name_of(r, "x", args, sizeof(args), 0, out, sizeof(out)));
	assert_true(strlen(out) < sizeof(out));
	/* argv without a final NUL */
	assert_non_null(name_of(r, "x", "abc", 3, 0, out, sizeof(out)));
	assert_string_equal(out, "abcabcabc");
	rules__free(r);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_rules_catastrophic_regex_is_bounded_and_counted(void **state)
{
	struct rules *r = parse_ok("process_names:\n"
				   "  - name: slow\n"
				   "    cmdline: ['(a+)+$']\n"
				   "  - name: nested\n"
				   "    cmdline: ['^(\\w+\\s?)*$']\n"
				   "  - name: fine\n"
				   "    cmdline: ['^a+!$']\n");
	uint64_t counts[RULES_MATCH_ERROR_MAX] = {};
	char args[64], out[32];
	double start, took;

	(void)state;
	memset(args, 'a', 28);
	memcpy(args + 28, "!", 2);
	start = now_ms();
	assert_non_null(name_of(r, "x", args, 30, 0, out, sizeof(out)));
	took = now_ms() - start;
	/* both hostile rules give up at their bound; the next rule names it */
	assert_string_equal(out, "fine");
	rules__take_match_errors(r, counts);
	assert_int_equal(counts[RULES_MATCH_LIMIT], 2);
	assert_string_equal(rules__failed_regex(r), "^(\\w+\\s?)*$");
	if (took > 100) /* ~1 ms; without the bound, tens of ms to seconds */
		fail_msg("two bounded matches took %.1f ms", took);
	/* taken counts are reset */
	memset(counts, 0, sizeof(counts));
	rules__take_match_errors(r, counts);
	assert_int_equal(counts[RULES_MATCH_LIMIT], 0);
	assert_string_equal(rules_match_error__name(RULES_DEPTH_LIMIT), "depth_limit");
	rules__free(r);
}

static void test_rules_hostile_argv_stops_after_a_few_failed_regexes(void **state)
{
	char text[2048] = "process_names:\n", args[64], out[32];
	uint64_t counts[RULES_MATCH_ERROR_MAX] = {};
	size_t n = strlen(text);

	(void)state;
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  - name: slow%d\n    cmdline: ['(a+)+$']\n", i);
	snprintf(text + n, sizeof(text) - n, "  - name: fine\n    cmdline: ['a']\n");
	struct rules *r = parse_ok(text);

	memset(args, 'a', 28);
	memcpy(args + 28, "!", 2);
	/* 20 hostile rules: the first RULES_FAILED_PER_EXEC are tried, then default naming */
	assert_null(name_of(r, "x", args, 30, 0, out, sizeof(out)));
	rules__take_match_errors(r, counts);
	assert_int_equal(counts[RULES_MATCH_LIMIT], RULES_FAILED_PER_EXEC);
	/* a benign argv still reaches the last rule */
	assert_non_null(name_of(r, "x", ARGV("a\0b"), 0, out, sizeof(out)));
	assert_string_equal(out, "fine");
	rules__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules_readme_example),
	    cmocka_unit_test(test_rules_first_match_wins),
	    cmocka_unit_test(test_rules_cmdline_regexes_all_match_and_capture),
	    cmocka_unit_test(test_rules_username_and_exe_fields),
	    cmocka_unit_test(test_rules_read_args_when_matching_or_naming_by_argv),
	    cmocka_unit_test(test_rules_errors_name_file_line_and_key),
	    cmocka_unit_test(test_rules_errors_stay_one_line),
	    cmocka_unit_test(test_rules_load_missing_file),
	    cmocka_unit_test(test_rules_hostile_input_stays_bounded),
	    cmocka_unit_test(test_rules_catastrophic_regex_is_bounded_and_counted),
	    cmocka_unit_test(test_rules_hostile_argv_stops_after_a_few_failed_regexes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
