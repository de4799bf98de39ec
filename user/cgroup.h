/* SPDX-License-Identifier: GPL-2.0 */
/* Resolving cgroup v2 paths to the ids the kernel programs see. Reads /proc and sysfs. */
#ifndef TOOLWATCH_CGROUP_H
#define TOOLWATCH_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Resolves a cgroup given as an absolute path on the cgroup2 file system, or as a path
 * relative to its mount (with or without a leading '/', as /proc/PID/cgroup shows it), to
 * the id bpf_get_current_cgroup_id() reports for its tasks. 0 or -errno, with one line
 * naming --cgroup and the path in err.
 */
int cgroup__resolve(const char *arg, uint64_t *id, char *err, size_t err_size);

#endif /* TOOLWATCH_CGROUP_H */
