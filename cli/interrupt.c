/*
 * interrupt.c: SIGINT, SIGTERM and SIGHUP remove the run's temporary files and directories.
 *
 * cli_interrupt_setup (called in main before anything else, so before any thread exists)
 * blocks the three signals in the calling thread; every thread made later inherits that mask,
 * so none of them is ever interrupted by these signals. One extra thread waits for them with
 * sigwait and, when one comes, calls nr__temp_remove_all (libnonroot/tempreg.c), which removes
 * every temp dir ($TMPDIR/nonroot-*) and temp file (".<name>.nr-<hex>" next to a destination)
 * the library has made and not yet removed, then dies of the same signal (so the shell reports
 * 128+N: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
 *
 * Why a thread and not a handler: the cleanup takes a mutex and walks directory trees with
 * nftw (malloc, opendir), none of which is async-signal-safe; in the sigwait thread it is
 * ordinary code. A signal that was ignored when nonroot started (nohup, `cmd &` in a script)
 * stays ignored.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

size_t nr__temp_remove_all(void);   /* libnonroot/tempreg.c (static library, internal) */

static sigset_t waited;
static sem_t ready;   /* posted by the waiter once it runs its own code */

static void *waiter(void *arg)
{
	char msg[128];
	sigset_t one;
	int sig = 0, n;

	(void)arg;
	sem_post(&ready);
	for (;;) {
		if (sigwait(&waited, &sig) == 0)
			break;
	}
	(void)nr__temp_remove_all();
	n = snprintf(msg, sizeof(msg), "nonroot: interrupted (signal %d, %s): temporary files "
		"removed\n", sig, strsignal(sig));
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg));
	/* Die of the signal itself: default action, unblocked in this thread only. */
	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	_exit(128 + sig);
}

void cli_interrupt_setup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction old;
	pthread_attr_t attr;
	pthread_t tid;
	size_t i;
	int any = 0;

	sigemptyset(&waited);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaddset(&waited, sigs[i]);
		any = 1;
	}
	if (!any || pthread_attr_init(&attr) != 0)
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (sem_init(&ready, 0, 0) != 0) {
		pthread_attr_destroy(&attr);
		return;
	}
	if (pthread_sigmask(SIG_BLOCK, &waited, NULL) == 0) {
		if (pthread_create(&tid, &attr, waiter, NULL) != 0)
			pthread_sigmask(SIG_UNBLOCK, &waited, NULL);
		else
			/* Wait until the thread has started: a thread still starting may hold an
			 * allocator lock (ASan's allocator has no fork handler), and the fleet forks
			 * workers right after this; a child inheriting that lock hung for ever in
			 * cli.audit_config under ASan. Once in waiter, the thread only sits in sigwait. */
			while (sem_wait(&ready) != 0 && errno == EINTR)
				;
	}
	pthread_attr_destroy(&attr);
}
