// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "anomaly/anomaly.h"
#include "anomaly/baseline_codec.h"
#include "anomaly/state.h"

#define T0 1699920000LL

/* A detector that has learned two tools and the host for 80 windows. */
static struct anomaly_detector *learned_detector(void)
{
	struct anomaly_detector *d = anomaly__new(NULL);
	struct anomaly_tool_window w;
	int64_t now = T0;

	assert_non_null(d);
	for (int i = 0; i < 80; i++) {
		struct anomaly_host_window hw = {0.2 + 0.01 * (i % 5)};

		memset(&w, 0, sizeof(w));
		w.executions = 100;
		w.failures = i % 3;
		w.cpu_seconds = 0.3 + 0.001 * (i % 7);
		for (int k = 0; k < 100; k++) {
			hist__add(&w.duration, &hist_duration_layout, 8000000 + 40000 * (k % 50));
			hist__add(&w.peak_memory, &hist_memory_layout, (20 + k % 10) << 20);
		}
		now += 60;
		assert_int_equal(anomaly__observe_tool(d, "curl", &w, now), 0);
		assert_int_equal(anomaly__observe_tool(d, "make", &w, now), 0);
		assert_int_equal(anomaly__observe_host(d, &hw, now), 0);
	}
	return d;
}

static void serialize(const struct anomaly_detector *d, struct strbuf *sb)
{
	strbuf__reset(sb);
	assert_int_equal(anomaly__serialize(d, sb), 0);
}

static char *make_tmpdir(void)
{
	char tmpl[] = "/tmp/toolwatch-state-XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	dir = strdup(dir);
	assert_non_null(dir);
	return dir;
}

static void remove_tree(const char *path)
{
	struct stat st;
	DIR *dir;

	if (lstat(path, &st))
		return;
	if (S_ISDIR(st.st_mode)) {
		struct dirent *e;
		char child[4096];

		dir = opendir(path);
		assert_non_null(dir);
		while ((e = readdir(dir))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
			remove_tree(child);
		}
		closedir(dir);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int count_entries(const char *path)
{
	struct dirent *e;
	DIR *dir = opendir(path);
	int n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dir);
	return n;
}

/* The caller logs why: one line, lowercase first, no full stop. */
static void assert_reason(const char *why)
{
	size_t len = strlen(why);

	assert_true(len > 0);
	assert_true(islower((unsigned char)why[0]));
	assert_null(strchr(why, '\n'));
	assert_true(why[len - 1] != '.');
}

static void test_state_save_load_round_trip(void **state)
{
	struct strbuf a = {0}, b = {0};
	struct anomaly_detector *d = learned_detector(), *restored;
	char *tmp = make_tmpdir(), dir[512], path[600], why[256];
	struct stat st;

	/* missing directories are created, 0700 */
	snprintf(dir, sizeof(dir), "%s/var/lib/toolwatch", tmp);
	assert_int_equal(state__save(d, dir), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/baselines.v1", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_entries(dir), 1); /* no temporary file left behind */

	restored = anomaly__new(NULL);
	assert_non_null(restored);
	assert_int_equal(state__load(restored, dir, why, sizeof(why)), 0);
	serialize(d, &a);
	serialize(restored, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	assert_int_equal(anomaly__nr_tools(restored), 2);

	/* a second save replaces the file in place */
	assert_int_equal(state__save(restored, dir), 0);
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(state__load(d, dir, NULL, 0), 0);

	anomaly__free(d);
	anomaly__free(restored);
	strbuf__free(&a);
	strbuf__free(&b);
	remove_tree(tmp);
	free(tmp);
}

static void test_state_load_missing_file(void **state)
{
	struct anomaly_detector *d = anomaly__new(NULL);
	char *tmp = make_tmpdir(), dir[512], why[256];

	assert_int_equal(state__load(d, tmp, why, sizeof(why)), -ENOENT);
	assert_reason(why);
	snprintf(dir, sizeof(dir), "%s/does/not/exist", tmp);
	assert_int_equal(state__load(d, dir, why, sizeof(why)), -ENOENT);
	assert_int_equal(state__load(d, "", why, sizeof(why)), -EINVAL);
	assert_int_equal(state__load(NULL, tmp, why, sizeof(why)), -EINVAL);
	assert_int_equal(state__save(NULL, tmp), -EINVAL);
	assert_int_equal(anomaly__nr_tools(d), 0);
	anomaly__free(d);
	remove_tree(tmp);
	free(tmp);
}

/* Every bad file: refused with a reason, detector untouched. */
static void test_state_load_rejects_bad_files(void **state)
{
	static const char foreign[] = "{\"tool\": \"curl\", \"p95\": 0.02}\n";
	struct anomaly_detector *d = learned_detector(), *other;
	struct strbuf good = {0}, before = {0}, after = {0};
	char *tmp = make_tmpdir(), path[600], why[256];
	struct anomaly_config cfg;
	char *buf;
	struct {
		const char *what;
		size_t len;
		int err;
	} cases[8];
	int nr = 0;

	serialize(d, &good);
	buf = malloc(good.len);
	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/baselines.v1", tmp);

	/* a detector with its own state, to check it survives every refusal */
	other = anomaly__new(NULL);
	assert_non_null(other);
	serialize(other, &before);

	cases[nr++] = (typeof(cases[0])){"empty", 0, -EPROTO};
	cases[nr++] = (typeof(cases[0])){"foreign", sizeof(foreign) - 1, -EPROTO};
	cases[nr++] = (typeof(cases[0])){"truncated header", 20, -EBADMSG};
	cases[nr++] = (typeof(cases[0])){"truncated body", good.len / 2, -EBADMSG};
	cases[nr++] = (typeof(cases[0])){"truncated checksum", good.len - 1, -EBADMSG};
	cases[nr++] = (typeof(cases[0])){"bit flip", good.len, -EBADMSG};
	cases[nr++] = (typeof(cases[0])){"other version", good.len, -EPROTONOSUPPORT};
	for (int i = 0; i < nr; i++) {
		memcpy(buf, good.buf, good.len);
		if (!strcmp(cases[i].what, "foreign"))
			memcpy(buf, foreign, sizeof(foreign) - 1);
		if (!strcmp(cases[i].what, "bit flip"))
			buf[good.len / 3] ^= 0x10;
		if (!strcmp(cases[i].what, "other version"))
			buf[8] = 9;
		write_file(path, buf, cases[i].len);
		why[0] = '\0';
		assert_int_equal(state__load(other, tmp, why, sizeof(why)), cases[i].err);
		assert_reason(why);
		assert_non_null(strstr(why, path));
		print_message("%s: %s\n", cases[i].what, why);
	}
	serialize(other, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.buf, after.buf, before.len);

	/* learned with another window length */
	write_file(path, good.buf, good.len);
	anomaly_config__init(&cfg);
	cfg.window_ns = 10 * 1000000000ULL;
	anomaly__free(other);
	other = anomaly__new(&cfg);
	assert_non_null(other);
	assert_int_equal(state__load(other, tmp, why, sizeof(why)), -ESTALE);
	assert_reason(why);
	print_message("other window: %s\n", why);
	assert_int_equal(anomaly__nr_tools(other), 0);

	anomaly__free(d);
	anomaly__free(other);
	free(buf);
	strbuf__free(&good);
	strbuf__free(&before);
	strbuf__free(&after);
	remove_tree(tmp);
	free(tmp);
}

static void test_state_load_refuses_special_files(void **state)
{
	struct anomaly_detector *d = anomaly__new(NULL);
	char *tmp = make_tmpdir(), path[600], target[600], why[256];
	int fd;

	snprintf(path, sizeof(path), "%s/baselines.v1", tmp);

	/* larger than the cap (sparse, nothing is read) */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)STATE_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_equal(state__load(d, tmp, why, sizeof(why)), -EFBIG);
	assert_reason(why);
	print_message("too large: %s\n", why);
	unlink(path);

	/* a directory, a FIFO (must not block), a symlink */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(state__load(d, tmp, why, sizeof(why)), -EINVAL);
	assert_reason(why);
	rmdir(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(state__load(d, tmp, why, sizeof(why)), -EINVAL);
	unlink(path);
	snprintf(target, sizeof(target), "%s/elsewhere", tmp);
	write_file(target, "x", 1);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(state__load(d, tmp, why, sizeof(why)), -ELOOP);
	assert_reason(why);
	unlink(path);

	assert_int_equal(anomaly__nr_tools(d), 0);
	anomaly__free(d);
	remove_tree(tmp);
	free(tmp);
}

static void test_state_save_fails_cleanly(void **state)
{
	struct anomaly_detector *d = learned_detector();
	char *tmp = make_tmpdir(), path[600];

	/* the state directory is a file */
	snprintf(path, sizeof(path), "%s/file", tmp);
	write_file(path, "x", 1);
	assert_int_equal(state__save(d, path), -ENOTDIR);
	assert_int_equal(state__save(d, ""), -EINVAL);
	/* the target name is taken by a directory: rename fails, no temporary file stays */
	snprintf(path, sizeof(path), "%s/dir", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/dir/baselines.v1", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(strcat(path, "/keep"), "x", 1);
	snprintf(path, sizeof(path), "%s/dir", tmp);
	assert_true(state__save(d, path) < 0);
	assert_int_equal(count_entries(path), 1);
	anomaly__free(d);
	remove_tree(tmp);
	free(tmp);
}

static void test_state_load_refuses_files_larger_than_the_tool_cap_needs(void **state)
{
	struct anomaly_detector *d = learned_detector(), *small;
	struct anomaly_config cfg;
	char *tmp = make_tmpdir(), path[600], why[256];
	struct strbuf sb = {0};
	size_t max;

	(void)state;
	anomaly_config__init(&cfg);
	cfg.max_tools = 2;
	small = anomaly__new(&cfg);
	assert_non_null(small);
	max = anomaly__serialized_max(small);
	serialize(d, &sb);
	assert_true(sb.len <= max);
	/* the default cap (2048 tools, no hours) needs ~10 MB, far below STATE_MAX_BYTES */
	assert_true(anomaly__serialized_max(d) < 16u << 20);
	assert_true(anomaly__serialized_max(d) > 2048 * 4096);
	assert_int_equal(state__save(d, tmp), 0);
	assert_int_equal(state__load(small, tmp, why, sizeof(why)), 0);

	/* one byte more than two tools could need: refused on its size, never read */
	snprintf(path, sizeof(path), "%s/baselines.v1", tmp);
	assert_int_equal(truncate(path, (off_t)max + 1), 0);
	assert_int_equal(state__load(small, tmp, why, sizeof(why)), -EFBIG);
	assert_reason(why);
	assert_non_null(strstr(why, "larger than"));
	print_message("too large: %s\n", why);
	assert_int_equal(anomaly__nr_tools(small), 2);

	anomaly__free(d);
	anomaly__free(small);
	strbuf__free(&sb);
	remove_tree(tmp);
	free(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_save_load_round_trip),
	    cmocka_unit_test(test_state_load_missing_file),
	    cmocka_unit_test(test_state_load_rejects_bad_files),
	    cmocka_unit_test(test_state_load_refuses_special_files),
	    cmocka_unit_test(test_state_save_fails_cleanly),
	    cmocka_unit_test(test_state_load_refuses_files_larger_than_the_tool_cap_needs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
