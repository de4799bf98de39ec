// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the --web.config.file parser (seeds in tests/fuzz/corpus/webconfig/):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iuser -Iexporter \
 *     tests/fuzz/fuzz_webconfig.c exporter/webconfig.c user/strbuf.c -lyaml -lz -o fuzz_webconfig
 *   ./fuzz_webconfig -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "webconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct webconfig c;
	char why[512];
	char prio[128];

	if (!webconfig__parse(&c, "/etc/toolwatch/web.yml", (const char *)data, size, why,
			      sizeof(why))) {
		webconfig__tls_priorities(&c, prio, sizeof(prio));
		webconfig__user_hash(&c, "prometheus");
	} else if (strchr(why, '\n')) {
		__builtin_trap(); /* an error is one line */
	}
	return 0;
}
