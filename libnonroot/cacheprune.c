/*
 * cacheprune.c: `nonroot cache prune` (see cacheprune.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "cacheprune.h"
#include "fileio.h"

typedef struct pent {
	char name[80];
	struct timespec used;
	uint64_t size;
} pent;

typedef struct plist {
	pent *v;
	size_t n, cap;
} plist;

/* "<64 hex>.scan" (a record) or "<64 hex>" (a marker) */
static bool cache_name(const char *name, bool record)
{
	size_t n = strlen(name);

	if (strspn(name, "0123456789abcdef") != 64)
		return false;
	return record ? n == 69 && strcmp(name + 64, ".scan") == 0 : n == 64;
}

/* The files of dfd named like records or markers: regular files of ours (never a symlink). */
static int list_dir(plist *l, int dfd, bool record, const char *what, nr_error *err)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return nr__error_errno(err, errno, what, "open");
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return nr__error_errno(err, errno, what, "open");
	}
	while ((de = readdir(d)) != NULL) {
		if (!cache_name(de->d_name, record) ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (l->n == l->cap) {
			size_t nc = l->cap ? l->cap * 2 : 64;
			pent *nv = nr__realloc(l->v, nc * sizeof(*nv));
			if (nv == NULL) {
				closedir(d);
				return nr__error_oom(err);
			}
			l->v = nv;
			l->cap = nc;
		}
		/* at most 69 bytes and a NUL (cache_name checked it): fits name[80] */
		memcpy(l->v[l->n].name, de->d_name, strlen(de->d_name) + 1);
		l->v[l->n].used = st.st_mtim;
		l->v[l->n].size = (uint64_t)st.st_size;
		l->n++;
	}
	closedir(d);
	return 0;
}

/* least recently used first; ties by name, so a prune is reproducible */
static int by_use(const void *a, const void *b)
{
	const pent *x = a, *y = b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool too_old(const pent *e, const nr__prune_opts *o, time_t now)
{
	return o->max_age > 0 && (int64_t)(now - e->used.tv_sec) > o->max_age;
}

/* Remove e (still the regular file we listed: unlinkat never follows a symlink, and a name
 * that became something else is left alone). */
static bool drop(int dfd, const pent *e, bool dry)
{
	struct stat st;

	if (dry)
		return true;
	if (fstatat(dfd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return false;
	return unlinkat(dfd, e->name, 0) == 0;
}

int nr__scancache_prune(const char *dir, const nr__prune_opts *o, nr__prune_stats *st,
	nr_error *err)
{
	plist recs = { 0 }, marks = { 0 };
	int dfd = -1, lfd = -1, vfd = -1, error = 0;
	time_t now = time(NULL);
	uint64_t total = 0;
	size_t i;
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (o->tmpdirs)
		st->tmpdirs = o->dry_run ? nr__temp_count_stale_dirs(o->tmpdir, &st->tmpdir_bytes) :
			nr__temp_remove_stale_dirs(o->tmpdir, &st->tmpdir_bytes);
	if (dir == NULL || *dir == '\0')
		return 0;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		return nr__error_errno(err, errno, dir, "open the layer-scan cache");
	}
	/* as nr__scancache_open: only a directory of ours that nobody else may write */
	if (fstat(dfd, &sb) < 0 || sb.st_uid != geteuid() || (sb.st_mode & 022)) {
		error = nr__error_set(err, NR_EINVALID, dir, 0, 0,
			"the layer-scan cache is not a private directory of the user running nonroot");
		goto done;
	}
	lfd = openat(dfd, "layers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	vfd = openat(dfd, "verified", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if ((lfd < 0 && errno != ENOENT) || (vfd < 0 && errno != ENOENT)) {
		error = nr__error_errno(err, errno, dir, "open layers/ or verified/ (a symlink?)");
		goto done;
	}
	if (lfd >= 0) {
		if (!o->dry_run)
			st->temps += nr__temp_remove_stale_at(lfd, NULL, &st->temp_bytes);
		if ((error = list_dir(&recs, lfd, true, "layers", err)) < 0)
			goto done;
	}
	if (vfd >= 0 && (error = list_dir(&marks, vfd, false, "verified", err)) < 0)
		goto done;
	if (!o->dry_run)
		st->temps += nr__temp_remove_stale_at(dfd, NULL, &st->temp_bytes);

	/* records: too old ones, then the least recently used until the rest fit */
	if (recs.n)
		qsort(recs.v, recs.n, sizeof(*recs.v), by_use);
	for (i = 0; i < recs.n; i++)
		if (!too_old(&recs.v[i], o, now))
			total += recs.v[i].size;
	for (i = 0; i < recs.n; i++) {
		pent *e = &recs.v[i];
		bool old = too_old(e, o, now);
		if (old || total > o->max_size) {
			if (drop(lfd, e, o->dry_run)) {
				st->records++;
				st->record_bytes += e->size;
			}
			if (!old)
				total -= e->size;
			continue;
		}
		st->kept_records++;
		st->kept_bytes += e->size;
	}
	/* markers: empty files, bounded by age */
	for (i = 0; i < marks.n; i++) {
		if (too_old(&marks.v[i], o, now) && drop(vfd, &marks.v[i], o->dry_run))
			st->markers++;
		else
			st->kept_markers++;
	}
done:
	free(recs.v);
	free(marks.v);
	if (lfd >= 0)
		close(lfd);
	if (vfd >= 0)
		close(vfd);
	if (dfd >= 0)
		close(dfd);
	return error;
}
