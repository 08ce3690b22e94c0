#!/usr/bin/env bash
# An interrupted nonroot patch leaves no debris (issue 12 case 8): SIGINT, SIGTERM and SIGHUP in
# the middle of `patch docker-archive:X -o docker-archive:Y` remove every temp dir of the run
# ($TMPDIR/nonroot-*) and the temp file next to Y (".Y.nr-<pid>-<hex>"), and nonroot dies of the
# signal (the shell's status 130 / 143 / 129). The image has a 48 MiB layer of random data so the
# run is still busy when the signal comes; a run that has finished by then (or has already
# renamed Y into place) is reported (the check would then prove nothing) and the delay is
# halved, down to 50 ms. A run killed with SIGKILL cannot clean up: its ".Y.nr-<pid>-<hex>"
# (and the older "Y.nr-tmp-<pid>") and its $TMPDIR/nonroot-<what>-<pid>-* directories are
# removed by the next run on Y once that pid is gone.
. "$(dirname "$0")/lib.sh"
e2e_init
T=$E2E_TMP

e2e_step "build a rootful image with a 48 MiB random layer, as docker-archive"
e2e_build_rootful "$T/img:latest"
mkdir -p "$T/big/data"
head -c $((48 << 20)) /dev/urandom >"$T/big/data/blob"
e2e_image_add_dir "$T/img:latest" "$T/big"
e2e_convert "oci:$T/img:latest" "docker-archive:$T/x.tar:app:1"

# run_interrupted SIG: start patch with a private TMPDIR (signals at their defaults, so a shell's
# "ignore SIGINT in background jobs" does not apply), send SIG after a delay while it is still
# running, print the status the shell sees (128+N when it died of signal N, else the exit code).
run_interrupted() {
	local sig=$1 delay=${2:-0.3}
	python3 - "$sig" "$delay" "$NONROOT" "docker-archive:$T/x.tar" "$T/out/y.tar" "$T/tmp" <<'PY'
import os, signal, subprocess, sys, time
sig, delay, nonroot, src, dst, tmp = sys.argv[1:]
signum = getattr(signal, "SIG" + sig)
env = dict(os.environ, TMPDIR=tmp)
def dfl():
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)
p = subprocess.Popen([nonroot, "patch", src, "-o", "docker-archive:" + dst], env=env,
                     preexec_fn=dfl, stdout=subprocess.DEVNULL)
time.sleep(float(delay))
if p.poll() is not None:
    print("finished-before-signal")
    sys.exit(0)
p.send_signal(signum)
rc = p.wait(timeout=120)
print(128 - rc if rc < 0 else rc)
PY
}

check_signal() {
	local sig=$1 want=$2 delay=0.3 got debris
	e2e_step "SIG$sig during patch: status $want, nothing left in TMPDIR or next to Y"
	while :; do
		rm -rf "$T/tmp" "$T/out"
		mkdir -p "$T/tmp" "$T/out"
		got=$(run_interrupted "$sig" "$delay")
		# Y written (renamed into place, complete) before the signal came: the run had
		# finished its work, so the check would prove nothing either
		[ -e "$T/out/y.tar" ] && got=finished-before-signal
		[ "$got" != finished-before-signal ] && break
		echo "patch finished within ${delay}s; trying a shorter delay"
		delay=$(python3 -c "print(max(0.05, $delay / 2))")
		if [ "$delay" = 0.05 ] && [ "${tried_min:-}" = "$sig" ]; then
			echo "e2e: patch always finished before the signal" >&2
			return 1
		fi
		[ "$delay" = 0.05 ] && tried_min=$sig
	done
	echo "status $got (signal after ${delay}s)"
	debris=$(find "$T/tmp" "$T/out" -mindepth 1)
	if [ -n "$debris" ]; then
		printf 'e2e: debris after SIG%s:\n%s\n' "$sig" "$debris" >&2
		return 1
	fi
	[ "$got" = "$want" ]
}

check_signal INT 130
check_signal TERM 143
check_signal HUP 129

e2e_step "SIGINT later in the run (while the output is written): no debris either way"
for delay in 0.6 0.9 1.2 1.5; do
	rm -rf "$T/tmp" "$T/out"
	mkdir -p "$T/tmp" "$T/out"
	got=$(run_interrupted INT "$delay")
	echo "after ${delay}s: $got"
	# either way no temp file next to Y and nothing in TMPDIR; Y is absent or complete (a
	# signal during the audit of the result, after the rename, finds Y written)
	case $got in
	finished-before-signal) [ -s "$T/out/y.tar" ] ;;
	130) [ ! -e "$T/out/y.tar" ] || tar -tf "$T/out/y.tar" >/dev/null ;;
	*) exit 1 ;;
	esac
	[ -z "$(find "$T/out" -mindepth 1 -name '.*')" ]
	[ -z "$(find "$T/tmp" -mindepth 1)" ]
done

e2e_step "a SIGKILLed run's temp file next to Y is removed by the next run on Y"
rm -rf "$T/tmp" "$T/out"
mkdir -p "$T/tmp" "$T/out"
# kill -9 as soon as the temp file next to Y exists (the output archive is being written)
python3 - "$NONROOT" "docker-archive:$T/x.tar" "$T/out" "$T/tmp" <<'PY'
import os, subprocess, sys, time
nonroot, src, out, tmp = sys.argv[1:]
p = subprocess.Popen([nonroot, "patch", src, "-o", "docker-archive:" + out + "/y.tar"],
                     env=dict(os.environ, TMPDIR=tmp), stdout=subprocess.DEVNULL)
while p.poll() is None:
    if any(n.startswith(".y.tar.nr-") for n in os.listdir(out)):
        p.kill()
        break
    time.sleep(0.002)
p.wait()
print("killed" if p.returncode == -9 else "finished: %d" % p.returncode)
sys.exit(0 if p.returncode == -9 else 1)
PY
ls -A "$T/out" "$T/tmp"
left=$(find "$T/out" -name '.y.tar.nr-*')
[ -n "$left" ]
leftdirs=$(find "$T/tmp" -mindepth 1 -maxdepth 1 -name 'nonroot-*')
[ -n "$leftdirs" ]
# someone else's directory and a symlink with a dead pid's name stay
mkdir -p "$T/elsewhere"
echo keep >"$T/elsewhere/keep"
dead=$(sh -c 'echo $$')
ln -s "$T/elsewhere" "$T/tmp/nonroot-archive-$dead-SYMLNK"
want="nonroot-archive-$dead-SYMLNK "
if [ "$(id -u)" = 0 ]; then
	mkdir "$T/tmp/nonroot-archive-$dead-OTHERS"
	chown 65534 "$T/tmp/nonroot-archive-$dead-OTHERS"
	want="nonroot-archive-$dead-OTHERS $want"
fi
# older names and other writers' files: a dead pid's file goes, a live one's and another
# destination's stay
hex=0123456789abcdef01234567
touch "$T/out/y.tar.nr-tmp-$dead" "$T/out/.y.tar.nr-$dead-$hex" "$T/out/.y.tar.nr-$$-$hex" \
	"$T/out/.z.tar.nr-$dead-$hex"
TMPDIR=$T/tmp e2e_patch "docker-archive:$T/x.tar" -o "docker-archive:$T/out/y.tar" >/dev/null
ls -A "$T/out"
[ "$(cd "$T/out" && ls -A | sort | tr '\n' ' ')" = ".y.tar.nr-$$-$hex .z.tar.nr-$dead-$hex y.tar " ]
ls -A "$T/tmp"
[ "$(cd "$T/tmp" && ls -A | sort | tr '\n' ' ')" = "$want" ]
[ -s "$T/elsewhere/keep" ]
rm -f "$T/out/.y.tar.nr-$$-$hex" "$T/out/.z.tar.nr-$dead-$hex"

e2e_step "the same destination, not interrupted: patched (the interrupted runs left no lock or debris)"
rm -rf "$T/tmp" "$T/out"
mkdir -p "$T/tmp" "$T/out"
TMPDIR=$T/tmp e2e_patch "docker-archive:$T/x.tar" -o "docker-archive:$T/out/y.tar" >/dev/null
[ -s "$T/out/y.tar" ]
[ -z "$(find "$T/tmp" -mindepth 1)" ]
echo ok
