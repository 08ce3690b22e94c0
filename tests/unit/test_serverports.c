/*
 * test_serverports.c: privileged ports in program arguments and server configuration files
 * (serverports.c, audit NR012/NR013).
 */
#include <stdio.h>
#include <string.h>

#include "nrtest.h"
#include "serverports.h"

typedef struct got {
	char text[1024];
} got;

static int collect(void *ctx, size_t where, const char *text, unsigned port)
{
	got *g = ctx;
	size_t used = strlen(g->text);

	snprintf(g->text + used, sizeof(g->text) - used, "%s%zu|%s|%u", used ? ";" : "", where,
		text, port);
	return 0;
}

static void args_expect(const char *const *args, size_t n, const char *expected)
{
	got g;

	g.text[0] = '\0';
	CU_ASSERT_EQUAL(nr__args_ports(args, n, 1024, collect, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.text, expected);
	if (strcmp(g.text, expected) != 0)
		fprintf(stderr, "\n  got      <%s>\n  expected <%s>\n", g.text, expected);
}

static void test_args(void)
{
	const char *a1[] = { "busybox", "httpd", "-f", "-p", "80" };
	const char *a2[] = { "/app/server", "--port=80", "-p81", "--listen", "0.0.0.0:443" };
	const char *a3[] = { "nginx", ":80", "*:81", "[::]:82", "localhost:83", "127.0.0.1:84" };
	const char *a4[] = { "dotnet", "app.dll", "--urls", "http://+:80;https://+:443" };
	const char *a5[] = { "/bin/sh", "-c", "exec httpd -f -p '80' -h /www" };
	/* none of these is a listening port */
	const char *a6[] = { "mkdir", "-p", "/x", "80", "a:80", "/bin:/usr/bin", "-p", "8080",
		"--port=0", "--port=70000", "http://example.com/x", "x=:80x" };
	const char *a7[] = { "gunicorn", "-b", "example.com:80", "--bind=:8000" };

	args_expect(a1, 5, "3|-p 80|80");
	args_expect(a2, 5, "1|--port=80|80;2|-p81|81;3|--listen 0.0.0.0:443|443");
	args_expect(a3, 6, "1|:80|80;2|*:81|81;3|[::]:82|82;4|localhost:83|83;5|127.0.0.1:84|84");
	args_expect(a4, 4, "2|--urls http://+:80;https://+:443|80;2|--urls http://+:80;https://+:443|443");
	args_expect(a5, 3, "2|-p 80|80");
	args_expect(a6, 12, "");
	args_expect(a7, 4, "1|-b example.com:80|80");
	args_expect(NULL, 0, "");
}

static void conf_expect(const char *path, const char *text, const char *expected)
{
	got g;

	g.text[0] = '\0';
	CU_ASSERT_EQUAL(nr__config_ports(path, text, strlen(text), 1024, collect, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.text, expected);
	if (strcmp(g.text, expected) != 0)
		fprintf(stderr, "\n  got      <%s>\n  expected <%s>\n", g.text, expected);
}

static void test_configs(void)
{
	conf_expect("etc/nginx/conf.d/default.conf",
		"server {\n    listen       80;\n    listen  [::]:80 default_server;\n"
		"    # listen 81;\n    listen 127.0.0.1;\n    listen unix:/run/a.sock;\n"
		"    listen 8080;\n    server_name localhost;\n}\n",
		"2|listen       80;|80;3|listen  [::]:80 default_server;|80;5|listen 127.0.0.1;|80");
	conf_expect("etc/apache2/ports.conf", "Listen 80\n<IfModule ssl_module>\n\tListen 443\n"
		"</IfModule>\nlisten 0.0.0.0:81 http\nListen 8080\n",
		"1|Listen 80|80;3|Listen 443|443;5|listen 0.0.0.0:81 http|81");
	conf_expect("etc/lighttpd/lighttpd.conf", "server.document-root = \"/var/www\"\n"
		"server.port = 80\nserver.port=81\n#server.port = 82\nserver.port = 8080\n",
		"2|server.port = 80|80;3|server.port=81|81");
	/* no trailing newline, CRLF */
	conf_expect("etc/nginx/nginx.conf", "listen 80;\r\nlisten 90;", "1|listen 80;|80;2|listen 90;|90");
}

static CU_TestInfo serverports_tests[] = {
	{ "program arguments", test_args },
	{ "server configuration files", test_configs },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "serverports", NULL, NULL, NULL, NULL, serverports_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
