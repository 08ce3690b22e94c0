package org.libnonroot;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An opened container image: {@code oci:DIR[:TAG]}, {@code oci-archive:FILE[:TAG]},
 * {@code docker-archive:FILE[:NAME:TAG]} or a bare path. Close it (try-with-resources): that frees
 * it and removes the directory an archive was unpacked into.
 *
 * <pre>{@code
 * try (Image img = Image.open("oci:./app:latest")) {
 *     for (Finding f : img.audit().findings())
 *         System.out.println(f);
 *     Image.PatchResult r = img.patch();
 *     if (r.changed)
 *         img.write("oci:./app:nonroot");
 * }
 * }</pre>
 */
public final class Image implements AutoCloseable {
	private nr_image img;

	private Image(nr_image img) {
		this.img = img;
	}

	/**
	 * Open an image.
	 *
	 * @param ref the image reference
	 * @return the opened image
	 * @throws NonrootException NR_ENOTFOUND when it does not exist, NR_EINVALID when malformed
	 */
	public static Image open(String ref) {
		return new Image(NonrootNative.nr_image_open(ref, null));
	}

	private nr_image handle() {
		if (img == null)
			throw new IllegalStateException("Image is closed");
		return img;
	}

	/** @return the number of manifests (platforms) */
	public int manifestCount() {
		return Math.toIntExact(NonrootNative.nr_image_count(handle()));
	}

	/** @return the platform ("linux/amd64") of each manifest */
	public List<String> platforms() {
		List<String> out = new ArrayList<>();
		for (int i = 0; i < manifestCount(); i++)
			out.add(NonrootNative.nr_image_platform_at(handle(), i));
		return Collections.unmodifiableList(out);
	}

	/**
	 * @param manifest the manifest index
	 * @return its config as JSON text
	 */
	public String configJson(int manifest) {
		return NonrootNative.nr_image_config(handle(), manifest);
	}

	/**
	 * The content of a regular file of the final root filesystem (symlinks followed).
	 *
	 * @param manifest the manifest index
	 * @param path the path in the image ("etc/passwd")
	 * @return its content (at most 10 MiB)
	 * @throws NonrootException NR_ENOTFOUND when there is no such file
	 */
	public String readFile(int manifest, String path) {
		return NonrootNative.nr_image_read_file(handle(), manifest, path);
	}

	/** @return the audit of every manifest, with the default options */
	public Audit audit() {
		try (nr_audit a = NonrootNative.nr_image_audit(handle(), null)) {
			return new Audit(a);
		}
	}

	/**
	 * Make every manifest run as the default non-root user (app, 1654:1654, ports
	 * 80:8080,443:8443), in memory: {@link #write(String)} saves it.
	 *
	 * @return what changed
	 */
	public PatchResult patch() {
		return patch(null, -1, false);
	}

	/**
	 * Make every manifest run as a non-root user, in memory.
	 *
	 * @param user the user name (null: "app")
	 * @param uid the uid (and gid), or -1 for 1654
	 * @param dryRun plan only: report the changes without making them
	 * @return what changed (or would change)
	 */
	public PatchResult patch(String user, long uid, boolean dryRun) {
		try (nr_patch_options o = new nr_patch_options()) {
			o.setUser(user);
			o.setUid(uid < 0 ? NonrootNativeConstants.NR_ID_AUTO : uid);
			o.setGid(uid < 0 ? NonrootNativeConstants.NR_ID_AUTO : uid);
			o.setDry_run(dryRun ? 1 : 0);
			try (nr_patch_report r = NonrootNative.nr_image_patch(handle(), o)) {
				return new PatchResult(r);
			}
		}
	}

	/**
	 * Write the (patched) image.
	 *
	 * @param dest the reference to write to; null writes an oci: image in place
	 */
	public void write(String dest) {
		NonrootNative.nr_image_write(handle(), dest, null);
	}

	/** Free the image now (and remove an archive's unpacked directory). Idempotent. */
	@Override
	public void close() {
		if (img != null) {
			img.close();
			img = null;
		}
	}

	/** The findings of {@link Image#audit()} (copies). */
	public static final class Audit {
		private final List<Finding> findings;
		/** the highest level found: "none", "note", "warning" or "error" */
		public final String maxLevel;

		Audit(nr_audit a) {
			List<Finding> out = new ArrayList<>();
			long n = NonrootNative.nr_audit_count(a);
			for (long k = 0; k < n; k++)
				try (nr_finding f = NonrootNative.nr_audit_at(a, k)) {
					out.add(new Finding(f));
				}
			findings = Collections.unmodifiableList(out);
			maxLevel = NonrootNative.nr_level_name(NonrootNative.nr_audit_max_level(a));
		}

		/** @return every finding, in order */
		public List<Finding> findings() {
			return findings;
		}

		/** @return whether nothing was found (not even a note) */
		public boolean isClean() {
			return findings.isEmpty();
		}
	}

	/** The outcome of {@link Image#patch()}: the changes and the user the image runs as. */
	public static final class PatchResult {
		/** whether anything changed (or, in a dry run, would change) */
		public final boolean changed;
		/** the uid the image runs as afterwards */
		public final long uid;
		/** the gid the image runs as afterwards */
		public final long gid;
		private final List<String> changes;

		PatchResult(nr_patch_report r) {
			changed = NonrootNative.nr_patch_report_changed(r) != 0;
			uid = NonrootNative.nr_patch_report_uid(r);
			gid = NonrootNative.nr_patch_report_gid(r);
			List<String> out = new ArrayList<>();
			long n = NonrootNative.nr_patch_report_count(r);
			for (long k = 0; k < n; k++)
				try (nr_patch_change c = NonrootNative.nr_patch_report_at(r, k)) {
					out.add(c.getWhat() + " " + c.getTarget() + ": " + c.getBefore() + " -> "
						+ c.getAfter());
				}
			changes = Collections.unmodifiableList(out);
		}

		/** @return each change as "WHAT TARGET: BEFORE -> AFTER" */
		public List<String> changes() {
			return changes;
		}
	}
}
