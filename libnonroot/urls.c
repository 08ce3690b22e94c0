/*
 * urls.c: ASPNETCORE_URLS and HTTP(S)_PORTS as ASP.NET Core reads them: the variables, their
 * precedence and the effective bindings (one URL is parsed in url.c, port maps in portmap.c).
 *
 * The variable precedence follows src/Hosting/Hosting/src/GenericHost/GenericWebHostService.cs
 * (StartAsync); see url.c for the parser and the differences from .NET on purpose.
 */
#include <stdio.h>
#include <strings.h>

#include "internal.h"
#include "buf.h"
#include "urls_internal.h"

/* ---- variables ----------------------------------------------------------------------------- */

enum { RANK_UNPREFIXED = 0, RANK_ASPNETCORE = 1, RANK_DOTNET = 2, NRANKS = 3 };
/* Internal keys: the three public ones, then preferHostingUrls. */
enum { IK_PREFER = 3, NKEYS = 4 };

/* Strip ASPNETCORE_ / DOTNET_ (any case) from [*name, +*len); returns the rank. */
static int strip_prefix(const char **name, size_t *len)
{
	if (*len > 11 && nr__url_ieq(*name, 11, "aspnetcore_")) {
		*name += 11, *len -= 11;
		return RANK_ASPNETCORE;
	}
	if (*len > 7 && nr__url_ieq(*name, 7, "dotnet_")) {
		*name += 7, *len -= 7;
		return RANK_DOTNET;
	}
	return RANK_UNPREFIXED;
}

static int key_of(const char *name, size_t len, int *rank)
{
	*rank = strip_prefix(&name, &len);
	if (nr__url_ieq(name, len, "urls"))
		return NR_URLS_KEY_URLS;
	if (nr__url_ieq(name, len, "http_ports"))
		return NR_URLS_KEY_HTTP_PORTS;
	if (nr__url_ieq(name, len, "https_ports"))
		return NR_URLS_KEY_HTTPS_PORTS;
	if (nr__url_ieq(name, len, "preferhostingurls"))
		return IK_PREFER;
	return NR_URLS_KEY_NONE;
}

/* A configuration path separator in an environment variable name: "__" or ':'. */
static size_t sep_len(const char *s, size_t n)
{
	if (n >= 2 && s[0] == '_' && s[1] == '_')
		return 2;
	return n >= 1 && s[0] == ':' ? 1 : 0;
}

/*
 * Kestrel:Endpoints:NAME[:REST] (after the prefix): ename and elen get NAME, is_url whether REST is "Url".
 */
static bool endpoint_key(const char *k, size_t n, const char **ename, size_t *elen, bool *is_url)
{
	size_t m, i;

	if (n < 7 || !nr__url_ieq(k, 7, "kestrel") || (m = sep_len(k + 7, n - 7)) == 0)
		return false;
	k += 7 + m, n -= 7 + m;
	if (n < 9 || !nr__url_ieq(k, 9, "endpoints") || (m = sep_len(k + 9, n - 9)) == 0)
		return false;
	k += 9 + m, n -= 9 + m;
	for (i = 0; i < n && sep_len(k + i, n - i) == 0; i++)
		;
	if (i == 0)
		return false;
	*ename = k;
	*elen = i;
	m = i < n ? sep_len(k + i, n - i) : 0;
	*is_url = i < n && nr__url_ieq(k + i + m, n - i - m, "url");
	return true;
}

nr_urls_key nr_urls_key_of(const char *name, size_t len)
{
	const char *ename;
	size_t elen;
	bool is_url;
	int rank, key;

	if (name == NULL)
		return NR_URLS_KEY_NONE;
	key = key_of(name, len, &rank);
	if (key >= NR_URLS_KEY_URLS && key <= NR_URLS_KEY_HTTPS_PORTS)
		return (nr_urls_key)key;
	strip_prefix(&name, &len);
	if (endpoint_key(name, len, &ename, &elen, &is_url) && is_url)
		return NR_URLS_KEY_ENDPOINT_URL;
	return NR_URLS_KEY_NONE;
}

int nr_urls_options_init(nr_urls_options *opts, unsigned int version)
{
	static const nr_urls_options defaults = NR_URLS_OPTIONS_INIT;

	if (opts == NULL || version != NR_URLS_OPTIONS_VERSION)
		return NR_EARG;
	*opts = defaults;
	return 0;
}

const char *nr_urls_source_name(nr_urls_source source)
{
	switch (source) {
	case NR_URLS_SOURCE_URLS: return "urls";
	case NR_URLS_SOURCE_PORTS: return "http_ports";
	case NR_URLS_SOURCE_ENDPOINTS: return "kestrel_endpoints";
	default: return "default";
	}
}

typedef struct var {
	const char *name;   /* points into envp */
	size_t nlen;
	const char *val;
	size_t vlen;
} var;

struct nr_bindings {
	nr_urls_source source;
	nr_binding *items;
	size_t count, alloc;
	char **warnings;
	size_t nwarnings, walloc;
	char *names[3];     /* the effective variable of each key, NUL-terminated copies */
	char *values[3];
	char *text;         /* every binding's url, NUL-separated */
	char **epvars;      /* the variables of Kestrel endpoint Urls (bindings point here) */
	size_t nepvars;
};

void nr_bindings_free(nr_bindings *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nwarnings; i++)
		free(b->warnings[i]);
	for (i = 0; i < 3; i++) {
		free(b->names[i]);
		free(b->values[i]);
	}
	for (i = 0; i < b->nepvars; i++)
		free(b->epvars[i]);
	free(b->epvars);
	free(b->warnings);
	free(b->items);
	free(b->text);
	free(b);
}

static int add_warning(nr_bindings *b, nr_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add_warning(nr_bindings *b, nr_error *err, const char *fmt, ...)
{
	va_list ap;
	char *w;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&w, fmt, ap);
	va_end(ap);
	if (n < 0)
		return nr__error_oom(err);
	if (nr__array_grow((void **)&b->warnings, &b->walloc, b->nwarnings + 1,
			sizeof(*b->warnings)) < 0) {
		free(w);
		return nr__error_oom(err);
	}
	b->warnings[b->nwarnings++] = w;
	return 0;
}

/* Remember a binding: its url is at `off` in text (fixed up to a pointer at the end). */
static int add_binding(nr_bindings *b, nr__buf *text, const char *url, size_t len,
	const char *variable, const nr_urls_options *o, nr_error *err)
{
	nr_binding *x;
	size_t off = text->size;
	int error;

	if (nr__array_grow((void **)&b->items, &b->alloc, b->count + 1, sizeof(*b->items)) < 0)
		return nr__error_oom(err);
	x = &b->items[b->count];
	memset(x, 0, sizeof(*x));
	if ((error = nr__url_parse(&x->parsed, url, len, variable, err)) < 0 ||
	    (error = nr__url_validate(&x->parsed, url, len, variable, err)) < 0)
		return error;
	if (nr__buf_put(text, url, len) < 0 || nr__buf_putc(text, '\0') < 0)
		return nr__error_oom(err);
	x->url = (const char *)(uintptr_t)off;   /* an offset until the text is final */
	x->url_len = len;
	x->privileged = nr_url_is_privileged(&x->parsed, o->threshold);
	x->variable = variable;
	b->count++;
	if (x->parsed.flags & NR_URL_PORT_FALLBACK)
		return add_warning(b, err, "%s: port '%.*s' in '%.*s' is not a number: ASP.NET Core 8 "
			"silently binds the default port %d instead (dotnet/aspnetcore#24384)",
			variable ? variable : "default", (int)x->parsed.port_text.len,
			url + x->parsed.port_text.off, (int)len, url, (int)x->parsed.port);
	return 0;
}

/* Unicode White_Space in UTF-8 at s[0..n) (what .NET's string.Trim removes): its length or 0. */
static size_t space_len(const unsigned char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0d)))
		return 1;
	if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (n >= 3 && s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 3;   /* U+1680 */
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
		return 3;   /* U+2000..U+200A, U+2028, U+2029, U+202F */
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
		return 3;   /* U+205F */
	if (n >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3;   /* U+3000 */
	return 0;
}

static size_t space_len_back(const unsigned char *s, size_t n)
{
	size_t k;

	for (k = 1; k <= 3 && k <= n; k++)
		if (space_len(s + n - k, k) == k)
			return k;
	return 0;
}

/* Trim [*s, *s+*n) like string.Trim(). */
void nr__urls_trim(const char **s, size_t *n)
{
	size_t k;

	while (*n > 0 && (k = space_len((const unsigned char *)*s, *n)) > 0)
		*s += k, *n -= k;
	while (*n > 0 && (k = space_len_back((const unsigned char *)*s, *n)) > 0)
		*n -= k;
}

/* The addresses GenericWebHostService hands to Kestrel, before Kestrel parses them. */
typedef struct addr_list {
	nr__buf text;        /* the addresses, NUL-terminated one after the other */
	struct { size_t off, len; const char *variable; } *items;
	size_t count, alloc;
} addr_list;

static int add_addr(addr_list *l, const char *prefix, const char *s, size_t n,
	const char *variable, nr_error *err)
{
	if (nr__array_grow((void **)&l->items, &l->alloc, l->count + 1, sizeof(*l->items)) < 0)
		return nr__error_oom(err);
	l->items[l->count].off = l->text.size;
	nr__buf_puts(&l->text, prefix);
	nr__buf_put(&l->text, s, n);
	l->items[l->count].len = l->text.size - l->items[l->count].off;
	nr__buf_putc(&l->text, '\0');
	l->items[l->count].variable = variable;
	l->count++;
	return l->text.oom ? nr__error_oom(err) : 0;
}

static int expand_ports(addr_list *l, const var *v, const char *prefix, const char *variable,
	nr_error *err)
{
	const char *p = v->val ? v->val : "", *end = p + v->vlen;   /* val NULL: unset */
	int error;

	while (p <= end && v->name) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *e = p;
		size_t n = (semi ? (size_t)(semi - p) : (size_t)(end - p));
		nr__urls_trim(&e, &n);
		if (n > 0 && (error = add_addr(l, prefix, e, n, variable, err)) < 0)
			return error;
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	return 0;
}

/* A Kestrel endpoint from configuration: its name and its Url in each source. */
typedef struct endpoint {
	const char *name;
	size_t nlen;
	var url[NRANKS];
} endpoint;

/* ConfigurationKeyComparer on one path segment: numbers first, numerically; then ignoring case. */
static int endpoint_cmp(const void *pa, const void *pb)
{
	const endpoint *a = pa, *b = pb;
	int32_t x, y;
	size_t t, tl, i;
	bool xi = nr__dotnet_int_parse(a->name, a->nlen, &x, &t, &tl);
	bool yi = nr__dotnet_int_parse(b->name, b->nlen, &y, &t, &tl);

	if (xi && yi)
		return x < y ? -1 : x > y;
	if (xi != yi)
		return xi ? -1 : 1;
	for (i = 0; i < a->nlen && i < b->nlen; i++) {
		int ca = (unsigned char)a->name[i], cb = (unsigned char)b->name[i];
		if (ca >= 'a' && ca <= 'z')
			ca -= 32;
		if (cb >= 'a' && cb <= 'z')
			cb -= 32;
		if (ca != cb)
			return ca - cb;
	}
	return a->nlen < b->nlen ? -1 : a->nlen > b->nlen;
}

/* Record an environment variable under Kestrel:Endpoints (any key makes the endpoint exist). */
static int note_endpoint(endpoint **eps, size_t *n, size_t *alloc, const char *ename,
	size_t elen, bool is_url, int rank, const char *name, size_t nlen, const char *val,
	nr_error *err)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*eps)[i].nlen == elen && strncasecmp((*eps)[i].name, ename, elen) == 0)
			break;
	if (i == *n) {
		if (nr__array_grow((void **)eps, alloc, *n + 1, sizeof(**eps)) < 0)
			return nr__error_oom(err);
		memset(&(*eps)[i], 0, sizeof(**eps));
		(*eps)[i].name = ename;
		(*eps)[i].nlen = elen;
		(*n)++;
	}
	if (is_url) {
		var *v = &(*eps)[i].url[rank];
		v->name = name;
		v->nlen = nlen;
		v->val = val;
		v->vlen = strlen(val);
	}
	return 0;
}

/* WebHostUtilities.ParseBool: "true" (any case) or "1". */
static bool parse_bool(const var *v)
{
	return v->name && (nr__url_ieq(v->val, v->vlen, "true") || (v->vlen == 1 && v->val[0] == '1'));
}

/* Everything nr_bindings_from_env() builds, step by step (one function per step below). */
typedef struct from_env {
	const nr_urls_options *o;
	nr_error *err;
	var cand[NKEYS][NRANKS];   /* each key's value in each source (rank) */
	var win[NKEYS];            /* the value the host uses */
	int order[NRANKS];         /* the sources, highest precedence first */
	nr_bindings *b;
	nr__buf text;               /* the bindings' URLs; offsets until the end */
	addr_list addrs;
	endpoint *eps;
	size_t neps, aeps;
} from_env;

/* Sort the environment into the URL keys and Kestrel:Endpoints entries, by source. */
static int collect_env(from_env *f, const char *const *envp)
{
	size_t i;
	int error;

	for (i = 0; envp && envp[i]; i++) {
		const char *eq = strchr(envp[i], '='), *k2, *ename;
		size_t n2, elen;
		bool is_url;
		int rank, key;
		if (eq == NULL)
			continue;
		key = key_of(envp[i], (size_t)(eq - envp[i]), &rank);
		if (rank == RANK_UNPREFIXED && (f->o->flags & NR_URLS_NO_UNPREFIXED))
			continue;
		if (key != NR_URLS_KEY_NONE) {
			f->cand[key][rank].name = envp[i];
			f->cand[key][rank].nlen = (size_t)(eq - envp[i]);
			f->cand[key][rank].val = eq + 1;
			f->cand[key][rank].vlen = strlen(eq + 1);
			continue;
		}
		k2 = envp[i];
		n2 = (size_t)(eq - envp[i]);
		strip_prefix(&k2, &n2);
		if (endpoint_key(k2, n2, &ename, &elen, &is_url) &&
		    (error = note_endpoint(&f->eps, &f->neps, &f->aeps, ename, elen, is_url, rank,
				envp[i], (size_t)(eq - envp[i]), eq + 1, f->err)) < 0)
			return error;
	}
	return 0;
}

/* The value of each key by precedence; a lower-precedence variable set differently is noted. */
static int choose_values(from_env *f)
{
	nr_bindings *b = f->b;
	size_t k, r;
	int error;

	for (k = 0; k < NKEYS; k++) {
		for (r = 0; r < NRANKS && f->win[k].name == NULL; r++)
			f->win[k] = f->cand[k][f->order[r]];
		if (f->win[k].name == NULL || k == IK_PREFER)
			continue;
		if ((b->names[k] = nr__strndup(f->win[k].name, f->win[k].nlen)) == NULL ||
		    (b->values[k] = nr__strndup(f->win[k].val, f->win[k].vlen)) == NULL)
			return nr__error_oom(f->err);
		for (; r < NRANKS; r++) {
			const var *l = &f->cand[k][f->order[r]];
			if (l->name == NULL || (l->vlen == f->win[k].vlen &&
					memcmp(l->val, f->win[k].val, l->vlen) == 0))
				continue;
			if ((error = add_warning(b, f->err, "%s overrides %.*s ('%.*s' is ignored) in a "
					"%s host", b->names[k], (int)l->nlen, l->name, (int)l->vlen, l->val,
					f->o->host == NR_URLS_HOST_GENERIC ? "ConfigureWebHostDefaults" :
					"WebApplication.CreateBuilder")) < 0)
				return error;
		}
	}
	return 0;
}

/* GenericWebHostService: the addresses, from URLS or else from HTTP_PORTS and HTTPS_PORTS. */
static int host_addresses(from_env *f)
{
	nr_bindings *b = f->b;
	const var *u = &f->win[NR_URLS_KEY_URLS];
	const char *p, *end;
	int error;

	if (u->vlen == 0) {
		b->source = NR_URLS_SOURCE_PORTS;
		if ((error = expand_ports(&f->addrs, &f->win[NR_URLS_KEY_HTTP_PORTS], "http://*:",
				b->names[NR_URLS_KEY_HTTP_PORTS], f->err)) < 0)
			return error;
		return expand_ports(&f->addrs, &f->win[NR_URLS_KEY_HTTPS_PORTS], "https://*:",
			b->names[NR_URLS_KEY_HTTPS_PORTS], f->err);
	}
	b->source = NR_URLS_SOURCE_URLS;
	if (f->win[NR_URLS_KEY_HTTP_PORTS].vlen > 0 || f->win[NR_URLS_KEY_HTTPS_PORTS].vlen > 0) {
		if ((error = add_warning(b, f->err, "Overriding HTTP_PORTS '%.*s' and HTTPS_PORTS "
				"'%.*s'. Binding to values defined by URLS instead '%.*s'.",
				(int)f->win[1].vlen, f->win[1].val ? f->win[1].val : "",
				(int)f->win[2].vlen, f->win[2].val ? f->win[2].val : "",
				(int)u->vlen, u->val)) < 0)
			return error;
	}
	/* urls.Split(';', RemoveEmptyEntries): no trimming. */
	for (p = u->val, end = u->val + u->vlen; p <= end;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		size_t n = semi ? (size_t)(semi - p) : (size_t)(end - p);
		if (n > 0 && (error = add_addr(&f->addrs, "", p, n, b->names[NR_URLS_KEY_URLS],
				f->err)) < 0)
			return error;
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	return 0;
}

/* AddressBinder.CreateStrategy: endpoints from Kestrel:Endpoints win over the addresses
 * unless PreferHostingUrls is true; the overridden side is logged. */
static int choose_strategy(from_env *f, bool *use_endpoints)
{
	nr__buf joined = NR__BUF_INIT;
	size_t i;
	int error = 0;

	*use_endpoints = f->neps > 0 && !(parse_bool(&f->win[IK_PREFER]) && f->addrs.count > 0);
	if (f->neps == 0 || f->addrs.count == 0)
		return 0;
	for (i = 0; i < f->addrs.count; i++) {
		if (i)
			nr__buf_puts(&joined, ", ");
		nr__buf_puts(&joined, f->addrs.text.ptr + f->addrs.items[i].off);
	}
	if (joined.oom)
		error = nr__error_oom(f->err);
	else
		error = add_warning(f->b, f->err, *use_endpoints ?
			"Overriding address(es) '%s'. Binding to endpoints defined via IConfiguration "
			"and/or UseKestrel() instead." : "Overriding endpoints defined in UseKestrel() "
			"because PreferHostingUrls is set to true. Binding to address(es) '%s' instead.",
			joined.ptr);
	nr__buf_dispose(&joined);
	return error < 0 ? error : 0;
}

/* Bind the Kestrel:Endpoints entries, in ConfigurationKeyComparer order; each needs a Url. */
static int bind_endpoints(from_env *f)
{
	nr_bindings *b = f->b;
	size_t i, r;
	int error;

	b->source = NR_URLS_SOURCE_ENDPOINTS;
	qsort(f->eps, f->neps, sizeof(*f->eps), endpoint_cmp);
	if ((b->epvars = nr__calloc(f->neps, sizeof(*b->epvars))) == NULL)
		return nr__error_oom(f->err);
	for (i = 0; i < f->neps; i++) {
		const endpoint *ep = &f->eps[i];
		var w = { 0 };
		char source[80];
		for (r = 0; r < NRANKS && w.name == NULL; r++)
			w = ep->url[f->order[r]];
		snprintf(source, sizeof(source), "Kestrel:Endpoints:%.*s", (int)ep->nlen, ep->name);
		if (w.vlen == 0)
			return nr__error_set(f->err, NR_EINVALID, source, 0, 0, "The endpoint %.*s is "
				"missing the required 'Url' parameter.", (int)ep->nlen, ep->name);
		if ((b->epvars[i] = nr__strndup(w.name, w.nlen)) == NULL)
			return nr__error_oom(f->err);
		b->nepvars = i + 1;
		if ((error = add_binding(b, &f->text, w.val, w.vlen, b->epvars[i], f->o, f->err)) < 0)
			return error;
	}
	return 0;
}

/* Two bindings on the same port and address: Kestrel fails to start; warn once per binding. */
static int warn_conflicts(from_env *f)
{
	nr_bindings *b = f->b;
	size_t i, k;
	int error;

	for (i = 0; i < b->count; i++) {
		for (k = i + 1; k < b->count; k++) {
			const nr_binding *x = &b->items[i], *y = &b->items[k];
			if (!nr__binds_conflict(&x->parsed, x->parsed.port, &y->parsed, y->parsed.port))
				continue;
			if ((error = add_warning(b, f->err, "'%s' and '%s' both bind port %d on the same "
					"address: Kestrel fails to start (address already in use)",
					f->text.ptr + (uintptr_t)x->url, f->text.ptr + (uintptr_t)y->url,
					(int)x->parsed.port)) < 0)
				return error;
			break;
		}
	}
	return 0;
}

/* The bindings: endpoints, else the host's addresses, else Kestrel's default address. */
static int bind_all(from_env *f)
{
	nr_bindings *b = f->b;
	bool use_endpoints;
	size_t i;
	int error;

	if ((error = host_addresses(f)) < 0 || (error = choose_strategy(f, &use_endpoints)) < 0)
		return error;
	if (use_endpoints) {
		if ((error = bind_endpoints(f)) < 0)
			return error;
	} else {
		for (i = 0; i < f->addrs.count; i++)
			if ((error = add_binding(b, &f->text, f->addrs.text.ptr + f->addrs.items[i].off,
					f->addrs.items[i].len, f->addrs.items[i].variable, f->o, f->err)) < 0)
				return error;
	}
	if (b->count == 0) {
		/* Kestrel's DefaultAddressStrategy: Constants.DefaultServerAddress. */
		static const char dflt[] = "http://localhost:5000";
		b->source = NR_URLS_SOURCE_DEFAULT;
		if ((error = add_binding(b, &f->text, dflt, sizeof(dflt) - 1, NULL, f->o, f->err)) < 0)
			return error;
	}
	return f->text.oom ? nr__error_oom(f->err) : warn_conflicts(f);
}

int nr_bindings_from_env(nr_bindings **out, const char *const *envp,
	const nr_urls_options *opts, nr_error *err)
{
	static const nr_urls_options defaults = NR_URLS_OPTIONS_INIT;
	from_env f;
	size_t i;
	int error = 0;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	memset(&f, 0, sizeof(f));
	f.o = opts ? opts : &defaults;
	f.err = err;
	if ((error = nr__check_version(err, "nr_urls_options", f.o->version,
	    NR_URLS_OPTIONS_VERSION)) < 0)
		return error;
	f.order[0] = RANK_UNPREFIXED;
	f.order[1] = f.o->host == NR_URLS_HOST_GENERIC ? RANK_ASPNETCORE : RANK_DOTNET;
	f.order[2] = f.o->host == NR_URLS_HOST_GENERIC ? RANK_DOTNET : RANK_ASPNETCORE;
	if ((error = collect_env(&f, envp)) < 0)
		goto done;
	if ((f.b = nr__calloc(1, sizeof(*f.b))) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	if ((error = choose_values(&f)) < 0 || (error = bind_all(&f)) < 0)
		goto done;
	if ((f.b->text = nr__buf_detach(&f.text, NULL)) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	for (i = 0; i < f.b->count; i++)
		f.b->items[i].url = f.b->text + (size_t)(uintptr_t)f.b->items[i].url;
	*out = f.b;
	f.b = NULL;
done:
	nr__buf_dispose(&f.text);
	nr__buf_dispose(&f.addrs.text);
	free(f.addrs.items);
	free(f.eps);
	nr_bindings_free(f.b);
	return error;
}

nr_urls_source nr_bindings_source(const nr_bindings *b)
{
	return b ? b->source : NR_URLS_SOURCE_DEFAULT;
}

size_t nr_bindings_count(const nr_bindings *b)
{
	return b ? b->count : 0;
}

const nr_binding *nr_bindings_at(const nr_bindings *b, size_t i)
{
	return b && i < b->count ? &b->items[i] : NULL;
}

int nr_bindings_any_privileged(const nr_bindings *b)
{
	size_t i;

	for (i = 0; b && i < b->count; i++)
		if (b->items[i].privileged)
			return 1;
	return 0;
}

size_t nr_bindings_warning_count(const nr_bindings *b)
{
	return b ? b->nwarnings : 0;
}

const char *nr_bindings_warning_at(const nr_bindings *b, size_t i)
{
	return b && i < b->nwarnings ? b->warnings[i] : NULL;
}

const char *nr_bindings_variable(const char **value, const nr_bindings *b, nr_urls_key key)
{
	if (value)
		*value = NULL;
	if (b == NULL || key < NR_URLS_KEY_URLS || key > NR_URLS_KEY_HTTPS_PORTS)
		return NULL;
	if (value)
		*value = b->values[key];
	return b->names[key];
}
