// SPDX-License-Identifier: GPL-2.0
/*
 * Test workload: tw_wait cpu MS | tw_wait sync PATH N | tw_wait threads N MS: spins for
 * MS ms of CPU time, or makes N synchronous 4 KiB O_DIRECT writes each followed by
 * fdatasync, or starts N threads that each spin MS ms and exit before main does. Then
 * prints what the kernel says it waited between the start of main and just before exit:
 * "RUN_DELAY_NS BLKIO_TICKS" (/proc/self/schedstat field 2, /proc/self/stat field 42;
 * threads: every thread's own schedstat read just before it ends, summed).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long read_run_delay(const char *path)
{
	long long cpu = 0, delay = 0;
	FILE *f = fopen(path, "r");

	if (!f || fscanf(f, "%lld %lld", &cpu, &delay) != 2)
		exit(3);
	fclose(f);
	return delay;
}

static long long run_delay_ns(void)
{
	return read_run_delay("/proc/self/schedstat");
}

static long thread_ms;
static long long threads_delay_ns;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void spin(long ms);

static void *worker(void *arg)
{
	long long d;

	(void)arg;
	spin(thread_ms);
	d = read_run_delay("/proc/thread-self/schedstat");
	pthread_mutex_lock(&lock);
	threads_delay_ns += d;
	pthread_mutex_unlock(&lock);
	return NULL;
}

static int threads(long n)
{
	pthread_t t[64];

	if (n < 1 || n > 64)
		return 2;
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			return 1;
	for (long i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* field 42 of /proc/self/stat: delayacct_blkio_ticks (after the ")" of comm) */
static long long blkio_ticks(void)
{
	char buf[4096], *p;
	long long v = -1;
	size_t n;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f)
		exit(3);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		exit(3);
	p += 2; /* field 3 starts here */
	for (int field = 3; field < 42 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%lld", &v) != 1)
		exit(3);
	return v;
}

static void spin(long ms)
{
	volatile unsigned long x = 0;
	long long target = ms * 1000000LL, used;
	struct timespec ts;

	do {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		used = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	} while (used < target);
}

static int sync_writes(const char *path, long n)
{
	void *buf;
	int fd;

	if (posix_memalign(&buf, 4096, 4096))
		return 2;
	memset(buf, 'x', 4096);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0600);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		if (pwrite(fd, buf, 4096, (off_t)(i % 256) * 4096) != 4096) {
			perror("write");
			return 1;
		}
		fdatasync(fd);
	}
	close(fd);
	unlink(path);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	long long delay0 = run_delay_ns(), ticks0 = blkio_ticks();
	int err = 0;

	if (argc > 2 && !strcmp(argv[1], "cpu"))
		spin(atol(argv[2]));
	else if (argc > 3 && !strcmp(argv[1], "sync"))
		err = sync_writes(argv[2], atol(argv[3]));
	else if (argc > 3 && !strcmp(argv[1], "threads")) {
		thread_ms = atol(argv[3]);
		err = threads(atol(argv[2]));
	} else
		return 2;
	if (err)
		return err;
	printf("%lld %lld\n", run_delay_ns() - delay0 + threads_delay_ns, blkio_ticks() - ticks0);
	return 0;
}
