/*
 * cmd_k8s.c: nonroot k8s IMAGE: print a Kubernetes container fragment (securityContext and
 * ports) that passes the restricted Pod Security Standard for that image.
 *
 * The user comes from the image config's User as Kubernetes sees it: the kubelet (through the
 * CRI) can only check runAsNonRoot against a numeric user, so "UID" or "UID:GID" is needed;
 * a name, an empty User (root) or uid 0 is an error that points at `nonroot patch`.
 * The ports come from the image's effective Kestrel bindings (ASPNETCORE_URLS / HTTP_PORTS /
 * ...) computed by the urls API over config.Env; when the image sets none of those variables
 * the config's ExposedPorts are used.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "regopt.h"

/* Kubernetes' runAsUser / runAsGroup range. */
#define K8S_ID_MAX 2147483647u
#define MAX_PORTS 64

struct k8s_port {
	char name[16];          /* IANA_SVC_NAME: at most 15 characters */
	unsigned port;
	const char *protocol;   /* "TCP" / "UDP" / "SCTP" */
	const char *scheme;     /* "http" / "https" / NULL for ExposedPorts */
	int privileged;
	char url[160];          /* the binding, for messages */
};

struct k8s_result {
	char user[256];          /* config.User as found */
	unsigned long uid, gid;
	int has_gid;
	struct k8s_port ports[MAX_PORTS];
	size_t nports;
	char notes[8][256];      /* comments printed above the fragment */
	size_t nnotes;
	int port_source_env;     /* ports from the Kestrel variables (else ExposedPorts) */
	char bindings[1024];     /* "SOURCE: URL (VARIABLE) ..." */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nonroot k8s IMAGE [--container NAME] [--platform OS/ARCH[/VARIANT]]\n"
		"Print a Kubernetes container fragment for IMAGE: a securityContext that passes the\n"
		"restricted Pod Security Standard (runAsNonRoot, runAsUser/runAsGroup from the image's\n"
		"numeric User, allowPrivilegeEscalation false, capabilities drop ALL, seccompProfile\n"
		"RuntimeDefault) and the container ports the image listens on (its effective\n"
		"ASP.NET Core bindings, else its ExposedPorts).\n"
		"\n"
		"IMAGE: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG],\n"
		"docker://HOST[:PORT]/REPO[:TAG|@DIGEST] or a path.\n"
		"\n"
		"Options:\n"
		"      --container NAME   the container's name (default: app)\n"
		"      --platform P       use only platform P of a multi-platform image\n"
		CLI_REGISTRY_USAGE
		"  -q, --quiet            the fragment and its warnings only (no header or notes)\n"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status: 0 printed; 1 the image cannot pass the restricted profile as it is (its\n"
		"User is empty, root or not numeric: run 'nonroot patch'), or a port it listens on is\n"
		"below 1024 (printed, with a warning); 2 usage or input error.\n");
}

/* A DNS-1123 label: what Kubernetes accepts as a container name. */
static int valid_container_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static int strict_id(const char *s, size_t len, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > K8S_ID_MAX)
			return -2;
	}
	*out = v;
	return 0;
}

static void add_note(struct k8s_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_note(struct k8s_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nnotes >= sizeof(r->notes) / sizeof(r->notes[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes++], sizeof(r->notes[0]), fmt, ap);
	va_end(ap);
}

static int add_port(struct k8s_result *r, unsigned port, const char *protocol,
	const char *scheme, int privileged, const char *url)
{
	size_t i;
	struct k8s_port *p;

	for (i = 0; i < r->nports; i++)
		if (r->ports[i].port == port && !strcmp(r->ports[i].protocol, protocol))
			return 0;
	if (r->nports == MAX_PORTS)
		return -1;
	p = &r->ports[r->nports++];
	memset(p, 0, sizeof(*p));
	p->port = port;
	p->protocol = protocol;
	p->scheme = scheme;
	p->privileged = privileged;
	snprintf(p->url, sizeof(p->url), "%s", url);
	return 0;
}

/* Port names: the scheme ("http", "https") when it is unique, else scheme-PORT. */
static void name_ports(struct k8s_result *r)
{
	size_t i, j, same;

	for (i = 0; i < r->nports; i++) {
		if (r->ports[i].scheme == NULL)
			continue;
		for (j = 0, same = 0; j < r->nports; j++)
			same += r->ports[j].scheme && !strcmp(r->ports[j].scheme, r->ports[i].scheme);
		if (same == 1)
			snprintf(r->ports[i].name, sizeof(r->ports[i].name), "%s", r->ports[i].scheme);
		else
			snprintf(r->ports[i].name, sizeof(r->ports[i].name), "%s-%u",
				r->ports[i].scheme, r->ports[i].port);
	}
}

/* The ports: Kestrel's effective bindings when the image sets its variables, else
 * ExposedPorts. */
static int find_ports(struct k8s_result *r, const nr_imgconfig *cfg, nr_error *err)
{
	nr_bindings *bs = NULL;
	size_t i, used;
	int error = 0;

	if ((error = nr_imgconfig_bindings(&bs, cfg, NULL, err)) < 0)
		goto done;
	/* The effective bindings and their source, as audit, urls and patch report them. */
	used = (size_t)snprintf(r->bindings, sizeof(r->bindings), "%s:",
		nr_urls_source_name(nr_bindings_source(bs)));
	for (i = 0; i < nr_bindings_count(bs) && used < sizeof(r->bindings); i++) {
		const nr_binding *b = nr_bindings_at(bs, i);
		used += (size_t)snprintf(r->bindings + used, sizeof(r->bindings) - used, " %s%s%s%s",
			b->url, b->variable ? " (" : "", b->variable ? b->variable : "",
			b->variable ? ")" : "");
	}
	if (nr_bindings_source(bs) != NR_URLS_SOURCE_DEFAULT) {
		r->port_source_env = 1;
		for (i = 0; i < nr_bindings_count(bs); i++) {
			const nr_binding *b = nr_bindings_at(bs, i);
			const nr_url *u = &b->parsed;
			if (u->kind == NR_URL_UNIX || u->kind == NR_URL_PIPE) {
				add_note(r, "%s is not a TCP port: no containerPort", b->url);
				continue;
			}
			if (u->kind == NR_URL_LOCALHOST) {
				add_note(r, "%s listens on localhost only: not reachable from outside the "
					"pod, no containerPort", b->url);
				continue;
			}
			if (u->port <= 0 || u->port > 65535) {
				add_note(r, "%s has a dynamic port: no containerPort", b->url);
				continue;
			}
			if (add_port(r, (unsigned)u->port, "TCP",
			    (u->flags & NR_URL_HTTPS) ? "https" : "http", b->privileged, b->url) < 0)
				break;
		}
		for (i = 0; i < nr_bindings_warning_count(bs); i++)
			add_note(r, "%s", nr_bindings_warning_at(bs, i));
	} else {
		for (i = 0; i < nr_imgconfig_exposed_count(cfg); i++) {
			const char *key = nr_imgconfig_exposed_at(cfg, i), *proto = NULL;
			uint16_t port;
			nr_error perr = NR_ERROR_INIT;
			if (nr_imgconfig_parse_port_key(&port, &proto, key, &perr) < 0 || port == 0) {
				add_note(r, "ExposedPorts \"%s\" is not a single port: skipped", key);
				continue;
			}
			if (add_port(r, port, !strcmp(proto, "udp") ? "UDP" : !strcmp(proto, "sctp") ?
			    "SCTP" : "TCP", NULL, port < NR_UNPRIVILEGED_PORT_START, key) < 0)
				break;
		}
	}
done:
	nr_bindings_free(bs);
	return error;
}

/* Check the image's User as the kubelet would for runAsNonRoot. @return 0, or 1 (message on
 * stderr) when the image cannot pass. */
static int check_user(struct k8s_result *r, const char *ref, const char *platform)
{
	const char *u = r->user, *colon = strchr(u, ':');
	size_t ulen = colon ? (size_t)(colon - u) : strlen(u);
	char what[4200];
	int rc;

	snprintf(what, sizeof(what), "k8s %s%s%s%s", ref, platform ? " (" : "",
		platform ? platform : "", platform ? ")" : "");
	if (*u == '\0') {
		fprintf(stderr, "nonroot: %s: the image's User is empty, so it runs as root and "
			"cannot pass runAsNonRoot; run 'nonroot patch %s' to give it a numeric "
			"non-root user\n", what, ref);
		return 1;
	}
	if ((rc = strict_id(u, ulen, &r->uid)) < 0 ||
	    (colon && (rc = strict_id(colon + 1, strlen(colon + 1), &r->gid)) < 0)) {
		if (rc == -2)
			fprintf(stderr, "nonroot: %s: the image's User '%s' has an id over %u, "
				"which Kubernetes refuses\n", what, u, K8S_ID_MAX);
		else
			fprintf(stderr, "nonroot: %s: the image's User '%s' is not numeric (UID or "
				"UID:GID): the kubelet cannot verify runAsNonRoot for a user name; run "
				"'nonroot patch %s' to write a numeric User\n", what, u, ref);
		return 1;
	}
	r->has_gid = colon != NULL;
	if (r->uid == 0) {
		fprintf(stderr, "nonroot: %s: the image's User '%s' is root (uid 0); run "
			"'nonroot patch %s' to give it a non-root user\n", what, u, ref);
		return 1;
	}
	return 0;
}

static void print_fragment(const struct k8s_result *r, const char *ref, const char *platform,
	const char *container, int quiet)
{
	size_t i;

	size_t low = 0;

	for (i = 0; i < r->nports; i++)
		low += r->ports[i].privileged != 0;
	if (quiet)
		goto warnings;
	printf("# nonroot k8s: %s", ref);
	if (platform)
		printf(" (%s)", platform);
	if (low == 0)
		printf(", User \"%s\": passes the restricted Pod Security Standard\n", r->user);
	else
		printf(", User \"%s\": the securityContext meets the restricted Pod Security "
			"Standard, but the container cannot start under it: it listens on %s below "
			"1024\n", r->user, low > 1 ? "ports" : "a port");
	printf("# effective bindings: %s\n", r->bindings);
	for (i = 0; i < r->nnotes; i++)
		printf("# note: %s\n", r->notes[i]);
warnings:
	for (i = 0; i < r->nports; i++)
		if (r->ports[i].privileged)
			printf("# warning: %s needs port %u (below 1024), which uid %lu cannot bind "
				"after dropping ALL capabilities; run 'nonroot patch --port-map %u:%u'\n",
				r->ports[i].url, r->ports[i].port, r->uid, r->ports[i].port,
				r->ports[i].port == 443 ? 8443u : 8080u);
	printf("name: %s\n", container);
	printf("securityContext:\n");
	printf("  runAsNonRoot: true\n");
	printf("  runAsUser: %lu\n", r->uid);
	if (r->has_gid)
		printf("  runAsGroup: %lu\n", r->gid);
	printf("  allowPrivilegeEscalation: false\n");
	printf("  capabilities:\n");
	printf("    drop:\n");
	printf("    - ALL\n");
	printf("  seccompProfile:\n");
	printf("    type: RuntimeDefault\n");
	if (r->nports == 0)
		return;
	printf("ports:\n");
	for (i = 0; i < r->nports; i++) {
		if (r->ports[i].name[0])
			printf("- name: %s\n  containerPort: %u\n", r->ports[i].name, r->ports[i].port);
		else
			printf("- containerPort: %u\n", r->ports[i].port);
		printf("  protocol: %s\n", r->ports[i].protocol);
	}
}

/* Two platforms give the same fragment. */
static int same_result(const struct k8s_result *a, const struct k8s_result *b)
{
	size_t i;

	if (strcmp(a->user, b->user) || a->nports != b->nports)
		return 0;
	for (i = 0; i < a->nports; i++)
		if (a->ports[i].port != b->ports[i].port ||
		    strcmp(a->ports[i].protocol, b->ports[i].protocol) ||
		    strcmp(a->ports[i].name, b->ports[i].name))
			return 0;
	return 1;
}

/* Each platform's User and ports into res[i] (n of them), which must agree: NR_EXIT_OK or
 * an exit status. Errors name the platform when there is a choice of them (several, or
 * --platform). */
static int read_platforms(nr_image *img, struct k8s_result *res, size_t n, const char *ref,
	const char *what, int platform_given)
{
	nr_error err = NR_ERROR_INIT;
	nr_imgconfig *cfg = NULL;
	size_t i;
	int rc = NR_EXIT_OK;

	for (i = 0; i < n && rc == NR_EXIT_OK; i++) {
		const char *platform = n > 1 || platform_given ? nr_image_platform_at(img, i) : NULL;
		size_t len;
		const char *json = nr_image_config(&len, img, i);

		if (json == NULL || nr_imgconfig_parse(&cfg, json, len, &err) < 0) {
			nr_imgconfig_free(cfg);
			return cli_fail(what, &err);
		}
		snprintf(res[i].user, sizeof(res[i].user), "%s", nr_imgconfig_user(cfg));
		if (check_user(&res[i], ref, platform) != 0)
			rc = NR_EXIT_FINDINGS;
		else if (find_ports(&res[i], cfg, &err) < 0)
			rc = cli_fail(what, &err);
		nr_imgconfig_free(cfg);
		cfg = NULL;
		if (rc != NR_EXIT_OK)
			break;
		name_ports(&res[i]);
		if (i > 0 && !same_result(&res[0], &res[i]))
			rc = cli_failf("%s: platforms %s and %s differ (User or ports); pick one with "
				"--platform", what, nr_image_platform_at(img, 0), nr_image_platform_at(img, i));
	}
	return rc;
}

int nr_cmd_k8s(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "container", required_argument, NULL, 'c' },
		{ "platform", required_argument, NULL, 'p' },
		CLI_REGISTRY_LONGOPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	nr_image_open_options oopts = NR_IMAGE_OPEN_OPTIONS_INIT;
	const char *container = "app", *ref;
	struct k8s_result *res = NULL;
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	size_t i, n;
	int c, rc = NR_EXIT_OK, any_privileged = 0, quiet = 0;
	char what[4200];

	while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = 1;
			break;
		case 'c':
			container = optarg;
			break;
		case 'p':
			oopts.platform = optarg;
			break;
		case CLI_O_CREDS: case CLI_O_AUTHFILE: case CLI_O_TLSVERIFY: case CLI_O_CERTDIR:
			if (cli_registry_option("k8s", c, optarg, &oopts) != 0)
				return NR_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return NR_EXIT_OK;
		default:
			return cli_usage_error("k8s", "invalid option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("k8s", "missing IMAGE");
	if (optind + 1 < argc)
		return cli_usage_error("k8s", "unexpected argument '%s'", argv[optind + 1]);
	if (!valid_container_name(container))
		return cli_usage_error("k8s", "--container: '%s' is not a valid container name "
			"(lowercase letters, digits and '-', at most 63)", container);
	ref = argv[optind];
	snprintf(what, sizeof(what), "k8s %s", ref);

	if (nr_image_open(&img, ref, &oopts, &err) < 0)
		return cli_fail(what, &err);
	n = nr_image_count(img);
	if (n == 0 || (res = calloc(n, sizeof(*res))) == NULL) {
		nr_image_free(img);
		return cli_failf("%s: %s", what, n == 0 ? "the image has no manifest" :
			"out of memory");
	}
	if ((rc = read_platforms(img, res, n, ref, what, oopts.platform != NULL)) != NR_EXIT_OK)
		goto done;
	print_fragment(&res[0], ref, n > 1 ? "every platform" : nr_image_platform_at(img, 0),
		container, quiet);
	for (i = 0; i < res[0].nports; i++)
		any_privileged |= res[0].ports[i].privileged;
	if (any_privileged) {
		fprintf(stderr, "nonroot: k8s %s: the image listens on a port below 1024, which its "
			"non-root user cannot bind; run 'nonroot patch' to move it (see the warning)\n",
			ref);
		rc = NR_EXIT_FINDINGS;
	}
done:
	nr_image_free(img);
	free(res);
	return rc;
}
