/*
 * auditcfg.c: what a CI pipeline accepts from an audit: ignored rules, level overrides,
 * allowed set-id paths (a config file, JSON or a documented YAML subset: docs/audit-config.md)
 * and a baseline of earlier findings (an audit JSON or SARIF report), applied to an audit by
 * nr_audit_apply(). Also the stable fingerprint of a finding.
 */
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>

#include "internal.h"
#include "buf.h"
#include "audit_internal.h"
#include "image_internal.h"

#define CFG_MAX (1u << 20)          /* a config or baseline text: 1 MiB / 64 MiB */
#define BASELINE_MAX (64u << 20)

struct nr_audit_config {
	char **ignore;                  /* rule ids */
	size_t nignore, aignore;
	struct { const char *id; int level; } *levels;
	size_t nlevels, alevels;
	char **setid;                   /* fnmatch patterns, relative ("usr/bin/su") */
	size_t nsetid, asetid;
	char **baseline;                /* fingerprints */
	size_t nbaseline, abaseline;
};

/* ---- fingerprints ---------------------------------------------------------------------------- */

int nr__audit_fingerprint(char out[NR_FINGERPRINT_SIZE], const char *id, const char *platform,
	const char *location, size_t occurrence)
{
	nr__buf b = NR__BUF_INIT;
	char d[NR_DIGEST_SIZE];
	int error;

	/* Rule, platform and place in the image: no digest, so a rebuild keeps it. */
	nr__buf_printf(&b, "nonroot/v1\n%s\n%s\n%s\n%zu", id ? id : "", platform ? platform : "",
		location ? location : "", occurrence);
	if (b.oom) {
		nr__buf_dispose(&b);
		return NR_ENOMEM;
	}
	error = nr__digest_of(b.ptr, b.size, d, NULL);
	nr__buf_dispose(&b);
	if (error < 0)
		return error;
	memcpy(out, d + 7, 32);   /* 128 bits are plenty to tell findings apart */
	out[32] = '\0';
	return 0;
}

/* ---- the config object ----------------------------------------------------------------------- */

int nr_audit_config_new(nr_audit_config **out, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	if ((*out = nr__calloc(1, sizeof(**out))) == NULL)
		return nr__error_oom(err);
	return 0;
}

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void nr_audit_config_free(nr_audit_config *cfg)
{
	if (cfg == NULL)
		return;
	free_list(cfg->ignore, cfg->nignore);
	free_list(cfg->setid, cfg->nsetid);
	free_list(cfg->baseline, cfg->nbaseline);
	free(cfg->levels);
	free(cfg);
}

static int push(char ***v, size_t *n, size_t *alloc, const char *s, size_t len, nr_error *err)
{
	char *copy;

	if (nr__array_grow((void **)v, alloc, *n + 1, sizeof(**v)) < 0 ||
	    (copy = nr__strndup(s, len)) == NULL)
		return nr__error_oom(err);
	(*v)[(*n)++] = copy;
	return 0;
}

static const nr_audit_rule *rule_of(const char *id, size_t len, const char *source,
	nr_error *err)
{
	char buf[16];

	if (len == 0 || len >= sizeof(buf) || nr__has_nul(id, len))
		goto bad;
	memcpy(buf, id, len);
	buf[len] = '\0';
	if (nr_audit_rule_get(buf))
		return nr_audit_rule_get(buf);
bad:
	nr__error_set(err, NR_EINVALID, source, 0, 0, "unknown rule '%.*s' (the rules are "
		"NR001..NR%03zu: nonroot audit --help)", (int)(len > 40 ? 40 : len), id,
		nr_audit_rule_count());
	return NULL;
}

int nr_audit_config_ignore(nr_audit_config *cfg, const char *ids, nr_error *err)
{
	const char *p, *end;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(cfg, err);
	NR_ASSERT_ARG(ids, err);
	p = ids;
	end = ids + strlen(ids);
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
		const nr_audit_rule *r;
		if ((r = rule_of(p, n, "ignore", err)) == NULL)
			return NR_EINVALID;
		if ((error = push(&cfg->ignore, &cfg->nignore, &cfg->aignore, r->id, strlen(r->id),
		    err)) < 0)
			return error;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

int nr_audit_config_set_level(nr_audit_config *cfg, const char *id, nr_level level,
	nr_error *err)
{
	const nr_audit_rule *r;
	size_t i;

	nr__error_reset(err);
	NR_ASSERT_ARG(cfg, err);
	NR_ASSERT_ARG(id, err);
	if ((r = rule_of(id, strlen(id), "levels", err)) == NULL)
		return NR_EINVALID;
	if (level < NR_LEVEL_NONE || level > NR_LEVEL_ERROR)
		return nr__error_set(err, NR_EINVALID, "levels", 0, 0, "%s: level %d is not "
			"none, note, warning or error", r->id, level);
	for (i = 0; i < cfg->nlevels; i++) {
		if (cfg->levels[i].id == r->id) {
			cfg->levels[i].level = level;
			return 0;
		}
	}
	if (nr__array_grow((void **)&cfg->levels, &cfg->alevels, cfg->nlevels + 1,
	    sizeof(*cfg->levels)) < 0)
		return nr__error_oom(err);
	cfg->levels[cfg->nlevels].id = r->id;   /* static */
	cfg->levels[cfg->nlevels++].level = level;
	return 0;
}

int nr_audit_config_allow_setid(nr_audit_config *cfg, const char *pattern, nr_error *err)
{
	size_t n;

	nr__error_reset(err);
	NR_ASSERT_ARG(cfg, err);
	NR_ASSERT_ARG(pattern, err);
	while (*pattern == '/')
		pattern++;   /* "/usr/bin/su" and "usr/bin/su" are the same path in the image */
	n = strlen(pattern);
	if (n == 0 || n > 4096)
		return nr__error_set(err, NR_EINVALID, "allow-setid", 0, 0,
			"a set-id path must be a path in the image (\"/usr/bin/su\", \"usr/lib/*\")");
	return push(&cfg->setid, &cfg->nsetid, &cfg->asetid, pattern, n, err);
}

static int parse_level(const char *s, int *level)
{
	static const char *const names[] = { "none", "note", "warning", "error" };
	int k;

	for (k = 0; k < 4; k++) {
		if (!strcmp(s, names[k])) {
			*level = k;
			return 0;
		}
	}
	if (!strcmp(s, "off")) {
		*level = NR_LEVEL_NONE;
		return 0;
	}
	return -1;
}

/* ---- the document: JSON, or YAML subset → JSON ------------------------------------------------ */

static int cfg_error(nr_error *err, const char *source, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int cfg_error(nr_error *err, const char *source, size_t line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = nr__error_setv(err, NR_EINVALID, source, line, 0, fmt, ap);
	va_end(ap);
	return rc;
}

typedef struct yline {
	size_t no;           /* 1-based */
	size_t indent;
	const char *s;       /* content after the indentation, comment removed, trimmed */
	size_t n;
} yline;

/* One scalar: 'single' ('' for '), "double" (\" \\ \n \t), or plain (trimmed). */
static json_t *yscalar(const char *s, size_t n, const char *source, size_t line, nr_error *err)
{
	nr__buf b = NR__BUF_INIT;
	json_t *j;
	size_t i;

	if (n > 0 && (s[0] == '\'' || s[0] == '"')) {
		char q = s[0];
		if (n < 2 || s[n - 1] != q) {
			cfg_error(err, source, line, "unterminated quoted string");
			return NULL;
		}
		for (i = 1; i + 1 < n; i++) {
			char c = s[i];
			if (q == '\'' && c == '\'') {
				if (i + 2 >= n || s[i + 1] != '\'') {
					cfg_error(err, source, line, "a ' inside a '...' string must be doubled");
					nr__buf_dispose(&b);
					return NULL;
				}
				i++;
			} else if (q == '"' && c == '\\') {
				char e = i + 2 < n ? s[i + 1] : '\0';
				c = e == 'n' ? '\n' : e == 't' ? '\t' : e == '"' ? '"' : e == '\\' ? '\\' : 0;
				if (c == 0) {
					cfg_error(err, source, line, "unsupported escape in \"...\" (only \\\" "
						"\\\\ \\n \\t)");
					nr__buf_dispose(&b);
					return NULL;
				}
				i++;
			} else if (q == '"' && c == '"') {
				cfg_error(err, source, line, "a \" inside \"...\" must be escaped");
				nr__buf_dispose(&b);
				return NULL;
			}
			nr__buf_putc(&b, c);
		}
	} else {
		if (n > 0 && strchr("[]{}&*!|>%@`", s[0])) {
			cfg_error(err, source, line, "'%c' starts YAML this reader does not support "
				"(see docs/audit-config.md)", s[0]);
			return NULL;
		}
		nr__buf_put(&b, s, n);
	}
	if (b.oom) {
		nr__buf_dispose(&b);
		nr__error_oom(err);
		return NULL;
	}
	j = json_stringn(b.ptr ? b.ptr : "", b.size);
	nr__buf_dispose(&b);
	if (j == NULL)
		cfg_error(err, source, line, "a value is not UTF-8 (or has a NUL)");
	return j;
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

/* A flow sequence "[a, 'b', "c"]" of scalars (no nesting, no commas inside plain items). */
static json_t *yflow(const char *s, size_t n, const char *source, size_t line, nr_error *err)
{
	json_t *arr = json_array();
	const char *p = s + 1, *end = s + n - 1;

	if (arr == NULL) {
		nr__error_oom(err);
		return NULL;
	}
	while (p < end) {
		const char *q = p, *item;
		size_t len;
		json_t *v;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		item = q;
		if (q < end && (*q == '\'' || *q == '"')) {
			char quote = *q++;
			while (q < end && !(*q == quote && (quote == '"' ? q[-1] != '\\' :
			    !(q + 1 < end && q[1] == '\''))))
				q += quote == '\'' && *q == '\'' ? 2 : 1;
			if (q < end)
				q++;
		}
		while (q < end && *q != ',')
			q++;
		len = (size_t)(q - item);
		trim(&item, &len);
		if (len == 0) {
			if (q == end && p == s + 1)
				break;   /* [] */
			cfg_error(err, source, line, "empty item in [...]");
			json_decref(arr);
			return NULL;
		}
		if ((v = yscalar(item, len, source, line, err)) == NULL ||
		    json_array_append_new(arr, v) < 0) {
			json_decref(arr);
			return v ? (nr__error_oom(err), NULL) : NULL;
		}
		p = q < end ? q + 1 : end;
	}
	return arr;
}

/* A value on the same line as its key: scalar or flow sequence. */
static json_t *yinline(const char *s, size_t n, const char *source, size_t line, nr_error *err)
{
	if (n > 0 && s[0] == '[') {
		if (s[n - 1] != ']') {
			cfg_error(err, source, line, "a [...] list must end on its line");
			return NULL;
		}
		return yflow(s, n, source, line, err);
	}
	return yscalar(s, n, source, line, err);
}

/* "key: rest" → key span, rest span; false when the line has no ": " / trailing ':'. */
static bool ykey(const yline *l, const char **k, size_t *kn, const char **v, size_t *vn)
{
	size_t i;

	if (l->n > 0 && (l->s[0] == '\'' || l->s[0] == '"'))
		return false;   /* quoted keys are not supported */
	for (i = 0; i < l->n; i++) {
		if (l->s[i] == ':' && (i + 1 == l->n || l->s[i + 1] == ' ')) {
			*k = l->s;
			*kn = i;
			trim(k, kn);
			*v = l->s + i + 1;
			*vn = l->n - i - 1;
			trim(v, vn);
			return *kn > 0;
		}
	}
	return false;
}

/* Split into lines: indentation (spaces only), comments and blanks removed. */
static int ylines(yline **out, size_t *nout, const char *text, size_t len, const char *source,
	nr_error *err)
{
	yline *v = NULL;
	size_t n = 0, alloc = 0, pos = 0, no = 0;

	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t ln = nl ? (size_t)(nl - s) : len - pos, ind = 0, i;
		bool quote1 = false, quote2 = false;

		pos += ln + (nl ? 1 : 0);
		no++;
		while (ind < ln && s[ind] == ' ')
			ind++;
		if (ind < ln && s[ind] == '\t') {
			free(v);
			return cfg_error(err, source, no, "a tab in the indentation (YAML allows only "
				"spaces)");
		}
		/* a comment: '#' at the start or after a space, outside quotes */
		for (i = ind; i < ln; i++) {
			if (s[i] == '\'' && !quote2)
				quote1 = !quote1;
			else if (s[i] == '"' && !quote1 && (i == ind || s[i - 1] != '\\'))
				quote2 = !quote2;
			else if (s[i] == '#' && !quote1 && !quote2 && (i == ind || s[i - 1] == ' ' ||
			    s[i - 1] == '\t'))
				break;
		}
		ln = i;
		{
			const char *c = s + ind;
			size_t cn = ln - ind;
			trim(&c, &cn);
			if (cn == 0 || (no == 1 && cn == 3 && !memcmp(c, "---", 3)))
				continue;
			if (nr__array_grow((void **)&v, &alloc, n + 1, sizeof(*v)) < 0) {
				free(v);
				return nr__error_oom(err);
			}
			v[n].no = no;
			v[n].indent = ind;
			v[n].s = c;
			v[n].n = cn;
			n++;
		}
	}
	*out = v;
	*nout = n;
	return 0;
}

/* One line of a block: "- item" appended to the array @p val, or "KEY: value" set in the
 * object @p val. */
static int yblock_line(json_t *val, bool seq, const yline *l, const char *source,
	nr_error *err)
{
	const char *mk, *mv;
	size_t mkn, mvn;
	char mkey[64];
	json_t *item;

	if (seq) {
		const char *s = l->s + 1;
		size_t sn = l->n - 1;
		if (l->s[0] != '-' || (l->n > 1 && l->s[1] != ' '))
			return cfg_error(err, source, l->no, "expected '- item'");
		trim(&s, &sn);
		item = yscalar(s, sn, source, l->no, err);
		if (item == NULL || json_array_append_new(val, item) < 0)
			return item ? nr__error_oom(err) : NR_EINVALID;
		return 0;
	}
	if (!ykey(l, &mk, &mkn, &mv, &mvn) || mvn == 0 || mkn >= sizeof(mkey))
		return cfg_error(err, source, l->no, "expected 'KEY: value'");
	memcpy(mkey, mk, mkn);
	mkey[mkn] = '\0';
	if (json_object_get(val, mkey))
		return cfg_error(err, source, l->no, "'%s' is given twice", mkey);
	item = yscalar(mv, mvn, source, l->no, err);
	if (item == NULL || json_object_set_new(val, mkey, item) < 0)
		return item ? nr__error_oom(err) : NR_EINVALID;
	return 0;
}

/* The block under a key: lines l[*i]... indented alike; a sequence when the first is "- ".
 * *i ends at the first line that is not indented. */
static int yblock(json_t **out, const yline *l, size_t n, size_t *i, const char *source,
	nr_error *err)
{
	size_t ind = l[*i].indent, first = *i;
	bool seq = l[first].n >= 1 && l[first].s[0] == '-' &&
		(l[first].n == 1 || l[first].s[1] == ' ');
	json_t *val = seq ? json_array() : json_object();
	int error;

	*out = NULL;
	if (val == NULL)
		return nr__error_oom(err);
	for (; *i < n && l[*i].indent > 0; (*i)++) {
		if (l[*i].indent != ind)
			error = cfg_error(err, source, l[*i].no, "inconsistent indentation "
				"(nested blocks are not supported)");
		else
			error = yblock_line(val, seq, &l[*i], source, err);
		if (error < 0) {
			json_decref(val);
			return error;
		}
	}
	*out = val;
	return 0;
}

/*
 * The YAML subset (docs/audit-config.md): a top-level mapping whose values are a scalar, a
 * flow sequence "[a, b]", a block sequence ("- item" lines) or a block mapping of scalars
 * ("KEY: value" lines), indented more than the key.
 */
static int yaml_to_json(json_t **out, const char *text, size_t len, const char *source,
	nr_error *err)
{
	yline *l = NULL;
	size_t n = 0, i = 0;
	json_t *root = NULL;
	int error;

	*out = NULL;
	if ((error = ylines(&l, &n, text, len, source, err)) < 0)
		return error;
	if ((root = json_object()) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	while (i < n) {
		const char *k, *v;
		size_t kn, vn;
		json_t *val = NULL;
		char key[64];

		if (l[i].indent != 0 || !ykey(&l[i], &k, &kn, &v, &vn)) {
			error = cfg_error(err, source, l[i].no, l[i].indent != 0 ? "unexpected "
				"indentation" : "expected 'key: value' at the top level");
			goto done;
		}
		if (kn >= sizeof(key)) {
			error = cfg_error(err, source, l[i].no, "key too long");
			goto done;
		}
		memcpy(key, k, kn);
		key[kn] = '\0';
		if (json_object_get(root, key)) {
			error = cfg_error(err, source, l[i].no, "'%s' is given twice", key);
			goto done;
		}
		if (vn > 0) {
			if ((val = yinline(v, vn, source, l[i].no, err)) == NULL) {
				error = NR_EINVALID;
				goto done;
			}
			i++;
		} else if (i + 1 < n && l[i + 1].indent > 0) {
			i++;
			if ((error = yblock(&val, l, n, &i, source, err)) < 0)
				goto done;
		} else {
			val = json_null();
			i++;
		}
		if (json_object_set_new(root, key, val) < 0) {
			error = nr__error_oom(err);
			goto done;
		}
	}
	*out = root;
	root = NULL;
	error = 0;
done:
	json_decref(root);
	free(l);
	return error;
}

/* An array of strings (or one string), for "ignore" and "allow-setid". */
static int each_string(const json_t *v, const char *field, const char *source,
	int (*fn)(nr_audit_config *, const char *, nr_error *), nr_audit_config *cfg, nr_error *err)
{
	size_t i;
	int error;

	if (json_is_string(v))
		return fn(cfg, json_string_value(v), err);
	if (!json_is_array(v) && !json_is_null(v))
		return cfg_error(err, source, 0, "%s: expected a list of strings", field);
	for (i = 0; i < json_array_size(v); i++) {
		const json_t *x = json_array_get(v, i);
		if (!json_is_string(x))
			return cfg_error(err, source, 0, "%s[%zu]: expected a string", field, i);
		if ((error = fn(cfg, json_string_value(x), err)) < 0)
			return error;
	}
	return 0;
}

int nr_audit_config_load(nr_audit_config *cfg, const char *text, size_t len,
	const char *source, nr_error *err)
{
	json_t *doc = NULL, *v;
	json_error_t jerr;
	const char *key, *src = source ? source : "config";
	size_t i = 0;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(cfg, err);
	NR_ASSERT_ARG(text, err);
	if (len > CFG_MAX)
		return nr__error_set(err, NR_ETOOBIG, src, 0, 0, "the config is larger than 1 MiB");
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
		i++;
	if (i < len && text[i] == '{') {
		doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		if (doc == NULL)
			return nr__error_set(err, NR_EINVALID, src, (size_t)jerr.line,
				(size_t)jerr.column, "%s", jerr.text);
	} else if ((error = yaml_to_json(&doc, text, len, src, err)) < 0) {
		return error;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		return nr__error_set(err, NR_EINVALID, src, 0, 0, "the config must be a mapping");
	}
	json_object_foreach(doc, key, v) {
		if (!strcmp(key, "ignore")) {
			error = each_string(v, key, src, nr_audit_config_ignore, cfg, err);
		} else if (!strcmp(key, "allow-setid")) {
			error = each_string(v, key, src, nr_audit_config_allow_setid, cfg, err);
		} else if (!strcmp(key, "levels")) {
			const char *id;
			json_t *lv;
			int level;
			error = 0;
			if (!json_is_object(v) && !json_is_null(v))
				error = cfg_error(err, src, 0, "levels: expected a mapping of rule ids to "
					"levels (NR011: warning)");
			json_object_foreach(v, id, lv) {
				if (error < 0)
					break;
				if (!json_is_string(lv) || parse_level(json_string_value(lv), &level) < 0)
					error = cfg_error(err, src, 0, "levels.%s: expected error, warning, note "
						"or none", id);
				else
					error = nr_audit_config_set_level(cfg, id, level, err);
			}
		} else {
			error = cfg_error(err, src, 0, "unknown key '%s' (expected ignore, levels or "
				"allow-setid)", key);
		}
		if (error < 0) {
			json_decref(doc);
			return error;
		}
	}
	json_decref(doc);
	return 0;
}

/* ---- baselines ------------------------------------------------------------------------------- */

/* The occurrence number (0 for the first) of (id, platform, location) among the findings
 * counted so far in *map (a jansson object used as a hash map, created on first use). */
int nr__occurrence(json_t **map, const char *id, const char *platform, const char *location,
	size_t *out)
{
	nr__buf k = NR__BUF_INIT;
	json_t *v;
	json_int_t n = 0;
	int error = 0;

	if (*map == NULL && (*map = json_object()) == NULL)
		return NR_ENOMEM;
	nr__buf_printf(&k, "%s\n%s\n%s", id ? id : "", platform ? platform : "",
		location ? location : "");
	if (k.oom)
		return NR_ENOMEM;
	if ((v = json_object_get(*map, k.ptr)) != NULL)
		n = json_integer_value(v) + 1;
	if (json_object_set_new_nocheck(*map, k.ptr, json_integer(n)) < 0)
		error = NR_ENOMEM;
	nr__buf_dispose(&k);
	*out = (size_t)n;
	return error;
}

typedef json_t *seen;

static int add_fp(nr_audit_config *cfg, seen *s, const char *fp, const char *id,
	const char *platform, const char *location, nr_error *err)
{
	char buf[NR_FINGERPRINT_SIZE];
	size_t occ;

	if (fp)
		return push(&cfg->baseline, &cfg->nbaseline, &cfg->abaseline, fp, strlen(fp), err);
	if (!id)
		return 0;
	if (nr__occurrence(s, id, platform ? platform : "", location ? location : "", &occ) < 0 ||
	    nr__audit_fingerprint(buf, id, platform, location, occ) < 0)
		return nr__error_oom(err);
	return push(&cfg->baseline, &cfg->nbaseline, &cfg->abaseline, buf, strlen(buf), err);
}

static int add_platforms(nr_audit_config *cfg, seen *s, const json_t *plats, nr_error *err)
{
	size_t i, k;
	int error = 0;

	for (i = 0; i < json_array_size(plats) && error == 0; i++) {
		const json_t *p = json_array_get(plats, i), *fs = json_object_get(p, "findings");
		const char *platform = json_string_value(json_object_get(p, "platform"));
		for (k = 0; k < json_array_size(fs) && error == 0; k++) {
			const json_t *f = json_array_get(fs, k);
			error = add_fp(cfg, s, json_string_value(json_object_get(f, "fingerprint")),
				json_string_value(json_object_get(f, "id")), platform,
				json_string_value(json_object_get(f, "location")), err);
		}
	}
	return error;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int nr_audit_config_load_baseline(nr_audit_config *cfg, const char *text, size_t len,
	const char *source, nr_error *err)
{
	const char *src = source ? source : "baseline";
	json_error_t jerr;
	json_t *doc, *runs, *plats, *images;
	seen s = NULL;
	size_t i, k, before;
	int error = 0;

	nr__error_reset(err);
	NR_ASSERT_ARG(cfg, err);
	NR_ASSERT_ARG(text, err);
	if (len > BASELINE_MAX)
		return nr__error_set(err, NR_ETOOBIG, src, 0, 0, "the baseline is larger than 64 MiB");
	before = cfg->nbaseline;
	if ((doc = json_loadb(text, len, 0, &jerr)) == NULL)
		return nr__error_set(err, NR_EINVALID, src, (size_t)jerr.line, (size_t)jerr.column,
			"not a nonroot audit JSON or SARIF report: %s", jerr.text);
	runs = json_object_get(doc, "runs");
	plats = json_object_get(doc, "platforms");
	images = json_object_get(doc, "images");
	if (json_is_array(runs)) {
		/* SARIF: partialFingerprints, else rule + platform + logical location. */
		for (i = 0; i < json_array_size(runs) && error == 0; i++) {
			const json_t *res = json_object_get(json_array_get(runs, i), "results");
			for (k = 0; k < json_array_size(res) && error == 0; k++) {
				const json_t *r = json_array_get(res, k);
				const json_t *loc = json_array_get(json_object_get(r, "locations"), 0);
				const json_t *ll = json_array_get(json_object_get(loc, "logicalLocations"), 0);
				error = add_fp(cfg, &s, json_string_value(json_object_get(json_object_get(r,
					"partialFingerprints"), NR_FINGERPRINT_KEY)),
					json_string_value(json_object_get(r, "ruleId")),
					json_string_value(json_object_get(json_object_get(r, "properties"),
					"platform")), json_string_value(json_object_get(ll, "name")), err);
			}
		}
	} else if (json_is_array(plats)) {
		error = add_platforms(cfg, &s, plats, err);
	} else if (json_is_array(images)) {
		/* a fleet's document: {"images":[{"image","exit","report":{"platforms":...}}]} */
		for (i = 0; i < json_array_size(images) && error == 0; i++) {
			json_decref(s);
			s = NULL;
			error = add_platforms(cfg, &s, json_object_get(json_object_get(
				json_array_get(images, i), "report"), "platforms"), err);
		}
	} else {
		error = nr__error_set(err, NR_EINVALID, src, 0, 0, "not a nonroot audit JSON (no "
			"\"platforms\" or \"images\") or SARIF (no \"runs\") report");
	}
	json_decref(s);
	json_decref(doc);
	if (error < 0) {
		for (i = before; i < cfg->nbaseline; i++)
			free(cfg->baseline[i]);
		cfg->nbaseline = before;
		return error;
	}
	/* sorted: each finding is looked up by binary search (40k findings against a baseline
	 * of 40k compared each with each before) */
	if (cfg->nbaseline > 1)   /* qsort's base may not be NULL, even for 0 elements */
		qsort(cfg->baseline, cfg->nbaseline, sizeof(*cfg->baseline), cmp_str);
	return 0;
}

static bool baseline_has(const nr_audit_config *cfg, const char *fp)
{
	return cfg->nbaseline > 0 && bsearch(&fp, cfg->baseline, cfg->nbaseline,
		sizeof(*cfg->baseline), cmp_str) != NULL;
}

/* ---- applying -------------------------------------------------------------------------------- */

static bool listed(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool setid_allowed(const nr_audit_config *cfg, const char *path)
{
	size_t i;

	while (*path == '/')
		path++;
	for (i = 0; i < cfg->nsetid; i++)
		if (fnmatch(cfg->setid[i], path, FNM_PATHNAME) == 0)
			return true;
	return false;
}

bool nr__audit_config_keeps(const nr_audit_config *cfg, const nr_finding *f, int *level,
	int *in_baseline)
{
	size_t i;

	*level = (int)f->level;
	*in_baseline = 0;
	if (cfg == NULL)
		return true;
	if (listed(cfg->ignore, cfg->nignore, f->id))
		return false;
	/* allow-setid accepts the privileged files at those paths: set-id bits (NR008) and
	 * file capabilities (NR015) alike (ping is one or the other, depending on the distro) */
	if ((!strcmp(f->id, "NR008") || !strcmp(f->id, "NR015")) &&
	    setid_allowed(cfg, f->location))
		return false;
	for (i = 0; i < cfg->nlevels; i++)
		if (!strcmp(cfg->levels[i].id, f->id))
			*level = cfg->levels[i].level;
	if (*level == NR_LEVEL_NONE)
		return false;
	*in_baseline = f->fingerprint && baseline_has(cfg, f->fingerprint);
	return true;
}
