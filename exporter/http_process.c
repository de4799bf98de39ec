// SPDX-License-Identifier: GPL-2.0
/* The agent's own process_* metrics, read from /proc/self. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "http_internal.h"
#include "http_process.h"

void process__read(const struct http_server *srv, struct exporter_stats *e)
{
	unsigned long long utime = 0, stime = 0, vsize = 0, rss = 0;
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	struct dirent *d;
	char buf[1024], *p;
	FILE *f;
	DIR *dir;

	e->process = true;
	e->start_time_seconds = srv->start_time;
	f = fopen("/proc/self/stat", "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2,
			   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
			   "%*d %*d %*u %llu %llu",
			   &utime, &stime, &vsize, &rss) == 4) {
			e->cpu_seconds =
			    (double)(utime + stime) / (double)(ticks > 0 ? ticks : 100);
			e->virtual_memory_bytes = vsize;
			e->resident_memory_bytes = rss * (unsigned long long)page;
		}
		fclose(f);
	}
	dir = opendir("/proc/self/fd");
	if (dir) {
		while ((d = readdir(dir)))
			if (d->d_name[0] != '.')
				e->open_fds++;
		closedir(dir);
		e->open_fds--; /* the directory's own descriptor */
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		e->max_fds = rl.rlim_cur;
}
