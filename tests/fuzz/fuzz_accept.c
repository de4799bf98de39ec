// SPDX-License-Identifier: GPL-2.0
/*
 * Accept headers (exposition__negotiate): any bytes give one of the two formats, never a
 * crash; a header that does not name the protobuf media type always gets text.
 */
#include <string.h>

#include "fuzz.h"
#include "negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = malloc(size + 1);
	enum exposition_format f;

	if (!h)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	f = exposition__negotiate(h);
	FUZZ_CHECK(f == EXPOSITION_FORMAT_TEXT || f == EXPOSITION_FORMAT_PROTOBUF);
	if (!strcasestr(h, "application/vnd.google.protobuf"))
		FUZZ_CHECK(f == EXPOSITION_FORMAT_TEXT);
	free(h);
	return 0;
}
