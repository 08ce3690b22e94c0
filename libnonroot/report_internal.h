/*
 * report_internal.h: building the JSON report documents (jansson) shared by the report
 * producers (bindings, audit, patch, bundle). Not installed.
 */
#ifndef NR_REPORT_INTERNAL_H
#define NR_REPORT_INTERNAL_H

#include <jansson.h>

#include "nonroot.h"

/* A JSON string of s (NULL → null). Bytes that are not UTF-8 become U+FFFD, so that any
 * environment value or file name can be reported. @return a new reference, NULL on OOM. */
json_t *nr__json_text(const char *s);
/* Like nr__json_text, for s[0..n). */
json_t *nr__json_textn(const char *s, size_t n);
/* The effective bindings as urls --json prints them ({"effective","variables","warnings",
 * "bindings"}). @return a new reference, NULL on OOM. */
json_t *nr__bindings_json(const nr_bindings *b);
/* Serialize compact (keys in insertion order) into a new NUL-terminated string. */
int nr__json_dump(char **out, size_t *len, const json_t *doc, nr_error *err);

#endif
