// SPDX-License-Identifier: GPL-2.0
/*
 * Test workload: tw_threads N CODE MODE: starts N threads that sleep 20 ms.
 * MODE "join": main joins them and exits with CODE.
 * MODE "leader-first": main calls pthread_exit at once; the last thread exits with CODE.
 * MODE "group": the threads spin; main calls exit(CODE) after 5 ms, so that every thread
 * goes through do_exit at once (exit_group).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int code;
static int remaining;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *spinner(void *arg)
{
	volatile unsigned long n = 0;

	(void)arg;
	for (;;)
		n++;
	return NULL;
}

static void *worker(void *arg)
{
	struct timespec ts = {.tv_nsec = 20000000L};
	int last;

	nanosleep(&ts, NULL);
	pthread_mutex_lock(&lock);
	last = --remaining == 0;
	pthread_mutex_unlock(&lock);
	if (arg && last)
		exit(code);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	int leader_first = argc > 3 && !strcmp(argv[3], "leader-first");
	int group = argc > 3 && !strcmp(argv[3], "group");
	pthread_t *t = calloc((size_t)n, sizeof(*t));

	code = argc > 2 ? atoi(argv[2]) : 0;
	remaining = n;
	if (group) {
		struct timespec ts = {.tv_nsec = 5000000L};

		for (int i = 0; i < n; i++)
			pthread_create(&t[i], NULL, spinner, NULL);
		nanosleep(&ts, NULL);
		exit(code);
	}
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, leader_first ? (void *)1 : NULL);
	if (leader_first)
		pthread_exit(NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
	return code;
}
