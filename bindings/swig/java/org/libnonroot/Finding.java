package org.libnonroot;

/** One audit finding (a plain Java value): which rule, how serious, where, and the fix. */
public final class Finding {
	/** the rule id ("NR001") */
	public final String id;
	/** "note", "warning" or "error" */
	public final String level;
	/** the index of the manifest (platform) it was found in */
	public final int manifest;
	/** the platform ("linux/amd64") */
	public final String platform;
	/** where: "config.User", "config.Env.ASPNETCORE_URLS", "usr/bin/su", ... */
	public final String location;
	/** what is wrong */
	public final String message;
	/** how to fix it */
	public final String fix;

	Finding(nr_finding f) {
		id = f.getId();
		level = NonrootNative.nr_level_name(f.getLevel());
		manifest = Math.toIntExact(f.getManifest());
		platform = f.getPlatform();
		location = f.getLocation();
		message = f.getMessage();
		fix = f.getFix();
	}

	/** @return "LEVEL ID LOCATION: MESSAGE" */
	@Override
	public String toString() {
		return level + " " + id + " " + location + ": " + message;
	}
}
