package org.libnonroot;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Java face of libnonroot: a few static entry points over the SWIG-generated
 * {@link NonrootNative} (which mirrors the C API one to one: use it for everything else). The
 * classes {@link Image}, {@link Passwd} and {@link Finding} are the idiomatic way in: Java values,
 * {@code int}/{@code boolean} results, {@code List}s.
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

	/**
	 * @param code an NR_E* code
	 * @return its English name ("invalid input", ...)
	 */
	public static String strerror(int code) {
		return NonrootNative.nr_strerror(code);
	}

	/**
	 * What Kestrel binds for an environment, with the default options.
	 *
	 * @param env the environment (NAME to VALUE)
	 * @return the bindings (close them)
	 */
	public static nr_bindings effectiveBindings(Map<String, String> env) {
		List<String> envp = new ArrayList<>();
		for (Map.Entry<String, String> e : env.entrySet())
			envp.add(e.getKey() + "=" + e.getValue());
		return NonrootNative.nr_bindings_from_env(envp.toArray(new String[0]), null);
	}

	/**
	 * The bindings of an ASPNETCORE_URLS value.
	 *
	 * @param urls the value ("http://+:80;https://+:443")
	 * @return the bindings (close them)
	 */
	public static nr_bindings parseUrls(String urls) {
		return NonrootNative.nr_bindings_from_env(new String[] { "ASPNETCORE_URLS=" + urls },
			null);
	}

	/**
	 * An ASP.NET Core URLS/PORTS variable's value with its ports moved (80:8080,443:8443).
	 *
	 * @param name the variable's name (ASPNETCORE_URLS, HTTP_PORTS, ...)
	 * @param value its value
	 * @return the new value
	 */
	public static String rewriteUrls(String name, String value) {
		try (nr_portmap map = new nr_portmap()) {
			NonrootNative.nr_portmap_default(map);
			return NonrootNative.nr_urls_rewrite(name, value, map,
				NonrootNativeConstants.NR_UNPRIVILEGED_PORT_START, 0);
		}
	}

	/**
	 * Resolve an image config's User against passwd and group file contents, with runc's
	 * defaults.
	 *
	 * @param spec the User ("app", "1654:1654", "app:staff", ...)
	 * @param passwd the passwd file's text, null when the image has none
	 * @param group the group file's text, null when the image has none
	 * @return the resolved user (close it)
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

	/**
	 * Open an image (see {@link Image#open(String)} for the idiomatic class).
	 *
	 * @param ref oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE, a path
	 * @return the image (close it)
	 */
	public static nr_image openImage(String ref) {
		return NonrootNative.nr_image_open(ref, null);
	}

	/**
	 * Audit every platform of an image with the default options.
	 *
	 * @param img the image
	 * @return the audit (close it)
	 */
	public static nr_audit audit(nr_image img) {
		return NonrootNative.nr_image_audit(img, null);
	}

	/**
	 * Patch an opened image in memory with the defaults (user app, 1654:1654, 80:8080).
	 *
	 * @param img the image
	 * @return the report (close it)
	 */
	public static nr_patch_report patch(nr_image img) {
		return NonrootNative.nr_image_patch(img, null);
	}

	/**
	 * Open, patch with the defaults and write.
	 *
	 * @param ref the image
	 * @param dest where to write it (null: in place, oci: only)
	 * @return the report (close it)
	 */
	public static nr_patch_report patch(String ref, String dest) {
		try (nr_image img = openImage(ref)) {
			nr_patch_report r = patch(img);
			NonrootNative.nr_image_write(img, dest, null);
			return r;
		}
	}

	/**
	 * Harden the runtime bundle in dir for a non-root run.
	 *
	 * @param dir the bundle directory (with config.json)
	 * @param user the user to run as (null: keep the user)
	 * @return the report (close it)
	 */
	public static nr_bundle_report hardenBundle(String dir, String user) {
		try (nr_bundle_harden_options opts = new nr_bundle_harden_options()) {
			opts.setUser(user);
			return NonrootNative.nr_bundle_harden_dir(dir, opts);
		}
	}
}
