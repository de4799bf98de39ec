/* SPDX-License-Identifier: GPL-2.0 */
/* The one bounded file reader: config, state, token, /proc and cgroup files. */
#ifndef TOOLWATCH_FILE_H
#define TOOLWATCH_FILE_H

#include <stddef.h>

enum file_flags {
	FILE_REGULAR = 1 << 0,	/* refuse anything but a regular file (-EINVAL) */
	FILE_NOFOLLOW = 1 << 1, /* refuse a symbolic link as the last component (-ELOOP) */
};

/*
 * Reads the whole file at path into a new NUL-terminated buffer *data (free() it) of
 * *len bytes. Opens without blocking on a FIFO or device. A file holding more than max
 * bytes is refused with -EFBIG, before reading when its size is known up front (a
 * regular file) and as soon as the bound is crossed otherwise (/proc, cgroupfs, a file
 * that grows while read). 0 or -errno; *data is NULL on failure.
 */
int file__read(const char *path, size_t max, unsigned int flags, char **data, size_t *len);

#endif /* TOOLWATCH_FILE_H */
