/*
 * procobs.h: what `nonroot verify` reads about a container's init process from /proc:
 * /proc/PID/status (ids, capability sets, NoNewPrivs) and /proc/PID/net/tcp{,6} (the
 * listening sockets of its network namespace). Pure parsers over (text, length): no I/O.
 */
#ifndef NR_CLI_PROCOBS_H
#define NR_CLI_PROCOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct procobs_status {
	bool have_uid, have_gid, have_caps;
	uint32_t uid[4];          /* real, effective, saved, filesystem */
	uint32_t gid[4];
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	int no_new_privs;         /* -1: not reported */
	char name[64];            /* Name: (comm) */
} procobs_status;

/* Parse /proc/PID/status. @return 0, or -1 when a field we read is malformed. */
int procobs_parse_status(const char *text, size_t len, procobs_status *st);

typedef struct procobs_listen {
	uint16_t port;
	int family;               /* 4 or 6 */
	uint32_t uid;             /* the socket owner */
	char addr[48];            /* local address, printed ("0.0.0.0", "::", "127.0.0.1") */
} procobs_listen;

/*
 * Parse /proc/PID/net/tcp (family 4) or tcp6 (family 6): append each LISTEN socket (state 0A)
 * to out[*n], incrementing *n (sockets beyond max are not stored). The header line is skipped.
 * @return 0, or -1 when a line is malformed (what was parsed before it is kept).
 */
int procobs_parse_tcp(const char *text, size_t len, int family, procobs_listen *out,
	size_t max, size_t *n);

#endif
