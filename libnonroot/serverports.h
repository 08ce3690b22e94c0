/*
 * serverports.h: privileged ports that patch cannot move, found where a server is told to
 * listen: program arguments (Cmd, Entrypoint: "-p 80", "--port=80", ":80", "0.0.0.0:80",
 * "--urls http://+:80", also inside "sh -c '...'") and well-known server configuration files
 * (nginx "listen", Apache "Listen", lighttpd "server.port"). Not installed.
 */
#ifndef NR_SERVERPORTS_H
#define NR_SERVERPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "nonroot/errors.h"

/* One privileged port found: where (argument index or 1-based line), the text that names it
 * ("-p 80", "listen [::]:80 default_server;") and the port. A negative return stops. */
typedef int (*nr__port_cb)(void *ctx, size_t where, const char *text, unsigned port);

/* Ports below threshold in program arguments. @return 0 or the callback's negative value;
 * NR_ENOMEM */
int nr__args_ports(const char *const *args, size_t n, unsigned threshold, nr__port_cb cb,
	void *ctx);

/* The server configuration files looked at, relative to the root ("etc/nginx/nginx.conf"),
 * NULL-terminated. */
extern const char *const nr__server_config_paths[];

/* Ports below threshold in the server configuration file at path (one of
 * nr__server_config_paths: the syntax is chosen by it). @return 0 or the callback's value */
int nr__config_ports(const char *path, const char *text, size_t len, unsigned threshold,
	nr__port_cb cb, void *ctx);

#endif
