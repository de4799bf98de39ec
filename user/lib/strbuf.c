// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"

static bool strbuf__grow(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *buf;

	if (sb->len + extra < sb->cap && !sb->oom && extra < sb->cap)
		return true; /* the common case: it fits */
	if (sb->oom)
		return false;
	if (extra > (size_t)-1 / 2 - sb->len)
		goto fail;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	buf = realloc(sb->buf, cap);
	if (!buf)
		goto fail;
	sb->buf = buf;
	sb->cap = cap;
	return true;
fail:
	sb->oom = true;
	return false;
}

char *strbuf__reserve(struct strbuf *sb, size_t len)
{
	return strbuf__grow(sb, len) ? sb->buf + sb->len : NULL;
}

void strbuf__append(struct strbuf *sb, const void *data, size_t len)
{
	if (!strbuf__grow(sb, len))
		return;
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf__puts(struct strbuf *sb, const char *s)
{
	strbuf__append(sb, s, strlen(s));
}

void strbuf__putc(struct strbuf *sb, char c)
{
	strbuf__append(sb, &c, 1);
}

void strbuf__put_u64(struct strbuf *sb, uint64_t v)
{
	char buf[20];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	strbuf__append(sb, buf + i, sizeof(buf) - i);
}

void strbuf__appendf(struct strbuf *sb, const char *fmt, ...)
{
	size_t room;
	va_list ap;
	int n;

	/* one pass when it fits, which is nearly always */
	if (!strbuf__grow(sb, 64))
		return;
	room = sb->cap - sb->len;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->buf[sb->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		if (!strbuf__grow(sb, (size_t)n)) {
			sb->buf[sb->len] = '\0';
			return;
		}
		va_start(ap, fmt);
		vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	sb->len += (size_t)n;
}

void strbuf__reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void strbuf__free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->oom = false;
}

size_t utf8__seq_len(const unsigned char *s, size_t n)
{
	unsigned int cp;
	size_t len, i;

	if (!n)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	return len;
}

/* Code points that are valid but reorder or break the text around them on a terminal. */
static bool format_hazard(unsigned int cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static unsigned int utf8__decode(const unsigned char *s, size_t len)
{
	static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	unsigned int cp = s[0] & lead_mask[len];

	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	return cp;
}

static size_t put_hex_bytes(const unsigned char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[4 * i] = '\\';
		out[4 * i + 1] = 'x';
		out[4 * i + 2] = hex[s[i] >> 4];
		out[4 * i + 3] = hex[s[i] & 0xf];
	}
	return 4 * n;
}

size_t utf8__visible_token(const unsigned char *s, size_t n, char out[VISIBLE_TOKEN_MAX],
			   size_t *consumed)
{
	size_t seq;

	*consumed = 1;
	if (s[0] >= 0x20 && s[0] < 0x7f && s[0] != '\\') {
		out[0] = (char)s[0];
		return 1;
	}
	if (s[0] == '\\' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') {
		out[0] = '\\';
		out[1] = s[0] == '\\' ? '\\' : s[0] == '\t' ? 't' : s[0] == '\n' ? 'n' : 'r';
		return 2;
	}
	seq = s[0] >= 0x80 ? utf8__seq_len(s, n) : 0;
	if (!seq)
		return put_hex_bytes(s, 1, out);
	*consumed = seq;
	if (format_hazard(utf8__decode(s, seq)))
		return put_hex_bytes(s, seq, out);
	memcpy(out, s, seq);
	return seq;
}

void strbuf__put_visible(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, plain = 0, consumed, n;
	char tok[VISIBLE_TOKEN_MAX];

	/* bytes [plain, i) are their own visible form and are copied in one go */
	while (i < len) {
		n = utf8__visible_token(u + i, len - i, tok, &consumed);
		if (n == consumed && !memcmp(tok, s + i, n)) {
			i += consumed;
			continue;
		}
		strbuf__append(sb, s + plain, i - plain);
		strbuf__append(sb, tok, n);
		i += consumed;
		plain = i;
	}
	strbuf__append(sb, s + plain, i - plain);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool utf8__visible_decode(struct strbuf *out, const char *s, size_t len)
{
	size_t i = 0;
	int hi, lo;

	while (i < len) {
		if (s[i] != '\\') {
			strbuf__putc(out, s[i++]);
			continue;
		}
		if (i + 1 >= len)
			return false;
		switch (s[i + 1]) {
		case '\\':
			strbuf__putc(out, '\\');
			break;
		case 't':
			strbuf__putc(out, '\t');
			break;
		case 'n':
			strbuf__putc(out, '\n');
			break;
		case 'r':
			strbuf__putc(out, '\r');
			break;
		case 'x':
			if (i + 3 >= len)
				return false;
			hi = hex_value(s[i + 2]);
			lo = hex_value(s[i + 3]);
			if (hi < 0 || lo < 0)
				return false;
			strbuf__putc(out, (char)(hi << 4 | lo));
			i += 4;
			continue;
		default:
			return false;
		}
		i += 2;
	}
	return true;
}

void str__one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = '?';
}
