// SPDX-License-Identifier: GPL-2.0
/*
 * Test workload over loopback TCP:
 *   tw_net sink PORT             accept one connection, read to EOF, print bytes read
 *   tw_net send PORT BYTES       connect, write exactly BYTES, close
 *   tw_net send-fork PORT BYTES  the same from a forked child that never execs
 *   tw_net send-fork-exec PORT BYTES  the same from a forked child that then execs true
 *   tw_net rate PORT BPS SECS    send BPS bytes per second for SECS seconds
 *   tw_net udp PORT BYTES        send BYTES in 1000-byte UDP datagrams (nobody listens)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char buf[65536];

static int connect_to(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static void send_all(int fd, long long n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n < (long long)sizeof(buf) ? (size_t)n : sizeof(buf));

		if (w <= 0) {
			perror("write");
			exit(1);
		}
		n -= w;
	}
}

int main(int argc, char **argv)
{
	int port = argc > 2 ? atoi(argv[2]) : 0;

	if (argc < 3)
		return 2;
	if (!strcmp(argv[1], "sink")) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((unsigned short)port)};
		int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0), fd;
		long long total = 0;
		ssize_t r;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1)) {
			perror("bind");
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		fd = accept(ls, NULL, NULL);
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			total += r;
		printf("%lld\n", total);
		return 0;
	}
	if (!strcmp(argv[1], "send") || !strncmp(argv[1], "send-fork", 9)) {
		long long n = atoll(argv[3]);
		int then_exec = !strcmp(argv[1], "send-fork-exec");

		if (!strncmp(argv[1], "send-fork", 9)) {
			pid_t pid = fork();

			if (pid > 0) {
				int status;

				waitpid(pid, &status, 0);
				return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
			}
		}
		int fd = connect_to(port);

		send_all(fd, n);
		close(fd);
		if (then_exec) {
			execl("/bin/true", "true", (char *)NULL);
			return 1;
		}
		return 0;
	}
	if (!strcmp(argv[1], "udp")) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((unsigned short)port)};
		long long n = argc > 3 ? atoll(argv[3]) : 0;
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		for (; n > 0; n -= 1000)
			if (sendto(fd, buf, n < 1000 ? (size_t)n : 1000, 0, (struct sockaddr *)&a,
				   sizeof(a)) < 0) {
				perror("sendto");
				return 1;
			}
		return 0;
	}
	if (!strcmp(argv[1], "rate")) {
		long long bps = atoll(argv[3]);
		int secs = atoi(argv[4]), fd = connect_to(port);
		struct timespec tick = {.tv_nsec = 100000000L};

		for (int i = 0; i < secs * 10; i++) {
			send_all(fd, bps / 10);
			nanosleep(&tick, NULL);
		}
		close(fd);
		return 0;
	}
	return 2;
}
