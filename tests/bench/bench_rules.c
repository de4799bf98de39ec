// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of the naming rules' user-space cost: bench_rules FILE [N]: names N executions
 * (a mix of real argvs, none matched by FILE's rules unless they say so) with the default
 * naming alone and with FILE's rules first, as the consumer does; prints JSON with the
 * nanoseconds per execution of each and the difference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "naming/rules.h"
#include "naming/tools.h"

/* An input: comm and an argv literal, its size without the literal's own closing NUL. */
#define IN(comm, lit)                                                                              \
	{                                                                                          \
		comm, lit, sizeof(lit) - 1                                                         \
	}

static const struct {
	const char *comm;
	const char *args;
	size_t size;
} inputs[] = {
    IN("static_true", "/tmp/twbench/static_true\0"),
    IN("cc1", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1\0-quiet\0-I\0include\0src/main.c\0-o\0"
	      "/tmp/cc.s\0"),
    IN("bash", "/bin/bash\0-e\0/usr/local/bin/deploy.sh\0prod\0"),
    IN("python3", "/usr/bin/python3\0-m\0pip\0install\0-r\0requirements.txt\0"),
    IN("git", "git\0rev-parse\0--abbrev-ref\0HEAD\0"),
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double per_call_ns(struct rules *r, long n)
{
	const size_t nr = sizeof(inputs) / sizeof(inputs[0]);
	volatile size_t sink = 0;
	char name[TOOL_NAME_MAX];
	double t0 = now_s();

	for (long i = 0; i < n; i++) {
		size_t k = (size_t)i % nr;
		struct rules_process p = {.comm = inputs[k].comm,
					  .args = inputs[k].args,
					  .args_size = inputs[k].size,
					  .uid = 1000};

		if (!r || !rules__name(r, &p, name, sizeof(name)))
			tool__name(inputs[k].args, inputs[k].comm, inputs[k].args, inputs[k].size,
				   name, sizeof(name));
		sink += (size_t)name[0];
	}
	(void)sink;
	return (now_s() - t0) / (double)n * 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 200000;
	double base, with;
	struct rules *r;
	char err[512];

	if (argc < 2 || n <= 0) {
		fprintf(stderr, "usage: bench_rules FILE [N]\n");
		return 2;
	}
	if (rules__load(argv[1], &r, err, sizeof(err))) {
		fprintf(stderr, "bench_rules: %s\n", err);
		return 2;
	}
	per_call_ns(r, n / 10); /* warm up (JIT, caches) */
	base = per_call_ns(NULL, n);
	with = per_call_ns(r, n);
	printf(
	    "{\"rules\": %zu, \"executions\": %ld, \"default_ns\": %.1f, \"with_rules_ns\": %.1f, "
	    "\"added_ns\": %.1f}\n",
	    rules__count(r), n, base, with, with - base);
	rules__free(r);
	return 0;
}
