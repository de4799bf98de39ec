// SPDX-License-Identifier: GPL-2.0
/* The bounded file reader on files made in a temporary directory (no root needed). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/file.h"

static char dir[] = "/tmp/toolwatch-test-file-XXXXXX";
static char path[sizeof(dir) + 32];

static const char *make_file(const char *name, size_t size)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		fputc('a' + (int)(i % 26), f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[sizeof(dir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_file_reads_whole_and_terminates(void **state)
{
	char *data;
	size_t len;

	assert_int_equal(file__read(make_file("ten", 10), 10, FILE_REGULAR, &data, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(data, "abcdefghij");
	free(data);
	assert_int_equal(file__read(make_file("empty", 0), 10, FILE_REGULAR, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
}

static void test_file_refuses_one_byte_over_max(void **state)
{
	char *data = (char *)1;
	size_t len;

	assert_int_equal(file__read(make_file("eleven", 11), 10, 0, &data, &len), -EFBIG);
	assert_null(data);
}

static void test_file_bounds_files_of_unknown_size(void **state)
{
	char *data;
	size_t len;

	/* /proc files announce size 0: the bound applies while reading */
	assert_int_equal(file__read("/proc/self/status", 1 << 20, 0, &data, &len), 0);
	assert_true(len > 0 && strstr(data, "Pid:"));
	free(data);
	assert_int_equal(file__read("/proc/self/status", 16, 0, &data, &len), -EFBIG);
	assert_null(data);
}

static void test_file_refuses_fifo_and_symlink_when_asked(void **state)
{
	char fifo[sizeof(path)], link[sizeof(path)], *data;
	size_t len;

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(file__read(fifo, 10, FILE_REGULAR, &data, &len), -EINVAL);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(make_file("target", 3), link), 0);
	assert_int_equal(file__read(link, 10, FILE_NOFOLLOW, &data, &len), -ELOOP);
	assert_int_equal(file__read(link, 10, 0, &data, &len), 0);
	assert_string_equal(data, "abc");
	free(data);
}

static void test_file_missing_is_enoent(void **state)
{
	char *data;
	size_t len;

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(file__read(path, 10, 0, &data, &len), -ENOENT);
	assert_null(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_reads_whole_and_terminates),
	    cmocka_unit_test(test_file_refuses_one_byte_over_max),
	    cmocka_unit_test(test_file_bounds_files_of_unknown_size),
	    cmocka_unit_test(test_file_refuses_fifo_and_symlink_when_asked),
	    cmocka_unit_test(test_file_missing_is_enoent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
