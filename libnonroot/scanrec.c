/*
 * scanrec.c: a layer's scan record: its entries in an arena, and the builder that reads the
 * layer's tar (layer_archive.c) into one: every member's metadata, and the content of the
 * files the scan tracks and of the account files (scanrec.h, scancache.h).
 */
#include <errno.h>

#include <archive.h>
#include <archive_entry.h>

#include "scanrec.h"
#include "layer_archive.h"

/* Always captured (when small enough), so a cached record serves every patch. */
/* Always captured (when small enough), so a cached record serves every patch. */
static const char *const account_files[] = {
	"etc/passwd", "etc/group", "etc/shadow", "etc/gshadow",
};

size_t nr__lrec_count(const nr__lrec *r)
{
	return r->n;
}

const nr__lent *nr__lrec_get(const nr__lrec *r, size_t i)
{
	return &r->e[i];
}

void nr__lrec_free(nr__lrec *r)
{
	nr__arena_blk *b, *next;

	if (r == NULL)
		return;
	for (b = r->blk; b; b = next) {
		next = b->next;
		free(b);
	}
	free(r->e);
	free(r);
}

/* Copy len bytes + NUL into the record's arena. */
const char *nr__lrec_dup(nr__lrec *r, const char *s, size_t len)
{
	nr__arena_blk *b = r->blk;
	char *p;

	if (b == NULL || b->size - b->used < len + 1) {
		size_t sz = len + 1 > NR__LREC_ARENA_BLOCK ? len + 1 : NR__LREC_ARENA_BLOCK;
		if ((b = nr__malloc(sizeof(*b) + sz)) == NULL)
			return NULL;
		b->size = sz;
		b->used = 0;
		b->next = r->blk;
		r->blk = b;
	}
	p = b->data + b->used;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

nr__lent *nr__lrec_add(nr__lrec *r)
{
	if (nr__array_grow((void **)&r->e, &r->alloc, r->n + 1, sizeof(*r->e)) < 0)
		return NULL;
	memset(&r->e[r->n], 0, sizeof(r->e[r->n]));
	return &r->e[r->n++];
}

static bool in_list(const char *const *list, size_t n, const char *p, size_t plen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(list[i]) == plen && memcmp(list[i], p, plen) == 0)
			return true;
	return false;
}

static bool wants_content(const nr__lscan_opts *o, const char *p, size_t plen)
{
	return in_list(o->tracked, o->ntracked, p, plen) ||
		in_list(account_files, NR_ARRAY_SIZE(account_files), p, plen);
}

/* Does the record hold every content the scan will ask for? */
bool nr__lrec_serves(const nr__lrec *r, const nr__lscan_opts *o)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const nr__lent *e = &r->e[i];
		if (e->ft == AE_IFREG && e->hardlink == NULL && e->content == NULL &&
		    e->size >= 0 && (uint64_t)e->size <= o->content_max &&
		    in_list(o->tracked, o->ntracked, e->path, e->plen))
			return false;
	}
	return true;
}

/* ---- one layer from its blob ------------------------------------------------------------ */

/* A member's file capabilities: the security.capability xattr (PAX SCHILY.xattr.* or
 * LIBARCHIVE.xattr.*, both read by libarchive), which the runtime applies like a set-id bit.
 * The last one wins, as it does when an unpacker sets them in turn. -1 on OOM. */
static int read_caps(nr__lrec *r, nr__lent *le, struct archive_entry *e)
{
	const char *name;
	const void *value;
	size_t size;

	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (name == NULL || strcmp(name, "security.capability") != 0)
			continue;
		if ((le->caps = nr__lrec_dup(r, value ? value : "", value ? size : 0)) == NULL)
			return -1;
		le->caps_len = value ? size : 0;
	}
	return 0;
}

static int read_content(nr__lrec *r, nr__lent *le, struct archive *a, const char *digest,
	nr_error *err)
{
	size_t n = (size_t)le->size, got = 0;
	char *buf;

	if ((buf = nr__malloc(n + 1)) == NULL)
		return nr__error_oom(err);
	while (got < n) {
		la_ssize_t k = archive_read_data(a, buf + got, n - got);
		if (k < 0) {
			int e = nr__archive_truncated(a) ?
				nr__error_set(err, NR_EINVALID, digest, 0, 0,
					"layer member %s is cut short (%zu of %zu bytes): %s", le->path,
					got, n, archive_error_string(a)) :
				nr__error_set(err, NR_EINVALID, digest, 0, 0,
					"layer %s: %s", le->path, archive_error_string(a));
			free(buf);
			return e;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	if (got != n) {
		free(buf);
		return nr__error_set(err, NR_EINVALID, digest, 0, 0,
			"layer member %s is cut short (%zu of %zu bytes)", le->path, got, n);
	}
	le->content = nr__lrec_dup(r, buf, n);
	le->content_len = n;
	free(buf);
	return le->content ? 0 : nr__error_oom(err);
}

/* A member's metadata as a new entry of rec (its path cleaned in *path). NR_ENOMEM or 0. */
static int add_entry(nr__lrec *rec, nr__lent **out, nr__buf *path, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e), *hl;
	nr__lent *le;

	if (name == NULL)
		name = "";
	if (nr__path_clean(path, name, strlen(name)) < 0 || (le = nr__lrec_add(rec)) == NULL ||
	    (le->path = nr__lrec_dup(rec, path->ptr, path->size)) == NULL)
		return NR_ENOMEM;
	le->plen = path->size;
	le->ft = archive_entry_filetype(e);
	le->perm = archive_entry_perm(e);
	le->uid = (uint64_t)archive_entry_uid(e);
	le->gid = (uint64_t)archive_entry_gid(e);
	le->mtime = (int64_t)archive_entry_mtime(e);
	le->size = archive_entry_size(e);
	if ((hl = archive_entry_hardlink(e)) != NULL &&
	    (le->hardlink = nr__lrec_dup(rec, hl, strlen(hl))) == NULL)
		return NR_ENOMEM;
	if (read_caps(rec, le, e) < 0)
		return NR_ENOMEM;
	if (hl == NULL && le->ft == AE_IFLNK) {
		const char *l = archive_entry_symlink(e);
		if ((le->symlink = nr__lrec_dup(rec, l ? l : "", l ? strlen(l) : 0)) == NULL)
			return NR_ENOMEM;
	}
	*out = le;
	return 0;
}

/*
 * Read a member's data through (no copy: libarchive hands out its read-ahead buffer) so that
 * a member cut short is told apart from a complete one that lacks only its padding.
 * 0: read; 1: complete, but the archive ends here without its padding; < 0: an error.
 */
static int skip_data(nr__layer_archive *la, const nr__lent *le, struct archive_entry *e,
	const char *digest, nr_error *err)
{
	struct archive *a = nr__layer_archive_reader(la);
	int64_t want = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	int64_t got = 0;
	const void *blk;
	size_t bn;
	la_int64_t off;
	int r;

	if (le->hardlink != NULL || le->ft != AE_IFREG)
		want = 0;
	for (;;) {
		r = archive_read_data_block(a, &blk, &bn, &off);
		if (r == ARCHIVE_EOF || r < ARCHIVE_WARN)
			break;
		if (off + (int64_t)bn > got)
			got = off + (int64_t)bn;
	}
	if (r < ARCHIVE_WARN && (nr__layer_archive_error(la) || got < want ||
	    !nr__archive_truncated(a)))
		return nr__layer_archive_error(la) ? nr__layer_archive_error(la) :
			nr__error_set(err, NR_EINVALID, digest, 0, 0,
				"layer member %s is cut short (%lld of %lld bytes): %s", le->path,
				(long long)got, (long long)want, archive_error_string(a));
	return r < ARCHIVE_WARN ? 1 : 0;
}

int nr__lrec_build(nr__lrec **out, const nr__layer_ref *ref, size_t layer, size_t nlayers,
	const nr__lscan_opts *o, pthread_mutex_t *plock, nr_error *err)
{
	nr__layer_progress prog = { o->req ? o->req->progress : NULL,
		o->req ? o->req->payload : NULL, layer, nlayers, plock };
	nr__layer_archive *la = NULL;
	struct archive *a;
	struct archive_entry *e;
	nr__lrec *rec = NULL;
	nr__buf path = NR__BUF_INIT;
	int error = 0, r;
	size_t nmembers = 0;

	*out = NULL;
	if ((rec = nr__calloc(1, sizeof(*rec))) == NULL)
		return nr__error_oom(err);
	if ((error = nr__layer_archive_open(&la, ref, &prog, err)) < 0) {
		if (la)
			goto check;
		goto done;
	}
	a = nr__layer_archive_reader(la);
	for (;;) {
		nr__lent *le;

		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN && nr__layer_archive_error(la) == 0 && nmembers > 0 &&
		    nr__archive_truncated(a)) {
			/* The stream ends after a complete member, without its padding or the
			 * end-of-archive blocks (umoci 0.4.7 insert writes such layers). Every
			 * member was read in full; the digest check below still applies. */
			break;
		}
		if (r < ARCHIVE_WARN) {
			error = nr__layer_archive_error(la) ? nr__layer_archive_error(la) :
				nr__error_set(err, NR_EINVALID, ref->digest, 0, 0,
					"layer is not a readable tar or is cut short: %s",
					archive_error_string(a));
			goto check;
		}
		if (add_entry(rec, &le, &path, e) < 0) {
			error = nr__error_oom(err);
			goto done;
		}
		nmembers++;
		if (le->hardlink == NULL && le->ft == AE_IFREG && le->size >= 0 &&
		    (uint64_t)le->size <= o->content_max && wants_content(o, le->path, le->plen)) {
			if ((error = read_content(rec, le, a, ref->digest, err)) < 0) {
				if (nr__layer_archive_error(la) == 0 && error == NR_EINVALID)
					goto check;
				goto done;
			}
			continue;
		}
		if ((r = skip_data(la, le, e, ref->digest, err)) < 0) {
			error = r;
			goto check;
		}
		if (r > 0)
			break;   /* complete member, missing padding: the end */
	}
check:
	error = nr__layer_archive_finish(la, error, rec->plain, err);
done:
	nr__layer_archive_free(la);
	nr__buf_dispose(&path);
	if (error < 0)
		nr__lrec_free(rec);
	else
		*out = rec;
	return error;
}
