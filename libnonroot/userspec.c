/*
 * userspec.c: OCI User spec resolution, as runc/moby GetExecUser (see userspec.h).
 */
#include <stdio.h>

#include "internal.h"
#include "acctfile.h"
#include "parse.h"

/* Go's strconv.Atoi / ParseInt(s, 10, 64): optional sign, one or more decimal digits. */
static int go_atoi(const char *s, size_t len, int64_t *out)
{
	uint64_t v = 0, lim;
	size_t i = 0;
	bool neg = false;

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9 || v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return 0;
}

static int range_error(nr_error *err)
{
	return nr__error_set(err, NR_ERANGE, NULL, 0, 0, "uids and gids must be in range 0-%u",
		NR_USERSPEC_ID_MAX);
}

int nr_userspec_options_init(nr_userspec_options *opts, unsigned version)
{
	static const nr_userspec_options init = NR_USERSPEC_OPTIONS_INIT;

	if (opts == NULL || version != NR_USERSPEC_OPTIONS_VERSION)
		return NR_EARG;
	*opts = init;
	return 0;
}

void nr_exec_user_dispose(nr_exec_user *u)
{
	if (u == NULL)
		return;
	free(u->additional_gids);
	free(u->home);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

static int copy_gids(nr_exec_user *u, const uint32_t *gids, size_t n)
{
	if (n == 0)
		return 0;
	if ((u->additional_gids = nr__calloc(n, sizeof(*gids))) == NULL)
		return NR_ENOMEM;
	memcpy(u->additional_gids, gids, n * sizeof(*gids));
	u->n_additional_gids = n;
	return 0;
}

/* runc reads the passwd or group line that decides the result differently from nonroot (a
 * line nonroot does not take as an entry, e.g. a uid "abc" that runc reads as 0): refused,
 * never guessed (see docs/security.md). */
static int differs(nr_error *err, const char *source, size_t line, const char *what,
	const nr__go_line *g, bool passwd)
{
	char name[80];

	nr__span_quote(name, sizeof(name), g->name, g->nlen, 60);
	if (passwd)
		return nr__error_set(err, NR_EINVALID, source, line, 0,
			"runc and Docker read this line as %s '%s' with uid %lld and gid %lld, but it is "
			"not a valid passwd entry: refused (fix or remove the line)", what, name,
			(long long)g->id, (long long)g->gid);
	return nr__error_set(err, NR_EINVALID, source, line, 0,
		"runc and Docker read this line as %s '%s' with gid %lld, but it is not a valid "
		"group entry: refused (fix or remove the line)", what, name, (long long)g->id);
}

/* An OCI User spec split as runc's parseLine(spec, &userArg, &groupArg) does: at every ':',
 * the first two parts used; each part also read as a number when Go's Atoi takes it. */
typedef struct spec_parts {
	const char *user, *group;
	size_t user_len, group_len;
	int64_t uid, gid;
	bool uid_num, gid_num;
} spec_parts;

static void split_spec(spec_parts *s, const char *spec)
{
	const char *colon = strchr(spec, ':');

	memset(s, 0, sizeof(*s));
	s->user = spec;
	s->group = "";
	s->user_len = colon ? (size_t)(colon - spec) : strlen(spec);
	if (colon) {
		const char *next = strchr(colon + 1, ':');
		s->group = colon + 1;
		s->group_len = next ? (size_t)(next - s->group) : strlen(s->group);
	}
	s->uid_num = go_atoi(s->user, s->user_len, &s->uid) == 0;
	s->gid_num = go_atoi(s->group, s->group_len, &s->gid) == 0;
}

/* The user (first match wins) into u->uid, u->gid and *home; *match the entry, if any. */
static int resolve_user(nr_exec_user *u, const char **home, const nr_pwent **match,
	const spec_parts *s, const nr_passwd *pw, nr_error *err)
{
	int64_t dflt_uid = (int64_t)u->uid;
	size_t i, gl;
	nr__go_line g;
	bool is_entry;

	*match = NULL;
	for (i = 0; i < nr_passwd_count(pw) && *match == NULL; i++) {
		const nr_pwent *e = nr_passwd_at(pw, i);
		if (s->user_len == 0 ? e->uid == u->uid :
		    s->uid_num ? (int64_t)e->uid == s->uid :
		    (strlen(e->name) == s->user_len && memcmp(e->name, s->user, s->user_len) == 0))
			*match = e;
	}
	/* runc takes the first line it reads as matching. When that is not the entry we took
	 * and runc's ids differ from ours (or we find no user where runc does), refuse. */
	if (nr__passwd_go_first(pw, s->user, s->user_len, s->user_len == 0 ? &dflt_uid :
	    s->uid_num ? &s->uid : NULL, &gl, &g, &is_entry) &&
	    !(is_entry && *match && (*match)->line == gl)) {
		int64_t our_uid = *match ? (*match)->uid : s->uid_num ? s->uid : (int64_t)u->uid;
		int64_t our_gid = *match ? (*match)->gid : (int64_t)u->gid;
		if ((!*match && !s->uid_num && s->user_len > 0) || g.id != our_uid || g.gid != our_gid)
			return differs(err, nr__passwd_source(pw), gl, "user", &g, true);
	}
	if (*match) {
		u->uid = (*match)->uid;
		u->gid = (*match)->gid;
		*home = (*match)->dir;
	} else if (s->user_len > 0) {
		if (!s->uid_num)
			return nr__error_set(err, NR_ENOTFOUND, NULL, 0, 0,
				"unable to find user %.*s: no matching entries in passwd file",
				(int)(s->user_len > 200 ? 200 : s->user_len), s->user);
		if (s->uid < 0 || s->uid > (int64_t)NR_USERSPEC_ID_MAX)
			return range_error(err);
		u->uid = (uint32_t)s->uid;
	}
	return 0;
}

/* An explicit group (by name or number) sets u->gid. */
static int resolve_group(nr_exec_user *u, const spec_parts *s, const nr_group *gr,
	nr_error *err)
{
	const nr_grent *g = NULL;
	size_t i, gl;
	nr__go_line gg;
	bool is_entry;

	for (i = 0; i < nr_group_count(gr) && g == NULL; i++) {
		const nr_grent *e = nr_group_at(gr, i);
		if (s->gid_num ? (int64_t)e->gid == s->gid :
		    (strlen(e->name) == s->group_len && memcmp(e->name, s->group, s->group_len) == 0))
			g = e;
	}
	if (nr__group_go_first(gr, s->group, s->group_len, s->gid_num ? &s->gid : NULL, &gl,
	    &gg, &is_entry) && !(is_entry && g && g->line == gl) &&
	    ((!g && !s->gid_num) || gg.id != (g ? (int64_t)g->gid : s->gid)))
		return differs(err, nr__group_source(gr), gl, "group", &gg, false);
	if (g) {
		u->gid = g->gid;
		return 0;
	}
	if (!s->gid_num)
		return nr__error_set(err, NR_ENOTFOUND, NULL, 0, 0,
			"unable to find group %.*s: no matching entries in group file",
			(int)(s->group_len > 200 ? 200 : s->group_len), s->group);
	if (s->gid < 0 || s->gid > (int64_t)NR_USERSPEC_ID_MAX)
		return range_error(err);
	u->gid = (uint32_t)s->gid;
	return 0;
}

/* Does group entry @p e list @p name as a member? */
static bool lists_member(const nr_grent *e, const char *name)
{
	size_t k;

	for (k = 0; k < e->nmembers; k++)
		if (strcmp(e->members[k], name) == 0)
			return true;
	return false;
}

/* No explicit group: the groups listing the user become u->additional_gids. */
static int member_groups(nr_exec_user *u, const nr_pwent *match, const nr_group *gr,
	nr_error *err)
{
	size_t n = 0, i, gl = 0;
	nr__go_line gg;

	/* a line runc reads as listing the user but we do not: refused unless its gid is
	 * one the user has anyway (its primary gid or an entry's) */
	while (nr__group_go_hidden_member(gr, match->name, gl, &gl, &gg)) {
		bool have = gg.id == (int64_t)match->gid;
		for (i = 0; i < nr_group_count(gr) && !have; i++) {
			const nr_grent *e = nr_group_at(gr, i);
			have = e->gid == gg.id && lists_member(e, match->name);
		}
		if (!have)
			return differs(err, nr__group_source(gr), gl,
				"a group listing the user, group", &gg, false);
	}
	for (i = 0; i < nr_group_count(gr); i++)
		n += lists_member(nr_group_at(gr, i), match->name);
	if (n == 0)
		return 0;
	if ((u->additional_gids = nr__calloc(n, sizeof(uint32_t))) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < nr_group_count(gr); i++) {
		const nr_grent *e = nr_group_at(gr, i);
		if (lists_member(e, match->name))
			u->additional_gids[u->n_additional_gids++] = e->gid;
	}
	return 0;
}

int nr_userspec_resolve(nr_exec_user *out, const char *spec, const nr_passwd *pw,
	const nr_group *gr, const nr_userspec_options *opts, nr_error *err)
{
	static const nr_userspec_options dflt = NR_USERSPEC_OPTIONS_INIT;
	const nr_pwent *match = NULL;
	const char *home;
	spec_parts s;
	nr_exec_user u;
	int error = 0;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	memset(out, 0, sizeof(*out));
	if (opts == NULL)
		opts = &dflt;
	if ((error = nr__check_version(err, "nr_userspec_options", opts->version,
	    NR_USERSPEC_OPTIONS_VERSION)) < 0)
		return error;
	memset(&u, 0, sizeof(u));
	u.uid = opts->uid;
	u.gid = opts->gid;
	home = opts->home ? opts->home : "";
	split_spec(&s, spec ? spec : "");
	if ((error = resolve_user(&u, &home, &match, &s, pw, err)) < 0)
		return error;
	/* The groups: an explicit group sets the gid; else the user's memberships. */
	if (s.group_len > 0)
		error = resolve_group(&u, &s, gr, err);
	else if (match)
		error = member_groups(&u, match, gr, err);
	if (error < 0)
		goto fail;
	if (u.additional_gids == NULL && copy_gids(&u, opts->additional_gids,
		opts->n_additional_gids) < 0)
		goto oom;
	if ((u.home = nr__strdup(home)) == NULL)
		goto oom;
	if (match && (u.name = nr__strdup(match->name)) == NULL)
		goto oom;
	*out = u;
	return 0;
oom:
	error = nr__error_oom(err);
fail:
	nr_exec_user_dispose(&u);
	return error;
}

int nr_userspec_additional_gids(uint32_t **gids, size_t *ngids, const nr_group *gr,
	const char *const *groups, size_t n, nr_error *err)
{
	uint32_t *v = NULL;
	size_t nv = 0, i, k;

	nr__error_reset(err);
	NR_ASSERT_ARG(gids, err);
	NR_ASSERT_ARG(ngids, err);
	*gids = NULL;
	*ngids = 0;
	if (n > 0 && groups == NULL)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: groups is NULL");
	if (n > 0 && (v = nr__calloc(n, sizeof(*v))) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < n; i++) {
		const char *ag = groups[i] ? groups[i] : "";
		bool found = false, seen;
		int64_t gid;
		size_t j;

		/* runc: the first group matching by name or by its decimal gid whose gid is not
		 * taken yet; else a numeric value in range. */
		for (k = 0; k < nr_group_count(gr) && !found; k++) {
			const nr_grent *e = nr_group_at(gr, k);
			char num[16];
			snprintf(num, sizeof(num), "%u", e->gid);
			if (strcmp(e->name, ag) != 0 && strcmp(num, ag) != 0)
				continue;
			for (seen = false, j = 0; j < nv; j++)
				seen = seen || v[j] == e->gid;
			if (!seen) {
				v[nv++] = e->gid;
				found = true;
			}
		}
		if (found)
			continue;
		if (go_atoi(ag, strlen(ag), &gid) < 0) {
			free(v);
			return nr__error_set(err, NR_ENOTFOUND, NULL, 0, 0, "Unable to find group %.200s",
				ag);
		}
		if (gid < 0 || gid > (int64_t)NR_USERSPEC_ID_MAX) {
			free(v);
			return range_error(err);
		}
		for (seen = false, j = 0; j < nv; j++)
			seen = seen || v[j] == (uint32_t)gid;
		if (!seen)
			v[nv++] = (uint32_t)gid;
	}
	if (nv == 0) {
		free(v);
		v = NULL;
	}
	*gids = v;
	*ngids = nv;
	return 0;
}
