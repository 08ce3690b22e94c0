// CTest: the Java binding's real call sequence (run as a single source file by `java`):
// version and errors, URLs, passwd, a user spec, a port rewrite, audit + patch + write of an
// image (argument 1: its reference; argument 2: a scratch directory).
import java.util.LinkedHashMap;
import java.util.Map;

import org.libnonroot.*;

public class NonRootTest {
	static int checks = 0;

	static void check(boolean ok, String what) {
		checks++;
		if (!ok)
			throw new AssertionError(what);
	}

	static void eq(Object want, Object got, String what) {
		check(want == null ? got == null : want.equals(got),
			what + ": want <" + want + "> got <" + got + ">");
	}

	interface Call {
		void run();
	}

	static NonrootException expect(nr_error_code code, Call c) {
		try {
			c.run();
		} catch (NonrootException e) {
			eq(code, e.getErrorCode(), "error code of " + e.getMessage());
			return e;
		}
		throw new AssertionError("no NonrootException (" + code + ")");
	}

	static void write(java.io.File f, String text) {
		try {
			java.nio.file.Files.write(f.toPath(), text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
		} catch (java.io.IOException ex) {
			throw new RuntimeException(ex);
		}
	}

	public static void main(String[] args) {
		String ref = args[0], tmp = args[1];

		// version and errors
		eq(NonrootNativeConstants.NR_VERSION, NonRoot.version(), "version");
		eq((long) NonrootNativeConstants.NR_VERSION_NUMBER, NonrootNative.nr_version_number(),
			"version number");
		eq(1024, NonrootNativeConstants.NR_UNPRIVILEGED_PORT_START, "unprivileged port start");
		eq("invalid input", NonRoot.strerror(nr_error_code.NR_EINVALID.swigValue()), "strerror");
		NonrootException fake = new NonrootException(-2, "bad line", "etc/passwd", 3, 7);
		eq("etc/passwd:3:7: bad line", fake.getMessage(), "exception text");
		eq(null, new NonrootException(-99, "x", "", 0, 0).getErrorCode(), "unknown code");

		// URLs: Kestrel's parsing and precedence
		try (nr_bindings b = NonRoot.parseUrls("http://+:80;https://localhost:8443")) {
			eq(2L, NonrootNative.nr_bindings_count(b), "binding count");
			nr_binding first = NonrootNative.nr_bindings_at(b, 0);
			eq("http://+:80", first.getUrl(), "first url");
			eq(1, first.getPrivileged(), "port 80 is privileged");
			eq(nr_url_kind.NR_URL_ANY, first.getParsed().getKind(), "kind");
			eq(8443, NonrootNative.nr_bindings_at(b, 1).getParsed().getPort(), "second port");
			eq("urls", NonrootNative.nr_urls_source_name(NonrootNative.nr_bindings_source(b)),
				"source");
		}
		Map<String, String> env = new LinkedHashMap<>();
		env.put("ASPNETCORE_HTTP_PORTS", "8080");
		env.put("ASPNETCORE_URLS", "http://+:80");
		try (nr_bindings b = NonRoot.effectiveBindings(env)) {
			eq(1L, NonrootNative.nr_bindings_warning_count(b), "override warning");
			check(NonrootNative.nr_bindings_warning_at(b, 0).startsWith("Overriding HTTP_PORTS"),
				"warning text");
		}
		NonrootException e = expect(nr_error_code.NR_EINVALID, () -> NonRoot.parseUrls("http://"));
		eq("Invalid url: 'http://'", e.getDetail(), "Kestrel's message");
		eq("ASPNETCORE_URLS", e.getSource(), "error source");
		eq("http://+:8080;https://+:8443", NonRoot.rewriteUrls("ASPNETCORE_URLS",
			"http://+:80;https://+:443"), "rewrite");
		try (nr_url u = new nr_url()) {
			NonrootNative.nr_url_parse(u, "http://[::1]:5000");
			eq(nr_url_kind.NR_URL_IP, u.getKind(), "ip literal");
			eq(5000, u.getPort(), "port");
		}

		// passwd: lossless parse, add, duplicate
		String passwd = "root:x:0:0:root:/root:/bin/sh\n# keep me\n";
		try (nr_passwd pw = NonrootNative.nr_passwd_parse(passwd, "etc/passwd");
		     nr_pwent ent = new nr_pwent()) {
			eq(passwd, NonrootNative.nr_passwd_serialize(pw), "lossless");
			ent.setName("app");
			ent.setUid(1654);
			ent.setGid(1654);
			ent.setDir("/home/app");
			ent.setShell("/sbin/nologin");
			NonrootNative.nr_passwd_add(pw, ent);
			eq(passwd + "app:x:1654:1654::/home/app:/sbin/nologin\n",
				NonrootNative.nr_passwd_serialize(pw), "added");
			eq("app", NonrootNative.nr_passwd_find_uid(pw, 1654).getName(), "find_uid");
			NonrootException dup = expect(nr_error_code.NR_EEXISTS,
				() -> NonrootNative.nr_passwd_add(pw, ent));
			eq(3L, dup.getLine(), "duplicate's line");
			long[] id = new long[1];
			NonrootNative.nr_passwd_next_free_id(id, pw, null, 1000, 60000);
			eq(1000L, id[0], "next free id");
		}

		// a user spec, as runc resolves it
		String group = "root:x:0:\nstaff:x:50:app\napp:x:1654:\n";
		try (nr_exec_user u = NonRoot.resolveUser("app", passwd +
			"app:x:1654:1654::/home/app:/bin/false\n", group)) {
			eq(1654L, u.getUid(), "uid");
			eq(1654L, u.getGid(), "gid");
			eq("/home/app", u.getHome(), "home");
			eq(1L, u.getN_additional_gids(), "additional gids");
			eq(50L, u.additional_gid(0), "staff");
		}
		e = expect(nr_error_code.NR_ENOTFOUND, () -> NonRoot.resolveUser("nobody", passwd, group));
		eq("unable to find user nobody: no matching entries in passwd file", e.getDetail(),
			"runc's wording");

		// a root filesystem: useradd, then resolve the user there
		java.io.File root = new java.io.File(tmp, "java-rootfs/etc");
		check(root.mkdirs(), "mkdir rootfs");
		try (nr_rootfs rfs = NonrootNative.nr_rootfs_open(root.getParent());
		     nr_adduser_options ao = new nr_adduser_options();
		     nr_adduser_result res = new nr_adduser_result();
		     nr_exec_user who = new nr_exec_user()) {
			NonrootNative.nr_rootfs_write_file(rfs, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
			ao.setName("app");
			ao.setUid(1654);
			NonrootNative.nr_rootfs_add_user(res, rfs, ao);
			eq(1654L, res.getGid(), "user group gid");
			eq(1, res.getGroup_created(), "group created");
			check(NonrootNative.nr_rootfs_read_file(rfs, "/etc/passwd", 0)
				.endsWith("app:x:1654:1654::/home/app:/bin/false\n"), "passwd line");
			NonrootNative.nr_rootfs_resolve_user(who, rfs, "app", null);
			eq("/home/app", who.getHome(), "resolved in rootfs");
			expect(nr_error_code.NR_EEXISTS, () -> NonrootNative.nr_rootfs_add_user(null, rfs, ao));
		}

		// a runtime bundle: harden its config.json for user app
		java.io.File bundle = new java.io.File(tmp, "java-bundle");
		check(new java.io.File(bundle, "rootfs/etc").mkdirs(), "mkdir bundle");
		write(new java.io.File(bundle, "rootfs/etc/passwd"), "root:x:0:0::/root:/bin/sh\n"
			+ "app:x:1654:1654::/home/app:/bin/false\n");
		write(new java.io.File(bundle, "rootfs/etc/group"), "root:x:0:\napp:x:1654:\n");
		write(new java.io.File(bundle, "config.json"), "{\"ociVersion\": \"1.0.2\", "
			+ "\"root\": {\"path\": \"rootfs\"}, \"process\": {\"user\": {\"uid\": 0, \"gid\": 0}, "
			+ "\"capabilities\": {\"bounding\": [\"CAP_KILL\"]}}}\n");
		try (nr_bundle_report r = NonRoot.hardenBundle(bundle.getPath(), "app")) {
			eq(1, NonrootNative.nr_bundle_report_written(r), "config.json written");
			check(NonrootNative.nr_bundle_report_to_json(r).replace(" ", "").contains("\"name\":\"app\""),
				"report names the user");
		}
		try (nr_bundle b = NonrootNative.nr_bundle_open(bundle.getPath())) {
			check(NonrootNative.nr_bundle_serialize(b).contains("\"uid\": 1654"), "uid 1654 saved");
		}
		e = expect(nr_error_code.NR_ENOTFOUND, () -> NonRoot.hardenBundle(bundle.getPath(), "nobody"));
		check(e.getDetail().contains("unable to find user nobody"), "runc's wording: " + e.getDetail());

		// an image: audit, patch, write, read back
		try (nr_image img = NonRoot.openImage(ref); nr_audit a = NonRoot.audit(img)) {
			eq(nr_level.NR_LEVEL_ERROR, NonrootNative.nr_audit_max_level(a),
				"rootful image audit");
			eq("NR001", NonrootNative.nr_audit_at(a, 0).getId(), "first finding");
		}
		String out = "oci:" + tmp + "/java-out:patched";
		try (nr_patch_report r = NonRoot.patch(ref, out)) {
			eq(1, NonrootNative.nr_patch_report_changed(r), "changed");
			eq(1654L, NonrootNative.nr_patch_report_uid(r), "patched uid");
			check(NonrootNative.nr_patch_report_count(r) > 3, "changes listed");
		}
		try (nr_image img = NonRoot.openImage(out)) {
			try (nr_imgconfig cfg = NonrootNative.nr_imgconfig_parse(
				NonrootNative.nr_image_config(img, 0))) {
				eq("1654:1654", NonrootNative.nr_imgconfig_user(cfg), "User");
				eq("http://+:8080", NonrootNative.nr_imgconfig_env_get(cfg, "ASPNETCORE_URLS"),
					"URLS moved");
			}
			check(NonrootNative.nr_image_read_file(img, 0, "etc/passwd")
				.contains("app:x:1654:1654::/home/app:"), "passwd has app");
			try (nr_audit a = NonRoot.audit(img)) {
				eq(nr_level.NR_LEVEL_NONE, NonrootNative.nr_audit_max_level(a),
					"patched image is clean");
			}
			expect(nr_error_code.NR_ENOTFOUND,
				() -> NonrootNative.nr_image_read_file(img, 0, "etc/shadow"));
		}
		expect(nr_error_code.NR_ENOTFOUND, () -> NonRoot.openImage("oci:" + tmp + "/nope"));

		System.out.println("java: " + checks + " checks passed");
	}
}
