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

/*
 * Room for len more bytes after the content (len not changed: write there, then add what
 * was written to sb->len; keep one byte for the NUL). NULL (and oom) on allocation failure.
 */
char *strbuf__reserve(struct strbuf *sb, size_t len);

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

/* Longest token utf8__visible_token() writes. */
#define VISIBLE_TOKEN_MAX 12

/*
 * The visible form of the character at s[0..n) (n > 0), written to out (not NUL
 * terminated); returns its length and sets *consumed to the input bytes it stands for.
 * The visible form of a byte string is the concatenation of its tokens. It is valid UTF-8,
 * free of control characters, and injective (utf8__visible_decode() inverts it):
 *   `\`                         -> `\\`
 *   TAB, LF, CR                  -> `\t`, `\n`, `\r`
 *   other C0 bytes, DEL          -> `\xNN` (lowercase hex)
 *   bytes not starting a well-formed UTF-8 sequence -> `\xNN`, one per byte
 *   C1 controls (U+0080-U+009F), bidirectional and line/paragraph separators
 *   (U+061C, U+200E, U+200F, U+2028-U+202E, U+2066-U+2069) -> `\xNN` per UTF-8 byte
 *   any other well-formed UTF-8 sequence (U+FFFD included) -> itself
 * A backslash in the output always starts an escape, so no two inputs share a form.
 */
size_t utf8__visible_token(const unsigned char *s, size_t n, char out[VISIBLE_TOKEN_MAX],
			   size_t *consumed);

/* Appends the visible form of len bytes of s (see utf8__visible_token()). */
void strbuf__put_visible(struct strbuf *sb, const char *s, size_t len);

/*
 * Appends to out the bytes whose visible form is s[0..len). Returns false (out holds a
 * prefix) when s has an unknown or truncated escape.
 */
bool utf8__visible_decode(struct strbuf *out, const char *s, size_t len);

/*
 * Makes a NUL-terminated message one line: every control byte (below 0x20, and DEL) in s
 * becomes '?'. For error messages that quote outside input.
 */
void str__one_line(char *s);

#endif /* TOOLWATCH_STRBUF_H */
