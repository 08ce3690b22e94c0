/*
 * jsonload.c: JSON from images and bundles, parsed once the same way everywhere (see
 * jsonload.h): duplicate keys and keys that collide case-insensitively, as Go's
 * encoding/json folds them, are refused anywhere in the document.
 */
#include <stdbool.h>
#include <stdio.h>

#include "jsonload.h"
#include "parse.h"

typedef struct fkey {
	const char *key;     /* the key as written (NUL-terminated by jansson) */
	size_t klen;
	char *fold;          /* into the shared fold buffer */
	size_t flen;
} fkey;

/* Go's field-name folding as far as it can make two keys name the same (ASCII) field: ASCII
 * letters to lower case, U+017F (long s) to 's', U+212A (Kelvin sign) to 'k'; every other byte
 * as is. Writes at most len bytes to out; returns the folded length. */
static size_t fold_key(const char *s, size_t len, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z') {
			out[o++] = (char)(c - 'A' + 'a');
			i++;
		} else if (c == 0xC5 && i + 1 < len && (unsigned char)s[i + 1] == 0xBF) {
			out[o++] = 's';
			i += 2;
		} else if (c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x84 &&
			   (unsigned char)s[i + 2] == 0xAA) {
			out[o++] = 'k';
			i += 3;
		} else {
			out[o++] = (char)c;
			i++;
		}
	}
	return o;
}

/* Whether the key [k, k+klen) names the ASCII struct field `field` the way Go's encoding/json
 * matches it when no key is equal: equal under fold_key()'s folding. Written out because
 * jansson looks keys up exactly and nothing in libc folds U+017F and U+212A. */
static bool key_folds_to(const char *k, size_t klen, const char *field)
{
	size_t i = 0;

	for (; *field; field++) {
		unsigned char c, f = (unsigned char)*field;
		if (i >= klen)
			return false;
		c = (unsigned char)k[i];
		if (c >= 'A' && c <= 'Z') {
			c = (unsigned char)(c - 'A' + 'a');
			i++;
		} else if (c == 0xC5 && i + 1 < klen && (unsigned char)k[i + 1] == 0xBF) {
			c = 's';
			i += 2;
		} else if (c == 0xE2 && i + 2 < klen && (unsigned char)k[i + 1] == 0x84 &&
			   (unsigned char)k[i + 2] == 0xAA) {
			c = 'k';
			i += 3;
		} else {
			i++;
		}
		if (f >= 'A' && f <= 'Z')
			f = (unsigned char)(f - 'A' + 'a');
		if (c != f)
			return false;
	}
	return i == klen;
}

json_t *nr__jget(const json_t *obj, const char *field)
{
	json_t *v;
	const char *k;

	if ((v = json_object_get(obj, field)) != NULL || !json_is_object(obj))
		return v;
	json_object_foreach((json_t *)obj, k, v) {
		size_t kl = json_object_iter_key_len(json_object_key_to_iter(k));
		if (key_folds_to(k, kl, field))
			return v;
	}
	return NULL;
}

/* Remove every key other than `field` itself that Go reads as `field`. */
static int drop_variants(json_t *obj, const char *field)
{
	const char *k;
	void *tmp;
	json_t *v;

	json_object_foreach_safe(obj, tmp, k, v) {
		size_t kl = json_object_iter_key_len(json_object_key_to_iter(k));
		if (key_folds_to(k, kl, field) && !(kl == strlen(field) && memcmp(k, field, kl) == 0))
			json_object_deln(obj, k, kl);
	}
	return 0;
}

int nr__jset_new(json_t *obj, const char *field, json_t *value)
{
	if (!json_is_object(obj)) {
		json_decref(value);
		return -1;
	}
	drop_variants(obj, field);
	return json_object_set_new(obj, field, value);
}

int nr__jset(json_t *obj, const char *field, json_t *value)
{
	return nr__jset_new(obj, field, json_incref(value));
}

int nr__jdel(json_t *obj, const char *field)
{
	if (!json_is_object(obj))
		return -1;
	drop_variants(obj, field);
	return json_object_del(obj, field);
}

static int fkey_cmp(const void *a, const void *b)
{
	const fkey *x = a, *y = b;
	size_t n = x->flen < y->flen ? x->flen : y->flen;
	int c = memcmp(x->fold, y->fold, n);

	if (c != 0)
		return c;
	return x->flen < y->flen ? -1 : x->flen > y->flen;
}

static void quote_key(char *out, size_t size, const char *k, size_t klen)
{
	nr__span_quote(out, size, k, klen, 60);
}

typedef struct walk {
	fkey *keys;
	size_t alloc;
	char *fold;
	size_t fold_alloc;
	const char *source;
	nr_error *err;
} walk;

static int check_object(walk *w, const json_t *obj, const char *path);

static int check_value(walk *w, const json_t *v, const char *path, const char *key, size_t klen)
{
	char sub[128];
	size_t i, pl;

	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	pl = strlen(path);
	if (pl > 60)
		pl = 60;    /* the path in messages: its first 60 bytes and the last step */
	memcpy(sub, path, pl);
	if (key) {
		sub[pl] = '.';
		quote_key(sub + pl + 1, sizeof(sub) - pl - 1, key, klen);
	} else {
		memcpy(sub + pl, "[]", 3);
	}
	if (json_is_object(v))
		return check_object(w, v, sub);
	for (i = 0; i < json_array_size(v); i++) {
		int error = check_value(w, json_array_get(v, i), sub, NULL, 0);
		if (error < 0)
			return error;
	}
	return 0;
}

static int check_object(walk *w, const json_t *obj, const char *path)
{
	size_t n = json_object_size(obj), total = 0, i, off;
	const char *k;
	json_t *v;
	int error;

	if (n > 1) {
		if (nr__array_grow((void **)&w->keys, &w->alloc, n, sizeof(*w->keys)) < 0)
			return nr__error_oom(w->err);
		i = 0;
		json_object_foreach((json_t *)obj, k, v) {
			size_t kl = json_object_iter_key_len(json_object_key_to_iter(k));
			w->keys[i].key = k;
			w->keys[i].klen = kl;
			if (NR_ADD_OVERFLOW(&total, total, kl))
				return nr__error_oom(w->err);
			i++;
		}
		if (total > 0 && nr__array_grow((void **)&w->fold, &w->fold_alloc, total, 1) < 0)
			return nr__error_oom(w->err);
		for (i = 0, off = 0; i < n; i++) {
			w->keys[i].fold = w->fold + off;
			w->keys[i].flen = fold_key(w->keys[i].key, w->keys[i].klen, w->fold + off);
			off += w->keys[i].flen;
		}
		qsort(w->keys, n, sizeof(*w->keys), fkey_cmp);
		for (i = 1; i < n; i++) {
			if (fkey_cmp(&w->keys[i - 1], &w->keys[i]) == 0) {
				char a[80], b[80];
				const fkey *x = &w->keys[i - 1], *y = &w->keys[i];
				/* name them in document order is not kept by the sort: in byte order */
				if (x->klen > y->klen || (x->klen == y->klen &&
				    memcmp(x->key, y->key, x->klen) > 0)) {
					const fkey *t = x;
					x = y;
					y = t;
				}
				quote_key(a, sizeof(a), x->key, x->klen);
				quote_key(b, sizeof(b), y->key, y->klen);
				return nr__error_set(w->err, NR_EINVALID, w->source, 0, 0,
					"object %s has keys \"%s\" and \"%s\", which the Go tools "
					"(runc, containerd, skopeo, Docker) read as the same field: refused",
					path[0] ? path : "(top level)", a, b);
			}
		}
	}
	json_object_foreach((json_t *)obj, k, v) {
		size_t kl = json_object_iter_key_len(json_object_key_to_iter(k));
		if ((error = check_value(w, v, path, k, kl)) < 0)
			return error;
	}
	return 0;
}

int nr__json_check_keys(const json_t *root, const char *source, nr_error *err)
{
	walk w;
	int error;

	memset(&w, 0, sizeof(w));
	w.source = source;
	w.err = err;
	error = 0;
	if (json_is_object(root)) {
		error = check_object(&w, root, "");
	} else {
		size_t i;
		for (i = 0; i < json_array_size(root) && error == 0; i++)
			error = check_value(&w, json_array_get(root, i), "", NULL, 0);
	}
	free(w.keys);
	free(w.fold);
	return error;
}

int nr__json_load(json_t **out, const char *text, size_t len, const char *source,
	const char *prefix, nr_error *err)
{
	json_error_t je;
	json_t *root;
	int error;

	*out = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return nr__error_oom(err);
		return nr__error_set(err, NR_EINVALID, source, (size_t)(je.line > 0 ? je.line : 0),
			(size_t)(je.column > 0 ? je.column : 0), "%s%s", prefix ? prefix : "", je.text);
	}
	if ((error = nr__json_check_keys(root, source, err)) < 0) {
		json_decref(root);
		return error;
	}
	*out = root;
	return 0;
}
