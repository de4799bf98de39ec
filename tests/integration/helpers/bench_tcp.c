// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark driver: loopback TCP between a client and a forked server.
 *   bench_tcp pingpong [-s SIZE] [-d SECONDS] [-c CPU]   SIZE-byte request and echo (64)
 *   bench_tcp bulk [-s SIZE] [-d SECONDS] [-c CPU]       SIZE-byte writes one way (1 MiB)
 * Prints one JSON object: round trips per second, or MB/s (10^6 bytes) the server received,
 * and the CPU seconds client and server used for them (cpu_s; warm-up excluded).
 * -c pins client and server to one CPU: unpinned, a run flips between same-CPU and
 * cross-CPU wakeups, which differ by several times on small VMs.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP_NS 200000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static double cpu_now(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static int readn(int fd, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, (char *)buf + done, n - done);

		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static int writen(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = write(fd, (const char *)buf + done, n - done);

		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static void serve(int lfd, int bulk, size_t size)
{
	char *buf = malloc(bulk ? (1 << 20) : size);
	uint64_t total = 0;
	int one = 1, fd = accept(lfd, NULL, NULL);

	if (fd < 0 || !buf)
		_exit(1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bulk) {
		ssize_t r;

		while ((r = read(fd, buf, 1 << 20)) > 0)
			total += (uint64_t)r;
		writen(fd, &total, sizeof(total));
	} else {
		while (!readn(fd, buf, size) && !writen(fd, buf, size))
			;
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t alen = sizeof(addr);
	double seconds = 3;
	size_t size = 0;
	int bulk, opt, lfd, fd, one = 1, cpu = -1;
	uint64_t t0, t1, n = 0;
	double c0, c1;
	char *buf;
	pid_t server;

	if (argc < 2 || (strcmp(argv[1], "pingpong") && strcmp(argv[1], "bulk"))) {
		fprintf(stderr, "usage: bench_tcp pingpong|bulk [-s SIZE] [-d SECONDS] [-c CPU]\n");
		return 2;
	}
	bulk = !strcmp(argv[1], "bulk");
	optind = 2;
	while ((opt = getopt(argc, argv, "s:d:c:")) != -1) {
		if (opt == 's')
			size = strtoull(optarg, NULL, 10);
		else if (opt == 'd')
			seconds = atof(optarg);
		else if (opt == 'c')
			cpu = atoi(optarg);
		else
			return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("bench_tcp: sched_setaffinity");
			return 1;
		}
	}
	if (!size)
		size = bulk ? (1 << 20) : 64;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen)) {
		perror("bench_tcp: listen");
		return 1;
	}
	server = fork();
	if (server < 0) {
		perror("bench_tcp: fork");
		return 1;
	}
	if (server == 0)
		serve(lfd, bulk, size);
	close(lfd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("bench_tcp: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	buf = calloc(1, size);
	if (!buf)
		return 1;

	if (bulk) {
		uint64_t total = 0, deadline;

		c0 = cpu_now(RUSAGE_SELF);
		t0 = now_ns();
		deadline = t0 + (uint64_t)(seconds * 1e9);
		while (now_ns() < deadline)
			if (writen(fd, buf, size))
				return 1;
		shutdown(fd, SHUT_WR);
		if (readn(fd, &total, sizeof(total)))
			return 1;
		t1 = now_ns();
		c1 = cpu_now(RUSAGE_SELF);
		close(fd);
		waitpid(server, NULL, 0);
		printf("{\"mode\":\"bulk\",\"size\":%zu,\"seconds\":%.6f,\"bytes\":%" PRIu64
		       ",\"mbps\":%.1f,\"cpu_s\":%.6f}\n",
		       size, (t1 - t0) / 1e9, total, total / ((t1 - t0) / 1e9) / 1e6,
		       c1 - c0 + cpu_now(RUSAGE_CHILDREN));
	} else {
		uint64_t deadline, warm = now_ns() + WARMUP_NS, n_warm = 0;

		while (now_ns() < warm)
			for (int i = 0; i < 64; i++, n_warm++)
				if (writen(fd, buf, size) || readn(fd, buf, size))
					return 1;
		c0 = cpu_now(RUSAGE_SELF);
		t0 = now_ns();
		deadline = t0 + (uint64_t)(seconds * 1e9);
		/* check the clock every 64 round trips: a vDSO read is cheap, but not free */
		for (t1 = t0; t1 < deadline; t1 = now_ns())
			for (int i = 0; i < 64; i++, n++)
				if (writen(fd, buf, size) || readn(fd, buf, size))
					return 1;
		c1 = cpu_now(RUSAGE_SELF);
		shutdown(fd, SHUT_WR);
		close(fd);
		waitpid(server, NULL, 0);
		/* the server's share of the measured part: it does the same work per round trip */
		printf(
		    "{\"mode\":\"pingpong\",\"size\":%zu,\"seconds\":%.6f,\"round_trips\":%" PRIu64
		    ",\"rps\":%.1f,\"cpu_s\":%.6f}\n",
		    size, (t1 - t0) / 1e9, n, n / ((t1 - t0) / 1e9),
		    c1 - c0 + cpu_now(RUSAGE_CHILDREN) * (double)n / (double)(n + n_warm));
	}
	return 0;
}
