/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bit arithmetic for BPF programs, loop-free so the verifier sees a fixed cost
 * (libbpf-tools' bits.bpf.h). Include after vmlinux.h.
 */
#ifndef BITS_BPF_H
#define BITS_BPF_H

/* floor(log2(v)) without loops; 0 for v == 0 */
static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32((__u32)v);
}

/* a - b, or 0 when b is larger (counters read at different times) */
static __always_inline __u64 sat_sub(__u64 a, __u64 b)
{
	return a > b ? a - b : 0;
}

#endif /* BITS_BPF_H */
