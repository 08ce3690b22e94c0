/*
 * scanrun.c: the parallel layer scan (nr__lscan_run, scancache.h): a worker per layer
 * (bounded by cores and a window ahead of the consumer) loads its record from the cache or
 * builds it from the blob; the records are applied on the calling thread in layer order.
 */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "scanrec.h"

#define MAX_WORKERS 8

typedef struct job {
	nr__lrec *rec;
	nr_error err;
	int error;
	bool done;
} job;

typedef struct driver {
	const nr__layer_ref *layers;
	size_t n;
	const nr__lscan_opts *o;
	nr__scancache *cache;
	job *jobs;
	size_t next, consumed, window;
	bool stop;
	pthread_mutex_t lock, plock;
	pthread_cond_t cond;
	bool threaded;
} driver;

static void run_job(driver *d, size_t i)
{
	const nr__layer_ref *ref = &d->layers[i];
	job *j = &d->jobs[i];
	nr__lrec *rec = NULL;

	j->err = (nr_error)NR_ERROR_INIT;
	if (!nr__layer_media_type_ok(ref->media_type)) {
		j->error = nr__error_set(&j->err, NR_EUNSUPPORTED, ref->digest, 0, 0,
			"layer media type not supported: %s",
			ref->media_type ? ref->media_type : "(none)");
		return;
	}
	if (d->cache && nr__digest_check(ref->digest, NULL, NULL, NULL) == 0 &&
	    (rec = nr__scancache_load(d->cache, ref->digest)) != NULL) {
		if (!nr__lrec_serves(rec, d->o)) {
			nr__lrec_free(rec);
			rec = NULL;
		} else if (ref->fetch == NULL &&
			   (j->error = nr__scancache_blob_verified(ref, d->cache, &j->err)) < 0) {
			nr__lrec_free(rec);
			return;
		} else if (ref->diff_id && strcmp(rec->plain, ref->diff_id) != 0) {
			j->error = nr__error_set(&j->err, NR_EINVALID, ref->digest, 0, 0,
				"uncompressed layer hashes to %s, but the config's diff_id is %s "
				"(containerd refuses it)", rec->plain, ref->diff_id);
			nr__lrec_free(rec);
			return;
		}
	}
	if (rec == NULL) {
		if (ref->fetch && (j->error = ref->fetch(ref->fetch_ctx, ref->digest, ref->size,
				ref->relpath, &j->err)) < 0)
			return;
		j->error = nr__lrec_build(&rec, ref, i, d->n, d->o, d->threaded ? &d->plock : NULL,
			&j->err);
		if (j->error == 0 && d->cache)
			nr__scancache_store(d->cache, ref->digest, rec);
	}
	j->rec = rec;
}

static void *worker(void *arg)
{
	driver *d = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&d->lock);
		while (!d->stop && d->next < d->n && d->next >= d->consumed + d->window)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->stop || d->next >= d->n) {
			pthread_mutex_unlock(&d->lock);
			return NULL;
		}
		i = d->next++;
		pthread_mutex_unlock(&d->lock);
		run_job(d, i);
		pthread_mutex_lock(&d->lock);
		d->jobs[i].done = true;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
	}
}

static size_t workers_for(size_t n)
{
	cpu_set_t set;
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) :
		sysconf(_SC_NPROCESSORS_ONLN);
	size_t w = cpus > 0 ? (size_t)cpus : 1;

	if (w > MAX_WORKERS)
		w = MAX_WORKERS;
	return w < n ? w : n;
}

/* The cache, unless it is not this user's alone (cli warns about it). */
static nr__scancache *open_cache(void)
{
	nr__scancache *c = NULL;
	char *dir = nr__scancache_dir();

	if (dir && nr__scancache_open(&c, dir, NULL) < 0)
		c = NULL;
	free(dir);
	return c;
}

/* Start up to nw workers; d->threaded stays true only when one started. *started: how many. */
static void start_workers(driver *d, pthread_t *tid, size_t nw, size_t *started)
{
	size_t k;

	*started = 0;
	d->threaded = nw > 1;
	if (!d->threaded)
		return;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->plock, NULL);
	pthread_cond_init(&d->cond, NULL);
	for (k = 0; k < nw; k++) {
		if (pthread_create(&tid[k], NULL, worker, d) != 0)
			break;
		(*started)++;
	}
	if (*started == 0) {
		d->threaded = false;
		pthread_mutex_destroy(&d->lock);
		pthread_mutex_destroy(&d->plock);
		pthread_cond_destroy(&d->cond);
	}
}

static void stop_workers(driver *d, pthread_t *tid, size_t started)
{
	size_t k;

	if (!d->threaded)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	for (k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->plock);
	pthread_cond_destroy(&d->cond);
}

int nr__lscan_run(const nr__layer_ref *layers, size_t n, const nr__lscan_opts *o,
	nr__lscan_apply apply, void *ctx, nr_error *err)
{
	driver d;
	pthread_t tid[MAX_WORKERS];
	size_t nw = workers_for(n), started = 0, i;
	int error = 0;

	memset(&d, 0, sizeof(d));
	d.layers = layers;
	d.n = n;
	d.o = o;
	d.cache = NULL;
	d.window = 2 * (nw ? nw : 1);
	if (n == 0)
		return 0;
	if ((d.jobs = nr__calloc(n, sizeof(*d.jobs))) == NULL)
		return nr__error_oom(err);
	d.cache = open_cache();
	start_workers(&d, tid, nw, &started);
	for (i = 0; i < n; i++) {
		job *j = &d.jobs[i];

		if (d.threaded) {
			pthread_mutex_lock(&d.lock);
			while (!j->done)
				pthread_cond_wait(&d.cond, &d.lock);
			pthread_mutex_unlock(&d.lock);
		} else {
			run_job(&d, i);
		}
		if (j->error < 0) {
			error = j->error;
			if (err && err->code == 0)
				*err = j->err;
			break;
		}
		error = apply(ctx, i, j->rec);
		nr__lrec_free(j->rec);
		j->rec = NULL;
		if (error < 0)
			break;
		if (d.threaded) {
			pthread_mutex_lock(&d.lock);
			d.consumed = i + 1;
			pthread_cond_broadcast(&d.cond);
			pthread_mutex_unlock(&d.lock);
		}
	}
	stop_workers(&d, tid, started);
	for (i = 0; i < n; i++)
		nr__lrec_free(d.jobs[i].rec);
	free(d.jobs);
	nr__scancache_close(d.cache);
	return error;
}
