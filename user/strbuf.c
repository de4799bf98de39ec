// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

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
