// SPDX-License-Identifier: GPL-2.0
/* The one bounded file reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"

#define FILE_FIRST_CHUNK 4096

int file__read(const char *path, size_t max, unsigned int flags, char **data, size_t *len)
{
	int oflags = O_RDONLY | O_CLOEXEC | O_NONBLOCK, fd, err = 0;
	size_t cap, got = 0;
	struct stat st;
	char *buf = NULL;

	*data = NULL;
	*len = 0;
	if (flags & FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	fd = open(path, oflags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto close_fd;
	}
	if ((flags & FILE_REGULAR) && !S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto close_fd;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0 && (unsigned long long)st.st_size > max) {
		err = -EFBIG;
		goto close_fd;
	}
	/* one byte more than announced: a file that grew past its size is noticed at once */
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : FILE_FIRST_CHUNK;
	if (cap > max + 1)
		cap = max + 1;
	for (;;) {
		ssize_t n;

		if (!buf || got == cap) {
			char *bigger;

			if (buf) {
				if (cap > max) {
					err = -EFBIG;
					break;
				}
				cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
			}
			bigger = realloc(buf, cap + 1);
			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			buf = bigger;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (!n)
			break;
		got += (size_t)n;
	}
	if (!err && got > max)
		err = -EFBIG;
close_fd:
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}
