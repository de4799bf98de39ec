// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark driver: exec storms.
 *   bench_exec [-n COUNT | -d SECONDS] [-j WORKERS] [-r RATE] (-l LISTFILE | PROGRAM [ARGS...])
 * WORKERS processes (default 1) each run fork + execv + waitpid in a loop until COUNT
 * executions in total are done (or SECONDS elapsed). RATE (executions per second over all
 * workers, 0 = as fast as possible) paces starts on an absolute schedule; a late worker
 * starts at once. With -l, execution i runs line i % lines of LISTFILE (one path per
 * line, no arguments). Prints one JSON object: counts, elapsed wall time, achieved rate,
 * fork-to-reap latency percentiles and the CPU time of the workers and the programs they ran
 * (cpu_s: user + system, where the kernel also bills the tracepoint programs that ran).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define MAX_SAMPLES (1u << 22) /* latency samples kept over all workers */

struct worker_result {
	uint64_t ok;
	uint64_t failed;
	uint64_t samples;
};

struct shared {
	struct worker_result w[MAX_WORKERS];
	uint32_t lat_ns[]; /* per worker: MAX_SAMPLES / workers slots */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {.tv_sec = t / 1000000000ULL, .tv_nsec = t % 1000000000ULL};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static char **read_list(const char *path, size_t *n)
{
	char line[4096], **v = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				exit(1);
		}
		v[(*n)++] = strdup(line);
	}
	fclose(f);
	return v;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_exec [-n COUNT | -d SECONDS] [-j WORKERS] [-r RATE] "
			"(-l LISTFILE | PROGRAM [ARGS...])\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t count = 0, total_ok = 0, total_failed = 0, nsamples = 0, t0, t1, deadline = 0;
	double seconds = 0, rate = 0;
	char **list = NULL, **prog_argv;
	size_t list_len = 0, slots, shared_size;
	int workers = 1, opt, ready[2];
	struct shared *sh;
	struct rusage ru;
	uint32_t *all;

	while ((opt = getopt(argc, argv, "+n:d:j:r:l:")) != -1) {
		switch (opt) {
		case 'n':
			count = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		case 'j':
			workers = atoi(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'l':
			list = read_list(optarg, &list_len);
			if (!list || !list_len) {
				fprintf(stderr, "bench_exec: cannot read list '%s'\n", optarg);
				return 1;
			}
			break;
		default:
			usage();
		}
	}
	if ((!count && seconds <= 0) || workers < 1 || workers > MAX_WORKERS ||
	    (!list && optind >= argc))
		usage();
	prog_argv = argv + optind;

	slots = MAX_SAMPLES / workers;
	shared_size = sizeof(*sh) + (size_t)MAX_SAMPLES * sizeof(uint32_t);
	sh = mmap(NULL, shared_size, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sh == MAP_FAILED || pipe(ready)) {
		perror("bench_exec: setup");
		return 1;
	}

	for (int w = 0; w < workers; w++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("bench_exec: fork");
			return 1;
		}
		if (pid == 0) {
			struct worker_result *r = &sh->w[w];
			uint32_t *lat = sh->lat_ns + (size_t)w * slots;
			double interval = rate > 0 ? 1e9 * workers / rate : 0;
			uint64_t start, k = 0;
			char c;

			close(ready[1]);
			if (read(ready[0], &c, 1) < 0) {
				/* EOF releases every worker at once */
			}
			start = now_ns();
			if (seconds > 0)
				deadline = start + (uint64_t)(seconds * 1e9);
			for (uint64_t i = (uint64_t)w;; i += (uint64_t)workers, k++) {
				uint64_t t, dt;
				int status;
				pid_t child;

				if (count && i >= count)
					break;
				if (interval > 0)
					sleep_until(start + (uint64_t)((double)k * interval +
								       interval * w / workers));
				t = now_ns();
				if (deadline && t >= deadline)
					break;
				child = fork();
				if (child < 0) {
					r->failed++;
					continue;
				}
				if (child == 0) {
					if (list) {
						char *a[2] = {list[i % list_len], NULL};

						execv(a[0], a);
					} else {
						execv(prog_argv[0], prog_argv);
					}
					_exit(127);
				}
				if (waitpid(child, &status, 0) < 0) {
					r->failed++;
					continue;
				}
				dt = now_ns() - t;
				if (r->samples < slots)
					lat[r->samples++] =
					    dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
				if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
					r->ok++;
				else
					r->failed++;
			}
			_exit(0);
		}
	}
	close(ready[0]);
	t0 = now_ns();
	close(ready[1]);
	while (wait(NULL) > 0)
		;
	t1 = now_ns();
	getrusage(RUSAGE_CHILDREN, &ru);

	all = malloc((size_t)MAX_SAMPLES * sizeof(uint32_t));
	if (!all)
		return 1;
	for (int w = 0; w < workers; w++) {
		total_ok += sh->w[w].ok;
		total_failed += sh->w[w].failed;
		memcpy(all + nsamples, sh->lat_ns + (size_t)w * slots,
		       sh->w[w].samples * sizeof(uint32_t));
		nsamples += sh->w[w].samples;
	}
	qsort(all, nsamples, sizeof(*all), cmp_u32);
	printf("{\"count\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"failed\":%" PRIu64
	       ",\"workers\":%d,\"target_rate\":%.1f,\"elapsed_s\":%.6f,\"rate\":%.1f"
	       ",\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f,\"cpu_s\":%.6f}\n",
	       total_ok + total_failed, total_ok, total_failed, workers, rate, (t1 - t0) / 1e9,
	       (total_ok + total_failed) / ((t1 - t0) / 1e9),
	       nsamples ? all[nsamples / 2] / 1e3 : 0.0,
	       nsamples ? all[nsamples * 99 / 100] / 1e3 : 0.0,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
		   ru.ru_stime.tv_usec / 1e6);
	return total_failed ? 1 : 0;
}
