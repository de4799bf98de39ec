// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "negotiate.h"

#define PROTO_TYPE "application/vnd.google.protobuf"
#define PROTO_NAME "io.prometheus.client.MetricFamily"

const char *exposition_format__name(enum exposition_format f)
{
	return f == EXPOSITION_FORMAT_PROTOBUF ? "protobuf" : "text";
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* [s, e) trimmed of blanks */
static void trim(const char **s, const char **e)
{
	while (*s < *e && is_space(**s))
		(*s)++;
	while (*e > *s && is_space((*e)[-1]))
		(*e)--;
}

static bool equals(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && !strncasecmp(s, word, n);
}

/* A q-value: 0, 1, or 0.ddd / 1.000 (RFC 9110 qvalue) in thousandths; -1 malformed. */
static int qvalue(const char *s, const char *e)
{
	int q, digits = 0;

	if (s >= e || (*s != '0' && *s != '1'))
		return -1;
	q = (*s - '0') * 1000;
	s++;
	if (s == e)
		return q;
	if (*s++ != '.')
		return -1;
	for (int scale = 100; s < e; s++, scale /= 10) {
		if (*s < '0' || *s > '9' || ++digits > 3)
			return -1;
		q += (*s - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/* One media range [s, e): its kind (0 other, 1 text, 2 protobuf) and q in thousandths. */
static int media_range(const char *s, const char *e, int *q)
{
	const char *semi = memchr(s, ';', (size_t)(e - s));
	const char *type_end = semi ? semi : e, *p;
	bool proto = false, delimited = false, text;
	int kind;

	*q = 1000;
	trim(&s, &type_end);
	text = equals(s, type_end, "text/plain") || equals(s, type_end, "text/*") ||
	       equals(s, type_end, "*/*");
	kind = equals(s, type_end, PROTO_TYPE) ? 2 : text ? 1 : 0;
	for (p = semi; p && p < e;) {
		const char *ps = p + 1, *pe = memchr(ps, ';', (size_t)(e - ps)), *eq;
		const char *ks, *ke, *vs, *ve;

		pe = pe ? pe : e;
		p = pe < e ? pe : NULL;
		eq = memchr(ps, '=', (size_t)(pe - ps));
		if (!eq)
			continue; /* a parameter without a value: ignored */
		ks = ps;
		ke = eq;
		vs = eq + 1;
		ve = pe;
		trim(&ks, &ke);
		trim(&vs, &ve);
		if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
			vs++;
			ve--;
		}
		if (equals(ks, ke, "q")) {
			*q = qvalue(vs, ve);
			if (*q < 0)
				return 0; /* a malformed range counts for nothing */
		} else if (equals(ks, ke, "proto")) {
			proto = (size_t)(ve - vs) == strlen(PROTO_NAME) &&
				!memcmp(vs, PROTO_NAME, strlen(PROTO_NAME));
		} else if (equals(ks, ke, "encoding")) {
			delimited = equals(vs, ve, "delimited");
		}
	}
	if (kind == 2 && !(proto && delimited))
		return 0;
	return kind;
}

enum exposition_format exposition__negotiate(const char *accept)
{
	int best_text = -1, best_proto = -1;
	bool proto_first = false;
	const char *s = accept;

	if (!accept)
		return EXPOSITION_FORMAT_TEXT;
	while (*s) {
		const char *e = s;
		bool quoted = false;
		int q, kind;

		/* a comma inside a quoted parameter value does not end the range */
		while (*e && (quoted || *e != ',')) {
			if (*e == '"')
				quoted = !quoted;
			e++;
		}
		kind = media_range(s, e, &q);
		if (kind == 1 && q > best_text) {
			best_text = q;
		} else if (kind == 2 && q > best_proto) {
			if (best_text < 0 || q > best_text)
				proto_first = true;
			best_proto = q;
		}
		s = *e ? e + 1 : e;
	}
	if (best_proto <= 0)
		return EXPOSITION_FORMAT_TEXT;
	if (best_proto > best_text || (best_proto == best_text && proto_first))
		return EXPOSITION_FORMAT_PROTOBUF;
	return EXPOSITION_FORMAT_TEXT;
}
