/*
 * verify.c: the engine of `nonroot verify` (see verify.h).
 *
 * Steps: find the runtime; make a private directory (mkdtemp, 0700) under $TMPDIR; unpack the
 * image into it as a hardened bundle (nr_image_bundle: every capability dropped,
 * noNewPrivileges, its own network namespace; uid 0 allowed so that it can be observed);
 * start `RUNTIME run --bundle B --pid-file P ID` in its own process group with stdout and
 * stderr going to files in the private directory; poll every 20 ms: the init process's
 * /proc/PID/status (once it is no longer the runtime's own init stage) and
 * /proc/PID/net/tcp{,6} (its network namespace's sockets); stop when every expected port is
 * listened on, when the container exits, at the timeout, or on a signal. Then optionally
 * GET / on each listening port from a child that joined the container's network namespace
 * (loopback brought up first), and always: `RUNTIME kill ID KILL`, wait, `RUNTIME delete -f
 * ID`, remove the private directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "procobs.h"
#include "verify.h"

#define MAX_LISTEN 256
#define TAIL_MAX 2048

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);   /* EINTR (a signal) just ends the nap */
}

/* ---- the runtime ---------------------------------------------------------------------- */

static int find_runtime(const char *name, char *out, size_t outlen)
{
	const char *path = getenv("PATH"), *p;

	if (strchr(name, '/')) {
		if (access(name, X_OK) != 0)
			return -1;
		snprintf(out, outlen, "%s", name);
		return 0;
	}
	if (path == NULL || *path == '\0')
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path; *p; ) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		struct stat st;
		if (n > 0 && (size_t)snprintf(out, outlen, "%.*s/%s", (int)n, p, name) < outlen &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		p += n;
		if (*p == ':')
			p++;
	}
	return -1;
}

/* Run argv with stdin/stdout/stderr on /dev/null; wait at most `secs`. @return exit status
 * or -1. */
static int run_quiet(char *const argv[], double secs)
{
	pid_t pid = fork();
	double end = now_s() + secs;
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setpgid(0, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_s() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		sleep_ms(10);
	}
}

/* ---- files ---------------------------------------------------------------------------- */

static char *read_small(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *buf;
	size_t got = 0;

	*len = 0;
	if (fd < 0)
		return NULL;
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < max) {
		ssize_t r = read(fd, buf + got, max - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* The last `max` bytes of a file, NUL-terminated (malloc'd; "" when absent). */
static char *read_tail(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *buf = calloc(1, max + 1);
	off_t size;
	ssize_t r;

	if (buf == NULL || fd < 0) {
		if (fd >= 0)
			close(fd);
		return buf;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)max)
		lseek(fd, size - (off_t)max, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	r = read(fd, buf, max);
	buf[r > 0 ? r : 0] = '\0';
	close(fd);
	return buf;
}

/* The last non-empty line of text (copied to out). */
static void last_line(const char *text, char *out, size_t outlen)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(out, outlen, "%.*s", (int)(end - start), start);
}

static void rm_rf(const char *path)
{
	char *argv[] = { "/bin/rm", "-rf", "--one-file-system", (char *)path, NULL };

	if (run_quiet(argv, 120) != 0) {
		char *argv2[] = { "/bin/rm", "-rf", (char *)path, NULL };
		(void)run_quiet(argv2, 120);
	}
}

/* ---- expected ports ----------------------------------------------------------------- */

typedef struct expected {
	uint16_t port;
	char from[96];
} expected;

static void add_expected(expected *e, size_t *n, uint16_t port, const char *from)
{
	size_t k;

	if (port == 0)
		return;
	for (k = 0; k < *n; k++)
		if (e[k].port == port)
			return;
	if (*n >= VERIFY_MAX_PORTS)
		return;
	e[*n].port = port;
	snprintf(e[*n].from, sizeof(e[*n].from), "%s", from);
	(*n)++;
}

/* The image's effective bindings (nr_bindings_from_env over config Env; issue 13 will give
 * the image's effective bindings in one call), else ExposedPorts (tcp), else --port. */
static void expected_ports(const nr_imgconfig *cfg, const verify_opts *o, expected *e,
	size_t *n)
{
	size_t k, ne = nr_imgconfig_env_count(cfg);
	const char **envp = calloc(ne + 1, sizeof(*envp));
	nr_bindings *b = NULL;

	*n = 0;
	if (o->nports) {
		for (k = 0; k < o->nports; k++)
			add_expected(e, n, o->ports[k], "--port");
		free(envp);
		return;
	}
	if (envp) {
		for (k = 0; k < ne; k++)
			envp[k] = nr_imgconfig_env_at(cfg, k);
		if (nr_bindings_from_env(&b, envp, NULL, NULL) == 0 &&
		    nr_bindings_source(b) != NR_URLS_SOURCE_DEFAULT) {
			for (k = 0; k < nr_bindings_count(b); k++) {
				const nr_binding *bd = nr_bindings_at(b, k);
				char from[96];
				if (bd->parsed.kind == NR_URL_UNIX || bd->parsed.kind == NR_URL_PIPE ||
				    bd->parsed.port <= 0 || bd->parsed.port > 65535)
					continue;
				snprintf(from, sizeof(from), "%s=%s", bd->variable ? bd->variable : "default",
					bd->url);
				add_expected(e, n, (uint16_t)bd->parsed.port, from);
			}
		}
		nr_bindings_free(b);
		free(envp);
	}
	if (*n)
		return;
	for (k = 0; k < nr_imgconfig_exposed_count(cfg); k++) {
		uint16_t port;
		const char *proto = NULL, *key = nr_imgconfig_exposed_at(cfg, k);
		char from[96];
		if (nr_imgconfig_parse_port_key(&port, &proto, key, NULL) == 0 &&
		    strcmp(proto, "tcp") == 0) {
			snprintf(from, sizeof(from), "ExposedPorts %s", key);
			add_expected(e, n, port, from);
		}
	}
}

/* ---- observation ------------------------------------------------------------------------ */

typedef struct observation {
	bool started;             /* the pid file appeared */
	pid_t pid;
	bool have_status;
	procobs_status st;
	procobs_listen listen[MAX_LISTEN];
	size_t nlisten;
	bool exited;
	int exit_code;            /* >= 0 exit status; < 0: -signal */
	double start, elapsed, first_listen;
} observation;

static void observe(observation *ob, const char *runtime_base)
{
	char path[64], *text;
	size_t len, n = 0;
	procobs_status st;
	procobs_listen l[MAX_LISTEN];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)ob->pid);
	if ((text = read_small(path, 65536, &len)) == NULL)
		return;
	if (procobs_parse_status(text, len, &st) == 0 && st.have_uid &&
	    strncmp(st.name, "runc:", 5) != 0 && strcmp(st.name, runtime_base) != 0) {
		ob->st = st;
		ob->have_status = true;
	}
	free(text);
	if (!ob->have_status)
		return;   /* still the runtime's init stage: its sockets are not the image's */
	snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)ob->pid);
	if ((text = read_small(path, 4u << 20, &len)) != NULL) {
		(void)procobs_parse_tcp(text, len, 4, l, MAX_LISTEN, &n);
		free(text);
	}
	snprintf(path, sizeof(path), "/proc/%d/net/tcp6", (int)ob->pid);
	if ((text = read_small(path, 4u << 20, &len)) != NULL) {
		(void)procobs_parse_tcp(text, len, 6, l, MAX_LISTEN, &n);
		free(text);
	}
	memcpy(ob->listen, l, n * sizeof(*l));
	ob->nlisten = n;
	if (n && ob->first_listen == 0)
		ob->first_listen = now_s();
}

static bool listens_on(const observation *ob, uint16_t port)
{
	size_t k;

	for (k = 0; k < ob->nlisten; k++)
		if (ob->listen[k].port == port)
			return true;
	return false;
}

/* ---- GET / from inside the container's network namespace ------------------------------ */

static void http_child(pid_t pid, uint16_t port, int wfd)
{
	char path[64], buf[512];
	struct ifreq ifr;
	struct sockaddr_in sin;
	struct timeval tv = { 3, 0 };
	int nsfd, s;
	ssize_t got = 0, r;
	const char *req = "GET / HTTP/1.0\r\nHost: localhost\r\nUser-Agent: nonroot-verify\r\n\r\n";

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if ((nsfd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		dprintf(wfd, "! cannot join the network namespace: %s", strerror(errno));
		_exit(1);
	}
	/* loopback is down in a new network namespace */
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
			ifr.ifr_flags |= IFF_UP;
			(void)ioctl(s, SIOCSIFFLAGS, &ifr);
		}
		close(s);
	}
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		dprintf(wfd, "! socket: %s", strerror(errno));
		_exit(1);
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		dprintf(wfd, "! connect 127.0.0.1:%u: %s", port, strerror(errno));
		_exit(1);
	}
	if (write(s, req, strlen(req)) < 0) {
		dprintf(wfd, "! send: %s", strerror(errno));
		_exit(1);
	}
	while ((size_t)got < sizeof(buf) - 1 &&
	       (r = read(s, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0) {
		got += r;
		if (memchr(buf, '\n', (size_t)got))
			break;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (got == 0)
		dprintf(wfd, "! no response");
	else
		dprintf(wfd, "%s", buf);
	_exit(0);
}

static void http_get(pid_t pid, uint16_t port, char *out, size_t outlen)
{
	int fds[2], st;
	pid_t c;
	ssize_t r;
	size_t got = 0;

	snprintf(out, outlen, "! cannot check");
	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	if ((c = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (c == 0) {
		close(fds[0]);
		http_child(pid, port, fds[1]);
	}
	close(fds[1]);
	while (got < outlen - 1 && (r = read(fds[0], out + got, outlen - 1 - got)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	out[got] = '\0';
	close(fds[0]);
	waitpid(c, &st, 0);
}

/* ---- the report --------------------------------------------------------------------- */

typedef struct report {
	char reasons[8][256];
	size_t nreasons;
	char http[VERIFY_MAX_PORTS][160];
} report;

static void reason(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nreasons >= 8)
		return;
	va_start(ap, fmt);
	vsnprintf(r->reasons[r->nreasons++], sizeof(r->reasons[0]), fmt, ap);
	va_end(ap);
}

static void caps_hex(uint64_t v, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)v);
}

static void ports_text(const observation *ob, char *out, size_t outlen)
{
	size_t k, used = 0;

	out[0] = '\0';
	for (k = 0; k < ob->nlisten && used < outlen; k++) {
		size_t j;
		for (j = 0; j < k && ob->listen[j].port != ob->listen[k].port; j++)
			;
		if (j < k)
			continue;
		used += (size_t)snprintf(out + used, outlen - used, "%s%u", used ? ", " : "",
			ob->listen[k].port);
	}
}

static void json_kv_str(FILE *out, const char *key, const char *v, bool comma)
{
	fprintf(out, "%s\"%s\":", comma ? "," : "", key);
	cli_json_string(out, v ? v : "");
}

/* ---- the run ---------------------------------------------------------------------------- */

/* One verification: what it runs, where, and what it saw. */
typedef struct run {
	const char *ref;
	const verify_opts *o;
	FILE *out;
	char runtime[PATH_MAX], runtime_base[64];
	char tmpl[PATH_MAX], bundle[PATH_MAX + 16], pidfile[PATH_MAX + 16];
	char outlog[PATH_MAX + 16], errlog[PATH_MAX + 16], id[96], listening[512];
	char *out_tail, *err_tail;
	const char *user, *platform;
	nr_image *img;
	nr_imgconfig *cfg;
	expected exp[VERIFY_MAX_PORTS];
	size_t nexp;
	double timeout;
	observation ob;
	report rep;
	bool dir_made, launched, bundle_failed;
	pid_t child;
	int expected_uid;
} run;

#define CONTINUE (-1)   /* a step went well: go on */
#define STOPPED (-2)    /* a signal arrived */

/* Open the image (one platform), read its User and the ports it should listen on. */
static int open_image(run *v)
{
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	const char *cfgtext;
	size_t cfglen;

	if (v->o->open)
		oo = *v->o->open;
	oo.platform = v->o->platform;
	if (nr_image_open(&v->img, v->ref, &oo, &err) < 0)
		return cli_fail(v->ref, &err);
	if (nr_image_count(v->img) != 1)
		return cli_failf("%s: the image has %zu platforms: pick one with --platform", v->ref,
			nr_image_count(v->img));
	v->platform = nr_image_platform_at(v->img, 0);
	cfgtext = nr_image_config(&cfglen, v->img, 0);
	if (nr_imgconfig_parse(&v->cfg, cfgtext, cfglen, &err) < 0)
		return cli_fail(v->ref, &err);
	v->user = nr_imgconfig_user(v->cfg);
	expected_ports(v->cfg, v->o, v->exp, &v->nexp);
	return CONTINUE;
}

/* The private directory and the hardened bundle in it; a User the runtime would refuse sets
 * bundle_failed (a finding, not an error). Then the uid the runtime will use:
 * process.user.uid of the generated bundle. */
static int make_bundle(run *v)
{
	nr_bundle_gen_options bo = NR_BUNDLE_GEN_OPTIONS_INIT;
	nr_unpack_options uo = NR_UNPACK_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	const char *tmpdir = getenv("TMPDIR");
	nr_rootfs *rfs = NULL;
	nr_exec_user eu;
	char rootfs[PATH_MAX + 32];

	snprintf(v->tmpl, sizeof(v->tmpl), "%s/nonroot-verify.XXXXXX",
		tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (mkdtemp(v->tmpl) == NULL)
		return cli_failf("verify: mkdtemp %s: %s", v->tmpl, strerror(errno));
	v->dir_made = true;
	snprintf(v->bundle, sizeof(v->bundle), "%s/bundle", v->tmpl);
	snprintf(v->pidfile, sizeof(v->pidfile), "%s/init.pid", v->tmpl);
	snprintf(v->outlog, sizeof(v->outlog), "%s/stdout", v->tmpl);
	snprintf(v->errlog, sizeof(v->errlog), "%s/stderr", v->tmpl);
	snprintf(v->id, sizeof(v->id), "nonroot-verify-%d-%s", (int)getpid(),
		strrchr(v->tmpl, '.') + 1);
	bo.flags = NR_BUNDLE_GEN_ALLOW_ROOT;
	bo.unpack = &uo;
	bo.hostname = "nonroot-verify";
	if (nr_image_bundle(v->img, 0, v->bundle, &bo, &err) < 0) {
		if (err.code != NR_ENOTFOUND && err.code != NR_ERANGE)
			return cli_fail(v->ref, &err);
		/* the runtime would refuse it the same way: the image cannot start */
		v->bundle_failed = true;
		reason(&v->rep, "config User '%s' does not resolve: %s", v->user, err.message);
		return CONTINUE;
	}
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", v->bundle);
	if (nr_rootfs_open(&rfs, rootfs, NULL) == 0 &&
	    nr_rootfs_resolve_user(&eu, rfs, v->user, NULL, NULL) == 0) {
		v->expected_uid = (int)eu.uid;
		nr_exec_user_dispose(&eu);
	}
	nr_rootfs_free(rfs);
	return CONTINUE;
}

/* Start `RUNTIME run` in its own process group, stdout and stderr into the private
 * directory. */
static int launch(run *v)
{
	int ofd = open(v->outlog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int efd = open(v->errlog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (ofd < 0 || efd < 0) {
		int rc = cli_failf("verify: %s: %s", v->tmpl, strerror(errno));
		if (ofd >= 0)
			close(ofd);
		if (efd >= 0)
			close(efd);
		return rc;
	}
	v->ob.start = now_s();
	v->child = fork();
	if (v->child == 0) {
		int nfd = open("/dev/null", O_RDONLY);
		char *argv[] = { v->runtime, "run", "--bundle", v->bundle, "--pid-file", v->pidfile,
			v->id, NULL };
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		setpgid(0, 0);   /* a terminal's ^C reaches nonroot only: it cleans up */
		if (nfd >= 0)
			dup2(nfd, 0);
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(v->runtime, argv);
		dprintf(2, "nonroot: exec %s: %s\n", v->runtime, strerror(errno));
		_exit(127);
	}
	close(ofd);
	close(efd);
	if (v->child < 0)
		return cli_failf("verify: fork: %s", strerror(errno));
	v->launched = true;
	return CONTINUE;
}

/* Poll every 20 ms until every expected port is listened on, the container exits or the
 * timeout; STOPPED on a signal. */
static int watch(run *v)
{
	observation *ob = &v->ob;
	double deadline = ob->start + v->timeout;
	size_t k;
	bool all_listen;

	for (;;) {
		int st;
		pid_t r;
		double t = now_s();

		if (stop_signal)
			return STOPPED;
		if (!ob->started) {
			size_t len;
			char *p = read_small(v->pidfile, 64, &len);
			long pid = p ? strtol(p, NULL, 10) : 0;
			free(p);
			if (pid > 0) {
				ob->started = true;
				ob->pid = (pid_t)pid;
			}
		}
		if (ob->started)
			observe(ob, v->runtime_base);
		r = waitpid(v->child, &st, WNOHANG);
		if (r == v->child) {
			v->child = -1;
			ob->exited = true;
			ob->elapsed = now_s() - ob->start;
			ob->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
			break;
		}
		all_listen = ob->have_status && v->nexp > 0;
		for (k = 0; k < v->nexp && all_listen; k++)
			if (!listens_on(ob, v->exp[k].port))
				all_listen = false;
		if (all_listen)
			break;
		/* something listens but not everything expected: give it 2 s more, not the whole
		 * timeout */
		if (t >= deadline || (ob->first_listen > 0 && v->nexp > 0 &&
		    t >= ob->first_listen + 2.0 && t - ob->start > 2.0))
			break;
		sleep_ms(20);
	}
	if (!ob->exited)
		ob->elapsed = now_s() - ob->start;
	if (v->o->http && ob->started && !ob->exited) {
		for (k = 0; k < v->nexp; k++)
			if (listens_on(ob, v->exp[k].port))
				http_get(ob->pid, v->exp[k].port, v->rep.http[k], sizeof(v->rep.http[k]));
	}
	return CONTINUE;
}

/* The reasons about the process: how it ended, its uid, capabilities and NoNewPrivs. */
static void judge_process(run *v)
{
	const observation *ob = &v->ob;
	char line[512], h[17];

	if (ob->exited) {
		last_line(v->err_tail && *v->err_tail ? v->err_tail : v->out_tail ? v->out_tail : "",
			line, sizeof(line));
		if (ob->exit_code >= 0)
			reason(&v->rep, "exited %d after %.1f s%s%s", ob->exit_code, ob->elapsed,
				*line ? ": " : "", line);
		else
			reason(&v->rep, "killed by signal %d after %.1f s%s%s", -ob->exit_code,
				ob->elapsed, *line ? ": " : "", line);
	}
	if (ob->have_status) {
		if (ob->st.uid[0] == 0 || ob->st.uid[1] == 0)
			reason(&v->rep, "runs as uid 0%s", *v->user ? "" : " (config User is empty)");
		else if (v->expected_uid >= 0 && (ob->st.uid[0] != (uint32_t)v->expected_uid ||
				ob->st.uid[1] != (uint32_t)v->expected_uid))
			reason(&v->rep, "runs as uid %u, config User '%s' is uid %d", ob->st.uid[1],
				v->user, v->expected_uid);
		if (ob->st.cap_eff || ob->st.cap_prm || ob->st.cap_amb) {
			caps_hex(ob->st.cap_eff, h);
			reason(&v->rep, "has capabilities (CapEff %s)", h);
		}
		if (ob->st.no_new_privs != 1)
			reason(&v->rep, "NoNewPrivs is not set");
	} else if (!ob->exited) {
		reason(&v->rep, "the process was never observed");
	}
}

/* The reasons about the ports: an expected one not listened on, a privileged one, a failed
 * GET /. */
static void judge_ports(run *v)
{
	const observation *ob = &v->ob;
	size_t k;

	ports_text(ob, v->listening, sizeof(v->listening));
	if (!ob->exited || v->rep.nreasons == 0) {
		for (k = 0; k < v->nexp; k++) {
			if (listens_on(ob, v->exp[k].port))
				continue;
			if (*v->listening)
				reason(&v->rep, "listens on %s, expected %u", v->listening,
					v->exp[k].port);
			else
				reason(&v->rep, "no process listens on %u after %.0f s", v->exp[k].port,
					ob->elapsed < v->timeout ? ob->elapsed : v->timeout);
			break;
		}
	}
	for (k = 0; k < ob->nlisten; k++)
		if (ob->listen[k].port < NR_UNPRIVILEGED_PORT_START) {
			reason(&v->rep, "listens on privileged port %u", ob->listen[k].port);
			break;
		}
	for (k = 0; k < v->nexp; k++)
		if (v->o->http && v->rep.http[k][0] == '!')
			reason(&v->rep, "GET / on %u: %s", v->exp[k].port, v->rep.http[k] + 2);
}

/* The verdict: NR_EXIT_OK, NR_EXIT_FINDINGS, or NR_EXIT_USAGE when the runtime never created
 * the container (it cannot run; said on stderr, no report). */
static int verdict(run *v)
{
	char line[512];

	if (!v->ob.started) {
		v->err_tail = read_tail(v->errlog, TAIL_MAX);
		if (v->err_tail) {
			last_line(v->err_tail, line, sizeof(line));
			fprintf(stderr, "nonroot: verify: %s could not start the container: %s\n",
				v->runtime_base, *line ? line : "(no message)");
		}
		return NR_EXIT_USAGE;
	}
	v->err_tail = read_tail(v->errlog, TAIL_MAX);
	v->out_tail = read_tail(v->outlog, TAIL_MAX);
	judge_process(v);
	judge_ports(v);
	return v->rep.nreasons ? NR_EXIT_FINDINGS : NR_EXIT_OK;
}

/* The JSON report's "process": its status, or null. */
static void json_process(FILE *out, const observation *ob)
{
	char h[17];

	if (!ob->have_status) {
		fprintf(out, "null");
		return;
	}
	fprintf(out, "{\"pid\":%d", (int)ob->pid);
	json_kv_str(out, "name", ob->st.name, true);
	fprintf(out, ",\"uid\":[%u,%u,%u,%u],\"gid\":[%u,%u,%u,%u]", ob->st.uid[0], ob->st.uid[1],
		ob->st.uid[2], ob->st.uid[3], ob->st.gid[0], ob->st.gid[1], ob->st.gid[2],
		ob->st.gid[3]);
	caps_hex(ob->st.cap_eff, h);
	json_kv_str(out, "cap_eff", h, true);
	caps_hex(ob->st.cap_prm, h);
	json_kv_str(out, "cap_prm", h, true);
	caps_hex(ob->st.cap_inh, h);
	json_kv_str(out, "cap_inh", h, true);
	caps_hex(ob->st.cap_bnd, h);
	json_kv_str(out, "cap_bnd", h, true);
	caps_hex(ob->st.cap_amb, h);
	json_kv_str(out, "cap_amb", h, true);
	fprintf(out, ",\"no_new_privs\":%s}", ob->st.no_new_privs == 1 ? "true" : "false");
}

/* The JSON report's lists: expected ports, process, listening sockets, GET / results. */
static void json_lists(const run *v)
{
	FILE *out = v->out;
	const observation *ob = &v->ob;
	size_t k;

	fprintf(out, ",\"expected_ports\":[");
	for (k = 0; k < v->nexp; k++) {
		fprintf(out, "%s{\"port\":%u", k ? "," : "", v->exp[k].port);
		json_kv_str(out, "from", v->exp[k].from, true);
		fprintf(out, "}");
	}
	fprintf(out, "],\"process\":");
	json_process(out, ob);
	fprintf(out, ",\"listening\":[");
	for (k = 0; k < ob->nlisten; k++) {
		fprintf(out, "%s{\"port\":%u,\"family\":\"tcp%s\"", k ? "," : "", ob->listen[k].port,
			ob->listen[k].family == 6 ? "6" : "");
		json_kv_str(out, "address", ob->listen[k].addr, true);
		fprintf(out, ",\"uid\":%u}", ob->listen[k].uid);
	}
	fprintf(out, "],\"http\":[");
	for (k = 0; k < v->nexp && v->o->http; k++) {
		if (!v->rep.http[k][0])
			continue;
		fprintf(out, "%s{\"port\":%u", k ? "," : "", v->exp[k].port);
		json_kv_str(out, v->rep.http[k][0] == '!' ? "error" : "status",
			v->rep.http[k][0] == '!' ? v->rep.http[k] + 2 : v->rep.http[k], true);
		fprintf(out, "}");
	}
	fprintf(out, "]");
}

static void print_json(const run *v, int rc)
{
	FILE *out = v->out;
	size_t k;

	fprintf(out, "{");
	json_kv_str(out, "image", v->ref, false);
	json_kv_str(out, "platform", v->platform, true);
	json_kv_str(out, "runtime", v->runtime, true);
	json_kv_str(out, "verdict", rc == 0 ? "pass" : "fail", true);
	fprintf(out, ",\"reasons\":[");
	for (k = 0; k < v->rep.nreasons; k++) {
		if (k)
			fputc(',', out);
		cli_json_string(out, v->rep.reasons[k]);
	}
	fprintf(out, "]");
	json_kv_str(out, "config_user", v->user, true);
	if (v->expected_uid >= 0)
		fprintf(out, ",\"expected_uid\":%d", v->expected_uid);
	else
		fprintf(out, ",\"expected_uid\":null");
	json_lists(v);
	fprintf(out, ",\"exited\":%s", v->ob.exited ? "true" : "false");
	if (v->ob.exited)
		fprintf(out, ",\"exit_status\":%d", v->ob.exit_code);
	else
		fprintf(out, ",\"exit_status\":null");
	fprintf(out, ",\"elapsed_s\":%.2f", v->ob.elapsed);
	json_kv_str(out, "stdout_tail", v->out_tail ? v->out_tail : "", true);
	json_kv_str(out, "stderr_tail", v->err_tail ? v->err_tail : "", true);
	fprintf(out, "}\n");
}

/* The text report's verdict: PASS with what was seen, or each FAIL reason. */
static void print_verdict(const run *v, int rc)
{
	FILE *out = v->out;
	size_t k;

	if (rc == 0) {
		fprintf(out, "  PASS: runs as uid %u without capabilities", v->ob.st.uid[1]);
		if (v->nexp) {
			fprintf(out, " and listens on ");
			for (k = 0; k < v->nexp; k++)
				fprintf(out, "%s%u", k ? ", " : "", v->exp[k].port);
		}
		fprintf(out, " (%.1f s)\n", v->ob.elapsed);
		return;
	}
	for (k = 0; k < v->rep.nreasons; k++)
		fprintf(out, "  FAIL: %s\n", v->rep.reasons[k]);
	if (v->err_tail && *v->err_tail) {
		char line[512];
		last_line(v->err_tail, line, sizeof(line));
		fprintf(out, "  stderr    %s\n", line);
	}
}

static void print_text(const run *v, int rc)
{
	FILE *out = v->out;
	const observation *ob = &v->ob;
	const char *user = v->user;
	char h[17];
	size_t k;

	fprintf(out, "%s (%s): verify with %s, User %s%s%s\n", v->ref, v->platform ? v->platform
		: "?", v->runtime_base, *user ? "'" : "", *user ? user : "not set", *user ? "'" : "");
	if (ob->have_status) {
		caps_hex(ob->st.cap_eff, h);
		fprintf(out, "  process   pid %d (%s) uid %u gid %u, CapEff %s, NoNewPrivs %d\n",
			(int)ob->pid, ob->st.name, ob->st.uid[1], ob->st.gid[1], h, ob->st.no_new_privs);
	}
	fprintf(out, "  expected  ");
	for (k = 0; k < v->nexp; k++)
		fprintf(out, "%s%u (%s)", k ? ", " : "", v->exp[k].port, v->exp[k].from);
	fprintf(out, "%s\n", v->nexp ? "" : "no port (no URL variables, ExposedPorts or --port)");
	if (!v->bundle_failed)
		fprintf(out, "  listens   %s\n", *v->listening ? v->listening : "nothing");
	for (k = 0; k < v->nexp && v->o->http; k++)
		if (v->rep.http[k][0])
			fprintf(out, "  GET /     %u: %s\n", v->exp[k].port, v->rep.http[k][0] == '!' ?
				v->rep.http[k] + 2 : v->rep.http[k]);
	if (ob->exited)
		fprintf(out, "  exited    status %d after %.1f s\n", ob->exit_code, ob->elapsed);
	print_verdict(v, rc);
}

/* The report: JSON, the reasons only (-q) or text. */
static void print_report(run *v, int rc)
{
	size_t k;

	if (!v->out_tail)
		v->out_tail = read_tail(v->outlog, TAIL_MAX);
	if (!v->err_tail)
		v->err_tail = read_tail(v->errlog, TAIL_MAX);
	ports_text(&v->ob, v->listening, sizeof(v->listening));
	if (v->o->json) {
		print_json(v, rc);
	} else if (v->o->quiet) {
		/* -q: the verdict's reasons only, one line each, naming the image */
		for (k = 0; rc != 0 && k < v->rep.nreasons; k++)
			fprintf(v->out, "%s: FAIL: %s\n", v->ref, v->rep.reasons[k]);
	} else {
		print_text(v, rc);
	}
}

/* The steps, each stopping the run on failure: an exit status, or STOPPED. */
static int verify_steps(run *v)
{
	int rc;

	if ((rc = open_image(v)) != CONTINUE || (rc = make_bundle(v)) != CONTINUE)
		return rc;
	if (v->bundle_failed) {
		rc = NR_EXIT_FINDINGS;
	} else {
		if (stop_signal)
			return STOPPED;
		if ((rc = launch(v)) != CONTINUE || (rc = watch(v)) != CONTINUE)
			return rc;
		if ((rc = verdict(v)) == NR_EXIT_USAGE)
			return rc;
	}
	print_report(v, rc);
	return rc;
}

/* Always: `RUNTIME kill ID KILL`, wait, `RUNTIME delete -f ID`, remove the private
 * directory. */
static void cleanup(run *v)
{
	char *kill_argv[] = { v->runtime, "kill", v->id, "KILL", NULL };
	char *del_argv[] = { v->runtime, "delete", "-f", v->id, NULL };
	int st;
	double end;

	if (v->launched) {
		if (v->child > 0) {
			(void)run_quiet(kill_argv, 10);
			for (end = now_s() + 5; waitpid(v->child, &st, WNOHANG) == 0 && now_s() < end; )
				sleep_ms(10);
		}
		(void)run_quiet(del_argv, 20);
		if (v->child > 0 && waitpid(v->child, &st, WNOHANG) == 0) {
			kill(-v->child, SIGKILL);
			waitpid(v->child, &st, 0);
		}
	}
	if (v->dir_made)
		rm_rf(v->tmpl);
	free(v->out_tail);
	free(v->err_tail);
	nr_imgconfig_free(v->cfg);
	nr_image_free(v->img);
}

/* The runtime (runtime and its base name); an exit status when it is missing or this is not
 * root, else CONTINUE. */
static int find_runtime_root(run *v)
{
	const char *rt = v->o->runtime ? v->o->runtime : "runc", *base;
	size_t bl;

	if (find_runtime(rt, v->runtime, sizeof(v->runtime)) < 0)
		return cli_failf("verify: runtime '%s' not found%s (install runc, or give --runtime "
			"PATH)", rt, strchr(rt, '/') ? " or not executable" : " on PATH");
	base = strrchr(v->runtime, '/');
	base = base ? base + 1 : v->runtime;
	bl = strlen(base);
	if (bl >= sizeof(v->runtime_base))
		bl = sizeof(v->runtime_base) - 1;
	memcpy(v->runtime_base, base, bl);
	v->runtime_base[bl] = '\0';
	if (geteuid() != 0)
		return cli_failf("verify: needs root: %s runs the container as root here; rootless "
			"mode (a user namespace mapping the image's uid) is not supported, see "
			"docs/verify.md", v->runtime_base);
	return CONTINUE;
}

int cli_verify_image(const char *ref, const verify_opts *o)
{
	struct sigaction sa, old_int, old_term, old_hup;
	run *v;
	int rc, sig;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return cli_failf("verify: %s", strerror(ENOMEM));
	v->ref = ref;
	v->o = o;
	v->out = o->out ? o->out : stdout;
	v->user = "";
	v->timeout = o->timeout > 0 ? o->timeout : 10.0;
	v->child = -1;
	v->expected_uid = -1;
	if ((rc = find_runtime_root(v)) != CONTINUE) {
		free(v);
		return rc;
	}
	/* signals: remembered, handled at the next poll (cleanup first, then re-raised) */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	if ((rc = verify_steps(v)) == STOPPED)
		rc = NR_EXIT_USAGE;
	cleanup(v);
	free(v);
	sig = stop_signal;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	if (sig) {
		fprintf(stderr, "nonroot: verify: interrupted (signal %d): container and files "
			"removed\n", sig);
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return rc;
}
