// CTest: the Java binding's real call sequence (run as a single source file by `java`).
import org.libnonroot.*;

public class NonRootTest {
	static int checks = 0;

	static void check(boolean ok, String what) {
		checks++;
		if (!ok)
			throw new AssertionError(what);
	}

	static void eq(Object want, Object got, String what) {
		check(want == null ? got == null : want.equals(got), what + ": want <" + want + "> got <" + got + ">");
	}

	public static void main(String[] args) {
		// version and error names
		eq(NonrootNativeConstants.NR_VERSION, NonRoot.version(), "version");
		eq("invalid input", NonRoot.strerror(nr_error_code.NR_EINVALID.swigValue()), "strerror");
		eq(-3, nr_error_code.NR_ENOTFOUND.swigValue(), "enum value");

		// the exception type maps codes back to the enum
		NonrootException e = new NonrootException(-2, "bad line", "etc/passwd", 3, 7);
		eq("etc/passwd:3:7: bad line", e.getMessage(), "exception text");
		eq(nr_error_code.NR_EINVALID, e.getErrorCode(), "exception enum");
		eq(null, new NonrootException(-99, "x", "", 0, 0).getErrorCode(), "unknown code");

		System.out.println("java: " + checks + " checks passed");
	}
}
