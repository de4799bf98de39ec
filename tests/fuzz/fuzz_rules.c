// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the --tools.rules parser and the naming it does (seeds in
 * tests/fuzz/corpus/rules/). The input is a YAML document, optionally followed by a NUL and
 * the argv (NUL-separated words) of an execution that the parsed rules then name.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "naming/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t yaml_size = nul ? (size_t)(nul - text) : size;
	struct rules_process p = {.comm = "fuzzed", .uid = 0};
	struct rules *r = NULL;
	char why[512], name[256];

	if (rules__parse(text, yaml_size, "rules.yml", &r, why, sizeof(why))) {
		FUZZ_CHECK(!strchr(why, '\n')); /* an error is one line */
		return 0;
	}
	if (nul) {
		p.args = nul + 1;
		p.args_size = size - yaml_size - 1;
	}
	if (rules__name(r, &p, name, sizeof(name)))
		FUZZ_CHECK(strlen(name) < sizeof(name)); /* the name is cut to the buffer */
	rules__free(r);
	return 0;
}
