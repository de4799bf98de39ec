// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>

#include "kernel/probes.h"
#include "toolwatch.h"

static const char *const probe_names[PROBE_MAX] = {
    [PROBE_EXEC] = "exec",
    [PROBE_EXEC_FAILED] = "exec_failed",
    [PROBE_TASK_ITER] = "task_iter",
    [PROBE_FORK] = "fork",
    [PROBE_NET] = "net",
    [PROBE_TCP] = "tcp",
    [PROBE_OOM] = "oom",
    [PROBE_RUNQLAT] = "runqlat",
    [PROBE_BLOCKIO] = "blockio",
    [PROBE_SAMPLER] = "sampler",
    [PROBE_DELAYACCT] = "delayacct",
    [PROBE_NETCALLS] = "netcalls",
    [PROBE_EXEC_FAILED_LIBC] = "exec_failed_libc",
};

static const char *const lost_names[TW_LOST_MAX] = {
    [TW_LOST_RINGBUF_EXEC] = "ringbuf_full_exec",      [TW_LOST_RINGBUF_EXIT] = "ringbuf_full_exit",
    [TW_LOST_RINGBUF_FAIL] = "ringbuf_full_exec_fail", [TW_LOST_EXECS_FULL] = "execs_map_full",
    [TW_LOST_PENDING_FULL] = "exec_pending_map_full",  [TW_LOST_OWNERS_FULL] = "owners_map_full",
    [TW_LOST_BLOCK_FULL] = "block_start_map_full",
};

const char *probe__name(enum probe p)
{
	return (unsigned int)p < PROBE_MAX ? probe_names[p] : "unknown";
}

const char *lost_reason__name(unsigned int reason)
{
	return reason < TW_LOST_MAX ? lost_names[reason] : "unknown";
}

int probe__parse_list(const char *list, bool disabled[PROBE_MAX], char *bad, size_t bad_size)
{
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");
		int found = -1;

		for (int i = 0; i < PROBE_MAX; i++)
			if (strlen(probe_names[i]) == len && !strncmp(p, probe_names[i], len))
				found = i;
		if (found < 0 || found == PROBE_EXEC) {
			snprintf(bad, bad_size, "%.*s", (int)len, p);
			return -EINVAL;
		}
		if (len)
			disabled[found] = true;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}
