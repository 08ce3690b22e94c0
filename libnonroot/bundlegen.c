/*
 * bundlegen.c: nr_image_bundle(): an OCI runtime bundle from an image, the way `umoci unpack`
 * makes one (oci/config/convert/runtime.go: args = Entrypoint + Cmd, Env over the default
 * PATH/TERM, HOME from the resolved user, cwd = WorkingDir, User resolved like runc against
 * the unpacked passwd/group, image annotations), then hardened by bundle.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "image_internal.h"
#include "fileio.h"
#include "jsonload.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int nr_bundle_gen_options_init(nr_bundle_gen_options *opts, unsigned int version)
{
	static const nr_bundle_gen_options init = NR_BUNDLE_GEN_OPTIONS_INIT;

	if (opts == NULL || version != NR_BUNDLE_GEN_OPTIONS_VERSION)
		return NR_EARG;
	*opts = init;
	return 0;
}

/* The skeleton umoci starts from (runtime-tools' generator defaults, as umoci 0.4 writes). */
static const char skeleton[] =
	"{\"ociVersion\":\"1.0.0\","
	"\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
	"\"env\":[],\"cwd\":\"/\","
	"\"capabilities\":{"
	"\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"inheritable\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
	"\"noNewPrivileges\":true},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":false},"
	"\"hostname\":\"nonroot\","
	"\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","
	"\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":["
	"\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":["
	"\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":["
	"\"nosuid\",\"noexec\",\"nodev\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":["
	"\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":["
	"\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
	"\"annotations\":{},"
	"\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
	"{\"type\":\"uts\"},{\"type\":\"mount\"}],"
	"\"maskedPaths\":[\"/proc/kcore\",\"/proc/latency_stats\",\"/proc/timer_list\","
	"\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
	"\"readonlyPaths\":[\"/proc/asound\",\"/proc/bus\",\"/proc/fs\",\"/proc/irq\","
	"\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

/* Set NAME=VALUE in env: replace the entry with the same name in place, else append. */
static int env_set(json_t *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t n = eq ? (size_t)(eq - kv) : strlen(kv), k;
	json_t *v;

	json_array_foreach(env, k, v) {
		const char *s = json_string_value(v);
		if (s && strncmp(s, kv, n) == 0 && (s[n] == '=' || s[n] == '\0'))
			return json_array_set_new(env, k, json_string(kv));
	}
	return json_array_append_new(env, json_string(kv));
}

static bool env_has(json_t *env, const char *name)
{
	size_t n = strlen(name), k;
	json_t *v;

	json_array_foreach(env, k, v) {
		const char *s = json_string_value(v);
		if (s && strncmp(s, name, n) == 0 && s[n] == '=')
			return true;
	}
	return false;
}

static int append_strings(json_t *to, json_t *from, const char *field, nr_error *err)
{
	size_t k;
	json_t *v;

	if (from == NULL || json_is_null(from))
		return 0;
	if (!json_is_array(from))
		return nr__error_set(err, NR_EINVALID, field, 0, 0, "%s is not an array", field);
	json_array_foreach(from, k, v) {
		if (!json_is_string(v))
			return nr__error_set(err, NR_EINVALID, field, 0, 0, "%s[%zu] is not a string",
				field, k);
		if (json_array_append(to, v) < 0)
			return nr__error_oom(err);
	}
	return 0;
}

static int annotate(json_t *ann, const char *key, json_t *v)
{
	if (v == NULL || !json_is_string(v))
		return 0;
	return nr__jset(ann, key, v);   /* no two keys that fold alike (jsonload.h) */
}

/* process.env, args and cwd from the image config (@p c: its "config" object, or NULL). */
static int set_process(json_t *proc, json_t *c, const nr_imgconfig *cfg, nr_error *err)
{
	json_t *env = nr__jget(proc, "env"), *args, *v;
	size_t k;
	int error;

	if (json_array_append_new(env, json_string(DEFAULT_PATH)) < 0 ||
	    json_array_append_new(env, json_string("TERM=xterm")) < 0)
		return nr__error_oom(err);
	for (k = 0; k < nr_imgconfig_env_count(cfg); k++)
		if (env_set(env, nr_imgconfig_env_at(cfg, k)) < 0)
			return nr__error_oom(err);
	if (c == NULL)
		return 0;
	if ((args = json_array()) == NULL)
		return nr__error_oom(err);
	if ((error = append_strings(args, nr__jget(c, "Entrypoint"), "config.Entrypoint", err)) < 0 ||
	    (error = append_strings(args, nr__jget(c, "Cmd"), "config.Cmd", err)) < 0) {
		json_decref(args);
		return error;
	}
	if (json_array_size(args) == 0)
		json_decref(args);
	else if (nr__jset_new(proc, "args", args) < 0)
		return nr__error_oom(err);
	v = nr__jget(c, "WorkingDir");
	if (json_is_string(v) && *json_string_value(v) && nr__jset(proc, "cwd", v) < 0)
		return nr__error_oom(err);
	return 0;
}

/* process.user, as runc (and umoci) resolve the config's User against the unpacked passwd
 * and group; HOME from the user's entry when the image does not set it. */
static int set_user(json_t *proc, const char *rootdir, const nr_imgconfig *cfg, nr_error *err)
{
	json_t *env = nr__jget(proc, "env"), *user;
	nr_rootfs *rfs = NULL;
	nr_exec_user eu;
	size_t k;
	int error;

	memset(&eu, 0, sizeof(eu));
	if ((error = nr_rootfs_open(&rfs, rootdir, err)) < 0 ||
	    (error = nr_rootfs_resolve_user(&eu, rfs, nr_imgconfig_user(cfg), NULL, err)) < 0)
		goto done;
	if ((user = json_object()) == NULL ||
	    nr__jset_new(proc, "user", user) < 0 ||
	    nr__jset_new(user, "uid", json_integer(eu.uid)) < 0 ||
	    nr__jset_new(user, "gid", json_integer(eu.gid)) < 0)
		goto oom;
	if (eu.n_additional_gids) {
		json_t *ag = json_array();
		if (ag == NULL || nr__jset_new(user, "additionalGids", ag) < 0)
			goto oom;
		for (k = 0; k < eu.n_additional_gids; k++)
			if (json_array_append_new(ag, json_integer(eu.additional_gids[k])) < 0)
				goto oom;
	}
	if (!env_has(env, "HOME")) {
		nr__buf b = NR__BUF_INIT;
		int r = nr__buf_printf(&b, "HOME=%s", eu.home ? eu.home : "/");
		r = r < 0 ? r : json_array_append_new(env, json_string(b.ptr));
		nr__buf_dispose(&b);
		if (r < 0)
			goto oom;
	}
	goto done;
oom:
	error = nr__error_oom(err);
done:
	nr_exec_user_dispose(&eu);
	nr_rootfs_free(rfs);
	return error;
}

/* Annotations, as umoci: the image's facts, then its labels. */
static int set_annotations(json_t *ann, json_t *img, json_t *c, const nr_imgconfig *cfg)
{
	nr__buf ports = NR__BUF_INIT;
	json_t *labels, *v;
	const char *key;
	size_t k;
	int r;

	if (annotate(ann, "org.opencontainers.image.architecture",
			nr__jget(img, "architecture")) < 0 ||
	    annotate(ann, "org.opencontainers.image.author", nr__jget(img, "author")) < 0 ||
	    annotate(ann, "org.opencontainers.image.created", nr__jget(img, "created")) < 0 ||
	    annotate(ann, "org.opencontainers.image.os", nr__jget(img, "os")) < 0)
		return -1;
	if (c == NULL)
		return 0;
	for (k = 0; k < nr_imgconfig_exposed_count(cfg); k++)
		nr__buf_printf(&ports, "%s%s", k ? "," : "", nr_imgconfig_exposed_at(cfg, k));
	r = ports.oom || (ports.size && nr__jset_new(ann, "org.opencontainers.image.exposedPorts",
		json_string(ports.ptr)) < 0) ? -1 : 0;
	nr__buf_dispose(&ports);
	if (r < 0 || annotate(ann, "org.opencontainers.image.stopSignal",
			nr__jget(c, "StopSignal")) < 0)
		return -1;
	labels = nr__jget(c, "Labels");
	if (json_is_object(labels)) {
		json_object_foreach(labels, key, v)
			if (annotate(ann, key, v) < 0)
				return -1;
	}
	return 0;
}

/* Build config.json for the rootfs at `rootdir` from the image config text. */
static int make_config(char **out, size_t *outlen, const char *cfgtext, size_t cfglen,
	const char *rootdir, const nr_bundle_gen_options *opts, nr_error *err)
{
	json_t *spec = NULL, *img = NULL, *c, *proc;
	nr_imgconfig *cfg = NULL;
	json_error_t jerr;
	int error = 0;

	*out = NULL;
	if ((error = nr_imgconfig_parse(&cfg, cfgtext, cfglen, err)) < 0)
		return error;
	if ((spec = json_loads(skeleton, 0, &jerr)) == NULL ||
	    (img = json_loadb(cfgtext, cfglen, 0, &jerr)) == NULL)
		goto oom;
	c = nr__jget(img, "config");
	if (!json_is_object(c))
		c = NULL;
	proc = nr__jget(spec, "process");
	if ((error = set_process(proc, c, cfg, err)) < 0 ||
	    (error = set_user(proc, rootdir, cfg, err)) < 0)
		goto done;
	if (set_annotations(nr__jget(spec, "annotations"), img, c, cfg) < 0)
		goto oom;
	if (opts->hostname && nr__jset_new(spec, "hostname", json_string(opts->hostname)) < 0)
		goto oom;
	if ((opts->flags & NR_BUNDLE_GEN_READONLY_ROOT) &&
	    nr__jset_new(nr__jget(spec, "root"), "readonly", json_true()) < 0)
		goto oom;
	if ((*out = json_dumps(spec, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) == NULL)
		goto oom;
	*outlen = strlen(*out);
	goto done;
oom:
	error = nr__error_oom(err);
done:
	nr_imgconfig_free(cfg);
	json_decref(spec);
	json_decref(img);
	return error;
}

/* Remove what a failed bundle left: the directory when we made it, else its content. */
static void cleanup(const char *dir, bool created)
{
	nr__buf b = NR__BUF_INIT;

	if (created) {
		nr__rmtree(dir);
		return;
	}
	if (nr__buf_printf(&b, "%s/rootfs", dir) >= 0)
		nr__rmtree(b.ptr);
	nr__buf_truncate(&b, 0);
	if (nr__buf_printf(&b, "%s/config.json", dir) >= 0)
		(void)unlink(b.ptr);
	nr__buf_dispose(&b);
}

int nr_image_bundle(nr_image *img, size_t i, const char *dir,
	const nr_bundle_gen_options *opts, nr_error *err)
{
	static const nr_bundle_gen_options dflt = NR_BUNDLE_GEN_OPTIONS_INIT;
	nr_bundle_harden_options ho = NR_BUNDLE_HARDEN_OPTIONS_INIT;
	nr_bundle *b = NULL;
	nr__buf rootdir = NR__BUF_INIT;
	char *text = NULL;
	const char *cfg;
	size_t cfglen = 0, len = 0;
	bool created = false;
	int error, fd = -1;

	nr__error_reset(err);
	NR_ASSERT_ARG(img, err);
	NR_ASSERT_ARG(dir, err);
	if (opts == NULL)
		opts = &dflt;
	if ((error = nr__check_version(err, "nr_bundle_gen_options", opts->version,
	    NR_BUNDLE_GEN_OPTIONS_VERSION)) < 0)
		return error;
	if (opts->flags & ~(NR_BUNDLE_GEN_READONLY_ROOT | NR_BUNDLE_GEN_ALLOW_ROOT))
		return nr__error_set(err, NR_EARG, NULL, 0, 0,
			"invalid argument: nr_bundle_gen_options flags %#x", opts->flags);
	if ((cfg = nr_image_config(&cfglen, img, i)) == NULL)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "no manifest %zu (the image has %zu)",
			i, nr_image_count(img));
	if (mkdir(dir, 0700) == 0)
		created = true;
	else if (errno != EEXIST)
		return nr__error_errno(err, errno, dir, "mkdir");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		error = nr__error_errno(err, errno, dir, "open");
		goto fail_nocleanup;
	}
	if (!created && (faccessat(fd, "rootfs", F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
			faccessat(fd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)) {
		error = nr__error_set(err, NR_EEXISTS, dir, 0, 0,
			"holds a bundle already (rootfs or config.json)");
		goto fail_nocleanup;
	}
	if (nr__buf_printf(&rootdir, "%s/rootfs", dir) < 0) {
		error = nr__error_oom(err);
		goto fail;
	}
	if ((error = nr_image_unpack(img, i, rootdir.ptr, opts->unpack, err)) < 0)
		goto fail;
	if ((error = make_config(&text, &len, cfg, cfglen, rootdir.ptr, opts, err)) < 0)
		goto fail;
	if ((error = nr__file_write_atomic_at(fd, "config.json", text, len, 0644, "config.json",
			err)) < 0)
		goto fail;
	if ((error = nr_bundle_open(&b, dir, err)) < 0)
		goto fail;
	ho.allow_root = (opts->flags & NR_BUNDLE_GEN_ALLOW_ROOT) ? 1 : 0;
	if ((error = nr_bundle_harden(NULL, b, &ho, err)) < 0 ||
	    (error = nr_bundle_write(b, err)) < 0)
		goto fail;
	goto done;
fail:
	cleanup(dir, created);
	goto done;
fail_nocleanup:
	if (created)
		(void)rmdir(dir);
done:
	if (fd >= 0)
		close(fd);
	nr_bundle_free(b);
	free(text);
	nr__buf_dispose(&rootdir);
	return error;
}
