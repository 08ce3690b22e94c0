/*
 * regopt.h: the registry options of the commands that open images (skopeo's names):
 * --creds USER:PASSWORD, --authfile FILE, --tls-verify[=true|false], --cert-dir DIR.
 * They fill the version-2 fields of nr_image_open_options (docs/registry.md).
 */
#ifndef NR_CLI_REGOPT_H
#define NR_CLI_REGOPT_H

#include "nonroot.h"

enum { CLI_O_CREDS = 1100, CLI_O_AUTHFILE, CLI_O_TLSVERIFY, CLI_O_CERTDIR };

#define CLI_REGISTRY_LONGOPTS \
	{ "creds", required_argument, NULL, CLI_O_CREDS }, \
	{ "authfile", required_argument, NULL, CLI_O_AUTHFILE }, \
	{ "tls-verify", optional_argument, NULL, CLI_O_TLSVERIFY }, \
	{ "cert-dir", required_argument, NULL, CLI_O_CERTDIR }

#define CLI_REGISTRY_USAGE \
	"  --creds USER:PASSWORD   registry credentials (default: --authfile, then\n" \
	"                       $REGISTRY_AUTH_FILE, containers auth.json, ~/.docker/config.json)\n" \
	"  --authfile FILE      registry auth file (containers-auth.json / docker config.json)\n" \
	"  --tls-verify=false   no TLS verification, plain http allowed (local registries)\n" \
	"  --cert-dir DIR       registry CA certificates (*.crt) and client *.cert + *.key\n"

/* Handle a CLI_O_* option. @return 0, or NR_EXIT_USAGE after printing the error. */
int cli_registry_option(const char *cmd, int opt, const char *arg, nr_image_open_options *oo);

#endif
