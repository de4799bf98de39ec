/* SPDX-License-Identifier: GPL-2.0 */
/* A growable byte buffer and UTF-8 helpers, pure. */
#ifndef TOOLWATCH_STRBUF_H
#define TOOLWATCH_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Zero-initialise to use. On allocation failure `oom` is set and later appends are no-ops. */
struct strbuf {
	char *buf; /* NUL terminated while len > 0 */
	size_t len;
	size_t cap;
	bool oom;
};

/* Appends len bytes of data. */
void strbuf__append(struct strbuf *sb, const void *data, size_t len);
/* Appends a NUL-terminated string. */
void strbuf__puts(struct strbuf *sb, const char *s);
/* Appends one byte. */
void strbuf__putc(struct strbuf *sb, char c);
/* Appends v in decimal (faster than appendf on hot paths). */
void strbuf__put_u64(struct strbuf *sb, uint64_t v);
/* Appends printf-formatted text. */
void strbuf__appendf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void strbuf__reset(struct strbuf *sb);
/* Releases the memory; the buffer is empty and usable again. */
void strbuf__free(struct strbuf *sb);

/*
 * Length (1-4) of the well-formed UTF-8 sequence at s (n bytes available), or 0 when the
 * bytes there are not one (overlong, surrogate, above U+10FFFF, truncated, stray byte).
 */
size_t utf8__seq_len(const unsigned char *s, size_t n);

#endif /* TOOLWATCH_STRBUF_H */
