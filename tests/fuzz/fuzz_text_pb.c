// SPDX-License-Identifier: GPL-2.0
/*
 * The text-to-protobuf converter (exposition__text_to_protobuf): any bytes as exposition
 * text give a stream of length-delimited messages that each decode as a MetricFamily
 * (protobuf-c's own unpacker), never a crash.
 */
#include <string.h>

#include "exporter/metrics.pb-c.h"
#include "exposition.h"
#include "fuzz.h"
#include "lib/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = {0};
	size_t off = 0;

	exposition__text_to_protobuf((const char *)data, size, NULL, &out);
	if (out.oom)
		goto done;
	while (off < out.len) {
		const uint8_t *b = (const uint8_t *)out.buf;
		Io__Prometheus__Client__MetricFamily *mf;
		uint64_t len = 0;
		unsigned int shift = 0;

		do {
			FUZZ_CHECK(off < out.len && shift < 64);
			len |= (uint64_t)(b[off] & 0x7f) << shift;
			shift += 7;
		} while (b[off++] & 0x80);
		FUZZ_CHECK(len <= out.len - off);
		mf = io__prometheus__client__metric_family__unpack(NULL, len, b + off);
		FUZZ_CHECK(mf);
		FUZZ_CHECK(mf->name && mf->n_metric > 0);
		io__prometheus__client__metric_family__free_unpacked(mf, NULL);
		off += len;
	}
done:
	strbuf__free(&out);
	return 0;
}
