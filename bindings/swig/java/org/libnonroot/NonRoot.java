package org.libnonroot;

/**
 * The Java face of libnonroot: static entry points over the SWIG-generated NonrootNative
 * (which mirrors the C API one to one). Every method throws NonrootException on failure;
 * returned handles are AutoCloseable (use try-with-resources: they hold C memory).
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
}
