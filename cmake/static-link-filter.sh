#!/bin/sh
# Link launcher for nonroot-static: run the link command and drop glibc's expected notes that
# getaddrinfo/dlopen "in statically linked applications require at runtime the shared
# libraries" (pulled in by OpenSSL and libxml2, never called by nonroot), together with the
# "in function" line that introduces each, so real warnings and errors stay visible.
# The link's exit status is kept.
out=$("$@" 2>&1); rc=$?
printf '%s\n' "$out" | awk '
	/statically linked applications requires at runtime/ { held = ""; next }
	/: in function `/ { if (held != "") print held; held = $0; next }
	{ if (held != "") print held; held = ""; if ($0 != "") print }
	END { if (held != "") print held }' >&2
exit $rc
