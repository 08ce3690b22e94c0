/*
 * layers.c: the streaming scan over a layer stack: tracked paths, set-id files, and each
 * layer's members applied to them (layerscan.h; layers_result.c resolves and reports).
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
#include <stdio.h>
#include <sys/stat.h>

#include <archive_entry.h>

#include "layerscan.h"

/* ---- tracked state ----------------------------------------------------------------------- */

void nr__tstate_clear(nr__tstate *s)
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

nr__tstate *nr__scan_find_tracked(nr__scan *sc, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sc->nt; i++)
		if (sc->t[i].plen == n && memcmp(sc->t[i].path, p, n) == 0)
			return &sc->t[i];
	return NULL;
}

static int track_one(nr__scan *sc, const char *p, size_t n)
{
	nr__tstate *s;

	if (nr__scan_find_tracked(sc, p, n))
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
int nr__scan_track(nr__scan *sc, const char *p)
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

int nr__scan_add_need(nr__scan *sc, const char *p)
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

static size_t lower_bound_under(const nr__scan *sc, const char *dir, size_t dn);
static size_t live_from(nr__scan *sc, size_t i);
static void lower_kill(nr__scan *sc, size_t i);

/* Remove lower-layer state at/under `dir` (strict: only strictly under). */
static void hide(nr__scan *sc, const char *dir, size_t dn, bool strict, size_t layer)
{
	size_t i;

	for (i = 0; i < sc->nt; i++) {
		nr__tstate *s = &sc->t[i];
		if (s->present && s->layer < layer && under(s->path, s->plen, dir, dn, strict))
			nr__tstate_clear(s);
	}
	/* set-id files: only the lower part is below this layer; the ones under dir are one
	 * run of the sorted order ("dir" itself, then "dir/..." from nr__scan_lower_bound("dir/")) */
	if (sc->nlower == 0)
		return;
	if (dn == 0) {
		for (i = live_from(sc, 0); i < sc->nlower; i = live_from(sc, i + 1))
			if (!strict || sc->setid[i].plen > 0)
				lower_kill(sc, i);
		return;
	}
	if (!strict) {
		i = nr__scan_lower_bound(sc, dir, dn);
		if (i < sc->nlower && sc->setid[i].present && sc->setid[i].plen == dn &&
		    memcmp(sc->setid[i].path, dir, dn) == 0)
			lower_kill(sc, i);
	}
	for (i = live_from(sc, lower_bound_under(sc, dir, dn)); i < sc->nlower &&
	     under(sc->setid[i].path, sc->setid[i].plen, dir, dn, true); i = live_from(sc, i + 1))
		lower_kill(sc, i);
}

static void imply_parents(nr__scan *sc, const char *dir, size_t dn, size_t layer)
{
	size_t i;

	for (i = 0; i < sc->nt; i++) {
		nr__tstate *s = &sc->t[i];
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
	const nr__tstate *a = x, *b = y;

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
size_t nr__scan_lower_bound(const nr__scan *sc, const char *p, size_t n)
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
static size_t lower_bound_under(const nr__scan *sc, const char *dir, size_t dn)
{
	size_t lo = 0, hi = sc->nlower;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const nr__tstate *t = &sc->setid[mid];
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
static size_t live_from(nr__scan *sc, size_t i)
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

static void lower_kill(nr__scan *sc, size_t i)
{
	nr__tstate_clear(&sc->setid[i]);
	sc->snext[i] = i + 1;
}

/* This layer's entry at (p, n), live or not; NULL when none. */
static nr__tstate *cur_find(nr__scan *sc, const char *p, size_t n)
{
	size_t i;

	if (sc->nhead == 0)
		return NULL;
	for (i = sc->hhead[path_hash(p, n) % sc->nhead]; i != SIZE_MAX; i = sc->hnext[i]) {
		nr__tstate *s = &sc->setid[sc->nlower + i];
		if (s->plen == n && memcmp(s->path, p, n) == 0)
			return s;
	}
	return NULL;
}

/* The live set-id entry at (p, n), of this layer or a lower one; NULL when none. */
static nr__tstate *setid_find(nr__scan *sc, const char *p, size_t n)
{
	nr__tstate *s = cur_find(sc, p, n);
	size_t i;

	if (s && s->present)
		return s;
	i = nr__scan_lower_bound(sc, p, n);
	if (i < sc->nlower && sc->setid[i].present && sc->setid[i].plen == n &&
	    memcmp(sc->setid[i].path, p, n) == 0)
		return &sc->setid[i];
	return NULL;
}

static void setid_remove(nr__scan *sc, const char *p, size_t n)
{
	nr__tstate *s = setid_find(sc, p, n);

	if (s == NULL)
		return;
	if ((size_t)(s - sc->setid) < sc->nlower)
		lower_kill(sc, (size_t)(s - sc->setid));
	else
		nr__tstate_clear(s);
}

/* Start a new layer: the live entries of the last one join the sorted lower part. */
int nr__scan_setid_next_layer(nr__scan *sc)
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
static int setid_add(nr__scan *sc, const char *p, size_t n, uint32_t mode, uint64_t uid,
	uint64_t gid, uint64_t size, int64_t mtime, const char *caps, size_t caps_len,
	size_t layer)
{
	nr__tstate *s;
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
				nr__tstate *t = &sc->setid[sc->nlower + i];
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

/* ---- applying one layer's members (read by scanrec.c) -------------------------------- */

/* A whiteout entry (base starts with ".wh."): hide what it names in lower layers. */
static int apply_whiteout(nr__scan *sc, const char *p, size_t n, size_t dn, const char *base,
	size_t layer, nr__buf *tmp)
{
	if (strcmp(base, ".wh..wh..opq") == 0) {
		hide(sc, p, dn, true, layer);
	} else if (strncmp(base, ".wh..wh.", 8) != 0) {
		/* target = dir + "/" + name without ".wh." */
		nr__buf_truncate(tmp, 0);
		if (dn > 0) {
			nr__buf_put(tmp, p, dn);
			nr__buf_putc(tmp, '/');
		}
		nr__buf_put(tmp, base + 4, n - (size_t)(base - p) - 4);
		if (tmp->oom)
			return nr__error_oom(sc->err);
		hide(sc, tmp->ptr, tmp->size, false, layer);
	}
	return 0;
}

/* Privileged files: set-id bits (when asked) and file capabilities (when asked). */
static int apply_privileged(nr__scan *sc, const nr__lent *e, size_t layer, nr__buf *tmp)
{
	const char *p = e->path, *hl = e->hardlink;
	size_t n = e->plen;
	nr__tstate *t = NULL;
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
	if (hl == NULL && e->ft == AE_IFREG && (setid || caps)) {
		if (setid_add(sc, p, n, e->perm & 07777, e->uid, e->gid,
		    e->size > 0 ? (uint64_t)e->size : 0, e->mtime, caps ? e->caps : NULL,
		    e->caps_len, layer) < 0)
			return nr__error_oom(sc->err);
	} else if (hl != NULL && caps) {
		/* the xattrs of a hard link member are set on the inode it shares: the
		 * capabilities hold under both names */
		uint32_t mode = t ? t->mode : e->perm & 07777;
		uint64_t uid = t ? t->uid : e->uid, gid = t ? t->gid : e->gid;
		uint64_t size = t ? t->size : e->size > 0 ? (uint64_t)e->size : 0;
		int64_t mtime = t ? t->mtime : e->mtime;
		if (setid_add(sc, p, n, mode, uid, gid, size, mtime, e->caps, e->caps_len,
		    layer) < 0 ||
		    (other && setid_add(sc, tmp->ptr, tmp->size, mode, uid, gid, size, mtime,
		    e->caps, e->caps_len, layer) < 0))
			return nr__error_oom(sc->err);
	} else if (t != NULL) {
		nr__tstate tc = *t;
		if (setid_add(sc, p, n, tc.mode, tc.uid, tc.gid, tc.size, tc.mtime, tc.caps,
		    tc.caps_len, layer) < 0)
			return nr__error_oom(sc->err);
	} else if (sc->nsetid) {
		setid_remove(sc, p, n);
	}
	return 0;
}

/* A hard link at tracked state s: the current state of its target (same inode). */
static int apply_hardlink(nr__scan *sc, nr__tstate *s, const char *hl, size_t layer,
	nr__buf *tmp)
{
	nr__tstate *t;

	if (nr__path_clean(tmp, hl, strlen(hl)) < 0)
		return nr__error_oom(sc->err);
	t = nr__scan_find_tracked(sc, tmp->ptr, tmp->size);
	if (t == s)
		return 0;
	nr__tstate_clear(s);
	s->present = true;
	s->layer = layer;
	if ((s->hardlink = nr__strndup(tmp->ptr, tmp->size)) == NULL)
		return nr__error_oom(sc->err);
	if (t == NULL) {
		/* Target not tracked in this pass: track it and scan again. */
		s->type = NR_ENTRY_REGULAR;
		return nr__scan_add_need(sc, tmp->ptr) < 0 ? nr__error_oom(sc->err) : 0;
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

/* Any other entry at tracked state s: its own state. */
static int apply_state(nr__scan *sc, nr__tstate *s, const nr__lent *e, size_t layer)
{
	mode_t ft = e->ft;

	nr__tstate_clear(s);
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
			if (e->content == NULL)   /* scanrec.c captures every tracked file */
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

static int apply_entry(nr__scan *sc, const nr__lent *e, size_t layer, nr__buf *tmp)
{
	const char *p = e->path;
	size_t n = e->plen;
	const char *base = memrchr(p, '/', n);
	size_t dn = base ? (size_t)(base - p) : 0;
	nr__tstate *s;
	int error;

	base = base ? base + 1 : p;
	/* Every entry implies its parent directories (tars need not list them). */
	if (dn > 0)
		imply_parents(sc, p, dn, layer);
	if (n - dn >= 4 && strncmp(base, ".wh.", 4) == 0)
		return apply_whiteout(sc, p, n, dn, base, layer, tmp);
	if (n == 0)
		return 0;   /* the root itself ("./") */
	/* A non-directory replaces whatever was under that path in lower layers. */
	if (e->hardlink != NULL || e->ft != AE_IFDIR)
		hide(sc, p, n, true, layer);
	if ((sc->want_setid || sc->want_caps) &&
	    (error = apply_privileged(sc, e, layer, tmp)) < 0)
		return error;
	if ((s = nr__scan_find_tracked(sc, p, n)) == NULL)
		return 0;
	if (e->hardlink != NULL)
		return apply_hardlink(sc, s, e->hardlink, layer, tmp);
	return apply_state(sc, s, e, layer);
}

int nr__scan_apply_layer(void *ctx, size_t layer, const nr__lrec *rec)
{
	nr__scan *sc = ctx;
	nr__buf tmp = NR__BUF_INIT;
	size_t k, n = nr__lrec_count(rec);
	int error = 0;

	if (nr__scan_setid_next_layer(sc) < 0)
		return nr__error_oom(sc->err);
	for (k = 0; k < n && error == 0; k++)
		error = apply_entry(sc, nr__lrec_get(rec, k), layer, &tmp);
	nr__buf_dispose(&tmp);
	return error;
}

void nr__scan_dispose(nr__scan *sc)
{
	size_t i;

	for (i = 0; i < sc->nt; i++) {
		nr__tstate_clear(&sc->t[i]);
		free(sc->t[i].path);
	}
	for (i = 0; i < sc->nsetid; i++) {
		nr__tstate_clear(&sc->setid[i]);
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

void nr__scan_reset_states(nr__scan *sc)
{
	size_t i;

	for (i = 0; i < sc->nt; i++)
		nr__tstate_clear(&sc->t[i]);
	for (i = 0; i < sc->nsetid; i++) {
		nr__tstate_clear(&sc->setid[i]);
		free(sc->setid[i].path);
	}
	sc->nsetid = sc->nlower = 0;
	free(sc->snext);
	free(sc->hhead);
	free(sc->hnext);
	sc->snext = sc->hhead = sc->hnext = NULL;
	sc->nhead = sc->ahnext = 0;
}

