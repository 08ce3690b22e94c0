/*
 * tempreg.c: the process-wide list of the temporary files and directories that exist right now
 * (temp dirs of nr__mkdtemp, ".<stem>.nr-<hex>" files of nr__temp_create_at), so that a program
 * interrupted by a signal can remove them all before it dies (nr__temp_remove_all).
 *
 * Creators hold the list's lock (nr__temp_lock) while they create and add the entry, so a
 * cleanup never runs between the two; removers drop the entry after removing (or renaming), so
 * an entry may name something already gone (harmless: its removal fails with ENOENT) but
 * nothing that exists is ever missing from the list. When an entry cannot be added (out of
 * memory), the creator removes what it made and fails.
 *
 * Not async-signal-safe (mutex, malloc, nftw): nr__temp_remove_all is meant to be called from an
 * ordinary thread, e.g. the CLI's sigwait thread (cli/interrupt.c), never from a signal handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "fileio.h"
#include "image_internal.h"   /* nr__rmtree */

typedef struct tempent {
	char *path;   /* a directory tree (dirfd -1) or a file name relative to dirfd */
	int dirfd;    /* our own dup of the directory fd of a temp file; -1 for a tree */
	int lockfd;   /* a tree: its directory, open and flock'ed for the tree's life (or -1), so
	               * a later run never takes it for a dead run's (nr__temp_remove_stale_dirs) */
} tempent;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static tempent *reg;
static size_t reg_n, reg_cap;

void nr__temp_lock(void)
{
	pthread_mutex_lock(&reg_mu);
}

void nr__temp_unlock(void)
{
	pthread_mutex_unlock(&reg_mu);
}

/* Called with reg_mu held (nr__temp_lock). 0, or -1 (errno set) when it cannot be listed. */
static int track(const char *path, int dirfd)
{
	char *p;
	int fd = -1, lockfd = -1;

	if ((p = nr__strdup(path)) == NULL)
		return -1;
	if (dirfd >= 0 && (fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3)) < 0) {
		free(p);
		return -1;
	}
	if (dirfd < 0 && (lockfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
		(void)flock(lockfd, LOCK_EX | LOCK_NB);
	if (reg_n == reg_cap) {
		size_t nc = reg_cap ? reg_cap * 2 : 16;
		tempent *nv = nr__realloc(reg, nc * sizeof(*nv));
		if (nv == NULL) {
			free(p);
			if (fd >= 0)
				close(fd);
			if (lockfd >= 0)
				close(lockfd);
			errno = ENOMEM;
			return -1;
		}
		reg = nv;
		reg_cap = nc;
	}
	reg[reg_n].path = p;
	reg[reg_n].dirfd = fd;
	reg[reg_n].lockfd = lockfd;
	reg_n++;
	return 0;
}

static void untrack(const char *path, bool file)
{
	size_t i;

	if (path == NULL)
		return;
	pthread_mutex_lock(&reg_mu);
	for (i = reg_n; i-- > 0;) {
		if ((reg[i].dirfd >= 0) == file && strcmp(reg[i].path, path) == 0) {
			free(reg[i].path);
			if (reg[i].dirfd >= 0)
				close(reg[i].dirfd);
			if (reg[i].lockfd >= 0)
				close(reg[i].lockfd);
			reg[i] = reg[--reg_n];
			break;
		}
	}
	if (reg_n == 0) {   /* nothing live: no memory held either */
		free(reg);
		reg = NULL;
		reg_cap = 0;
	}
	pthread_mutex_unlock(&reg_mu);
}

int nr__temp_track_dir(const char *path)
{
	return track(path, -1);
}

void nr__temp_untrack_dir(const char *path)
{
	untrack(path, false);
}

int nr__temp_track_at(int dirfd, const char *name)
{
	return track(name, dirfd);
}

void nr__temp_untrack_at(const char *name)
{
	untrack(name, true);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

/* A temp directory tree removed (no symlink followed) and dropped from the list. */
void nr__rmtree(const char *path)
{
	if (path) {
		nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		nr__temp_untrack_dir(path);
	}
}

size_t nr__temp_remove_all(void)
{
	size_t i, done = 0;
	int k;
	struct stat st;

	/* Taken and never released: whoever tracks or untracks from now on waits for the exit
	 * that follows, so nothing new is created behind our back under a name we do not know. */
	pthread_mutex_lock(&reg_mu);
	for (i = 0; i < reg_n; i++) {
		if (reg[i].dirfd >= 0) {
			if (unlinkat(reg[i].dirfd, reg[i].path, 0) == 0)
				done++;
			continue;
		}
		/* Other threads may still be writing into the tree: a file they create between
		 * our unlinks and the final rmdir makes it fail (ENOTEMPTY), so go again; once the
		 * directory is gone nothing can be created in it any more. */
		for (k = 0; k < 50 && lstat(reg[i].path, &st) == 0; k++)
			nftw(reg[i].path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		if (lstat(reg[i].path, &st) < 0 && errno == ENOENT)
			done++;
	}
	return done;
}
