/*
 * urlserve: a small HTTP/1.1 server that listens exactly where an ASP.NET Core app (Kestrel)
 * would, as libnonroot computes it from the environment (ASPNETCORE_URLS, *_HTTP_PORTS, ...).
 * It logs like Kestrel ("Now listening on: http://[::]:8080"), answers GET /Environment with
 * JSON like the .NET aspnetapp sample (plus "user" and "uid"), fails like Kestrel when a bind
 * fails (errno text: "Permission denied" for port 80 without CAP_NET_BIND_SERVICE) and stops
 * cleanly on SIGTERM/SIGINT. Built static (urlserve-static) it runs in an image with no libc.
 *
 * Binding, as Kestrel's AddressBinder: localhost -> 127.0.0.1 and ::1 (one may fail with a
 * warning); *, + and host names -> [::] dual-stack, falling back to 0.0.0.0 when IPv6 fails for
 * another reason than "address in use"; IP literals -> exactly that address ([::] dual-stack);
 * unix:/path -> a Unix socket. https needs a certificate, which we do not have: we fail as
 * Kestrel does without one. Named pipes are Windows-only, as in .NET.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "nonroot.h"

extern char **environ;

#define MAX_LISTENERS 64

struct listener {
	int fd;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static struct listener listeners[MAX_LISTENERS];
static size_t nlisteners;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = sig;
}

/* Kestrel's console format: "level: category[event]" then the message indented by 6. */
static void klog(const char *level, const char *category, int event, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void klog(const char *level, const char *category, int event, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s[%d]\n      ", level, category, event);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void fail_bind(const char *display, int errnum)
{
	klog("fail", "Microsoft.Extensions.Hosting.Internal.Host", 11,
		"Hosting failed to start\n      System.Net.Sockets.SocketException (%d): %s",
		errnum, strerror(errnum));
	fprintf(stderr, "urlserve: bind %s: %s (errno %d)\n", display, strerror(errnum), errnum);
}

static int add_listener(int fd, const char *unix_path)
{
	if (nlisteners == MAX_LISTENERS) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	listeners[nlisteners].fd = fd;
	snprintf(listeners[nlisteners].unix_path, sizeof(listeners[nlisteners].unix_path), "%s",
		unix_path ? unix_path : "");
	nlisteners++;
	return 0;
}

/* Bind and listen; returns the fd or -1 with errno set. v6only: -1 leaves the default. */
static int listen_on(const struct sockaddr *sa, socklen_t salen, int v6only)
{
	int fd, one = 1, saved;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (sa->sa_family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6 && v6only >= 0)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (bind(fd, sa, salen) < 0 || listen(fd, 512) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void make4(struct sockaddr_in *a, const unsigned char *addr, int port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	memcpy(&a->sin_addr, addr, 4);
}

static void make6(struct sockaddr_in6 *a, const unsigned char *addr, int port)
{
	memset(a, 0, sizeof(*a));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons((uint16_t)port);
	memcpy(&a->sin6_addr, addr, 16);
}

/* Bind one binding like Kestrel; print "Now listening on" lines. 0, or 1 on failure. */
static int bind_one(const nr_binding *b)
{
	static const unsigned char any4[4], any6[16], lo4[4] = { 127, 0, 0, 1 };
	static const unsigned char lo6[16] = { [15] = 1 };
	const nr_url *u = &b->parsed;
	const char *scheme = (u->flags & NR_URL_HTTPS) ? "https" : "http";
	char display[256], ip[INET6_ADDRSTRLEN];
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	int fd, fd2, e4, e6;

	if (u->flags & NR_URL_HTTPS) {
		klog("fail", "Microsoft.Extensions.Hosting.Internal.Host", 11,
			"Hosting failed to start\n      System.InvalidOperationException: Unable to "
			"configure HTTPS endpoint. No server certificate was specified, and the default "
			"developer certificate could not be found or is out of date.");
		fprintf(stderr, "urlserve: %s: https needs a certificate; urlserve serves http only\n",
			b->url);
		return 1;
	}
	switch (u->kind) {
	case NR_URL_PIPE:
		klog("fail", "Microsoft.Extensions.Hosting.Internal.Host", 11,
			"Hosting failed to start\n      System.PlatformNotSupportedException: Named "
			"pipes transport requires a Windows operating system.");
		return 1;
	case NR_URL_UNIX: {
		struct sockaddr_un sun;
		struct stat st;
		const char *path = b->url + u->host.off + 5;   /* after "unix:" */
		size_t plen = u->host.len - 5;
		if (plen >= sizeof(sun.sun_path)) {
			fail_bind(b->url, ENAMETOOLONG);
			return 1;
		}
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, path, plen);
		if (lstat(sun.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(sun.sun_path);   /* a stale socket, as Kestrel removes it */
		snprintf(display, sizeof(display), "%s://unix:%s", scheme, sun.sun_path);
		if ((fd = listen_on((struct sockaddr *)&sun, sizeof(sun), -1)) < 0 ||
		    add_listener(fd, sun.sun_path) < 0) {
			fail_bind(display, errno);
			return 1;
		}
		break;
	}
	case NR_URL_LOCALHOST:
		snprintf(display, sizeof(display), "%s://localhost:%d", scheme, (int)u->port);
		make4(&a4, lo4, u->port);
		make6(&a6, lo6, u->port);
		fd = listen_on((struct sockaddr *)&a4, sizeof(a4), -1);
		e4 = fd < 0 ? errno : 0;
		if (e4 == EADDRINUSE) {
			fail_bind(display, e4);
			return 1;
		}
		fd2 = listen_on((struct sockaddr *)&a6, sizeof(a6), 1);
		e6 = fd2 < 0 ? errno : 0;
		if (e6 == EADDRINUSE || (fd < 0 && fd2 < 0)) {
			if (fd >= 0)
				close(fd);
			fail_bind(display, e4 ? e4 : e6);
			return 1;
		}
		if (fd < 0)
			klog("warn", "Microsoft.AspNetCore.Server.Kestrel", 0, "Unable to bind to %s on "
				"the IPv4 loopback interface: '%s'.", display, strerror(e4));
		if (fd2 < 0)
			klog("warn", "Microsoft.AspNetCore.Server.Kestrel", 0, "Unable to bind to %s on "
				"the IPv6 loopback interface: '%s'.", display, strerror(e6));
		if ((fd >= 0 && add_listener(fd, NULL) < 0) || (fd2 >= 0 && add_listener(fd2, NULL) < 0)) {
			fail_bind(display, errno);
			return 1;
		}
		break;
	default:
		if (u->family == 4) {
			make4(&a4, u->addr, u->port);
			fd = listen_on((struct sockaddr *)&a4, sizeof(a4), -1);
			inet_ntop(AF_INET, u->addr, ip, sizeof(ip));
			snprintf(display, sizeof(display), "%s://%s:%d", scheme, ip,
				fd >= 0 ? bound_port(fd) : (int)u->port);
		} else if (u->family == 6) {
			make6(&a6, u->addr, u->port);
			/* Kestrel puts an IPv6Any socket in dual mode; other addresses are IPv6 only. */
			fd = listen_on((struct sockaddr *)&a6, sizeof(a6),
				memcmp(u->addr, any6, 16) == 0 ? 0 : 1);
			inet_ntop(AF_INET6, u->addr, ip, sizeof(ip));
			snprintf(display, sizeof(display), "%s://[%s]:%d", scheme, ip,
				fd >= 0 ? bound_port(fd) : (int)u->port);
		} else {
			/* AnyIPListenOptions: [::] first, 0.0.0.0 if IPv6 fails (not "in use"). */
			make6(&a6, any6, u->port);
			fd = listen_on((struct sockaddr *)&a6, sizeof(a6), 0);
			snprintf(display, sizeof(display), "%s://[::]:%d", scheme,
				fd >= 0 ? bound_port(fd) : (int)u->port);
			if (fd < 0 && errno != EADDRINUSE) {
				make4(&a4, any4, u->port);
				fd = listen_on((struct sockaddr *)&a4, sizeof(a4), -1);
				snprintf(display, sizeof(display), "%s://0.0.0.0:%d", scheme,
					fd >= 0 ? bound_port(fd) : (int)u->port);
			}
		}
		if (fd < 0 || add_listener(fd, NULL) < 0) {
			if (errno == EADDRINUSE)
				klog("fail", "Microsoft.Extensions.Hosting.Internal.Host", 11,
					"Hosting failed to start\n      System.IO.IOException: Failed to bind "
					"to address %s: address already in use.", display);
			fail_bind(display, errno);
			return 1;
		}
		break;
	}
	klog("info", "Microsoft.Hosting.Lifetime", 14, "Now listening on: %s", display);
	return 0;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The name of uid in /etc/passwd (what .NET's Environment.UserName reports), or the number. */
static void user_name(uid_t uid, char *out, size_t size)
{
	FILE *f = fopen("/etc/passwd", "re");
	char line[1024];

	snprintf(out, size, "%u", (unsigned)uid);
	while (f && fgets(line, sizeof(line), f)) {
		char *name = line, *c1, *c2, *c3, *end;
		unsigned long v;
		if ((c1 = strchr(line, ':')) == NULL || (c2 = strchr(c1 + 1, ':')) == NULL ||
		    (c3 = strchr(c2 + 1, ':')) == NULL || c3 == c2 + 1)
			continue;
		v = strtoul(c2 + 1, &end, 10);
		if (end != c3 || v != (unsigned long)uid)
			continue;
		v = (unsigned long)(c1 - name) < size - 1 ? (unsigned long)(c1 - name) : size - 1;
		memcpy(out, name, v);
		out[v] = '\0';
		break;
	}
	if (f)
		fclose(f);
}

static long long read_number(const char *path)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	long long v = -1;

	if (f && fgets(buf, sizeof(buf), f) && buf[0] >= '0' && buf[0] <= '9')
		v = strtoll(buf, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static char *environment_json(size_t *len)
{
	struct utsname un;
	char user[256], host[256] = "", *out = NULL;
	long long total = (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	long long limit = read_number("/sys/fs/cgroup/memory.max");
	long long usage = read_number("/sys/fs/cgroup/memory.current");
	FILE *f = open_memstream(&out, len);

	if (f == NULL)
		return NULL;
	if (uname(&un) < 0)
		memset(&un, 0, sizeof(un));
	gethostname(host, sizeof(host) - 1);
	user_name(getuid(), user, sizeof(user));
	fprintf(f, "{\"runtimeVersion\":\"urlserve (libnonroot %s)\",\"osVersion\":", nr_version());
	{
		char os[600];
		snprintf(os, sizeof(os), "%s %s %s", un.sysname, un.release, un.version);
		json_str(f, os);
	}
	fprintf(f, ",\"osArchitecture\":");
	json_str(f, un.machine);
	fprintf(f, ",\"user\":");
	json_str(f, user);
	fprintf(f, ",\"uid\":%u,\"gid\":%u,\"processorCount\":%ld,\"totalAvailableMemoryBytes\":%lld,"
		"\"memoryLimit\":%lld,\"memoryUsage\":%lld,\"hostName\":", (unsigned)getuid(),
		(unsigned)getgid(), sysconf(_SC_NPROCESSORS_ONLN), total, limit > 0 ? limit : total,
		usage > 0 ? usage : 0);
	json_str(f, host);
	fputs("}\n", f);
	fclose(f);
	return out;
}

static void respond(int fd, int status, const char *reason, const char *type, const char *body,
	size_t blen, int head_only)
{
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		"Content-Length: %zu\r\nServer: urlserve\r\nConnection: close\r\n\r\n",
		status, reason, type, blen);
	ssize_t w;
	size_t off = 0;

	while (off < (size_t)n && (w = write(fd, hdr + off, (size_t)n - off)) > 0)
		off += (size_t)w;
	off = 0;
	while (!head_only && off < blen && (w = write(fd, body + off, blen - off)) > 0)
		off += (size_t)w;
}

static void serve_client(int fd)
{
	char req[8192], method[16], path[2048];
	size_t used = 0;
	struct timeval tv = { 5, 0 };
	ssize_t r;
	int head;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (used < sizeof(req) - 1 && (r = read(fd, req + used, sizeof(req) - 1 - used)) > 0) {
		used += (size_t)r;
		req[used] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[used] = '\0';
	if (sscanf(req, "%15s %2047s", method, path) != 2) {
		respond(fd, 400, "Bad Request", "text/plain", "bad request\n", 12, 0);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") != 0 && !head) {
		respond(fd, 405, "Method Not Allowed", "text/plain", "method not allowed\n", 19, 0);
	} else if (strcmp(path, "/Environment") == 0) {
		size_t len = 0;
		char *json = environment_json(&len);
		if (json)
			respond(fd, 200, "OK", "application/json; charset=utf-8", json, len, head);
		else
			respond(fd, 500, "Internal Server Error", "text/plain", "error\n", 6, head);
		free(json);
	} else if (strcmp(path, "/") == 0) {
		char body[128];
		int n = snprintf(body, sizeof(body), "Hello from urlserve, uid %u\n", (unsigned)getuid());
		respond(fd, 200, "OK", "text/plain; charset=utf-8", body, (size_t)n, head);
	} else {
		respond(fd, 404, "Not Found", "text/plain", "not found\n", 10, head);
	}
}

static void close_all(void)
{
	size_t i;

	for (i = 0; i < nlisteners; i++) {
		close(listeners[i].fd);
		if (listeners[i].unix_path[0])
			unlink(listeners[i].unix_path);
	}
	nlisteners = 0;
}

int main(int argc, char **argv)
{
	nr_bindings *b = NULL;
	nr_error err = NR_ERROR_INIT;
	struct pollfd pfd[MAX_LISTENERS];
	struct sigaction sa;
	sigset_t block, orig;
	size_t i, n;
	char text[512];

	if (argc > 1) {
		printf("Usage: %s\nListens where ASP.NET Core would (ASPNETCORE_URLS, "
			"ASPNETCORE_HTTP_PORTS, ...); GET /Environment answers JSON.\n", argv[0]);
		return strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: ppoll returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);

	if (nr_bindings_from_env(&b, (const char *const *)environ, NULL, &err) < 0) {
		nr_error_format(&err, text, sizeof(text));
		klog("crit", "Microsoft.AspNetCore.Server.Kestrel", 0, "Unable to start Kestrel.\n"
			"      %s", text);
		fprintf(stderr, "urlserve: %s\n", text);
		return 1;
	}
	for (i = 0, n = nr_bindings_warning_count(b); i < n; i++)
		klog("warn", "Microsoft.AspNetCore.Hosting.Diagnostics", 15, "%s",
			nr_bindings_warning_at(b, i));
	for (i = 0, n = nr_bindings_count(b); i < n; i++) {
		if (bind_one(nr_bindings_at(b, i)) != 0) {
			close_all();
			nr_bindings_free(b);
			return 1;
		}
	}
	nr_bindings_free(b);
	klog("info", "Microsoft.Hosting.Lifetime", 0, "Application started. Press Ctrl+C to shut down.");

	for (i = 0; i < nlisteners; i++) {
		pfd[i].fd = listeners[i].fd;
		pfd[i].events = POLLIN;
	}
	while (!stop_requested) {
		int r = ppoll(pfd, nlisteners, NULL, &orig);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "urlserve: poll: %s\n", strerror(errno));
			break;
		}
		for (i = 0; i < nlisteners; i++) {
			int c;
			if (!(pfd[i].revents & POLLIN))
				continue;
			if ((c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
				continue;
			serve_client(c);
			close(c);
		}
	}
	klog("info", "Microsoft.Hosting.Lifetime", 0, "Application is shutting down...");
	close_all();
	return 0;
}
