/*
 * layers.c: the streaming scan over a layer stack (libarchive).
 *
 * Layers are applied bottom-up, as a runtime would unpack them, but only the state of the
 * tracked paths (the requested ones, every directory above them, and the targets of links met
 * on the way) is kept, plus the set-id files when asked. Per layer:
 *   - an entry at a tracked path replaces its state (a directory over a directory only updates
 *     its metadata); a non-directory entry removes the lower-layer state under it;
 *   - `.wh.NAME` in DIR removes DIR/NAME and everything under it from LOWER layers only;
 *   - `DIR/.wh..wh..opq` removes everything under DIR from lower layers;
 *   - a hard link copies the current state of its target (same inode: mode, owner, content).
 * Member names are cleaned lexically inside the root ("../x" and "/x" are "x"), as Docker's
 * and containerd's appliers do. Content is read only for tracked regular files within the
 * limit; everything else is skipped, so memory does not depend on layer size.
 * After the pass, requested paths are resolved through symlinks (inside the root); a path
 * needed on the way that was not tracked makes another pass with it tracked.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "image_internal.h"
#include "scancache.h"

#define CONTENT_MAX_DEFAULT (10u * 1024u * 1024u)
#define MAX_LINKS 40
#define MAX_PASSES 12

/* ---- tracked state ----------------------------------------------------------------------- */

typedef struct tstate {
	char *path;
	size_t plen;
	bool present;
	nr_entry_type type;
	uint32_t mode;
	uint64_t uid, gid, size;
	int64_t mtime;
	size_t layer;
	char *link;         /* symlink target as stored */
	char *hardlink;     /* cleaned hard link target */
	char *content;
	size_t content_len;
	char *caps;         /* privileged files: the security.capability xattr; NULL: none */
	size_t caps_len;
	bool too_big;
} tstate;

typedef struct scan {
	tstate *t;
	size_t nt, at;
	/* Set-id files: setid[0, nlower) are from lower layers, sorted by path, with snext
	 * (union-find "next live entry") so that hiding a directory touches only what it removes;
	 * setid[nlower, nsetid) are this layer's, found by path through a chained hash. A removed
	 * entry has present == false until the next layer compacts the array. Every operation is
	 * O(log n) or amortised O(1), so 40k set-id files in a layer cost no more than a sort. */
	tstate *setid;
	size_t nsetid, asetid, nlower;
	size_t *snext, *hhead, *hnext;
	size_t nhead, ahnext;
	bool want_setid, want_caps;
	size_t content_max;
	/* paths to track in the next pass */
	char **need;
	size_t nneed, aneed;
	nr_error *err;
} scan;

static void tstate_clear(tstate *s)
{
	free(s->link);
	free(s->hardlink);
	free(s->content);
	free(s->caps);
	s->link = s->hardlink = s->content = s->caps = NULL;
	s->content_len = s->caps_len = 0;
	s->present = false;
	s->too_big = false;
	s->type = NR_ENTRY_NONE;
	s->mode = 0;
	s->uid = s->gid = s->size = 0;
	s->mtime = 0;
	s->layer = 0;
}

static tstate *find_tracked(scan *sc, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sc->nt; i++)
		if (sc->t[i].plen == n && memcmp(sc->t[i].path, p, n) == 0)
			return &sc->t[i];
	return NULL;
}

static int track_one(scan *sc, const char *p, size_t n)
{
	tstate *s;

	if (find_tracked(sc, p, n))
		return 0;
	if (nr__array_grow((void **)&sc->t, &sc->at, sc->nt + 1, sizeof(*sc->t)) < 0)
		return NR_ENOMEM;
	s = &sc->t[sc->nt];
	memset(s, 0, sizeof(*s));
	if ((s->path = nr__strndup(p, n)) == NULL)
		return NR_ENOMEM;
	s->plen = n;
	sc->nt++;
	return 0;
}

/* Track a cleaned path and every directory above it. */
static int track(scan *sc, const char *p)
{
	size_t n = strlen(p), i;
	int error;

	if (n == 0)
		return 0;
	for (i = 1; i < n; i++)
		if (p[i] == '/' && (error = track_one(sc, p, i)) < 0)
			return error;
	return track_one(sc, p, n);
}

static int add_need(scan *sc, const char *p)
{
	size_t i;

	for (i = 0; i < sc->nneed; i++)
		if (strcmp(sc->need[i], p) == 0)
			return 0;
	if (nr__array_grow((void **)&sc->need, &sc->aneed, sc->nneed + 1, sizeof(char *)) < 0)
		return NR_ENOMEM;
	if ((sc->need[sc->nneed] = nr__strdup(p)) == NULL)
		return NR_ENOMEM;
	sc->nneed++;
	return 0;
}

/* Is `p` (len n) equal to `dir` or under it? dir "" is the root. */
static bool under(const char *p, size_t n, const char *dir, size_t dn, bool strict)
{
	if (dn == 0)
		return !strict || n > 0;
	if (n < dn || memcmp(p, dir, dn) != 0)
		return false;
	if (n == dn)
		return !strict;
	return p[dn] == '/';
}

static size_t lower_bound(const scan *sc, const char *p, size_t n);
static size_t lower_bound_under(const scan *sc, const char *dir, size_t dn);
static size_t live_from(scan *sc, size_t i);
static void lower_kill(scan *sc, size_t i);

/* Remove lower-layer state at/under `dir` (strict: only strictly under). */
static void hide(scan *sc, const char *dir, size_t dn, bool strict, size_t layer)
{
	size_t i;

	for (i = 0; i < sc->nt; i++) {
		tstate *s = &sc->t[i];
		if (s->present && s->layer < layer && under(s->path, s->plen, dir, dn, strict))
			tstate_clear(s);
	}
	/* set-id files: only the lower part is below this layer; the ones under dir are one
	 * run of the sorted order ("dir" itself, then "dir/..." from lower_bound("dir/")) */
	if (sc->nlower == 0)
		return;
	if (dn == 0) {
		for (i = live_from(sc, 0); i < sc->nlower; i = live_from(sc, i + 1))
			if (!strict || sc->setid[i].plen > 0)
				lower_kill(sc, i);
		return;
	}
	if (!strict) {
		i = lower_bound(sc, dir, dn);
		if (i < sc->nlower && sc->setid[i].present && sc->setid[i].plen == dn &&
		    memcmp(sc->setid[i].path, dir, dn) == 0)
			lower_kill(sc, i);
	}
	for (i = live_from(sc, lower_bound_under(sc, dir, dn)); i < sc->nlower &&
	     under(sc->setid[i].path, sc->setid[i].plen, dir, dn, true); i = live_from(sc, i + 1))
		lower_kill(sc, i);
}

static void imply_parents(scan *sc, const char *dir, size_t dn, size_t layer)
{
	size_t i;

	for (i = 0; i < sc->nt; i++) {
		tstate *s = &sc->t[i];
		if (!s->present && under(dir, dn, s->path, s->plen, false)) {
			s->present = true;
			s->type = NR_ENTRY_DIRECTORY;
			s->mode = 0755;
			s->layer = layer;
		}
	}
}

static nr_entry_type type_of(mode_t ft)
{
	switch (ft) {
	case AE_IFREG: return NR_ENTRY_REGULAR;
	case AE_IFDIR: return NR_ENTRY_DIRECTORY;
	case AE_IFLNK: return NR_ENTRY_SYMLINK;
	case AE_IFCHR: return NR_ENTRY_CHAR;
	case AE_IFBLK: return NR_ENTRY_BLOCK;
	case AE_IFIFO: return NR_ENTRY_FIFO;
	default: return NR_ENTRY_NONE;
	}
}

static int path_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c != 0 ? c : an < bn ? -1 : an > bn;
}

static int cmp_tstate(const void *x, const void *y)
{
	const tstate *a = x, *b = y;

	return path_cmp(a->path, a->plen, b->path, b->plen);
}

static size_t path_hash(const char *p, size_t n)
{
	size_t h = 1469598103934665603ull, i;   /* FNV-1a */

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* First index in the lower part whose path is >= (p, n). */
static size_t lower_bound(const scan *sc, const char *p, size_t n)
{
	size_t lo = 0, hi = sc->nlower;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (path_cmp(sc->setid[mid].path, sc->setid[mid].plen, p, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* First index in the lower part whose path is >= dir + "/" (the first that can be under
 * dir, for dn > 0). */
static size_t lower_bound_under(const scan *sc, const char *dir, size_t dn)
{
	size_t lo = 0, hi = sc->nlower;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const tstate *t = &sc->setid[mid];
		int c = memcmp(t->path, dir, t->plen < dn ? t->plen : dn);
		bool less = c < 0 || (c == 0 && (t->plen <= dn || (unsigned char)t->path[dn] < '/'));
		if (less)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Next live lower entry at or after i (nlower when none), compressing the path. */
static size_t live_from(scan *sc, size_t i)
{
	size_t r = i, t;

	while (r < sc->nlower && sc->snext[r] != r)
		r = sc->snext[r];
	while (i < sc->nlower && sc->snext[i] != i) {
		t = sc->snext[i];
		sc->snext[i] = r;
		i = t;
	}
	return r;
}

static void lower_kill(scan *sc, size_t i)
{
	tstate_clear(&sc->setid[i]);
	sc->snext[i] = i + 1;
}

/* This layer's entry at (p, n), live or not; NULL when none. */
static tstate *cur_find(scan *sc, const char *p, size_t n)
{
	size_t i;

	if (sc->nhead == 0)
		return NULL;
	for (i = sc->hhead[path_hash(p, n) % sc->nhead]; i != SIZE_MAX; i = sc->hnext[i]) {
		tstate *s = &sc->setid[sc->nlower + i];
		if (s->plen == n && memcmp(s->path, p, n) == 0)
			return s;
	}
	return NULL;
}

/* The live set-id entry at (p, n), of this layer or a lower one; NULL when none. */
static tstate *setid_find(scan *sc, const char *p, size_t n)
{
	tstate *s = cur_find(sc, p, n);
	size_t i;

	if (s && s->present)
		return s;
	i = lower_bound(sc, p, n);
	if (i < sc->nlower && sc->setid[i].present && sc->setid[i].plen == n &&
	    memcmp(sc->setid[i].path, p, n) == 0)
		return &sc->setid[i];
	return NULL;
}

static void setid_remove(scan *sc, const char *p, size_t n)
{
	tstate *s = setid_find(sc, p, n);

	if (s == NULL)
		return;
	if ((size_t)(s - sc->setid) < sc->nlower)
		lower_kill(sc, (size_t)(s - sc->setid));
	else
		tstate_clear(s);
}

/* Start a new layer: the live entries of the last one join the sorted lower part. */
static int setid_next_layer(scan *sc)
{
	size_t i, o = 0, k;

	if (sc->nsetid == 0 && sc->snext != NULL)
		return 0;
	for (i = 0; i < sc->nsetid; i++) {
		if (sc->setid[i].present) {
			sc->setid[o++] = sc->setid[i];
		} else {
			free(sc->setid[i].path);
		}
	}
	sc->nsetid = o;
	if (o > 1)
		qsort(sc->setid, o, sizeof(*sc->setid), cmp_tstate);
	sc->nlower = o;
	free(sc->snext);
	free(sc->hhead);
	free(sc->hnext);
	sc->snext = sc->hhead = sc->hnext = NULL;
	sc->nhead = sc->ahnext = 0;
	if ((sc->snext = nr__calloc(o + 1, sizeof(*sc->snext))) == NULL)
		return NR_ENOMEM;
	for (k = 0; k <= o; k++)
		sc->snext[k] = k;
	return 0;
}

/* Add or replace the privileged file at (p, n): set-id bits in mode and/or file capabilities
 * (caps: copied; NULL for none). */
static int setid_add(scan *sc, const char *p, size_t n, uint32_t mode, uint64_t uid,
	uint64_t gid, uint64_t size, int64_t mtime, const char *caps, size_t caps_len,
	size_t layer)
{
	tstate *s;
	size_t i, cur;

	setid_remove(sc, p, n);
	if ((s = cur_find(sc, p, n)) == NULL) {
		cur = sc->nsetid - sc->nlower;
		/* the hash grows with this layer's entries (load <= 1) */
		if (cur + 1 > sc->nhead) {
			size_t nh = sc->nhead ? sc->nhead * 2 : 64, *h;
			if ((h = nr__calloc(nh, sizeof(*h))) == NULL)
				return NR_ENOMEM;
			free(sc->hhead);
			sc->hhead = h;
			sc->nhead = nh;
			for (i = 0; i < nh; i++)
				h[i] = SIZE_MAX;
			for (i = 0; i < cur; i++) {
				tstate *t = &sc->setid[sc->nlower + i];
				size_t b = path_hash(t->path, t->plen) % nh;
				sc->hnext[i] = h[b];
				h[b] = i;
			}
		}
		if (nr__array_grow((void **)&sc->setid, &sc->asetid, sc->nsetid + 1,
				sizeof(*s)) < 0 ||
		    nr__array_grow((void **)&sc->hnext, &sc->ahnext, cur + 1, sizeof(size_t)) < 0)
			return NR_ENOMEM;
		s = &sc->setid[sc->nsetid];
		memset(s, 0, sizeof(*s));
		if ((s->path = nr__strndup(p, n)) == NULL)
			return NR_ENOMEM;
		s->plen = n;
		i = path_hash(p, n) % sc->nhead;
		sc->hnext[cur] = sc->hhead[i];
		sc->hhead[i] = cur;
		sc->nsetid++;
	}
	s->present = true;
	s->type = NR_ENTRY_REGULAR;
	s->mode = mode;
	s->uid = uid;
	s->gid = gid;
	s->size = size;
	s->mtime = mtime;
	s->layer = layer;
	if (caps) {
		if ((s->caps = nr__malloc(caps_len + 1)) == NULL)
			return NR_ENOMEM;
		memcpy(s->caps, caps, caps_len);
		s->caps[caps_len] = '\0';
		s->caps_len = caps_len;
	}
	return 0;
}

/* ---- applying one layer's members (read by scancache.c) ------------------------------- */

static int apply_entry(scan *sc, const nr__lent *e, size_t layer, nr_buf *tmp)
{
	const char *p = e->path;
	size_t n = e->plen;
	const char *base = memrchr(p, '/', n);
	size_t dn = base ? (size_t)(base - p) : 0;
	const char *hl = e->hardlink;
	mode_t ft = e->ft;
	tstate *s;
	int error;

	base = base ? base + 1 : p;
	/* Every entry implies its parent directories (tars need not list them). */
	if (dn > 0)
		imply_parents(sc, p, dn, layer);
	/* Whiteouts. */
	if (n - dn >= 4 && strncmp(base, ".wh.", 4) == 0) {
		if (strcmp(base, ".wh..wh..opq") == 0) {
			hide(sc, p, dn, true, layer);
		} else if (strncmp(base, ".wh..wh.", 8) != 0) {
			/* target = dir + "/" + name without ".wh." */
			nr_buf_truncate(tmp, 0);
			if (dn > 0) {
				nr_buf_put(tmp, p, dn);
				nr_buf_putc(tmp, '/');
			}
			nr_buf_put(tmp, base + 4, n - (size_t)(base - p) - 4);
			if (tmp->oom)
				return nr__error_oom(sc->err);
			hide(sc, tmp->ptr, tmp->size, false, layer);
		}
		return 0;
	}
	if (n == 0)
		return 0;   /* the root itself ("./") */
	/* A non-directory replaces whatever was under that path in lower layers. */
	if (hl != NULL || ft != AE_IFDIR)
		hide(sc, p, n, true, layer);
	if (sc->want_setid || sc->want_caps) {
		/* privileged files: set-id bits (when asked) and file capabilities (when asked) */
		tstate *t = NULL;
		bool setid = sc->want_setid && (e->perm & 06000);
		bool caps = sc->want_caps && e->caps != NULL;
		bool other = false;
		if (hl != NULL && (sc->nsetid || caps)) {
			/* a hard link shares its target's inode: a privileged file by another name,
			 * still there when the first name is deleted later */
			if (nr__path_clean(tmp, hl, strlen(hl)) < 0)
				return nr__error_oom(sc->err);
			other = tmp->size != n || memcmp(tmp->ptr, p, n) != 0;
			if (other && sc->nsetid)
				t = setid_find(sc, tmp->ptr, tmp->size);
		}
		if (hl == NULL && ft == AE_IFREG && (setid || caps)) {
			if ((error = setid_add(sc, p, n, e->perm & 07777, e->uid, e->gid,
			    e->size > 0 ? (uint64_t)e->size : 0, e->mtime, caps ? e->caps : NULL,
			    e->caps_len, layer)) < 0)
				return nr__error_oom(sc->err);
		} else if (hl != NULL && caps) {
			/* the xattrs of a hard link member are set on the inode it shares: the
			 * capabilities hold under both names */
			uint32_t mode = t ? t->mode : e->perm & 07777;
			uint64_t uid = t ? t->uid : e->uid, gid = t ? t->gid : e->gid;
			uint64_t size = t ? t->size : e->size > 0 ? (uint64_t)e->size : 0;
			int64_t mtime = t ? t->mtime : e->mtime;
			if ((error = setid_add(sc, p, n, mode, uid, gid, size, mtime, e->caps,
			    e->caps_len, layer)) < 0 ||
			    (other && (error = setid_add(sc, tmp->ptr, tmp->size, mode, uid, gid, size,
			    mtime, e->caps, e->caps_len, layer)) < 0))
				return nr__error_oom(sc->err);
		} else if (t != NULL) {
			tstate tc = *t;
			if ((error = setid_add(sc, p, n, tc.mode, tc.uid, tc.gid, tc.size, tc.mtime,
			    tc.caps, tc.caps_len, layer)) < 0)
				return nr__error_oom(sc->err);
		} else if (sc->nsetid) {
			setid_remove(sc, p, n);
		}
	}
	if ((s = find_tracked(sc, p, n)) == NULL)
		return 0;
	if (hl != NULL) {
		tstate *t;
		if (nr__path_clean(tmp, hl, strlen(hl)) < 0)
			return nr__error_oom(sc->err);
		t = find_tracked(sc, tmp->ptr, tmp->size);
		if (t == s)
			return 0;
		tstate_clear(s);
		s->present = true;
		s->layer = layer;
		if ((s->hardlink = nr__strndup(tmp->ptr, tmp->size)) == NULL)
			return nr__error_oom(sc->err);
		if (t == NULL) {
			/* Target not tracked in this pass: track it and scan again. */
			s->type = NR_ENTRY_REGULAR;
			return add_need(sc, tmp->ptr) < 0 ? nr__error_oom(sc->err) : 0;
		}
		if (!t->present)
			return 0;   /* link to a missing file: keep "present, unknown" as regular */
		s->type = t->type;
		s->mode = t->mode;
		s->uid = t->uid;
		s->gid = t->gid;
		s->size = t->size;
		s->mtime = t->mtime;
		s->too_big = t->too_big;
		if (t->link && (s->link = nr__strdup(t->link)) == NULL)
			return nr__error_oom(sc->err);
		if (t->content) {
			if ((s->content = nr__malloc(t->content_len + 1)) == NULL)
				return nr__error_oom(sc->err);
			memcpy(s->content, t->content, t->content_len + 1);
			s->content_len = t->content_len;
		}
		return 0;
	}
	tstate_clear(s);
	s->present = true;
	s->type = type_of(ft);
	s->mode = e->perm & 07777;
	s->uid = e->uid;
	s->gid = e->gid;
	s->mtime = e->mtime;
	s->layer = layer;
	if (ft == AE_IFLNK) {
		if ((s->link = nr__strdup(e->symlink ? e->symlink : "")) == NULL)
			return nr__error_oom(sc->err);
	} else if (ft == AE_IFREG) {
		s->size = e->size > 0 ? (uint64_t)e->size : 0;
		if (s->size > sc->content_max) {
			s->too_big = true;
		} else {
			if (e->content == NULL)   /* scancache.c captures every tracked file */
				return nr__error_set(sc->err, NR_ERROR, s->path, 0, 0,
					"layer scan: content of %s was not read", s->path);
			if ((s->content = nr__malloc(e->content_len + 1)) == NULL)
				return nr__error_oom(sc->err);
			memcpy(s->content, e->content, e->content_len + 1);
			s->content_len = e->content_len;
		}
	}
	return 0;
}

static int apply_layer(void *ctx, size_t layer, const nr__lrec *rec)
{
	scan *sc = ctx;
	nr_buf tmp = NR_BUF_INIT;
	size_t k, n = nr__lrec_count(rec);
	int error = 0;

	if (setid_next_layer(sc) < 0)
		return nr__error_oom(sc->err);
	for (k = 0; k < n && error == 0; k++)
		error = apply_entry(sc, nr__lrec_get(rec, k), layer, &tmp);
	nr_buf_dispose(&tmp);
	return error;
}

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
static int resolve(scan *sc, const char *path, bool follow_last, tstate **final,
	nr_buf *resolved, unsigned int *flags, int *links)
{
	nr_buf cur = NR_BUF_INIT, rest = NR_BUF_INIT, next = NR_BUF_INIT;
	int ret = 1;

	*final = NULL;
	if (nr_buf_puts(&rest, path) < 0 || nr_buf_puts(&cur, "") < 0)
		goto oom;
	while (rest.size > 0) {
		const char *slash = memchr(rest.ptr, '/', rest.size);
		size_t cn = slash ? (size_t)(slash - rest.ptr) : rest.size;
		bool last = slash == NULL;
		size_t before = cur.size;
		tstate *s;

		if (cur.size > 0)
			nr_buf_putc(&cur, '/');
		nr_buf_put(&cur, rest.ptr, cn);
		/* drop the component from rest */
		if (slash) {
			memmove(rest.ptr, slash + 1, rest.size - cn - 1);
			nr_buf_truncate(&rest, rest.size - cn - 1);
		} else {
			nr_buf_truncate(&rest, 0);
		}
		if (cur.oom || rest.oom)
			goto oom;
		if ((s = find_tracked(sc, cur.ptr, cur.size)) == NULL) {
			ret = add_need(sc, cur.ptr) < 0 ? NR_ENOMEM : 0;
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
			nr_buf_truncate(&next, 0);
			if (s->link[0] != '/')
				nr_buf_put(&next, cur.ptr, before);
			nr_buf_putc(&next, '/');
			nr_buf_puts(&next, s->link);
			if (rest.size) {
				nr_buf_putc(&next, '/');
				nr_buf_put(&next, rest.ptr, rest.size);
			}
			if (next.oom || nr__path_clean(&rest, next.ptr, next.size) < 0)
				goto oom;
			nr_buf_truncate(&cur, 0);
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
	if (nr_buf_put(resolved, cur.ptr ? cur.ptr : "", cur.size) < 0)
		goto oom;
	goto done;
absent:
	*final = NULL;
	if (nr_buf_put(resolved, cur.ptr, cur.size) < 0 ||
	    (rest.size && (nr_buf_putc(resolved, '/') < 0 ||
	     nr_buf_put(resolved, rest.ptr, rest.size) < 0)))
		goto oom;
done:
	nr_buf_dispose(&cur);
	nr_buf_dispose(&rest);
	nr_buf_dispose(&next);
	return ret;
oom:
	ret = NR_ENOMEM;
	goto done;
}

static int fill_entry(nr_scan_entry *out, const tstate *s, const char *path)
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

static void scan_dispose(scan *sc)
{
	size_t i;

	for (i = 0; i < sc->nt; i++) {
		tstate_clear(&sc->t[i]);
		free(sc->t[i].path);
	}
	for (i = 0; i < sc->nsetid; i++) {
		tstate_clear(&sc->setid[i]);
		free(sc->setid[i].path);
	}
	for (i = 0; i < sc->nneed; i++)
		free(sc->need[i]);
	free(sc->t);
	free(sc->setid);
	free(sc->snext);
	free(sc->hhead);
	free(sc->hnext);
	free(sc->need);
	memset(sc, 0, sizeof(*sc));
}

static void scan_reset_states(scan *sc)
{
	size_t i;

	for (i = 0; i < sc->nt; i++)
		tstate_clear(&sc->t[i]);
	for (i = 0; i < sc->nsetid; i++) {
		tstate_clear(&sc->setid[i]);
		free(sc->setid[i].path);
	}
	sc->nsetid = sc->nlower = 0;
	free(sc->snext);
	free(sc->hhead);
	free(sc->hnext);
	sc->snext = sc->hhead = sc->hnext = NULL;
	sc->nhead = sc->ahnext = 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const nr_scan_entry *)a)->path, ((const nr_scan_entry *)b)->path);
}

int nr__scan_layers(const nr__layer_ref *layers, size_t nlayers, const nr_scan_request *req,
	nr_scan_result **out, nr_error *err)
{
	scan sc;
	nr_scan_result *res = NULL;
	nr_buf clean = NR_BUF_INIT, resolved = NR_BUF_INIT;
	char **want = NULL;
	size_t nwant = 0, i, pass;
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
	for (i = 0; i < req->npaths; i++) {
		size_t k;
		if (req->paths[i] == NULL) {
			error = nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: paths[%zu] is NULL", i);
			goto done;
		}
		if (nr__path_clean(&clean, req->paths[i], strlen(req->paths[i])) < 0)
			goto oom;
		for (k = 0; k < nwant; k++)
			if (strcmp(want[k], clean.ptr) == 0)
				break;
		if (k < nwant)
			continue;
		if ((want[nwant] = nr__strdup(clean.ptr)) == NULL)
			goto oom;
		nwant++;
		if (track(&sc, clean.ptr) < 0)
			goto oom;
	}
	for (pass = 0; ; pass++) {
		bool again = false;

		nr__lscan_opts lo;
		const char **tracked;

		scan_reset_states(&sc);
		/* The layers are read in parallel (scancache.c) and applied here in order. */
		if ((tracked = nr__calloc(sc.nt + 1, sizeof(*tracked))) == NULL)
			goto oom;
		for (i = 0; i < sc.nt; i++)
			tracked[i] = sc.t[i].path;
		memset(&lo, 0, sizeof(lo));
		lo.tracked = tracked;
		lo.ntracked = sc.nt;
		lo.content_max = sc.content_max;
		lo.req = req;
		error = nr__lscan_run(layers, nlayers, &lo, apply_layer, &sc, err);
		free(tracked);
		if (error < 0)
			goto done;
		/* Hard links whose target was not tracked, and symlinks on the way. */
		for (i = 0; i < nwant; i++) {
			tstate *fin;
			unsigned int flags = 0;
			int links = 0, r;
			nr_buf_truncate(&resolved, 0);
			if ((r = resolve(&sc, want[i], true, &fin, &resolved, &flags, &links)) < 0)
				goto oom;
		}
		for (i = 0; i < sc.nneed; i++) {
			if (!find_tracked(&sc, sc.need[i], strlen(sc.need[i]))) {
				if (track(&sc, sc.need[i]) < 0)
					goto oom;
				again = true;
			}
			free(sc.need[i]);
		}
		sc.nneed = 0;
		if (!again)
			break;
		if (pass + 1 >= MAX_PASSES) {
			error = nr__error_set(err, NR_EINVALID, NULL, 0, 0,
				"too many links to follow while scanning the layers");
			goto done;
		}
	}
	if ((res = nr__calloc(1, sizeof(*res))) == NULL ||
	    (res->e = nr__calloc(nwant + 1, sizeof(*res->e))) == NULL)
		goto oom;
	for (i = 0; i < nwant; i++) {
		tstate *fin = NULL, *self;
		unsigned int flags = 0;
		int links = 0;
		nr_scan_entry *e = &res->e[res->ne];

		nr_buf_truncate(&resolved, 0);
		if (resolve(&sc, want[i], true, &fin, &resolved, &flags, &links) < 0)
			goto oom;
		if (fin && fin->type == NR_ENTRY_SYMLINK)
			fin = NULL;   /* cannot happen when followed; be safe */
		res->ne++;
		if (fill_entry(e, fin, want[i]) < 0)
			goto oom;
		e->flags |= flags;
		if ((e->resolved = nr__strndup(resolved.ptr ? resolved.ptr : "",
				resolved.size)) == NULL)
			goto oom;
		self = find_tracked(&sc, want[i], strlen(want[i]));
		if (self && self->present && self->type == NR_ENTRY_SYMLINK &&
		    (e->link_target = nr__strdup(self->link)) == NULL)
			goto oom;
		if (*want[i] == '\0') {
			e->type = NR_ENTRY_DIRECTORY;   /* the root */
			e->mode = 0755;
		}
	}
	if (setid_next_layer(&sc) < 0)   /* only live entries remain */
		goto oom;
	if (sc.nsetid) {
		if ((res->setid = nr__calloc(sc.nsetid, sizeof(*res->setid))) == NULL)
			goto oom;
		for (i = 0; i < sc.nsetid; i++) {
			res->nsetid++;
			if (fill_entry(&res->setid[i], &sc.setid[i], sc.setid[i].path) < 0)
				goto oom;
			if ((res->setid[i].resolved = nr__strdup(sc.setid[i].path)) == NULL)
				goto oom;
		}
		qsort(res->setid, res->nsetid, sizeof(*res->setid), cmp_entry);
		/* the capabilities, in the sorted order (sc.setid is sorted by path too) */
		if ((res->caps = nr__calloc(sc.nsetid, sizeof(*res->caps))) == NULL)
			goto oom;
		for (i = 0; i < res->nsetid; i++) {
			const char *sp = res->setid[i].path;
			size_t j = lower_bound(&sc, sp, strlen(sp));
			const tstate *t = j < sc.nlower ? &sc.setid[j] : NULL;
			if (t == NULL || t->caps == NULL || t->plen != strlen(sp) ||
			    memcmp(t->path, sp, t->plen) != 0)
				continue;
			if ((res->caps[i].data = nr__malloc(t->caps_len + 1)) == NULL)
				goto oom;
			memcpy(res->caps[i].data, t->caps, t->caps_len + 1);
			res->caps[i].len = t->caps_len;
		}
	}
	*out = res;
	res = NULL;
	goto done;
oom:
	error = nr__error_oom(err);
done:
	nr_scan_result_free(res);
	for (i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	scan_dispose(&sc);
	nr_buf_dispose(&clean);
	nr_buf_dispose(&resolved);
	return error;
}

const nr_scan_entry *nr_scan_result_get(const nr_scan_result *res, const char *path)
{
	nr_buf clean = NR_BUF_INIT;
	const nr_scan_entry *found = NULL;
	size_t i;

	if (res == NULL || path == NULL || nr__path_clean(&clean, path, strlen(path)) < 0) {
		nr_buf_dispose(&clean);
		return NULL;
	}
	for (i = 0; i < res->ne; i++)
		if (strcmp(res->e[i].path, clean.ptr) == 0) {
			found = &res->e[i];
			break;
		}
	nr_buf_dispose(&clean);
	return found;
}

size_t nr_scan_result_count(const nr_scan_result *res)
{
	return res ? res->ne : 0;
}

const nr_scan_entry *nr_scan_result_entry(const nr_scan_result *res, size_t k)
{
	return res && k < res->ne ? &res->e[k] : NULL;
}

size_t nr_scan_result_setid_count(const nr_scan_result *res)
{
	return res ? res->nsetid : 0;
}

const nr_scan_entry *nr_scan_result_setid(const nr_scan_result *res, size_t k)
{
	return res && k < res->nsetid ? &res->setid[k] : NULL;
}

const nr__scan_caps *nr__scan_result_caps(const nr_scan_result *res, size_t k)
{
	if (res == NULL || k >= res->nsetid || res->caps == NULL || res->caps[k].data == NULL)
		return NULL;
	return &res->caps[k];
}
