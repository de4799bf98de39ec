// SPDX-License-Identifier: GPL-2.0
/*
 * Label values (exposition__escape_label): for any bytes, the output is valid UTF-8 without
 * control characters, its quotes are escaped, and undoing the text format's escapes and then
 * the visible form gives the input back (so distinct names never share a value).
 */
#include <string.h>

#include "exposition.h"
#include "fuzz.h"
#include "lib/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	struct strbuf text = {0}, value = {0}, back = {0};
	const unsigned char *u;
	size_t seq;

	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	size = strlen(name); /* names are C strings */
	exposition__escape_label(&text, name);
	if (text.oom)
		goto out;
	u = (const unsigned char *)text.buf;
	for (size_t i = 0; i < text.len; i += seq) {
		seq = utf8__seq_len(u + i, text.len - i);
		FUZZ_CHECK(seq);
		FUZZ_CHECK(seq > 1 || (u[i] >= 0x20 && u[i] < 0x7f));
		if (u[i] == '\\') { /* the text format's escape: \\ or \" */
			FUZZ_CHECK(i + 1 < text.len && (u[i + 1] == '\\' || u[i + 1] == '"'));
			strbuf__putc(&value, (char)u[i + 1]);
			seq = 2;
			continue;
		}
		FUZZ_CHECK(u[i] != '"');
		strbuf__append(&value, u + i, seq);
	}
	FUZZ_CHECK(utf8__visible_decode(&back, value.buf ? value.buf : "", value.len));
	FUZZ_CHECK(back.len == size);
	FUZZ_CHECK(!size || !memcmp(back.buf, name, size));
out:
	strbuf__free(&text);
	strbuf__free(&value);
	strbuf__free(&back);
	free(name);
	return 0;
}
