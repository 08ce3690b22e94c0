/*
 * layers_result.c: a layer scan from request to result (nr__scan_layers): the requested
 * paths tracked, passes over the layers until every link on the way is tracked, link
 * resolution inside the root, and the result with its accessors (see layers.c).
 */
#include <errno.h>
#include <stdio.h>

#include "layerscan.h"

#define CONTENT_MAX_DEFAULT (10u * 1024u * 1024u)
#define MAX_LINKS 40
#define MAX_PASSES 12

/* ---- resolution ------------------------------------------------------------------------ */

struct nr_scan_result {
	nr_scan_entry *e;
	size_t ne;
	nr_scan_entry *setid;
	size_t nsetid;
	nr__scan_caps *caps;   /* per setid entry, same order */
};

/*
 * Resolve `path` through the tracked states. @return 1 resolved (*final is the state, or
 * NULL when absent), 0 when a path must be tracked first (added to sc->need), <0 error.
 */
static int resolve(nr__scan *sc, const char *path, bool follow_last, nr__tstate **final,
	nr__buf *resolved, unsigned int *flags, int *links)
{
	nr__buf cur = NR__BUF_INIT, rest = NR__BUF_INIT, next = NR__BUF_INIT;
	int ret = 1;

	*final = NULL;
	if (nr__buf_puts(&rest, path) < 0 || nr__buf_puts(&cur, "") < 0)
		goto oom;
	while (rest.size > 0) {
		const char *slash = memchr(rest.ptr, '/', rest.size);
		size_t cn = slash ? (size_t)(slash - rest.ptr) : rest.size;
		bool last = slash == NULL;
		size_t before = cur.size;
		nr__tstate *s;

		if (cur.size > 0)
			nr__buf_putc(&cur, '/');
		nr__buf_put(&cur, rest.ptr, cn);
		/* drop the component from rest */
		if (slash) {
			memmove(rest.ptr, slash + 1, rest.size - cn - 1);
			nr__buf_truncate(&rest, rest.size - cn - 1);
		} else {
			nr__buf_truncate(&rest, 0);
		}
		if (cur.oom || rest.oom)
			goto oom;
		if ((s = nr__scan_find_tracked(sc, cur.ptr, cur.size)) == NULL) {
			ret = nr__scan_add_need(sc, cur.ptr) < 0 ? NR_ENOMEM : 0;
			goto done;
		}
		if (!s->present)
			goto absent;
		if (s->type == NR_ENTRY_SYMLINK && (!last || follow_last)) {
			if (++*links > MAX_LINKS) {
				*flags |= NR_SCAN_ENTRY_LOOP;
				goto absent;
			}
			/* new path = (link absolute ? "" : parent of cur) + "/" + link + "/" + rest */
			nr__buf_truncate(&next, 0);
			if (s->link[0] != '/')
				nr__buf_put(&next, cur.ptr, before);
			nr__buf_putc(&next, '/');
			nr__buf_puts(&next, s->link);
			if (rest.size) {
				nr__buf_putc(&next, '/');
				nr__buf_put(&next, rest.ptr, rest.size);
			}
			if (next.oom || nr__path_clean(&rest, next.ptr, next.size) < 0)
				goto oom;
			nr__buf_truncate(&cur, 0);
			continue;
		}
		if (!last && s->type != NR_ENTRY_DIRECTORY) {
			*flags |= NR_SCAN_ENTRY_NOTDIR;
			goto absent;
		}
		if (last)
			*final = s;
	}
	if (cur.size == 0) {
		/* the root itself */
		*final = NULL;
	}
	if (nr__buf_put(resolved, cur.ptr ? cur.ptr : "", cur.size) < 0)
		goto oom;
	goto done;
absent:
	*final = NULL;
	if (nr__buf_put(resolved, cur.ptr, cur.size) < 0 ||
	    (rest.size && (nr__buf_putc(resolved, '/') < 0 ||
	     nr__buf_put(resolved, rest.ptr, rest.size) < 0)))
		goto oom;
done:
	nr__buf_dispose(&cur);
	nr__buf_dispose(&rest);
	nr__buf_dispose(&next);
	return ret;
oom:
	ret = NR_ENOMEM;
	goto done;
}

static int fill_entry(nr_scan_entry *out, const nr__tstate *s, const char *path)
{
	memset(out, 0, sizeof(*out));
	if ((out->path = nr__strdup(path)) == NULL)
		return NR_ENOMEM;
	if (s == NULL)
		return 0;
	out->type = s->type;
	out->mode = s->mode;
	out->uid = s->uid;
	out->gid = s->gid;
	out->size = s->size;
	out->mtime = s->mtime;
	out->layer = s->layer;
	if (s->too_big)
		out->flags |= NR_SCAN_ENTRY_TOO_BIG;
	if (s->caps)
		out->flags |= NR_SCAN_ENTRY_CAPS;
	if (s->content) {
		char *c = nr__malloc(s->content_len + 1);
		if (c == NULL)
			return NR_ENOMEM;
		memcpy(c, s->content, s->content_len + 1);
		out->content = c;
		out->content_len = s->content_len;
	}
	if (s->hardlink && (out->hardlink = nr__strdup(s->hardlink)) == NULL)
		return NR_ENOMEM;
	return 0;
}

static void entry_dispose(nr_scan_entry *e)
{
	free((char *)e->path);
	free((char *)e->resolved);
	free((char *)e->content);
	free((char *)e->link_target);
	free((char *)e->hardlink);
}

void nr_scan_result_free(nr_scan_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->ne; i++)
		entry_dispose(&res->e[i]);
	for (i = 0; i < res->nsetid; i++) {
		entry_dispose(&res->setid[i]);
		if (res->caps)
			free(res->caps[i].data);
	}
	free(res->e);
	free(res->setid);
	free(res->caps);
	free(res);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const nr_scan_entry *)a)->path, ((const nr_scan_entry *)b)->path);
}

/* The requested paths, cleaned and without duplicates, each tracked: want[0, *nwant). */
static int want_paths(nr__scan *sc, const nr_scan_request *req, char **want, size_t *nwant,
	nr_error *err)
{
	nr__buf clean = NR__BUF_INIT;
	size_t i, k;
	int error = 0;

	for (i = 0; i < req->npaths; i++) {
		if (req->paths[i] == NULL) {
			error = nr__error_set(err, NR_EARG, NULL, 0, 0,
				"invalid argument: paths[%zu] is NULL", i);
			goto done;
		}
		if (nr__path_clean(&clean, req->paths[i], strlen(req->paths[i])) < 0)
			goto oom;
		for (k = 0; k < *nwant; k++)
			if (strcmp(want[k], clean.ptr) == 0)
				break;
		if (k < *nwant)
			continue;
		if ((want[*nwant] = nr__strdup(clean.ptr)) == NULL)
			goto oom;
		(*nwant)++;
		if (nr__scan_track(sc, clean.ptr) < 0)
			goto oom;
	}
	goto done;
oom:
	error = nr__error_oom(err);
done:
	nr__buf_dispose(&clean);
	return error;
}

/* Passes over the layers (read in parallel by scanrun.c, applied here in order) until every
 * hard link target and symlink on the way of a wanted path was tracked. */
static int run_passes(nr__scan *sc, const nr__layer_ref *layers, size_t nlayers,
	const nr_scan_request *req, char **want, size_t nwant, nr__buf *resolved, nr_error *err)
{
	size_t i, pass;
	int error;

	for (pass = 0; ; pass++) {
		bool again = false;
		nr__lscan_opts lo;
		const char **tracked;

		nr__scan_reset_states(sc);
		if ((tracked = nr__calloc(sc->nt + 1, sizeof(*tracked))) == NULL)
			return nr__error_oom(err);
		for (i = 0; i < sc->nt; i++)
			tracked[i] = sc->t[i].path;
		memset(&lo, 0, sizeof(lo));
		lo.tracked = tracked;
		lo.ntracked = sc->nt;
		lo.content_max = sc->content_max;
		lo.req = req;
		error = nr__lscan_run(layers, nlayers, &lo, nr__scan_apply_layer, sc, err);
		free(tracked);
		if (error < 0)
			return error;
		/* Hard links whose target was not tracked, and symlinks on the way. */
		for (i = 0; i < nwant; i++) {
			nr__tstate *fin;
			unsigned int flags = 0;
			int links = 0;
			nr__buf_truncate(resolved, 0);
			if (resolve(sc, want[i], true, &fin, resolved, &flags, &links) < 0)
				return nr__error_oom(err);
		}
		for (i = 0; i < sc->nneed; i++) {
			if (!nr__scan_find_tracked(sc, sc->need[i], strlen(sc->need[i]))) {
				if (nr__scan_track(sc, sc->need[i]) < 0)
					return nr__error_oom(err);
				again = true;
			}
			free(sc->need[i]);
		}
		sc->nneed = 0;
		if (!again)
			return 0;
		if (pass + 1 >= MAX_PASSES)
			return nr__error_set(err, NR_EINVALID, NULL, 0, 0,
				"too many links to follow while scanning the layers");
	}
}

/* The result's entries: one per wanted path, resolved. NR_ENOMEM or 0. */
static int result_wanted(nr_scan_result *res, nr__scan *sc, char **want, size_t nwant,
	nr__buf *resolved)
{
	size_t i;

	for (i = 0; i < nwant; i++) {
		nr__tstate *fin = NULL, *self;
		unsigned int flags = 0;
		int links = 0;
		nr_scan_entry *e = &res->e[res->ne];

		nr__buf_truncate(resolved, 0);
		if (resolve(sc, want[i], true, &fin, resolved, &flags, &links) < 0)
			return NR_ENOMEM;
		if (fin && fin->type == NR_ENTRY_SYMLINK)
			fin = NULL;   /* cannot happen when followed; be safe */
		res->ne++;
		if (fill_entry(e, fin, want[i]) < 0)
			return NR_ENOMEM;
		e->flags |= flags;
		if ((e->resolved = nr__strndup(resolved->ptr ? resolved->ptr : "",
				resolved->size)) == NULL)
			return NR_ENOMEM;
		self = nr__scan_find_tracked(sc, want[i], strlen(want[i]));
		if (self && self->present && self->type == NR_ENTRY_SYMLINK &&
		    (e->link_target = nr__strdup(self->link)) == NULL)
			return NR_ENOMEM;
		if (*want[i] == '\0') {
			e->type = NR_ENTRY_DIRECTORY;   /* the root */
			e->mode = 0755;
		}
	}
	return 0;
}

/* The result's privileged (set-id, capabilities) files, sorted by path, each with its
 * capabilities. NR_ENOMEM or 0. */
static int result_setid(nr_scan_result *res, nr__scan *sc)
{
	size_t i;

	if (nr__scan_setid_next_layer(sc) < 0)   /* only live entries remain */
		return NR_ENOMEM;
	if (sc->nsetid == 0)
		return 0;
	if ((res->setid = nr__calloc(sc->nsetid, sizeof(*res->setid))) == NULL)
		return NR_ENOMEM;
	for (i = 0; i < sc->nsetid; i++) {
		res->nsetid++;
		if (fill_entry(&res->setid[i], &sc->setid[i], sc->setid[i].path) < 0)
			return NR_ENOMEM;
		if ((res->setid[i].resolved = nr__strdup(sc->setid[i].path)) == NULL)
			return NR_ENOMEM;
	}
	qsort(res->setid, res->nsetid, sizeof(*res->setid), cmp_entry);
	/* the capabilities, in the sorted order (sc->setid is sorted by path too) */
	if ((res->caps = nr__calloc(sc->nsetid, sizeof(*res->caps))) == NULL)
		return NR_ENOMEM;
	for (i = 0; i < res->nsetid; i++) {
		const char *sp = res->setid[i].path;
		size_t j = nr__scan_lower_bound(sc, sp, strlen(sp));
		const nr__tstate *t = j < sc->nlower ? &sc->setid[j] : NULL;
		if (t == NULL || t->caps == NULL || t->plen != strlen(sp) ||
		    memcmp(t->path, sp, t->plen) != 0)
			continue;
		if ((res->caps[i].data = nr__malloc(t->caps_len + 1)) == NULL)
			return NR_ENOMEM;
		memcpy(res->caps[i].data, t->caps, t->caps_len + 1);
		res->caps[i].len = t->caps_len;
	}
	return 0;
}

int nr__scan_layers(const nr__layer_ref *layers, size_t nlayers, const nr_scan_request *req,
	nr_scan_result **out, nr_error *err)
{
	nr__scan sc;
	nr_scan_result *res = NULL;
	nr__buf resolved = NR__BUF_INIT;
	char **want = NULL;
	size_t nwant = 0, i;
	int error = 0;

	*out = NULL;
	memset(&sc, 0, sizeof(sc));
	sc.err = err;
	sc.want_setid = (req->flags & NR_SCAN_SETID) != 0;
	sc.want_caps = (req->flags & NR_SCAN_CAPS) != 0;
	sc.content_max = req->content_max ? req->content_max : CONTENT_MAX_DEFAULT;
	if (req->npaths && req->paths == NULL)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: paths is NULL");
	if ((want = nr__calloc(req->npaths + 1, sizeof(char *))) == NULL)
		return nr__error_oom(err);
	if ((error = want_paths(&sc, req, want, &nwant, err)) < 0 ||
	    (error = run_passes(&sc, layers, nlayers, req, want, nwant, &resolved, err)) < 0)
		goto done;
	if ((res = nr__calloc(1, sizeof(*res))) == NULL ||
	    (res->e = nr__calloc(nwant + 1, sizeof(*res->e))) == NULL ||
	    result_wanted(res, &sc, want, nwant, &resolved) < 0 || result_setid(res, &sc) < 0) {
		error = nr__error_oom(err);
		goto done;
	}
	*out = res;
	res = NULL;
done:
	nr_scan_result_free(res);
	for (i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	nr__scan_dispose(&sc);
	nr__buf_dispose(&resolved);
	return error;
}

const nr_scan_entry *nr_scan_result_get(const nr_scan_result *res, const char *path)
{
	nr__buf clean = NR__BUF_INIT;
	const nr_scan_entry *found = NULL;
	size_t i;

	if (res == NULL || path == NULL || nr__path_clean(&clean, path, strlen(path)) < 0) {
		nr__buf_dispose(&clean);
		return NULL;
	}
	for (i = 0; i < res->ne; i++)
		if (strcmp(res->e[i].path, clean.ptr) == 0) {
			found = &res->e[i];
			break;
		}
	nr__buf_dispose(&clean);
	return found;
}

size_t nr_scan_result_count(const nr_scan_result *res)
{
	return res ? res->ne : 0;
}

const nr_scan_entry *nr_scan_result_at(const nr_scan_result *res, size_t k)
{
	return res && k < res->ne ? &res->e[k] : NULL;
}

size_t nr_scan_result_setid_count(const nr_scan_result *res)
{
	return res ? res->nsetid : 0;
}

const nr_scan_entry *nr_scan_result_setid_at(const nr_scan_result *res, size_t k)
{
	return res && k < res->nsetid ? &res->setid[k] : NULL;
}

const nr__scan_caps *nr__scan_result_caps(const nr_scan_result *res, size_t k)
{
	if (res == NULL || k >= res->nsetid || res->caps == NULL || res->caps[k].data == NULL)
		return NULL;
	return &res->caps[k];
}

