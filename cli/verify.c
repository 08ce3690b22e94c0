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
				const nr_binding *bd = nr_bindings_get(b, k);
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
		if (nr_imgconfig_parse_port_key(key, &port, &proto, NULL) == 0 &&
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

int cli_verify_image(const char *ref, const verify_opts *o)
{
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_bundle_gen_options bo = NR_BUNDLE_GEN_OPTIONS_INIT;
	nr_unpack_options uo = NR_UNPACK_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	nr_imgconfig *cfg = NULL;
	struct sigaction sa, old_int, old_term, old_hup;
	char runtime[PATH_MAX], tmpl[PATH_MAX], bundle[PATH_MAX + 16], pidfile[PATH_MAX + 16];
	char outlog[PATH_MAX + 16], errlog[PATH_MAX + 16], id[96], listening[512];
	char *out_tail = NULL, *err_tail = NULL, runtime_base[64];
	const char *rt = o->runtime ? o->runtime : "runc", *tmpdir = getenv("TMPDIR"), *base;
	const char *user = "", *platform = NULL, *cfgtext;
	expected exp[VERIFY_MAX_PORTS];
	size_t nexp = 0, k, cfglen;
	double timeout = o->timeout > 0 ? o->timeout : 10.0, deadline;
	observation ob;
	report rep;
	bool dir_made = false, launched = false, all_listen = false, bundle_failed = false;
	pid_t child = -1;
	int rc = NR_EXIT_USAGE, expected_uid = -1, sig = 0;
	FILE *out = o->out ? o->out : stdout;

	memset(&ob, 0, sizeof(ob));
	memset(&rep, 0, sizeof(rep));
	if (find_runtime(rt, runtime, sizeof(runtime)) < 0)
		return cli_failf("verify: runtime '%s' not found%s (install runc, or give --runtime "
			"PATH)", rt, strchr(rt, '/') ? " or not executable" : " on PATH");
	base = strrchr(runtime, '/');
	base = base ? base + 1 : runtime;
	{
		size_t bl = strlen(base);
		if (bl >= sizeof(runtime_base))
			bl = sizeof(runtime_base) - 1;
		memcpy(runtime_base, base, bl);
		runtime_base[bl] = '\0';
	}
	if (geteuid() != 0)
		return cli_failf("verify: needs root: %s runs the container as root here; rootless "
			"mode (a user namespace mapping the image's uid) is not supported, see "
			"docs/verify.md", runtime_base);

	/* signals: remembered, handled at the next poll (cleanup first, then re-raised) */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);

	if (o->open)
		oo = *o->open;
	oo.platform = o->platform;
	if (nr_image_open(&img, ref, &oo, &err) < 0) {
		rc = cli_fail(ref, &err);
		goto done;
	}
	if (nr_image_count(img) != 1) {
		rc = cli_failf("%s: the image has %zu platforms: pick one with --platform", ref,
			nr_image_count(img));
		goto done;
	}
	platform = nr_image_platform(img, 0);
	cfgtext = nr_image_config(img, 0, &cfglen);
	if (nr_imgconfig_parse(&cfg, cfgtext, cfglen, &err) < 0) {
		rc = cli_fail(ref, &err);
		goto done;
	}
	user = nr_imgconfig_user(cfg);
	expected_ports(cfg, o, exp, &nexp);

	snprintf(tmpl, sizeof(tmpl), "%s/nonroot-verify.XXXXXX",
		tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (mkdtemp(tmpl) == NULL) {
		rc = cli_failf("verify: mkdtemp %s: %s", tmpl, strerror(errno));
		goto done;
	}
	dir_made = true;
	snprintf(bundle, sizeof(bundle), "%s/bundle", tmpl);
	snprintf(pidfile, sizeof(pidfile), "%s/init.pid", tmpl);
	snprintf(outlog, sizeof(outlog), "%s/stdout", tmpl);
	snprintf(errlog, sizeof(errlog), "%s/stderr", tmpl);
	snprintf(id, sizeof(id), "nonroot-verify-%d-%s", (int)getpid(), strrchr(tmpl, '.') + 1);

	bo.flags = NR_BUNDLE_GEN_ALLOW_ROOT;
	bo.unpack = &uo;
	bo.hostname = "nonroot-verify";
	if (nr_image_bundle(img, 0, bundle, &bo, &err) < 0) {
		if (err.code == NR_ENOTFOUND || err.code == NR_ERANGE) {
			/* the runtime would refuse it the same way: the image cannot start */
			bundle_failed = true;
			reason(&rep, "config User '%s' does not resolve: %s", user, err.message);
			rc = NR_EXIT_FINDINGS;
			goto report;
		}
		rc = cli_fail(ref, &err);
		goto done;
	}
	{
		/* the uid the runtime will use: process.user.uid of the generated bundle */
		nr_rootfs *rfs = NULL;
		nr_exec_user eu;
		char rootfs[PATH_MAX + 32];
		snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
		if (nr_rootfs_open(&rfs, rootfs, NULL) == 0 &&
		    nr_rootfs_resolve_user(rfs, user, NULL, &eu, NULL) == 0) {
			expected_uid = (int)eu.uid;
			nr_exec_user_dispose(&eu);
		}
		nr_rootfs_free(rfs);
	}
	if (stop_signal)
		goto stop;

	/* start the container */
	{
		int ofd = open(outlog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		int efd = open(errlog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (ofd < 0 || efd < 0) {
			rc = cli_failf("verify: %s: %s", tmpl, strerror(errno));
			if (ofd >= 0)
				close(ofd);
			if (efd >= 0)
				close(efd);
			goto done;
		}
		ob.start = now_s();
		child = fork();
		if (child == 0) {
			int nfd = open("/dev/null", O_RDONLY);
			char *argv[] = { runtime, "run", "--bundle", bundle, "--pid-file", pidfile, id,
				NULL };
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			setpgid(0, 0);   /* a terminal's ^C reaches nonroot only: it cleans up */
			if (nfd >= 0)
				dup2(nfd, 0);
			dup2(ofd, 1);
			dup2(efd, 2);
			execv(runtime, argv);
			dprintf(2, "nonroot: exec %s: %s\n", runtime, strerror(errno));
			_exit(127);
		}
		close(ofd);
		close(efd);
		if (child < 0) {
			rc = cli_failf("verify: fork: %s", strerror(errno));
			goto done;
		}
		launched = true;
	}

	/* watch */
	deadline = ob.start + timeout;
	for (;;) {
		int st;
		pid_t r;
		double t = now_s();

		if (stop_signal)
			goto stop;
		if (!ob.started) {
			size_t len;
			char *p = read_small(pidfile, 64, &len);
			long v = p ? strtol(p, NULL, 10) : 0;
			free(p);
			if (v > 0) {
				ob.started = true;
				ob.pid = (pid_t)v;
			}
		}
		if (ob.started)
			observe(&ob, runtime_base);
		r = waitpid(child, &st, WNOHANG);
		if (r == child) {
			child = -1;
			ob.exited = true;
			ob.elapsed = now_s() - ob.start;
			ob.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
			break;
		}
		all_listen = ob.have_status && nexp > 0;
		for (k = 0; k < nexp && all_listen; k++)
			if (!listens_on(&ob, exp[k].port))
				all_listen = false;
		if (all_listen)
			break;
		/* something listens but not everything expected: give it 2 s more, not the whole
		 * timeout */
		if (t >= deadline || (ob.first_listen > 0 && nexp > 0 && t >= ob.first_listen + 2.0 &&
				t - ob.start > 2.0))
			break;
		sleep_ms(20);
	}
	if (!ob.exited)
		ob.elapsed = now_s() - ob.start;
	if (o->http && ob.started && !ob.exited) {
		for (k = 0; k < nexp; k++)
			if (listens_on(&ob, exp[k].port))
				http_get(ob.pid, exp[k].port, rep.http[k], sizeof(rep.http[k]));
	}

	/* the verdict */
	if (!ob.started) {
		/* the runtime never created the container: it cannot run (exit 2) */
		err_tail = read_tail(errlog, TAIL_MAX);
		if (err_tail) {
			char line[512];
			last_line(err_tail, line, sizeof(line));
			fprintf(stderr, "nonroot: verify: %s could not start the container: %s\n",
				runtime_base, *line ? line : "(no message)");
		}
		rc = NR_EXIT_USAGE;
		goto done;
	}
	err_tail = read_tail(errlog, TAIL_MAX);
	out_tail = read_tail(outlog, TAIL_MAX);
	if (ob.exited) {
		char line[512];
		last_line(err_tail && *err_tail ? err_tail : out_tail ? out_tail : "", line,
			sizeof(line));
		if (ob.exit_code >= 0)
			reason(&rep, "exited %d after %.1f s%s%s", ob.exit_code, ob.elapsed,
				*line ? ": " : "", line);
		else
			reason(&rep, "killed by signal %d after %.1f s%s%s", -ob.exit_code,
				ob.elapsed, *line ? ": " : "", line);
	}
	if (ob.have_status) {
		if (ob.st.uid[0] == 0 || ob.st.uid[1] == 0)
			reason(&rep, "runs as uid 0%s", *user ? "" : " (config User is empty)");
		else if (expected_uid >= 0 && (ob.st.uid[0] != (uint32_t)expected_uid ||
				ob.st.uid[1] != (uint32_t)expected_uid))
			reason(&rep, "runs as uid %u, config User '%s' is uid %d", ob.st.uid[1], user,
				expected_uid);
		if (ob.st.cap_eff || ob.st.cap_prm || ob.st.cap_amb) {
			char h[17];
			caps_hex(ob.st.cap_eff, h);
			reason(&rep, "has capabilities (CapEff %s)", h);
		}
		if (ob.st.no_new_privs != 1)
			reason(&rep, "NoNewPrivs is not set");
	} else if (!ob.exited) {
		reason(&rep, "the process was never observed");
	}
	ports_text(&ob, listening, sizeof(listening));
	if (!ob.exited || rep.nreasons == 0) {
		for (k = 0; k < nexp; k++) {
			if (listens_on(&ob, exp[k].port))
				continue;
			if (*listening)
				reason(&rep, "listens on %s, expected %u", listening, exp[k].port);
			else
				reason(&rep, "no process listens on %u after %.0f s", exp[k].port,
					ob.elapsed < timeout ? ob.elapsed : timeout);
			break;
		}
	}
	for (k = 0; k < ob.nlisten; k++)
		if (ob.listen[k].port < NR_UNPRIVILEGED_PORT_START) {
			reason(&rep, "listens on privileged port %u", ob.listen[k].port);
			break;
		}
	for (k = 0; k < nexp; k++)
		if (o->http && rep.http[k][0] == '!')
			reason(&rep, "GET / on %u: %s", exp[k].port, rep.http[k] + 2);
	rc = rep.nreasons ? NR_EXIT_FINDINGS : NR_EXIT_OK;

report:
	if (!out_tail)
		out_tail = read_tail(outlog, TAIL_MAX);
	if (!err_tail)
		err_tail = read_tail(errlog, TAIL_MAX);
	ports_text(&ob, listening, sizeof(listening));
	if (o->json) {
		char h[17];
		fprintf(out, "{");
		json_kv_str(out, "image", ref, false);
		json_kv_str(out, "platform", platform, true);
		json_kv_str(out, "runtime", runtime, true);
		json_kv_str(out, "verdict", rc == 0 ? "pass" : "fail", true);
		fprintf(out, ",\"reasons\":[");
		for (k = 0; k < rep.nreasons; k++) {
			if (k)
				fputc(',', out);
			cli_json_string(out, rep.reasons[k]);
		}
		fprintf(out, "]");
		json_kv_str(out, "config_user", user, true);
		if (expected_uid >= 0)
			fprintf(out, ",\"expected_uid\":%d", expected_uid);
		else
			fprintf(out, ",\"expected_uid\":null");
		fprintf(out, ",\"expected_ports\":[");
		for (k = 0; k < nexp; k++) {
			fprintf(out, "%s{\"port\":%u", k ? "," : "", exp[k].port);
			json_kv_str(out, "from", exp[k].from, true);
			fprintf(out, "}");
		}
		fprintf(out, "],\"process\":");
		if (ob.have_status) {
			fprintf(out, "{\"pid\":%d", (int)ob.pid);
			json_kv_str(out, "name", ob.st.name, true);
			fprintf(out, ",\"uid\":[%u,%u,%u,%u],\"gid\":[%u,%u,%u,%u]", ob.st.uid[0], ob.st.uid[1],
				ob.st.uid[2], ob.st.uid[3], ob.st.gid[0], ob.st.gid[1], ob.st.gid[2],
				ob.st.gid[3]);
			caps_hex(ob.st.cap_eff, h);
			json_kv_str(out, "cap_eff", h, true);
			caps_hex(ob.st.cap_prm, h);
			json_kv_str(out, "cap_prm", h, true);
			caps_hex(ob.st.cap_inh, h);
			json_kv_str(out, "cap_inh", h, true);
			caps_hex(ob.st.cap_bnd, h);
			json_kv_str(out, "cap_bnd", h, true);
			caps_hex(ob.st.cap_amb, h);
			json_kv_str(out, "cap_amb", h, true);
			fprintf(out, ",\"no_new_privs\":%s}", ob.st.no_new_privs == 1 ? "true" : "false");
		} else {
			fprintf(out, "null");
		}
		fprintf(out, ",\"listening\":[");
		for (k = 0; k < ob.nlisten; k++) {
			fprintf(out, "%s{\"port\":%u,\"family\":\"tcp%s\"", k ? "," : "", ob.listen[k].port,
				ob.listen[k].family == 6 ? "6" : "");
			json_kv_str(out, "address", ob.listen[k].addr, true);
			fprintf(out, ",\"uid\":%u}", ob.listen[k].uid);
		}
		fprintf(out, "],\"http\":[");
		for (k = 0; k < nexp && o->http; k++) {
			if (!rep.http[k][0])
				continue;
			fprintf(out, "%s{\"port\":%u", k ? "," : "", exp[k].port);
			json_kv_str(out, rep.http[k][0] == '!' ? "error" : "status",
				rep.http[k][0] == '!' ? rep.http[k] + 2 : rep.http[k], true);
			fprintf(out, "}");
		}
		fprintf(out, "],\"exited\":%s", ob.exited ? "true" : "false");
		if (ob.exited)
			fprintf(out, ",\"exit_status\":%d", ob.exit_code);
		else
			fprintf(out, ",\"exit_status\":null");
		fprintf(out, ",\"elapsed_s\":%.2f", ob.elapsed);
		json_kv_str(out, "stdout_tail", out_tail ? out_tail : "", true);
		json_kv_str(out, "stderr_tail", err_tail ? err_tail : "", true);
		fprintf(out, "}\n");
	} else if (o->quiet) {
		/* -q: the verdict's reasons only, one line each, naming the image */
		for (k = 0; rc != 0 && k < rep.nreasons; k++)
			fprintf(out, "%s: FAIL: %s\n", ref, rep.reasons[k]);
	} else {
		char h[17];
		fprintf(out, "%s (%s): verify with %s, User %s%s%s\n", ref, platform ? platform : "?",
			runtime_base, *user ? "'" : "", *user ? user : "not set", *user ? "'" : "");
		if (ob.have_status) {
			caps_hex(ob.st.cap_eff, h);
			fprintf(out, "  process   pid %d (%s) uid %u gid %u, CapEff %s, NoNewPrivs %d\n",
				(int)ob.pid, ob.st.name, ob.st.uid[1], ob.st.gid[1], h, ob.st.no_new_privs);
		}
		fprintf(out, "  expected  ");
		for (k = 0; k < nexp; k++)
			fprintf(out, "%s%u (%s)", k ? ", " : "", exp[k].port, exp[k].from);
		fprintf(out, "%s\n", nexp ? "" : "no port (no URL variables, ExposedPorts or --port)");
		if (!bundle_failed)
			fprintf(out, "  listens   %s\n", *listening ? listening : "nothing");
		for (k = 0; k < nexp && o->http; k++)
			if (rep.http[k][0])
				fprintf(out, "  GET /     %u: %s\n", exp[k].port, rep.http[k][0] == '!' ?
					rep.http[k] + 2 : rep.http[k]);
		if (ob.exited)
			fprintf(out, "  exited    status %d after %.1f s\n", ob.exit_code, ob.elapsed);
		if (rc == 0) {
			fprintf(out, "  PASS: runs as uid %u without capabilities", ob.st.uid[1]);
			if (nexp) {
				fprintf(out, " and listens on ");
				for (k = 0; k < nexp; k++)
					fprintf(out, "%s%u", k ? ", " : "", exp[k].port);
			}
			fprintf(out, " (%.1f s)\n", ob.elapsed);
		} else {
			for (k = 0; k < rep.nreasons; k++)
				fprintf(out, "  FAIL: %s\n", rep.reasons[k]);
			if (err_tail && *err_tail) {
				char line[512];
				last_line(err_tail, line, sizeof(line));
				fprintf(out, "  stderr    %s\n", line);
			}
		}
	}
	goto done;

stop:
	sig = stop_signal;
	rc = NR_EXIT_USAGE;
done:
	if (launched) {
		char *kill_argv[] = { runtime, "kill", id, "KILL", NULL };
		char *del_argv[] = { runtime, "delete", "-f", id, NULL };
		int st;
		double end;
		if (child > 0) {
			(void)run_quiet(kill_argv, 10);
			for (end = now_s() + 5; waitpid(child, &st, WNOHANG) == 0 && now_s() < end; )
				sleep_ms(10);
		}
		(void)run_quiet(del_argv, 20);
		if (child > 0 && waitpid(child, &st, WNOHANG) == 0) {
			kill(-child, SIGKILL);
			waitpid(child, &st, 0);
		}
	}
	if (dir_made)
		rm_rf(tmpl);
	free(out_tail);
	free(err_tail);
	nr_imgconfig_free(cfg);
	nr_image_free(img);
	if (!sig && stop_signal)
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
