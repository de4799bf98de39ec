// SPDX-License-Identifier: GPL-2.0
/*
 * Test driver: tw_spawn COUNT PROGRAM [ARGS...]: runs PROGRAM COUNT times, one after the
 * other (fork, execv, waitpid), and prints what it measured itself as JSON:
 * {"count":N,"ok":N,"failed":N,"sum_ns":N,"max_ns":N} where *_ns is fork-to-reap time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint64_t sum = 0, max = 0;
	int count, ok = 0, failed = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: tw_spawn COUNT PROGRAM [ARGS...]\n");
		return 2;
	}
	count = atoi(argv[1]);
	for (int i = 0; i < count; i++) {
		uint64_t t0 = now_ns(), dt;
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			execv(argv[2], argv + 2);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0) {
			perror("waitpid");
			return 1;
		}
		dt = now_ns() - t0;
		sum += dt;
		if (dt > max)
			max = dt;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
		else
			failed++;
	}
	printf("{\"count\":%d,\"ok\":%d,\"failed\":%d,\"sum_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64
	       "}\n",
	       count, ok, failed, sum, max);
	return 0;
}
