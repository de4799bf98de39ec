/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A failed exec as the failed-exec families (syscall tracepoints, C library uprobes)
 * record it: it waits in exec_pending, folded with the process's next failures, until a
 * successful exec deletes it or the process exits (exit.bpf.c emits it then). Include
 * after vmlinux.h.
 */
#ifndef EXEC_FAIL_BPF_H
#define EXEC_FAIL_BPF_H

#include <bpf/bpf_helpers.h>
#include "state.bpf.h"
#include "execs.bpf.h"
#include "toolwatch.h"

#define EACCES		13
#define ENOENT		2
#define ENOTDIR		20
#define PENDING_FOLD_NS 1000000000ULL /* failed execs closer than this fold into one */

/*
 * A failed execve of the current task (ret: the call's -errno); the path, a user pointer,
 * is read now. fresh: scratch room for a new entry.
 */
static __always_inline void record_exec_fail(long ret, const char *filename,
					     struct pending_fail *fresh)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct pending_fail *p;
	__u64 now = bpf_ktime_get_ns();
	__s32 err = -ret;
	bool stale = false;
	long uerr;

	p = bpf_map_lookup_elem(&exec_pending, &tgid);
	if (p && now - p->ts_ns > PENDING_FOLD_NS) {
		/* an unrelated earlier failure of a long-lived process */
		emit_exec_fail(task, tgid, p, false);
		p = NULL;
		stale = true;
	}
	if (!p) {
		fresh->ts_ns = now;
		fresh->error = err;
		fresh->attempts = 1;
		/* a failed execve left the caller's memory as it was: read the path now */
		bpf_probe_read_user_str(fresh->filename, sizeof(fresh->filename), filename);
		/* replaces the stale entry, unless a successful exec deleted it meanwhile */
		if (stale && !bpf_map_update_elem(&exec_pending, &tgid, fresh, BPF_EXIST))
			return;
		uerr = bpf_map_update_elem(&exec_pending, &tgid, fresh, BPF_NOEXIST);
		if (!uerr)
			__sync_fetch_and_add(&fails_pending, 1);
		else if (uerr != -EEXIST) /* EEXIST: a sibling thread's attempt is there */
			count_lost(TW_LOST_PENDING_FULL);
		return;
	}
	/* a PATH search: report EACCES over ENOENT, like execvp does */
	p->ts_ns = now;
	p->attempts++;
	if (!(p->error == EACCES && (err == ENOENT || err == ENOTDIR))) {
		p->error = err;
		bpf_probe_read_user_str(p->filename, sizeof(p->filename), filename);
	}
}

#endif /* EXEC_FAIL_BPF_H */
