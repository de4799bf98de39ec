// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD shim for the header-deadline race test (test_http): in the HTTP
 * header-deadline thread (the agent's thread named "http-deadline"), every CLOCK_MONOTONIC
 * read is followed by a pause of TW_SLOW_REAPER_MS (500) before it returns: the thread is
 * "preempted" between reading the clock and scanning its connections, as a busy machine
 * can do to it at any time. The first stall writes one line to stderr, so a test can tell
 * that the shim engaged.
 * Built by the test itself: cc -shared -fPIC -O2 -o tw_slow_reaper.so tw_slow_reaper.c
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int deadline_thread(void)
{
	char name[16] = "";

	return !prctl(PR_GET_NAME, name, 0, 0, 0) && !strcmp(name, "http-deadline");
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int ret = (int)syscall(SYS_clock_gettime, id, ts);

	if (id == CLOCK_MONOTONIC && deadline_thread()) {
		const char *ms = getenv("TW_SLOW_REAPER_MS");
		long n = ms ? atol(ms) : 500;
		struct timespec d = {n / 1000, (n % 1000) * 1000000L};
		static const char note[] = "tw_slow_reaper: deadline thread stalled\n";
		static int noted;

		if (!__atomic_exchange_n(&noted, 1, __ATOMIC_RELAXED) &&
		    write(2, note, sizeof(note) - 1) < 0)
			noted = 1;
		syscall(SYS_nanosleep, &d, NULL);
	}
	return ret;
}
