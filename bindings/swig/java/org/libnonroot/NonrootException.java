package org.libnonroot;

/**
 * A libnonroot failure: thrown by every wrapped function whose C error struct (nr_error) was set.
 * code is the NR_E* value (negative, see nr_error_code); line and column are 1-based positions in
 * the input (0 when not applicable); source names the file, field or digest.
 */
public class NonrootException extends RuntimeException {
	private static final long serialVersionUID = 1L;

	/** the NR_E* code */
	private final int code;
	/** the file, field or digest */
	private final String source;
	/** the 1-based line, 0 when not applicable */
	private final long line;
	/** the 1-based column, 0 when not applicable */
	private final long column;
	/** the message without the position */
	private final String detail;

	/**
	 * Made by the JNI wrapper from the C error struct.
	 *
	 * @param code the NR_E* code (negative)
	 * @param message the message, without position
	 * @param source the file, field or digest it is about ("" when none)
	 * @param line the 1-based line, 0 when not applicable
	 * @param column the 1-based column, 0 when not applicable
	 */
	public NonrootException(int code, String message, String source, long line, long column) {
		super(format(message, source, line, column));
		this.code = code;
		this.detail = message;
		this.source = source;
		this.line = line;
		this.column = column;
	}

	private static String format(String message, String source, long line, long column) {
		StringBuilder where = new StringBuilder(source == null ? "" : source);
		if (line != 0) {
			where.append(':').append(line);
			if (column != 0)
				where.append(':').append(column);
		}
		return where.length() == 0 ? message : where + ": " + message;
	}

	/** @return the NR_E* code (negative) */
	public int getCode() {
		return code;
	}

	/** @return the code as the enum, or null for a code this version does not know */
	public nr_error_code getErrorCode() {
		for (nr_error_code c : nr_error_code.values())
			if (c.swigValue() == code)
				return c;
		return null;
	}

	/** @return the message without the position prefix */
	public String getDetail() {
		return detail;
	}

	/** @return the file, field or digest the error is about ("" when none) */
	public String getSource() {
		return source;
	}

	/** @return the 1-based line in the input, 0 when not applicable */
	public long getLine() {
		return line;
	}

	/** @return the 1-based column in the input, 0 when not applicable */
	public long getColumn() {
		return column;
	}
}
