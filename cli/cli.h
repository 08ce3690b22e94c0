/*
 * cli.h: the nonroot command. Each subcommand lives in cli/cmd_<name>.c.
 * Exit status: 0 success/clean, 1 findings or a failed check, 2 usage or input error.
 */
#ifndef NR_CLI_H
#define NR_CLI_H

#include <stdio.h>

#include "nonroot.h"

enum { NR_EXIT_OK = 0, NR_EXIT_FINDINGS = 1, NR_EXIT_USAGE = 2 };

/* Subcommands: argv[0] is the subcommand name; getopt state is reset before each call. */
int nr_cmd_audit(int argc, char **argv);
int nr_cmd_patch(int argc, char **argv);
int nr_cmd_urls(int argc, char **argv);
int nr_cmd_user(int argc, char **argv);
int nr_cmd_passwd(int argc, char **argv);
int nr_cmd_bundle(int argc, char **argv);
int nr_cmd_k8s(int argc, char **argv);
int nr_cmd_unpack(int argc, char **argv);
int nr_cmd_verify(int argc, char **argv);
int nr_cmd_cache(int argc, char **argv);

/* Make SIGINT/SIGTERM/SIGHUP remove the run's temporary files and directories, then kill the
 * process with that signal (cli/interrupt.c). Call before any thread exists. */
void cli_interrupt_setup(void);

/* "nonroot: <what>: <error text>" on stderr; @return NR_EXIT_USAGE. */
int cli_fail(const char *what, const nr_error *err);
/* "nonroot: <printf text>" on stderr; @return NR_EXIT_USAGE. */
int cli_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error for a subcommand: message + "Try 'nonroot CMD --help'."; @return 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Strict decimal option value in [0, max]; prints the error and returns -1 when invalid. */
int cli_parse_uint(const char *opt, const char *val, unsigned long max, unsigned long *out);
/* Read a whole file (at most max bytes) into a new NUL-terminated buffer (free()).
 * @return 0, or -1 with errno set (EFBIG when larger than max). */
int cli_read_file(const char *path, size_t max, char **out, size_t *len);
/* Print a JSON string literal (with quotes) to f. */
void cli_json_string(FILE *f, const char *s);
/* Text from an image for a terminal: printable ASCII and valid UTF-8 other than C1 controls as
 * they are, every other byte (escape sequences, newlines, CSI) as \xNN. */
void cli_put_safe(FILE *f, const char *s);

#endif
