// tests/deb: the Java binding as packaged (libnonroot-java): the jar from /usr/share/java, the
// JNI library found on Debian's default java.library.path. Prints the library's version.
public class DebTest {
	public static void main(String[] args) {
		String v = org.libnonroot.NonRoot.version();
		if (v == null || !v.matches("[0-9]+\\.[0-9]+\\.[0-9]+"))
			throw new AssertionError("version: " + v);
		System.out.println("java: libnonroot " + v);
	}
}
