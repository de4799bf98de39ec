/* SPDX-License-Identifier: GPL-2.0 */
/* Resolving cgroup v2 paths to the ids the kernel programs see. Reads /proc and sysfs. */
#ifndef TOOLWATCH_CGROUP_H
#define TOOLWATCH_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Resolves a cgroup given as an absolute path on the cgroup2 file system, or as a path
 * relative to its mount (with or without a leading '/', as /proc/PID/cgroup shows it), to
 * the id bpf_get_current_cgroup_id() reports for its tasks. 0 or -errno, with one line
 * naming --cgroup and the path in err.
 */
int cgroup__resolve(const char *arg, uint64_t *id, char *err, size_t err_size);

#include "identity/identity.h"

/* What the resolver did, for self metrics. */
struct cgroup_resolver_stats {
	uint64_t proc_hits;  /* new ids resolved from /proc/PID/cgroup */
	uint64_t walk_hits;  /* new ids resolved by a walk */
	uint64_t walks;	     /* walks of the cgroup2 tree (an unknown id) */
	uint64_t unresolved; /* lookups that found no path (rate-limited walk, or gone) */
	uint64_t resets;     /* the cache was full and started over */
	uint64_t expired;    /* ids dropped by cgroup_resolver__expire() */
	uint64_t probes;     /* cgroup_resolver__exists() calls */
	uint64_t gone;	     /* ... that found the cgroup gone */
	size_t cached;	     /* ids held */
};

struct cgroup_resolver;

/*
 * A cache of cgroup v2 id -> identity (identity__parse() of its path) of at most
 * max_entries ids, for the cgroup2 file system mounted at mount (NULL: found through
 * /proc/self/mountinfo). NULL + errno ENOENT when no cgroup2 file system is mounted (a
 * v1-only host), another errno on failure.
 */
struct cgroup_resolver *cgroup_resolver__new(const char *mount, size_t max_entries);
/* NULL-safe. */
void cgroup_resolver__free(struct cgroup_resolver *r);
/* The mount point in use. */
const char *cgroup_resolver__mount(const struct cgroup_resolver *r);

/*
 * The identity of the cgroup id, of which tgid is (or was) a process: from the cache,
 * else from /proc/tgid/cgroup when that path has this id (or lies outside the agent's
 * cgroup namespace, "/../...", where it cannot be checked: taken as it is), else by
 * walking the whole tree: at once for an id no walk has looked for yet (a new cgroup whose
 * process has already exited), unless walks would take over a quarter of a CPU (then after
 * a wait of at most 50 ms, or at a later lookup), and at most once per min_walk_interval_ns
 * for an id a walk did not find (now_ns is CLOCK_MONOTONIC). A cgroup already removed
 * (known when it can be opened by id) is not walked for. A walk replaces the cache with
 * every cgroup it found (so removed cgroups leave it). NULL when the id cannot be resolved
 * now (counted; tried again after the interval). The pointer is valid until the next call.
 */
const struct cgroup_identity *cgroup_resolver__lookup(struct cgroup_resolver *r, uint64_t id,
						      uint32_t tgid, uint64_t now_ns,
						      uint64_t min_walk_interval_ns);

/*
 * Forgets the ids not looked up for idle_ns (cgroups of pods that are gone), shrinking the
 * cache to what is left. Returns how many went.
 */
size_t cgroup_resolver__expire(struct cgroup_resolver *r, uint64_t now_ns, uint64_t idle_ns);

/*
 * Whether the cgroup of id still exists: 1 yes, 0 it is gone (removed), -errno when this
 * resolver cannot tell. Opened by id when it can (open_by_handle_at(), CAP_DAC_READ_SEARCH:
 * one system call); else, when the mount shows the whole hierarchy, from a walk at most a
 * second old (one walk answers for every id); else it cannot tell (-EOPNOTSUPP: a mount
 * that shows only the agent's own cgroup namespace). Counted in probes.
 */
int cgroup_resolver__exists(struct cgroup_resolver *r, uint64_t id);
/* Whether cgroup_resolver__exists() can tell (either way above). */
bool cgroup_resolver__can_probe(const struct cgroup_resolver *r);
/* Whether cgroups open by id (tried on the mount's root at creation). */
bool cgroup_resolver__by_handle(const struct cgroup_resolver *r);
/* Whether the mount's root is the hierarchy's root (not a cgroup namespace's). */
bool cgroup_resolver__whole_tree(const struct cgroup_resolver *r);

/* Its counters. */
void cgroup_resolver__stats(const struct cgroup_resolver *r, struct cgroup_resolver_stats *st);

#endif /* TOOLWATCH_CGROUP_H */
