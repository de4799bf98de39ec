/* SPDX-License-Identifier: GPL-2.0 */
/* Content negotiation of /metrics on the Accept header (RFC 9110), pure. */
#ifndef TOOLWATCH_NEGOTIATE_H
#define TOOLWATCH_NEGOTIATE_H

enum exposition_format {
	EXPOSITION_FORMAT_TEXT,	    /* text/plain; version=0.0.4 */
	EXPOSITION_FORMAT_PROTOBUF, /* delimited io.prometheus.client.MetricFamily */
	EXPOSITION_FORMAT_MAX,
};

/* "text", "protobuf": the format label of toolwatch_http_responses_total. */
const char *exposition_format__name(enum exposition_format f);

/*
 * The format to answer an Accept header with (NULL: none sent). Protobuf when the header
 * lists application/vnd.google.protobuf with proto=io.prometheus.client.MetricFamily and
 * encoding=delimited at a q-value above 0 and at least that of any text range
 * (text/plain, text/ *, * / *; the first listed wins a tie). Anything else, a malformed
 * or unknown header included, gets the text format: never an error.
 */
enum exposition_format exposition__negotiate(const char *accept);

#endif /* TOOLWATCH_NEGOTIATE_H */
