/*
 * fleet.c: several images in one call (see fleet.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "fleet.h"

typedef struct worker {
	const char *ref;
	FILE *out, *err;      /* the worker's stdout / stderr (temp files) */
	pid_t pid;
	int rc;
	int state;            /* 0 waiting, 1 running, 2 done */
} worker;

static int add_ref(char ***refs, size_t *n, size_t *cap, const char *s)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		char **p = realloc(*refs, nc * sizeof(*p));
		if (p == NULL)
			return -1;
		*refs = p;
		*cap = nc;
	}
	if (((*refs)[*n] = strdup(s)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

static int read_from(const char *cmd, const char *path, char ***refs, size_t *n, size_t *cap)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL, *s, *e;
	size_t lcap = 0;
	ssize_t len;
	int error = 0;

	if (f == NULL) {
		cli_failf("--from %s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &lcap, f)) >= 0) {
		if ((size_t)len != strlen(line)) {
			cli_failf("--from %s: a line holds a NUL byte", path);
			error = -1;
			break;
		}
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		e = s + strlen(s);
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		if (add_ref(refs, n, cap, s) < 0) {
			error = -1;
			break;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	(void)cmd;
	return error;
}

static long default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 4 ? 4 : n;
}

/* Copy a temp file to f (rewound first); trailing newlines trimmed when trim. */
static void dump(FILE *from, FILE *to, int trim)
{
	char buf[65536];
	size_t k, pending = 0;

	rewind(from);
	while ((k = fread(buf, 1, sizeof(buf), from)) > 0) {
		size_t end = k;
		if (trim) {
			/* hold back trailing newlines until more text follows */
			for (; pending; pending--)
				fputc('\n', to);
			while (end > 0 && buf[end - 1] == '\n')
				end--;
			pending = k - end;
		}
		fwrite(buf, 1, end, to);
	}
}

static int file_empty(FILE *f)
{
	fseek(f, 0, SEEK_END);
	return ftell(f) <= 0;
}

/* The error text (stderr) as a JSON string, or null. */
static void json_error_text(FILE *err)
{
	char *text;
	long len;

	fseek(err, 0, SEEK_END);
	len = ftell(err);
	if (len <= 0 || (text = malloc((size_t)len + 1)) == NULL) {
		fputs("null", stdout);
		return;
	}
	rewind(err);
	len = (long)fread(text, 1, (size_t)len, err);
	while (len > 0 && text[len - 1] == '\n')
		len--;
	text[len] = '\0';
	cli_json_string(stdout, text);
	free(text);
}

static void print_one(const worker *w, size_t k, const cli_fleet *f)
{
	fflush(stdout);
	if (f->json) {
		printf("%s{\"image\":", k ? "," : "");
		cli_json_string(stdout, w->ref);
		printf(",\"exit\":%d,\"report\":", w->rc);
		if (file_empty(w->out))
			fputs("null", stdout);
		else
			dump(w->out, stdout, 1);
		fputs(",\"error\":", stdout);
		json_error_text(w->err);
		putchar('}');
	} else {
		dump(w->out, stdout, 0);
		fflush(stdout);
		dump(w->err, stderr, 0);
	}
	fflush(stdout);
}

/* A worker's copies of the reference list and the worker table: it returns to run one image
 * and exits, so they stay allocated for its life; kept here, they stay reachable (LeakSanitizer
 * and valgrind reported them as leaks of every worker). volatile: stores to a static that is
 * never read are otherwise removed at -O2. */
static char **volatile worker_refs;
static void *volatile worker_table;

/* One run over several images. */
typedef struct fleet_run {
	char **refs;
	size_t n, cap, next, printed, running;
	worker *w;
	long jobs;
} fleet_run;

/* The references (arguments, then --from) and a worker with its temporary files for each:
 * NR_EXIT_OK or an exit status. */
static int prepare(fleet_run *fr, const char *cmd, const cli_fleet *f, int nargs, char **args)
{
	size_t k;
	int i;

	for (i = 0; i < nargs; i++)
		if (add_ref(&fr->refs, &fr->n, &fr->cap, args[i]) < 0)
			return cli_failf("out of memory");
	if (f->from && read_from(cmd, f->from, &fr->refs, &fr->n, &fr->cap) < 0)
		return NR_EXIT_USAGE;
	if (fr->n == 0)
		return cli_usage_error(cmd, "missing IMAGE (none in --from %s)", f->from);
	if ((fr->w = calloc(fr->n, sizeof(*fr->w))) == NULL)
		return cli_failf("out of memory");
	for (k = 0; k < fr->n; k++) {
		fr->w[k].ref = fr->refs[k];
		if ((fr->w[k].out = tmpfile()) == NULL || (fr->w[k].err = tmpfile()) == NULL)
			return cli_failf("temporary file: %s", strerror(errno));
	}
	return NR_EXIT_OK;
}

/* Fork workers up to jobs: NR_EXIT_OK in the parent, CLI_FLEET_ONE in a worker (*ref set),
 * or an exit status. */
static int start_workers(fleet_run *fr, const char **ref)
{
	while (fr->running < (size_t)fr->jobs && fr->next < fr->n) {
		pid_t pid;
		/* nothing buffered may be inherited (the worker would print it again) */
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid < 0) {
			if (fr->running > 0)
				break;   /* wait for one and try again */
			return cli_failf("fork: %s", strerror(errno));
		}
		if (pid == 0) {
			/* the worker: its output to the temp files, then one image */
			if (dup2(fileno(fr->w[fr->next].out), 1) < 0 ||
			    dup2(fileno(fr->w[fr->next].err), 2) < 0)
				_exit(NR_EXIT_USAGE);
			*ref = fr->refs[fr->next];
			/* the signal thread is not copied by fork: one for this worker */
			cli_interrupt_setup();
			/* refs and w stay allocated: the worker exits after this image */
			worker_refs = fr->refs;
			worker_table = fr->w;
			return CLI_FLEET_ONE;
		}
		fr->w[fr->next].pid = pid;
		fr->w[fr->next].state = 1;
		fr->running++;
		fr->next++;
	}
	return NR_EXIT_OK;
}

#define INTERRUPTED (-2)   /* reap_one(): wait() was interrupted (EINTR) */

/* Wait for one worker and record its status: NR_EXIT_OK, INTERRUPTED or an exit status. */
static int reap_one(fleet_run *fr)
{
	int status;
	size_t k;
	pid_t pid = wait(&status);

	if (pid < 0) {
		if (errno == EINTR)
			return INTERRUPTED;
		return cli_failf("wait: %s", strerror(errno));
	}
	for (k = 0; k < fr->next; k++)
		if (fr->w[k].pid == pid && fr->w[k].state == 1) {
			fr->w[k].state = 2;
			fr->w[k].rc = WIFEXITED(status) ? WEXITSTATUS(status) : NR_EXIT_USAGE;
			if (!WIFEXITED(status))
				fprintf(fr->w[k].err, "nonroot: %s: worker killed by signal %d\n",
					fr->w[k].ref, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			fr->running--;
			break;
		}
	return NR_EXIT_OK;
}

/* Stop the workers still running, close the temporary files, free. */
static void finish(fleet_run *fr)
{
	size_t k;

	fflush(stdout);
	for (k = 0; fr->w && k < fr->n; k++) {
		if (fr->w[k].state == 1) {
			kill(fr->w[k].pid, SIGTERM);
			waitpid(fr->w[k].pid, NULL, 0);
		}
		if (fr->w[k].out)
			fclose(fr->w[k].out);
		if (fr->w[k].err)
			fclose(fr->w[k].err);
	}
	free(fr->w);
	for (k = 0; k < fr->n; k++)
		free(fr->refs[k]);
	free(fr->refs);
}

int cli_fleet_run(const char *cmd, const cli_fleet *f, int nargs, char **args, const char **ref)
{
	fleet_run fr;
	int worst = NR_EXIT_OK, rc;

	if (nargs == 1 && f->from == NULL) {
		*ref = args[0];
		return CLI_FLEET_ONE;
	}
	memset(&fr, 0, sizeof(fr));
	fr.jobs = f->jobs ? (long)f->jobs : default_jobs();
	if ((worst = prepare(&fr, cmd, f, nargs, args)) != NR_EXIT_OK)
		goto done;
	fflush(stdout);
	fflush(stderr);
	if (f->json)
		fputs("{\"images\":[", stdout);
	while (fr.printed < fr.n) {
		if ((rc = start_workers(&fr, ref)) == CLI_FLEET_ONE)
			return rc;
		if (rc != NR_EXIT_OK || ((rc = reap_one(&fr)) != NR_EXIT_OK && rc != INTERRUPTED)) {
			worst = rc;
			goto done;
		}
		if (rc == INTERRUPTED)
			continue;
		while (fr.printed < fr.n && fr.w[fr.printed].state == 2) {
			print_one(&fr.w[fr.printed], fr.printed, f);
			if (fr.w[fr.printed].rc > worst)
				worst = fr.w[fr.printed].rc;
			fr.printed++;
		}
	}
	if (f->json)
		fputs("]}\n", stdout);
done:
	finish(&fr);
	return worst;
}
