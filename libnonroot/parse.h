/*
 * parse.h: a length-bounded cursor over text, line splitting and strict number parsing.
 * Nothing here allocates.
 */
#ifndef NR_PARSE_H
#define NR_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nr__cursor {
	const char *buf;
	size_t len;
	size_t pos;
	size_t line;   /* 1-based number of the line that the next nr__cursor_line() returns */
} nr__cursor;

void nr__cursor_init(nr__cursor *c, const char *buf, size_t len);

/*
 * Take the next line. line and linelen are the content without its terminator; eol is the
 * terminator's length (0 at the end of input without a final newline, 1 for "\n"; a "\r"
 * before it stays part of the content so a lossless writer keeps it).
 * @return false at the end of input.
 */
bool nr__cursor_line(nr__cursor *c, const char **line, size_t *linelen, size_t *eol);

/*
 * Split [s, s+len) at `sep` into at most `max` fields (the last field takes the rest,
 * separators included). @return the number of fields found (≥ 1).
 */
size_t nr__split_fields(const char *s, size_t len, char sep, const char **fields,
	size_t *lens, size_t max);

/*
 * Strict unsigned decimal: one or more ASCII digits, nothing else (no sign, no space, no
 * "0x"). @return 0, NR_EINVALID (empty or non-digit) or NR_ERANGE (value > max).
 */
int nr__parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out);
int nr__parse_u32(const char *s, size_t len, uint32_t max, uint32_t *out);

/* Span helpers. */
bool nr__span_eq(const char *s, size_t len, const char *lit);
bool nr__span_has_ctrl(const char *s, size_t len);  /* any C0 byte or DEL */

/* n bytes as 2n lowercase hex digits and a NUL (out has room for 2n + 1). */
void nr__hex(char *out, const unsigned char *in, size_t n);
/* n random bytes (getrandom) as 2n hex digits and a NUL. @return 0, or -1 with errno set. */
int nr__random_hex(char *out, size_t n);
/* [s, s+len) for a one-line message: printable ASCII other than '"' and '\\' as is, every
 * other byte as \xNN, at most `max` input bytes then "..."; always NUL-terminated. */
void nr__span_quote(char *out, size_t size, const char *s, size_t len, size_t max);
#endif
