// SPDX-License-Identifier: GPL-2.0
/* Test workload: tw_disk PATH MIB: writes MIB MiB with O_DIRECT (fsync at the end), reads
 * them back with O_DIRECT, removes the file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 50, chunk = 1 << 20;
	void *buf;
	int fd;

	if (argc < 2 || posix_memalign(&buf, 4096, chunk))
		return 2;
	memset(buf, 'x', chunk);
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0600);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	for (size_t i = 0; i < mib; i++)
		if (write(fd, buf, chunk) != (ssize_t)chunk) {
			perror("write");
			return 1;
		}
	fsync(fd);
	close(fd);
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	for (size_t i = 0; i < mib; i++)
		if (read(fd, buf, chunk) != (ssize_t)chunk) {
			perror("read");
			return 1;
		}
	close(fd);
	unlink(argv[1]);
	return 0;
}
