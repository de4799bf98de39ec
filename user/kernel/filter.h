/* SPDX-License-Identifier: GPL-2.0 */
/* What the kernel filters executions on (toolwatch trace); plain data, no libbpf. */
#ifndef TOOLWATCH_FILTER_H
#define TOOLWATCH_FILTER_H

#include <stdbool.h>
#include <stdint.h>

struct loader_filter {
	uint32_t tgid;
	uint32_t ppid;
	bool uid_set;
	uint32_t uid;
	uint64_t cgroup_id;
	uint64_t min_duration_ns;
	bool failed_only;
};

#endif /* TOOLWATCH_FILTER_H */
