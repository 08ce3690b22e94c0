package org.libnonroot;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An /etc/passwd file, parsed losslessly: {@link #toString()} gives the input back byte for
 * byte until an edit, and an edit rewrites only the lines it touches. Lookups return
 * {@link Entry} values (plain Java copies: they stay valid after {@link #close()}).
 *
 * <pre>{@code
 * try (Passwd pw = Passwd.parse(text, "etc/passwd")) {
 *     if (!pw.contains("app"))
 *         pw.addUser("app", 1654, 1654, "/home/app", "/sbin/nologin");
 *     Files.writeString(path, pw.toString());
 * }
 * }</pre>
 */
public final class Passwd implements AutoCloseable {
	private nr_passwd pw;

	private Passwd(nr_passwd pw) {
		this.pw = pw;
	}

	/**
	 * Parse the text of a passwd file.
	 *
	 * @param text the file's content
	 * @param source the name used in errors ("etc/passwd"), may be null
	 * @return the parsed file (close it, or use try-with-resources)
	 * @throws NonrootException with the line of a malformed entry
	 */
	public static Passwd parse(String text, String source) {
		return new Passwd(NonrootNative.nr_passwd_parse(text, source));
	}

	/**
	 * Parse the text of a passwd file, named "etc/passwd" in errors.
	 *
	 * @param text the file's content
	 * @return the parsed file
	 */
	public static Passwd parse(String text) {
		return parse(text, "etc/passwd");
	}

	private nr_passwd handle() {
		if (pw == null)
			throw new IllegalStateException("Passwd is closed");
		return pw;
	}

	/** @return the number of entries (lines that are not comments, blanks or NIS lines) */
	public int size() {
		return Math.toIntExact(NonrootNative.nr_passwd_count(handle()));
	}

	/** @return every entry, in file order */
	public List<Entry> entries() {
		int n = size();
		List<Entry> out = new ArrayList<>(n);
		for (int i = 0; i < n; i++)
			out.add(Entry.of(NonrootNative.nr_passwd_at(handle(), i)));
		return Collections.unmodifiableList(out);
	}

	/**
	 * @param name a user name
	 * @return the first entry with that name, or null
	 */
	public Entry get(String name) {
		return Entry.of(NonrootNative.nr_passwd_find_name(handle(), name));
	}

	/**
	 * @param name a user name
	 * @return whether an entry has that name
	 */
	public boolean contains(String name) {
		return get(name) != null;
	}

	/**
	 * @param uid a user id
	 * @return the first entry with that uid, or null
	 */
	public Entry byUid(long uid) {
		return Entry.of(NonrootNative.nr_passwd_find_uid(handle(), uid));
	}

	/**
	 * Add a user (password field "x", empty GECOS).
	 *
	 * @param name the user name (checked as shadow-utils checks it)
	 * @param uid the user id
	 * @param gid the primary group id
	 * @param home the home directory
	 * @param shell the login shell
	 * @return the new entry
	 * @throws NonrootException NR_EEXISTS when the name exists, NR_ECONFLICT when the uid is used
	 */
	public Entry addUser(String name, long uid, long gid, String home, String shell) {
		try (nr_pwent e = new nr_pwent()) {
			e.setName(name);
			e.setPasswd("x");
			e.setUid(uid);
			e.setGid(gid);
			e.setGecos("");
			e.setDir(home);
			e.setShell(shell);
			NonrootNative.nr_passwd_add(handle(), e);
		}
		return get(name);
	}

	/**
	 * @param first the lowest id to consider
	 * @param last the highest id to consider
	 * @return the lowest id in first..last that no entry uses
	 * @throws NonrootException NR_ENOTFOUND when every id is used
	 */
	public long nextFreeId(long first, long last) {
		long[] id = new long[1];
		NonrootNative.nr_passwd_next_free_id(id, handle(), null, first, last);
		return id[0];
	}

	/** @return the file's text (the input itself until an edit) */
	@Override
	public String toString() {
		return NonrootNative.nr_passwd_serialize(handle());
	}

	/** Free the parsed file now; later calls throw IllegalStateException. Idempotent. */
	@Override
	public void close() {
		if (pw != null) {
			pw.close();
			pw = null;
		}
	}

	/** One passwd entry: name:passwd:uid:gid:gecos:dir:shell and its line in the file. */
	public static final class Entry {
		/** the user name */
		public final String name;
		/** the password field ("x": in /etc/shadow) */
		public final String passwd;
		/** the user id (0 .. 4294967295) */
		public final long uid;
		/** the primary group id */
		public final long gid;
		/** the GECOS (comment) field */
		public final String gecos;
		/** the home directory */
		public final String dir;
		/** the login shell */
		public final String shell;
		/** the 1-based line in the file */
		public final int line;

		private Entry(nr_pwent e) {
			name = e.getName();
			passwd = e.getPasswd();
			uid = e.getUid();
			gid = e.getGid();
			gecos = e.getGecos();
			dir = e.getDir();
			shell = e.getShell();
			line = Math.toIntExact(e.getLine());
		}

		static Entry of(nr_pwent e) {
			if (e == null)
				return null;
			try (nr_pwent copy = e) {
				return new Entry(copy);
			}
		}

		/** @return the entry as its passwd line (without the newline) */
		@Override
		public String toString() {
			return name + ":" + passwd + ":" + uid + ":" + gid + ":" + gecos + ":" + dir + ":" + shell;
		}
	}
}
