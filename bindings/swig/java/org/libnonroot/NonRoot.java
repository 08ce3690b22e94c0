package org.libnonroot;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Java face of libnonroot: a few static entry points over the SWIG-generated
 * {@link NonrootNative} (which mirrors the C API one to one: use it for everything else).
 * Every method throws {@link NonrootException} on failure. Returned handles hold C memory and
 * are AutoCloseable: use try-with-resources (or call delete()).
 */
public final class NonRoot {
	private NonRoot() {
	}

	/** @return the loaded libnonroot's version ("MAJOR.MINOR.PATCH") */
	public static String version() {
		return NonrootNative.nr_version();
	}

	/** @return the English name of an NR_E* code ("invalid input", ...) */
	public static String strerror(int code) {
		return NonrootNative.nr_strerror(code);
	}

	/** What Kestrel binds for an environment (NAME to VALUE), with the default options. */
	public static nr_bindings effectiveBindings(Map<String, String> env) {
		List<String> envp = new ArrayList<>();
		for (Map.Entry<String, String> e : env.entrySet())
			envp.add(e.getKey() + "=" + e.getValue());
		return NonrootNative.nr_bindings_from_env(envp.toArray(new String[0]), null);
	}

	/** The bindings of an ASPNETCORE_URLS value ("http://+:80;https://+:443"). */
	public static nr_bindings parseUrls(String urls) {
		return NonrootNative.nr_bindings_from_env(new String[] { "ASPNETCORE_URLS=" + urls },
			null);
	}

	/** An ASP.NET Core URLS/PORTS variable's value with its ports moved (80:8080,443:8443). */
	public static String rewriteUrls(String name, String value) {
		try (nr_portmap map = new nr_portmap()) {
			NonrootNative.nr_portmap_default(map);
			return NonrootNative.nr_urls_rewrite(name, value, map, 1024, 0);
		}
	}

	/**
	 * Resolve an image config's User against passwd and group file contents (null when the
	 * image has no such file), with runc's defaults.
	 */
	public static nr_exec_user resolveUser(String spec, String passwd, String group) {
		try (nr_passwd pw = passwd == null ? null : NonrootNative.nr_passwd_parse(passwd, "etc/passwd");
		     nr_group gr = group == null ? null : NonrootNative.nr_group_parse(group, "etc/group")) {
			nr_exec_user u = new nr_exec_user();
			try {
				NonrootNative.nr_userspec_resolve(u, spec, pw, gr, null);
			} catch (RuntimeException e) {
				u.delete();
				throw e;
			}
			return u;
		}
	}

	/** Open an image: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE, a path. */
	public static nr_image openImage(String ref) {
		return NonrootNative.nr_image_open(ref, null);
	}

	/** Audit every platform of an image with the default options. */
	public static nr_audit audit(nr_image img) {
		return NonrootNative.nr_image_audit(img, null);
	}

	/** Patch an opened image in memory with the defaults (user app, 1654:1654, 80:8080). */
	public static nr_patch_report patch(nr_image img) {
		return NonrootNative.nr_image_patch(img, null);
	}

	/** Open, patch with the defaults and write to dest (null: in place, oci: only). */
	public static nr_patch_report patch(String ref, String dest) {
		try (nr_image img = openImage(ref)) {
			nr_patch_report r = patch(img);
			NonrootNative.nr_image_write(img, dest, null);
			return r;
		}
	}

	/** Harden the runtime bundle in dir for a non-root run as user (null: keep the user). */
	public static nr_bundle_report hardenBundle(String dir, String user) {
		try (nr_bundle_harden_options opts = new nr_bundle_harden_options()) {
			opts.setUser(user);
			return NonrootNative.nr_bundle_harden_dir(dir, opts);
		}
	}
}
