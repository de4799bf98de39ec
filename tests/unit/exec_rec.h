/* SPDX-License-Identifier: GPL-2.0 */
/* Sized exec records as the kernel writes them, for unit tests of the consumer. */
#ifndef TESTS_EXEC_REC_H
#define TESTS_EXEC_REC_H

#include <stdint.h>
#include <string.h>

#include "events/consumer.h"

/* room for the largest exec record, aligned as a ring-buffer sample is */
union exec_buf {
	struct tw_exec_rec rec;
	char bytes[TW_EXEC_REC_MAX];
};

/* A sized exec record: header, path with its NUL, argv; returns its size. */
static inline size_t make_exec(union exec_buf *b, uint32_t tgid, uint64_t start, const char *path,
			       const char *args, size_t args_size)
{
	size_t fsize = strlen(path) + 1;

	memset(b, 0, sizeof(*b));
	b->rec.type = TW_REC_EXEC;
	b->rec.tgid = tgid;
	b->rec.start_ns = start;
	strncpy(b->rec.comm, "comm", sizeof(b->rec.comm) - 1);
	memcpy(b->rec.data, path, fsize);
	if (args_size)
		memcpy(b->rec.data + fsize, args, args_size);
	b->rec.filename_size = (__u16)fsize;
	b->rec.args_size = (__u16)args_size;
	return sizeof(b->rec) + fsize + args_size;
}

#endif
