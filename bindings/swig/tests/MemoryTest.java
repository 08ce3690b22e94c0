// CTest swig.java.memory: objects borrowed from an owner stay valid after the owner is closed
// (they are copies: before, reading one crashed the JVM or returned freed memory), and string
// fields set in a loop do not leak. valgrind cannot run a JVM usefully, so the leak check is the
// process's resident memory over many iterations with a fixed, pre-touched Java heap (CTest:
// -Xms64m -Xmx64m -XX:+AlwaysPreTouch):
// the C heap must not grow with the number of iterations.
import java.nio.file.Files;
import java.nio.file.Paths;

import org.libnonroot.*;

public class MemoryTest {
	static void eq(Object want, Object got, String what) {
		if (want == null ? got != null : !want.equals(got))
			throw new AssertionError(what + ": want <" + want + "> got <" + got + ">");
	}

	static long rssKiB() throws Exception {
		for (String line : Files.readAllLines(Paths.get("/proc/self/status")))
			if (line.startsWith("VmRSS:"))
				return Long.parseLong(line.replaceAll("[^0-9]", ""));
		throw new IllegalStateException("no VmRSS");
	}

	static void churn(int n) {
		for (int i = 0; i < n; i++) {
			try (nr_pwent e = new nr_pwent(); nr_patch_options o = new nr_patch_options()) {
				e.setName("user" + i);
				e.setName("again" + i);
				e.setGecos("a fairly long GECOS field to make any leak visible " + i);
				e.setGecos(null);
				o.setUser("u" + i);
				o.setHome("/home/somebody/with/a/long/path/" + i);
			}
		}
	}

	static void copies(nr_passwd pw, int n) {
		for (int i = 0; i < n; i++)
			try (nr_pwent e = NonrootNative.nr_passwd_at(pw, i % 2)) {
				if (e.getUid() != (i % 2 == 0 ? 0 : 1654))
					throw new AssertionError("uid");
			}
	}

	public static void main(String[] args) throws Exception {
		// use after close: the entries are copies, valid after their owner is closed
		nr_pwent root, app;
		nr_grent staff;
		nr_binding binding;
		try (nr_passwd pw = NonrootNative.nr_passwd_parse(
				"root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/false\n", "etc/passwd");
		     nr_group gr = NonrootNative.nr_group_parse("root:x:0:\nstaff:x:50:app,bob\n", "etc/group");
		     nr_bindings b = NonRoot.parseUrls("http://+:80")) {
			root = NonrootNative.nr_passwd_at(pw, 0);
			app = NonrootNative.nr_passwd_find_name(pw, "app");
			staff = NonrootNative.nr_group_find_gid(gr, 50);
			binding = NonrootNative.nr_bindings_at(b, 0);
		}
		// churn the C heap so that freed memory would be reused
		churn(1000);
		eq("root", root.getName(), "entry after its owner is closed");
		eq("/bin/sh", root.getShell(), "its strings");
		eq("/home/app", app.getDir(), "find_name result after close");
		eq("bob", staff.member(1), "group member after close");
		eq("http://+:80", binding.getUrl(), "binding after close");
		root.close();
		app.close();
		staff.close();
		binding.close();

		// leaks: resident memory after warm-up vs. after many more iterations
		int n = args.length > 0 ? Integer.parseInt(args[0]) : 200000;
		try (nr_passwd pw = NonrootNative.nr_passwd_parse(
				"root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/false\n", "etc/passwd")) {
			churn(n);        // warm-up: JIT, malloc arenas
			copies(pw, n);
			System.gc();
			long before = rssKiB();
			churn(n);
			copies(pw, n);
			System.gc();
			long after = rssKiB();
			long grown = after - before;
			System.out.println("RSS " + before + " KiB -> " + after + " KiB after " + n
				+ " iterations (+" + grown + " KiB)");
			// a leak of the ~3 strings set per iteration is > 20 MiB at n = 200000
			if (grown > 8 * 1024)
				throw new AssertionError("resident memory grew by " + grown + " KiB");
		}
		System.out.println("memory: ok");
	}
}
