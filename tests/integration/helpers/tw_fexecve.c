// SPDX-License-Identifier: GPL-2.0
/*
 * Test workload: tw_fexecve [--memfd] PATH ARGV0 [ARGS...]: runs PATH with argv ARGV0 ARGS
 * through fexecve(3) (execveat(fd, "", AT_EMPTY_PATH)): on an fd of PATH itself, or with
 * --memfd on a sealed memfd holding a copy of it, as container runtimes do.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static int memfd_copy(const char *path)
{
	struct stat st;
	int in = open(path, O_RDONLY | O_CLOEXEC), fd;
	off_t off = 0;

	if (in < 0 || fstat(in, &st))
		return -1;
	fd = memfd_create("sealed-tw", MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	while (off < st.st_size) {
		if (sendfile(fd, in, &off, (size_t)(st.st_size - off)) <= 0)
			return -1;
	}
	close(in);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	int memfd = argc > 1 && !strcmp(argv[1], "--memfd"), fd;

	if (argc < 3 + memfd) {
		fprintf(stderr, "usage: tw_fexecve [--memfd] PATH ARGV0 [ARGS...]\n");
		return 2;
	}
	fd = memfd ? memfd_copy(argv[1 + memfd]) : open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror("tw_fexecve: open");
		return 1;
	}
	fexecve(fd, argv + 2 + memfd, environ);
	perror("tw_fexecve: fexecve");
	return 1;
}
