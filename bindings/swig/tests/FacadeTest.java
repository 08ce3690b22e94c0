// CTest swig.java.facade: the idiomatic Java classes (Passwd, Image, Finding) over a real image
// (argument 1: its reference; argument 2: a scratch directory).
import java.util.List;

import org.libnonroot.*;

public class FacadeTest {
	static int checks = 0;

	static void eq(Object want, Object got, String what) {
		checks++;
		if (want == null ? got != null : !want.equals(got))
			throw new AssertionError(what + ": want <" + want + "> got <" + got + ">");
	}

	public static void main(String[] args) {
		String ref = args[0], tmp = args[1];
		String text = "root:x:0:0:root:/root:/bin/sh\n# keep me\n";
		Passwd.Entry root;
		try (Passwd pw = Passwd.parse(text)) {
			eq(1, pw.size(), "size is an int");
			eq(true, pw.contains("root"), "contains");
			eq(false, pw.contains("app"), "does not contain");
			root = pw.get("root");
			eq(0L, root.uid, "uid");
			Passwd.Entry app = pw.addUser("app", 1654, 1654, "/home/app", "/sbin/nologin");
			eq(3, app.line, "line of the new entry");
			eq(text + "app:x:1654:1654::/home/app:/sbin/nologin\n", pw.toString(), "lossless edit");
			eq("app", pw.byUid(1654).name, "byUid");
			eq(1000L, pw.nextFreeId(1000, 60000), "next free id");
			eq(2, pw.entries().size(), "entries");
			try {
				pw.addUser("app", 1655, 1655, "/", "/bin/sh");
				throw new AssertionError("duplicate user added");
			} catch (NonrootException e) {
				eq(nr_error_code.NR_EEXISTS, e.getErrorCode(), "duplicate: NR_EEXISTS");
			}
		}
		eq("/bin/sh", root.shell, "an entry outlives its Passwd");
		try {
			Passwd pw = Passwd.parse(text);
			pw.close();
			pw.close();
			pw.size();
			throw new AssertionError("closed Passwd used");
		} catch (IllegalStateException e) {
			checks++;
		}

		try (Image img = Image.open(ref)) {
			eq(1, img.manifestCount(), "one manifest");
			Image.Audit audit = img.audit();
			eq("error", audit.maxLevel, "rootful image");
			List<Finding> findings = audit.findings();
			eq("NR001", findings.get(0).id, "runs as root");
			eq("error", findings.get(0).level, "level name");
			eq(false, audit.isClean(), "not clean");
			Image.PatchResult plan = img.patch(null, -1, true);
			eq(true, plan.changed, "dry run would change it");
			Image.PatchResult r = img.patch();
			eq(true, r.changed, "changed");
			eq(1654L, r.uid, "uid");
			eq(true, r.changes().size() > 3, "changes listed");
			img.write("oci:" + tmp + "/facade-out:nonroot");
		}
		try (Image img = Image.open("oci:" + tmp + "/facade-out:nonroot")) {
			eq("none", img.audit().maxLevel, "patched image is clean");
			eq(true, img.audit().isClean(), "isClean");
			eq(true, img.readFile(0, "etc/passwd").contains("app:x:1654:1654:"), "passwd");
			try (Passwd pw = Passwd.parse(img.readFile(0, "etc/passwd"))) {
				eq("/home/app", pw.get("app").dir, "home");
			}
		}
		System.out.println("facade: " + checks + " checks ok");
	}
}
