// SPDX-License-Identifier: GPL-2.0
/* Test workload: tw_exit [CODE [SLEEP_MS]]: sleeps, then exits with CODE. */
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	int code = argc > 1 ? atoi(argv[1]) : 0;
	long ms = argc > 2 ? atol(argv[2]) : 0;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	if (ms > 0)
		nanosleep(&ts, NULL);
	return code;
}
