// SPDX-License-Identifier: GPL-2.0
/* Test workload: tw_signal SIGNO: kills itself with that signal. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int sig = argc > 1 ? atoi(argv[1]) : SIGKILL;

	signal(sig, SIG_DFL);
	raise(sig);
	pause();
	return 0;
}
