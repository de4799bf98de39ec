// SPDX-License-Identifier: GPL-2.0
/*
 * The baselines state-file decoder. Random bytes rarely pass the magic and the CRC, so the
 * first input byte picks a mode (bits 0-1): 0 the rest as it is; 1 the rest with a correct
 * CRC-32 appended; 2 a well-formed header (the detector's window and baseline, payload
 * length) and CRC around the rest, to reach the payload decoder. Bit 2: a seasonal
 * detector, bit 3: the header's seasonal flag. A decoded state must serialise and decode
 * again.
 */
#include <string.h>
#include <zlib.h>

#include "anomaly/anomaly.h"
#include "anomaly/baseline_codec.h"
#include "fuzz.h"
#include "lib/strbuf.h"

static void put_u32(struct strbuf *sb, uint32_t v)
{
	unsigned char b[4] = {v, v >> 8, v >> 16, v >> 24};

	strbuf__append(sb, b, sizeof(b));
}

static void put_u64(struct strbuf *sb, uint64_t v)
{
	put_u32(sb, (uint32_t)v);
	put_u32(sb, (uint32_t)(v >> 32));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct anomaly_config cfg;
	struct anomaly_detector *d, *again;
	struct strbuf rec = {0}, out = {0};
	unsigned int mode = size ? (data[0] & 3) % 3 : 0, bits = size ? data[0] : 0;
	int err;

	anomaly_config__init(&cfg);
	cfg.seasonal = bits & 4;
	d = anomaly__new(&cfg);
	if (!d)
		return 0;
	if (size)
		data++, size--;
	if (mode == 2) {
		strbuf__append(&rec, "\x89TWBASE\n", 8);
		put_u32(&rec, 1);
		put_u32(&rec, (bits >> 3) & 1);
		put_u64(&rec, cfg.window_ns);
		put_u64(&rec, cfg.baseline_ns);
		put_u64(&rec, size);
	}
	strbuf__append(&rec, data, size);
	if (mode)
		put_u32(&rec, (uint32_t)crc32(0, (const Bytef *)rec.buf, (uInt)rec.len));
	if (rec.oom)
		goto out;
	err = anomaly__deserialize(d, rec.buf, rec.len);
	FUZZ_CHECK(err <= 0);
	if (!err) {
		FUZZ_CHECK(anomaly__serialize(d, &out) == 0);
		again = anomaly__new(&cfg);
		if (again) {
			FUZZ_CHECK(anomaly__deserialize(again, out.buf, out.len) == 0);
			anomaly__free(again);
		}
	}
out:
	strbuf__free(&rec);
	strbuf__free(&out);
	anomaly__free(d);
	return 0;
}
