/*
 * fuzz.h: small helpers shared by the libFuzzer harnesses (fuzz_*.c).
 * A harness reports a broken property with FUZZ_ASSERT: it prints the reason and aborts, so
 * libFuzzer saves the input as a crash.
 */
#ifndef NR_FUZZ_H
#define NR_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nonroot.h"

/* The libFuzzer entry points (a harness defines the first; the second is optional). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: property broken: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* An error set by a failing call must carry a known code and a terminated, non-empty message. */
static inline void fuzz_check_error(int rc, const nr_error *err)
{
	char text[512];

	if (rc >= 0)
		return;
	FUZZ_ASSERT(err->code == rc, "rc %d but err.code %d", rc, err->code);
	FUZZ_ASSERT(memchr(err->message, '\0', sizeof(err->message)) != NULL, "unterminated");
	FUZZ_ASSERT(memchr(err->source, '\0', sizeof(err->source)) != NULL, "unterminated");
	FUZZ_ASSERT(err->message[0] != '\0', "empty message for code %d", rc);
	FUZZ_ASSERT(strcmp(nr_strerror(rc), "unknown error") != 0, "unknown code %d", rc);
	nr_error_format(err, text, sizeof(text));
}

/* A NUL-terminated copy of the input (the fuzzer's data is not terminated). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
