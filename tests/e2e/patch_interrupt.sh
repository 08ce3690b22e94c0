#!/usr/bin/env bash
# An interrupted nonroot patch leaves no debris (issue 12 case 8): SIGINT, SIGTERM and SIGHUP in
# the middle of `patch docker-archive:X -o docker-archive:Y` remove every temp dir of the run
# ($TMPDIR/nonroot-*) and the temp file next to Y (".Y.nr-<hex>"), and nonroot dies of the
# signal (the shell's status 130 / 143 / 129). The image has a 48 MiB layer of random data so the
# run is still busy when the signal comes; a run that has finished by then (or has already
# renamed Y into place) is reported (the check would then prove nothing) and the delay is
# halved, down to 50 ms.
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

e2e_step "the same destination, not interrupted: patched (the interrupted runs left no lock or debris)"
rm -rf "$T/tmp" "$T/out"
mkdir -p "$T/tmp" "$T/out"
TMPDIR=$T/tmp e2e_patch "docker-archive:$T/x.tar" -o "docker-archive:$T/out/y.tar" >/dev/null
[ -s "$T/out/y.tar" ]
[ -z "$(find "$T/tmp" -mindepth 1)" ]
echo ok
