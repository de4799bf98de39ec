/* SPDX-License-Identifier: GPL-2.0 */
/* Tool names: process -> tool name rules and the capped table of tracked names, pure. */
#ifndef TOOLWATCH_TOOLS_H
#define TOOLWATCH_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOOL_NAME_MAX	  64 /* bytes of a tool name, NUL included */
#define TOOL_OTHER_ID	  0  /* id of "other": names beyond the cap */
#define TOOL_OTHER_NAME	  "other"
#define TOOL_UNKNOWN_NAME "unknown"

/*
 * Writes the tool name of one execution into out (always NUL terminated when out_size > 0;
 * nothing is written when out is NULL or out_size is 0).
 *
 * filename is the path the kernel exec'd (may be empty or NULL), comm the task comm (may be
 * NULL; at most 16 bytes are read, so it need not be NUL terminated), args the first
 * args_size bytes of argv as copied from the process (NULL when there are none): words
 * separated by NULs, the last one possibly cut short without its NUL. No byte beyond
 * args_size is read.
 *
 * The name is the basename of filename, without a trailing " (deleted)"; a filename that
 * names an fd rather than a file (`/dev/fd/N`, `/proc/self/fd/N`, `/proc/<pid>/fd/N`, as
 * fexecve and execveat(AT_EMPTY_PATH) exec) or a memfd (`memfd:...`) counts as empty. If
 * that is empty, the basename of argv[0] (without the leading '-' of a login shell; a
 * memfd name counts as empty); if that is empty, comm as it is unless it is all digits
 * (older kernels name an fexecve'd image after its fd); if that is empty,
 * "unknown". The shebang step of a script whose `#!` line names a launcher (env: argv[0] is
 * env and one of the next two words is filename) is named after the launcher, "env": the
 * script is named, and counted, at the next exec, the interpreter's. When that name is a known
 * interpreter (the table in tools.c: sh, bash, rbash, dash, zsh, ash, ksh, ksh93, mksh, pdksh,
 * hush, node, nodejs, java, busybox, and python, pypy, perl, ruby alone or followed by a version
 * such as python3.11 or perl5.36.0), the name is instead the basename of what the interpreter runs,
 * found by skipping its options (with their arguments) up to the first other word or the one after
 * `--`: `python -m mod` gives mod, `java -jar x.jar` gives x.jar, `java -m mod/cls` gives mod and
 * `java cls` gives cls, `node inspect x.js` gives x.js, `busybox applet` gives applet and
 * `busybox sh x.sh` gives x.sh. Inline code (`-c`, `-e`, `-E`, `--eval`, `-p`, `--print`),
 * standard input (`-`, except for shells where `sh - x.sh` runs x.sh; `sh -s`), no script
 * at all, or a script whose basename is empty keep the interpreter's name.
 *
 * The result is cut to out_size - 1 bytes without splitting a well-formed UTF-8 sequence;
 * other bytes (control characters, invalid UTF-8) are kept as they are: escaping them is
 * the exposition's job.
 */
void tool__name(const char *filename, const char *comm, const char *args, size_t args_size,
		char *out, size_t out_size);

/*
 * Whether comm (at most 16 bytes read) names a shell of the interpreter table: sh, bash,
 * rbash, dash, zsh, ash, ksh, ksh93, mksh, pdksh, hush.
 */
bool tool__is_shell(const char *comm);

#define TOOL_COMM_LEN 16 /* the kernel's TASK_COMM_LEN: a comm's bytes, and its key's */

/*
 * The key of comm (at most 16 bytes read) in the set of images whose argv the naming
 * reads: comm without its trailing ASCII digits and dots, zero padded to 16 bytes
 * (`python3.11` gives `python`, `3` gives the empty key). The kernel side builds the same
 * key from an exec's comm (bpf/exec.bpf.c, argv_wanted()).
 */
void tool__argv_key(const char *comm, char key[TOOL_COMM_LEN]);

/*
 * The keys of the images whose argv tool__name() and tool__is_shell() read when neither a
 * script nor an fd was exec'd: every interpreter of the table, and the empty key (a comm of
 * digits only: an fd's image). Writes at most max keys into keys; returns how many there
 * are. For any basename that names an interpreter (python3.11, bash, busybox), the key of
 * its first 15 bytes (the kernel's comm) is among them.
 */
size_t tool__argv_keys(char (*keys)[TOOL_COMM_LEN], size_t max);

/*
 * Replaces, in place, each word of name that looks random by "*": a word is a maximal run of
 * ASCII letters and digits; it looks random when it is all decimal digits and at least 4
 * long, or all hex digits, at least 8 long and holding a digit. `stress-ng-exec-19474-0-
 * 2271060608` becomes `stress-ng-exec-*-0-*`, `memfd:sealed-91173221a7ea` `memfd:sealed-*`;
 * `python3.11`, `sha256sum` and `x86_64` stay. Returns true when name changed.
 */
bool tool__normalize(char *name);

struct tool_table;

/*
 * A table that gives each distinct tool name a small dense id: 1..max_tools in order of
 * first appearance (evicted ids are reused), 0 for "other". max_tools may be 0 (everything is
 * "other") and at most INT_MAX. Memory grows with the names actually seen, not with max_tools.
 * Returns NULL and sets errno (EINVAL, ENOMEM) on failure.
 */
struct tool_table *tool_table__new(unsigned int max_tools);

/* Frees the table and its names; NULL is a no-op. */
void tool_table__free(struct tool_table *t);

/*
 * The id of name, adding it if new; the table keeps its own copy. Returns TOOL_OTHER_ID
 * for the literal name "other" and for a NULL name (neither counted), and for a new name
 * that cannot be tracked because the table already holds max_tools names or memory ran
 * out: each such call counts one overflow. O(1) on average.
 */
unsigned int tool_table__intern(struct tool_table *t, const char *name);

/* The id of name (0 for "other") or -1 when the table does not hold it or name is NULL. */
int tool_table__lookup(const struct tool_table *t, const char *name);

/*
 * The name of id ("other" for 0), or NULL when id is not in use (never handed out, or
 * evicted). Valid until the id is evicted or the table freed.
 */
const char *tool_table__name(const struct tool_table *t, unsigned int id);

/* Bound of the ids handed out, 0 ("other") included: ids are 0..count-1, some may be free. */
unsigned int tool_table__count(const struct tool_table *t);

/*
 * Forgets the name of id: it counts no more against max_tools, and a later intern of any
 * name may reuse id (evicted ids first). 0 on success, -ENOENT for "other" or an id not in
 * use, -ENOMEM (nothing changed).
 */
int tool_table__evict(struct tool_table *t, unsigned int id);

/* Number of successful evictions. */
uint64_t tool_table__evictions(const struct tool_table *t);

/* Number of names held (ids in use besides "other"). */
unsigned int tool_table__live(const struct tool_table *t);

/* Number of intern calls that returned "other" for a name that could not be tracked. */
uint64_t tool_table__overflows(const struct tool_table *t);

#endif /* TOOLWATCH_TOOLS_H */
