#!/usr/bin/env bash
# The Debian packages as users get them (CTest deb.install, label deb): builds them (make-deb),
# installs all six with `apt-get install ./*.deb` into a fresh Debian chroot (debootstrap;
# apt resolves their dependencies) and uses each:
#   libnonroot-dev + libnonroot0.2  a C program built with pkg-config (tests/consumers/app.c)
#   python3-nonroot               python3 -c 'import nonroot'
#   libnonroot-java               a Java class against /usr/share/java/nonroot.jar
#   libnonroot-perl               a Perl script
#   nonroot                       nonroot audit on an image, man nonroot
# The chroot with the test's own tools (compiler, JRE, ...) is cached as a tarball in
# CACHE (keyed by suite and tool list), so a re-run only unpacks it.
#   install.sh SRC WORK CACHE
set -euo pipefail
src=$1 work=$2 cache=$3
suite=${NR_DEB_SUITE:-bookworm}
mirror=${NR_DEB_MIRROR:-http://deb.debian.org/debian}
security=${NR_DEB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
tools="gcc libc6-dev pkgconf default-jre-headless perl python3 man-db"
[ "$(id -u)" = 0 ] || { echo "deb: needs root (debootstrap, chroot)"; exit 1; }
for t in debootstrap dpkg-buildpackage lintian javac; do
	command -v $t >/dev/null || { echo "deb: missing $t (scripts/install-deps)"; exit 1; }
done
export NR_SRC=$src
. "$src/tests/e2e/lib.sh"
e2e_init
root=$E2E_TMP/root
cleanup_mounts() { umount "$root/proc" 2>/dev/null || true; e2e_cleanup; }
trap cleanup_mounts EXIT

# A command in the chroot with a clean environment: nothing of ours (TMPDIR under the build
# tree, PATH, locale) leaks into the maintainer scripts run there.
inroot() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}
# dpkg without an fsync per file (faster): the chroot is thrown away after the test.
unsafe_io() { echo force-unsafe-io > "$root/etc/dpkg/dpkg.cfg.d/nonroot-test-unsafe-io"; }

write_sources() {
	cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
SOURCES
}

# 1. The packages (NR_DEB_REUSE=1: those of the last run, when iterating on this test).
mkdir -p "$work"
if [ "${NR_DEB_REUSE:-0}" != 1 ] || ! ls "$work"/debs/*.deb >/dev/null 2>&1; then
	"$src/scripts/make-deb" "$work/debs" | tail -12
fi
debs=("$work"/debs/*.deb)
for p in libnonroot0.2 libnonroot-dev nonroot python3-nonroot libnonroot-java libnonroot-perl; do
	ls "$work"/debs/${p}_*.deb >/dev/null 2>&1 || { echo "FAIL: no package $p"; exit 1; }
done

# 2. A fresh chroot (cached: debootstrap + the tools; apt lists kept for the install).
mkdir -p "$cache"
key=$(echo "$suite $mirror $tools" | sha256sum | cut -c1-16)
tarball=$cache/chroot-$suite-$key.tar
if [ ! -f "$tarball" ]; then
	echo "deb: debootstrap $suite (cached afterwards in $tarball)"
	env -u TMPDIR debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log"; exit 1; }
	mount -t proc proc "$root/proc"   # the JRE's postinst runs java
	write_sources
	unsafe_io
	inroot apt-get update -qq
	inroot apt-get install -y -qq --no-install-recommends $tools \
		>"$work/tools.log" 2>&1 || { tail -20 "$work/tools.log"; exit 1; }
	inroot apt-get clean
	umount "$root/proc"
	tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
else
	mkdir -p "$root"
	tar -C "$root" -xf "$tarball"
	unsafe_io
fi
mount -t proc proc "$root/proc"

# 3. apt-get install ./*.deb: dependencies from the mirror, with the suite's updates and
# security archive (the packages were built against those: perl's, for one).
write_sources
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
inroot apt-get update -qq
inroot sh -c 'cd /tmp/debs && apt-get install -y --no-install-recommends ./*.deb' >"$work/install.log" 2>&1 ||
	{ tail -30 "$work/install.log"; echo "FAIL: apt-get install ./*.deb"; exit 1; }
inroot dpkg-query -W -f='${Package} ${Version} ${Status}\n' libnonroot0.2 libnonroot-dev \
	nonroot python3-nonroot libnonroot-java libnonroot-perl

# An image to use (umoci, on the host), copied in.
e2e_build_rootful "$E2E_TMP/img:latest" >/dev/null
cp -a "$E2E_TMP/img" "$root/tmp/img"
image=oci:/tmp/img:latest
fail=0
run() {  # run WHAT COMMAND...: in the chroot, as a plain shell command
	local what=$1 out; shift
	if out=$(inroot sh -c "$*" 2>&1); then
		echo "ok: $what"; sed 's/^/    /' <<<"$out"
	else
		echo "FAIL: $what"; sed 's/^/    /' <<<"$out"; fail=1
	fi
}

# C: libnonroot-dev's pkg-config file, libnonroot0.2 at run time.
cp "$src/tests/consumers/app.c" "$root/tmp/app.c"
run "C via pkg-config" "cd /tmp && cc -Wall -Wextra -Werror app.c \$(pkg-config --cflags --libs libnonroot) -o app && ldd ./app | grep -q 'libnonroot.so.0.2 => /' && ./app $image"
# Python
run "python3 import nonroot" "python3 -c 'import nonroot; print(\"python: libnonroot\", nonroot.version())'"
# Java: the class compiled here against the packaged jar, run there with the JRE only.
mkdir -p "$work/java" "$root/tmp/java"
dpkg-deb -x "$work"/debs/libnonroot-java_*.deb "$work/java/pkg"
jar=$(find "$work/java/pkg/usr/share/java" -name '*.jar' | head -1)
javac -d "$root/tmp/java" -cp "$jar" "$src/tests/deb/DebTest.java"
run "Java via /usr/share/java/nonroot.jar" "java -cp /usr/share/java/nonroot.jar:/tmp/java DebTest"
# Perl: the module the package installs, whatever its name.
pm=$(inroot dpkg -L libnonroot-perl | grep '\.pm$' | head -1)
mod=$(inroot perl -MConfig -e 'my ($d, $f) = @ARGV; $f =~ s{^\Q$d\E/}{}; $f =~ s{\.pm$}{}; $f =~ s{/}{::}g; print $f' \
	"$(inroot perl -MConfig -e 'print $Config{vendorarch}')" "$pm")
cat > "$root/tmp/deb.pl" <<PERL
use strict;
use warnings;
use $mod;
my \$v = ${mod}::nr_version();
die "version: \$v\n" unless \$v =~ /^[0-9]+\.[0-9]+\.[0-9]+\$/;
print "perl: libnonroot \$v ($mod)\n";
PERL
run "Perl script (module $mod)" "perl /tmp/deb.pl"
# The command: a rootful image has findings (exit 1), the man page is there.
run "nonroot audit" "nonroot --version && { nonroot audit $image; test \$? = 1; } && man -w nonroot"
exit $fail
