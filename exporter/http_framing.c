// SPDX-License-Identifier: GPL-2.0
/* Request framing checked on the headers, before libmicrohttpd reads a body. */
#include <microhttpd.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http_framing.h"

struct framing {
	unsigned int content_lengths, transfer_encodings;
	const char *content_length, *transfer_encoding;
	bool conflict; /* two different Content-Length values */
};

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct framing *f = cls;

	if (!value)
		value = "";
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		if (f->content_lengths++ && strcmp(f->content_length, value))
			f->conflict = true;
		f->content_length = value;
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		f->transfer_encodings++;
		f->transfer_encoding = value;
	}
	return MHD_YES;
}

unsigned int framing__refusal(struct MHD_Connection *conn, const char *method, const char **why)
{
	struct framing f = {};
	const char *expect;
	bool body;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_header, &f);
	if (f.conflict) {
		*why = "conflicting Content-Length headers\n";
		return MHD_HTTP_BAD_REQUEST;
	}
	if (f.content_lengths && f.transfer_encodings) {
		*why = "Content-Length and Transfer-Encoding together\n";
		return MHD_HTTP_BAD_REQUEST;
	}
	if (f.transfer_encodings > 1 ||
	    (f.transfer_encoding && strcasecmp(f.transfer_encoding, "chunked"))) {
		*why = "transfer coding not implemented\n";
		return MHD_HTTP_NOT_IMPLEMENTED;
	}
	if (f.content_length && (!f.content_length[0] || strspn(f.content_length, "0123456789") !=
							     strlen(f.content_length))) {
		*why = "bad Content-Length\n";
		return MHD_HTTP_BAD_REQUEST;
	}
	body = f.transfer_encodings ||
	       (f.content_length && strspn(f.content_length, "0") != strlen(f.content_length));
	if (!body)
		return 0;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		*why = "method not allowed\n";
		return MHD_HTTP_METHOD_NOT_ALLOWED;
	}
	expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
	if (expect) {
		*why = "a request body is never read\n";
		return MHD_HTTP_EXPECTATION_FAILED;
	}
	*why = "a request body is never read\n";
	return MHD_HTTP_CONTENT_TOO_LARGE;
}
