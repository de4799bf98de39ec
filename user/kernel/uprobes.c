// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/uprobes.h"
#include "lib/log.h"

unsigned int uprobes__attach_libc(struct bpf_program *execve, struct bpf_program *execveat,
				  struct bpf_link **links)
{
	static char paths[LIBC_MAX_FILES][PATH_MAX];
	unsigned int nr_files = libc__find(paths, LIBC_MAX_FILES), n = 0, files = 0;

	for (unsigned int f = 0; f < nr_files; f++) {
		struct libc_site sites[LIBC_MAX_SITES];
		int nr = libc__sites(paths[f], sites, LIBC_MAX_SITES);
		unsigned int here = 0;

		if (nr <= 0) {
			pr_info("exec_failed_libc: no exec call recognised in '%s'%s%s", paths[f],
				nr ? ": " : "", nr ? strerror(-nr) : "");
			continue;
		}
		for (int i = 0; i < nr && n < UPROBES_MAX_LINKS; i++) {
			struct bpf_program *prog =
			    sites[i].call == LIBC_EXECVEAT ? execveat : execve;
			struct bpf_link *link;

			link = bpf_program__attach_uprobe(prog, false, -1, paths[f],
							  (size_t)sites[i].offset);
			if (!link) {
				pr_warn("exec_failed_libc: cannot attach to '%s' at 0x%llx: %s",
					paths[f], (unsigned long long)sites[i].offset,
					strerror(errno));
				continue;
			}
			links[n++] = link;
			here++;
		}
		if (here) {
			files++;
			pr_info("exec_failed_libc: watching %u exec calls in '%s'", here, paths[f]);
		}
	}
	if (!nr_files)
		pr_info("exec_failed_libc: no C library found in this process's or PID 1's maps");
	return files ? n : 0;
}
