/*
 * regopt.c: --creds, --authfile, --tls-verify, --cert-dir (see regopt.h).
 */
#include <string.h>

#include "cli.h"
#include "regopt.h"

int cli_registry_option(const char *cmd, int opt, const char *arg, nr_image_open_options *oo)
{
	switch (opt) {
	case CLI_O_CREDS:
		if (strchr(arg, ':') == NULL || arg[0] == ':')
			return cli_usage_error(cmd, "--creds: expected USER:PASSWORD");
		oo->creds = arg;
		return 0;
	case CLI_O_AUTHFILE:
		oo->authfile = arg;
		return 0;
	case CLI_O_CERTDIR:
		oo->cert_dir = arg;
		return 0;
	case CLI_O_TLSVERIFY:
		if (arg == NULL || strcmp(arg, "true") == 0)
			oo->tls_verify = 1;
		else if (strcmp(arg, "false") == 0)
			oo->tls_verify = 0;
		else
			return cli_usage_error(cmd, "--tls-verify: '%s' is not true or false", arg);
		return 0;
	default:
		return cli_usage_error(cmd, "invalid option");
	}
}
