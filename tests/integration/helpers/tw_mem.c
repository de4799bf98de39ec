// SPDX-License-Identifier: GPL-2.0
/*
 * Test workload: tw_mem MIB [HOLD_MS]: allocates MIB MiB, touches every page, holds it,
 * then prints its image's peak RSS in bytes: VmHWM of /proc/self/status, the high-water mark
 * of the memory this image mapped. (getrusage's ru_maxrss would also carry the peak of the
 * image the exec replaced: the forked copy of whoever started this one.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	long ms = argc > 2 ? atol(argv[2]) : 0;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	char line[256], *p = malloc(mib << 20);
	long hwm_kib = -1;
	FILE *f;

	if (!p)
		return 1;
	for (size_t i = 0; i < mib << 20; i += 4096)
		p[i] = (char)i;
	if (ms > 0)
		nanosleep(&ts, NULL);
	f = fopen("/proc/self/status", "r");
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &hwm_kib) == 1)
			break;
	fclose(f);
	if (hwm_kib < 0)
		return 1;
	printf("%ld\n", hwm_kib * 1024L);
	fflush(stdout);
	free(p);
	return 0;
}
