package org.libnonroot;

/**
 * A libnonroot failure: thrown by every wrapped function whose C error struct (nr_error) was set.
 * code is the NR_E* value (negative, see nr_error_code); line and column are 1-based positions in
 * the input (0 when not applicable); source names the file, field or digest.
 */
public class NonrootException extends RuntimeException {
	private static final long serialVersionUID = 1L;

	private final int code;
	private final String source;
	private final long line;
	private final long column;
	private final String detail;

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

	public String getSource() {
		return source;
	}

	public long getLine() {
		return line;
	}

	public long getColumn() {
		return column;
	}
}
