// Audit an image, make it run as non-root, write it, and show the result.
//   java -Djava.library.path=DIR -cp nonroot.jar PatchImage.java IMAGE DEST
import org.libnonroot.*;

public class PatchImage {
	public static void main(String[] args) {
		String ref = args[0], dest = args[1];
		try (nr_image img = NonRoot.openImage(ref); nr_audit a = NonRoot.audit(img)) {
			for (long k = 0; k < NonrootNative.nr_audit_count(a); k++) {
				nr_finding f = NonrootNative.nr_audit_finding(a, k);
				System.out.println("before: " + f.getId() + " " + f.getLocation() + ": "
					+ f.getMessage());
			}
		}
		try (nr_patch_report r = NonRoot.patch(ref, dest); nr_image out = NonRoot.openImage(dest);
		     nr_imgconfig cfg = NonrootNative.nr_imgconfig_parse(NonrootNative.nr_image_config(out, 0));
		     nr_audit after = NonRoot.audit(out)) {
			System.out.println("patched: " + dest + " runs as " + NonrootNative.nr_imgconfig_user(cfg)
				+ ", ASPNETCORE_URLS=" + NonrootNative.nr_imgconfig_env_get(cfg, "ASPNETCORE_URLS")
				+ ", " + NonrootNative.nr_patch_report_count(r) + " changes, audit: "
				+ NonrootNative.nr_level_name(NonrootNative.nr_audit_max_level(after)));
		} catch (NonrootException e) {
			System.err.println("cannot patch: " + e.getMessage() + " (" + e.getErrorCode() + ")");
			System.exit(1);
		}
	}
}
