// SPDX-License-Identifier: GPL-2.0
/*
 * Test driver: tw_cgspawn WIDTH PROGRAM [ARGS...]: reads cgroup directories from standard
 * input, one per line, and runs PROGRAM once in each: the child writes its pid to the
 * directory's cgroup.procs, then execs PROGRAM. Up to WIDTH children run at a time. Prints
 * {"count":N,"ok":N,"failed":N}: count children started, ok those that entered their
 * cgroup and exited 0, failed the others and a fork that failed (which ends the run once
 * the children running are reaped); exits 1 if any failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* the child's exit status when it could not enter its cgroup */
#define NO_CGROUP 120

static void enter_and_exec(const char *dir, char **argv)
{
	char procs[PATH_MAX + 16];
	int fd;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		fprintf(stderr, "tw_cgspawn: %s: %s\n", procs, strerror(errno));
		_exit(NO_CGROUP);
	}
	close(fd);
	execv(argv[0], argv);
	fprintf(stderr, "tw_cgspawn: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void reap(int *running, int *ok, int *failed)
{
	int status;

	if (wait(&status) < 0) {
		perror("wait");
		exit(1);
	}
	(*running)--;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		(*ok)++;
	else
		(*failed)++;
}

int main(int argc, char **argv)
{
	char line[PATH_MAX];
	int width, count = 0, ok = 0, failed = 0, running = 0;

	if (argc < 3 || (width = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: tw_cgspawn WIDTH PROGRAM [ARGS...] < cgroup dirs\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		pid_t pid;

		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		if (running >= width)
			reap(&running, &ok, &failed);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			failed++; /* counted; the children running are still reaped */
			break;
		}
		if (pid == 0)
			enter_and_exec(line, argv + 2);
		running++;
		count++;
	}
	while (running > 0)
		reap(&running, &ok, &failed);
	printf("{\"count\":%d,\"ok\":%d,\"failed\":%d}\n", count, ok, failed);
	return failed ? 1 : 0;
}
