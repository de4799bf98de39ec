// SPDX-License-Identifier: GPL-2.0
/* OOM kills (probe oom): mark_victim flags the victim's execution and counts host-wide. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "toolwatch.h"
#include "lib/maps.bpf.h"
#include "lib/state.bpf.h"

SEC("tp_btf/mark_victim")
int BPF_PROG(handle_oom_kill, struct task_struct *victim)
{
	__u32 tgid = BPF_CORE_READ(victim, tgid);
	struct tw_exec_state *st = execs_get(tgid);

	map_percpu_inc(&host_counts, TW_HOST_OOM_KILLS);
	if (st && !st->owner)
		st->flags |= TW_F_OOM_KILLED; /* only exec writes flags otherwise */
	return 0;
}
