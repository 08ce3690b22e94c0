#!/usr/bin/env bash
# CTest swig.install: `cmake --install` into a scratch prefix puts the jar (its version in the
# manifest) in share/java, the JNI library in lib/jni and the Perl module in Perl's vendor arch
# dir, each with a RUNPATH relative to itself; both then load from the prefix alone.
#   install.sh BUILD_DIR VERSION JAVA PERL
set -euo pipefail
build=$1 version=$2 java=$3 perl=$4
prefix=$(mktemp -d /tmp/nr-swig-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
fail() { echo "FAIL: $*" >&2; exit 1; }

jar=$prefix/share/java/nonroot.jar
[ -L "$jar" ] && [ "$(readlink "$jar")" = "nonroot-$version.jar" ] ||
	fail "share/java/nonroot.jar is not a link to nonroot-$version.jar"
python3 - "$jar" "$version" <<'PY'
import sys, zipfile
m = zipfile.ZipFile(sys.argv[1]).read("META-INF/MANIFEST.MF").decode()
assert "Implementation-Version: %s" % sys.argv[2] in m, m
PY
jni=$(find "$prefix" -path "*/jni/libnonroot_jni.so")
[ -n "$jni" ] || fail "no lib/jni/libnonroot_jni.so"
pm=$(find "$prefix" -name Nonroot.pm)
[ -n "$pm" ] || fail "no Nonroot.pm"
vendorarch=$("$perl" -MConfig -e 'print $Config{vendorarch}')
vendorprefix=$("$perl" -MConfig -e 'print $Config{vendorprefix}')
[ "$pm" = "$prefix${vendorarch#"$vendorprefix"}/Nonroot.pm" ] || fail "Nonroot.pm not in vendorarch: $pm"
so=$(dirname "$pm")/auto/Nonroot/Nonroot.so
[ -f "$so" ] || fail "no auto/Nonroot/Nonroot.so next to Nonroot.pm"
for lib in "$jni" "$so"; do
	readelf -d "$lib" >"$prefix/dyn.txt"
	grep -q 'RUNPATH.*\[\$ORIGIN/' "$prefix/dyn.txt" || fail "$lib: no \$ORIGIN-relative RUNPATH"
	if grep -F "$build" "$prefix/dyn.txt"; then fail "$lib: RUNPATH into the build tree"; fi
done

# load both from the prefix (no LD_LIBRARY_PATH): the library they find is the installed one
cat >"$prefix/Installed.java" <<'JAVA'
public class Installed {
	public static void main(String[] a) throws Exception {
		System.out.println("java " + org.libnonroot.NonRoot.version() + " "
			+ org.libnonroot.NonRoot.class.getPackage().getImplementationVersion());
		String maps = new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/self/maps")));
		for (String l : maps.split("\n"))
			if (l.contains("libnonroot.so") && !l.contains(a[0]))
				throw new AssertionError("libnonroot from outside the prefix: " + l);
	}
}
JAVA
out=$(cd "$prefix" && env -u LD_LIBRARY_PATH "$java" -cp "$jar" -Djava.library.path="$(dirname "$jni")" \
	Installed.java "$prefix")
echo "$out"
[ "$out" = "java $version $version" ] || fail "java: $out"
out=$(cd "$prefix" && env -u LD_LIBRARY_PATH -u PERL5LIB "$perl" -I"$(dirname "$pm")" -MNonroot -e '
	open(my $m, "<", "/proc/self/maps") or die; my $maps = join("", <$m>);
	die "libnonroot from outside the prefix\n" if grep { !/\Q$ARGV[0]\E/ } grep { /libnonroot\.so/ } split /\n/, $maps;
	print "perl $Nonroot::VERSION ", Nonroot::nr_version(), "\n"' "$prefix")
echo "$out"
[ "$out" = "perl $version $version" ] || fail "perl: $out"
echo "swig install: ok"
