// SPDX-License-Identifier: GPL-2.0
/*
 * The naming of an execution from its filename, comm and argv (tool__name): the input is
 * split at its first two NUL bytes into filename, comm and the argv block. The name is
 * NUL-terminated, bounded, and never empty.
 */
#include <string.h>

#include "fuzz.h"
#include "naming/tools.h"

#define NAME_SIZE 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 2), out[NAME_SIZE + 1];
	const char *filename, *comm, *args;
	size_t used;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = copy[size + 1] = '\0';
	filename = copy;
	comm = filename + strlen(filename) + 1;
	if (comm > copy + size)
		comm = copy + size;
	args = comm + strlen(comm) + 1;
	if (args > copy + size)
		args = copy + size;
	used = (size_t)(args - copy);
	memset(out, 'x', sizeof(out));
	out[NAME_SIZE] = '#';
	tool__name(filename[0] ? filename : NULL, comm, args, size - used, out, NAME_SIZE);
	FUZZ_CHECK(out[NAME_SIZE] == '#');
	FUZZ_CHECK(memchr(out, '\0', NAME_SIZE));
	FUZZ_CHECK(out[0]);
	free(copy);
	return 0;
}
