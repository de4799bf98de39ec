// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <string.h>

#include "lib/json.h"

void json__append_string(struct strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	/* escaped by name: \" \\ \n \r \t \b \f */
	static const char named_bytes[] = "\"\\\n\r\t\b\f", named_letters[] = "\"\\nrtbf";
	const char *named;
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, plain = 0, seq;
	char esc[7];

	strbuf__putc(sb, '"');
	/* bytes [plain, i) need no escaping and are copied in one go */
	while (i < len) {
		const char *replacement = NULL;

		if (u[i] >= 0x80) {
			seq = utf8__seq_len(u + i, len - i);
			if (seq) {
				i += seq;
				continue;
			}
			replacement = "\\ufffd";
		} else if (u[i] >= 0x20 && u[i] < 0x7f && u[i] != '"' && u[i] != '\\') {
			i++;
			continue;
		} else if (u[i] && (named = strchr(named_bytes, u[i]))) {
			esc[0] = '\\';
			esc[1] = named_letters[named - named_bytes];
			esc[2] = '\0';
			replacement = esc;
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 0xf];
			esc[6] = '\0';
			replacement = esc;
		}
		if (i > plain)
			strbuf__append(sb, s + plain, i - plain);
		strbuf__puts(sb, replacement);
		plain = ++i;
	}
	if (i > plain)
		strbuf__append(sb, s + plain, i - plain);
	strbuf__putc(sb, '"');
}

void json__append_string0(struct strbuf *sb, const char *s)
{
	json__append_string(sb, s ? s : "", s ? strlen(s) : 0);
}

void json__append_visible(struct strbuf *sb, const char *s)
{
	struct strbuf visible = {0};

	strbuf__put_visible(&visible, s, strlen(s));
	if (visible.oom)
		sb->oom = true;
	json__append_string(sb, visible.buf ? visible.buf : "", visible.len);
	strbuf__free(&visible);
}

void json_object__begin(struct json_object *o, struct strbuf *sb)
{
	o->sb = sb;
	o->first = true;
	strbuf__putc(sb, '{');
}

void json_object__end(struct json_object *o)
{
	strbuf__putc(o->sb, '}');
}

void json_object__key(struct json_object *o, const char *key)
{
	if (!o->first)
		strbuf__putc(o->sb, ',');
	o->first = false;
	strbuf__putc(o->sb, '"');
	strbuf__puts(o->sb, key);
	strbuf__puts(o->sb, "\":");
}

void json_object__string(struct json_object *o, const char *key, const char *s)
{
	json_object__key(o, key);
	if (s)
		json__append_string0(o->sb, s);
	else
		strbuf__puts(o->sb, "null");
}

void json_object__visible(struct json_object *o, const char *key, const char *s)
{
	json_object__key(o, key);
	if (s)
		json__append_visible(o->sb, s);
	else
		strbuf__puts(o->sb, "null");
}

void json_object__u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object__key(o, key);
	strbuf__appendf(o->sb, "%" PRIu64, v);
}

void json_object__u64_or_null(struct json_object *o, const char *key, bool known, uint64_t v)
{
	if (known) {
		json_object__u64(o, key, v);
		return;
	}
	json_object__key(o, key);
	strbuf__puts(o->sb, "null");
}

void json_object__bool(struct json_object *o, const char *key, bool v)
{
	json_object__key(o, key);
	strbuf__puts(o->sb, v ? "true" : "false");
}
