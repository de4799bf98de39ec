/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Map helpers shared by toolwatch's BPF programs (libbpf-tools' maps.bpf.h). Maps are
 * passed by address, as to bpf_map_lookup_elem(). Include after vmlinux.h.
 */
#ifndef MAPS_BPF_H
#define MAPS_BPF_H

#include <bpf/bpf_helpers.h>
#include "bits.bpf.h"
#include "toolwatch.h"

#define EEXIST 17 /* an update with BPF_NOEXIST found the key present */

/* Adds one to slot key of a per-CPU array of __u64 (this CPU's slot: no atomics needed). */
static __always_inline void map_percpu_inc(void *map, __u32 key)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		*v += 1;
}

/* Adds v (ns) to a log2 histogram; the last slot also takes everything larger. */
static __always_inline void log2_hist_add(struct tw_log2_hist *h, __u64 v)
{
	__u32 slot = log2_u64(v);

	if (slot >= TW_LOG2_SLOTS)
		slot = TW_LOG2_SLOTS - 1;
	h->slots[slot]++;
	h->count++;
	h->sum_ns += v;
}

#endif /* MAPS_BPF_H */
