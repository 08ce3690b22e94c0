// Audit an image, make it run as non-root, write it, and show the result.
//   java -Djava.library.path=DIR -cp nonroot.jar PatchImage.java IMAGE DEST
import org.libnonroot.*;

public class PatchImage {
	public static void main(String[] args) {
		String ref = args[0], dest = args[1];
		int changes;
		try (Image img = Image.open(ref)) {        // closed (temporary files removed) at the end
			for (Finding f : img.audit().findings())
				System.out.println("before: " + f.id + " " + f.location + ": " + f.message);
			Image.PatchResult r = img.patch();       // user app, 1654:1654, ports 80:8080,443:8443
			changes = r.changes().size();
			img.write(dest);
		} catch (NonrootException e) {
			System.err.println("cannot patch: " + e.getMessage() + " (" + e.getErrorCode() + ")");
			System.exit(1);
			return;
		}
		// the raw API (NonrootNative, one function per C function) for what the classes lack
		try (Image out = Image.open(dest);
		     nr_imgconfig cfg = NonrootNative.nr_imgconfig_parse(out.configJson(0))) {
			System.out.println("patched: " + dest + " runs as " + NonrootNative.nr_imgconfig_user(cfg)
				+ ", ASPNETCORE_URLS=" + NonrootNative.nr_imgconfig_env_get(cfg, "ASPNETCORE_URLS")
				+ ", " + changes + " changes, audit: " + out.audit().maxLevel);
		}
	}
}
