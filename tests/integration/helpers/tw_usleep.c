// SPDX-License-Identifier: GPL-2.0
/* Test workload: tw_usleep [MICROSECONDS]: sleeps that long, then exits 0. */
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long us = argc > 1 ? atol(argv[1]) : 0;
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L};

	if (us > 0)
		nanosleep(&ts, NULL);
	return 0;
}
