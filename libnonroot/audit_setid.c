/*
 * audit_setid.c: the audit's set-id files (NR008) and file capabilities (NR015), with the
 * security.capability value decoded into libcap's text form.
 */
#include <stdio.h>

#include "internal.h"
#include "buf.h"
#include "parse.h"
#include "audit_internal.h"

/* Capability names by number (linux/capability.h, 0 to CAP_LAST_CAP of Linux 6.x). */
static const char *const cap_names[] = {
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid",
	"cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable",
	"cap_net_bind_service", "cap_net_broadcast", "cap_net_admin", "cap_net_raw",
	"cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot",
	"cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
	"cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
	"cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override",
	"cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend", "cap_audit_read",
	"cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Append the names of the bits in set (64 bits), comma-separated. */
static size_t put_caps(char *out, size_t size, size_t o, uint64_t set)
{
	unsigned b;
	bool first = true;

	for (b = 0; b < 64; b++) {
		int n;
		if (!(set >> b & 1))
			continue;
		if (b < NR_ARRAY_SIZE(cap_names))
			n = snprintf(out + o, size - o, "%s%s", first ? "" : ",", cap_names[b]);
		else
			n = snprintf(out + o, size - o, "%scap_%u", first ? "" : ",", b);
		first = false;
		if (n < 0 || (size_t)n >= size - o)
			return size - 1;
		o += (size_t)n;
	}
	return o;
}

/* One group of caps written at o as "CAPS=EFFFLAGS" (a space first unless at the start); o is
 * returned, at most size - 1. Nothing when caps is empty or out is full. */
static size_t put_group(char *out, size_t size, size_t o, uint64_t caps, const char *eff,
	const char *flags)
{
	int n;

	if (caps == 0 || o + 1 >= size)
		return o;
	if (o)
		out[o++] = ' ';
	o = put_caps(out, size, o, caps);
	n = snprintf(out + o, size - o, "=%s%s", eff, flags);
	return n < 0 || (size_t)n >= size - o ? size - 1 : o + (size_t)n;
}

/*
 * vfs_cap_data (linux/capability.h): le32 magic_etc (revision in the top byte, bit 0 the
 * effective flag), then le32 permitted/inheritable pairs: one for revision 1 (12 bytes), two
 * for revision 2 (20 bytes) and 3 (24 bytes: + the namespace's root uid).
 */
void nr__caps_text(char *out, size_t size, const char *caps, size_t len)
{
	const unsigned char *p = (const unsigned char *)caps;
	uint32_t magic, rev;
	uint64_t perm, inh, both;
	size_t o = 0, words;
	const char *eff;

	if (size == 0)
		return;
	out[0] = '\0';
	magic = len >= 4 ? le32(p) : 0;
	rev = magic & 0xff000000u;
	words = rev == 0x01000000u ? 1 : rev == 0x02000000u || rev == 0x03000000u ? 2 : 0;
	if (words == 0 || len != 4 + 8 * words + (rev == 0x03000000u ? 4 : 0) ||
	    (magic & 0x00fffffeu) != 0) {
		snprintf(out, size, "undecodable, %zu bytes", len);
		return;
	}
	perm = le32(p + 4);
	inh = le32(p + 8);
	if (words == 2) {
		perm |= (uint64_t)le32(p + 12) << 32;
		inh |= (uint64_t)le32(p + 16) << 32;
	}
	if ((perm | inh) == 0) {
		snprintf(out, size, "none (empty set)");
		return;
	}
	both = perm & inh;
	eff = magic & 1 ? "e" : "";
	o = put_group(out, size, 0, both, eff, "ip");
	o = put_group(out, size, o, perm & ~both, eff, "p");
	o = put_group(out, size, o, inh & ~both, "", "i");
	out[o < size ? o : size - 1] = '\0';
}

int nr__audit_check_setid(nr__audit_ctx *e)
{
	const nr__audit_facts *f = e->f;
	size_t k;
	int error;

	for (k = 0; k < f->nsetid; k++) {
		const nr__audit_setid *s = &f->setid[k];
		const char *kind = (s->mode & 04000) && (s->mode & 02000) ? "set-uid and set-gid"
			: (s->mode & 04000) ? "set-uid" : "set-gid";
		if (!(s->mode & 06000))
			continue;
		if ((error = nr__audit_add(e, "NR008", NR_LEVEL_WARNING, s->path, NULL,
		    "%s file /%s (mode %04o, owner %llu:%llu)", kind, s->path, (unsigned)s->mode,
		    (unsigned long long)s->uid, (unsigned long long)s->gid)) < 0)
			return error;
	}
	/* NR015 after every NR008: the findings of one rule stay together */
	for (k = 0; k < f->nsetid; k++) {
		const nr__audit_setid *s = &f->setid[k];
		char text[640];
		if (s->caps == NULL)
			continue;
		nr__caps_text(text, sizeof(text), s->caps, s->caps_len);
		if ((error = nr__audit_add(e, "NR015", NR_LEVEL_WARNING, s->path, NULL,
		    "file /%s has file capabilities %s (mode %04o, owner %llu:%llu)", s->path, text,
		    (unsigned)s->mode, (unsigned long long)s->uid, (unsigned long long)s->gid)) < 0)
			return error;
	}
	return 0;
}

