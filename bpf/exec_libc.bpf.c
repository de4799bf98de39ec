// SPDX-License-Identifier: GPL-2.0
/*
 * Failed execs of dynamically linked callers (probe exec_failed_libc): uprobes on the C
 * libraries' execve and execveat system call instructions, at the instruction after
 * each (x86-64 `syscall`), which runs only when the call returned: when it failed. A
 * successful exec never comes back, and no other syscall is slowed. The agent finds the
 * sites (user/kernel/libc.c) in execve and fexecve, where every exec function of the
 * library but execveat(3) ends (the execl and execvp families, posix_spawn's child,
 * system, popen). Static binaries and raw syscalls are not seen: the syscall tracepoints
 * (probe exec_failed) are the exact opt-in. The kernel copies the probed page into every
 * process that maps the library, at its start: the family's cost, paid per exec.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "toolwatch.h"
#include "lib/state.bpf.h"
#include "lib/execs.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/exec_fail.bpf.h"

/* after an execve: the syscall left the path's pointer in its first argument register */
SEC("uprobe")
int handle_libc_execve(struct pt_regs *ctx)
{
	struct pending_fail fresh;
	long ret = (long)PT_REGS_RC(ctx);

	if (ret < 0)
		record_exec_fail(ret, (const char *)PT_REGS_PARM1(ctx), &fresh);
	return 0;
}

/* after an execveat: the path is the second argument */
SEC("uprobe")
int handle_libc_execveat(struct pt_regs *ctx)
{
	struct pending_fail fresh;
	long ret = (long)PT_REGS_RC(ctx);

	if (ret < 0)
		record_exec_fail(ret, (const char *)PT_REGS_PARM2(ctx), &fresh);
	return 0;
}
