#!/usr/bin/env python3
"""check_workflow.py NONROOT WORKFLOW.yml: the GitHub Actions example is a workflow that can run.

Parses the YAML with PyYAML (exit 77, a CTest skip, when it is not installed) and verifies the
structure GitHub requires (on, jobs.<id>.runs-on, steps with uses or run, not both), that it
uploads SARIF with github/codeql-action/upload-sarif and grants security-events: write, and
that every `nonroot` command line in a run step names a real subcommand and only options that
`nonroot CMD --help` lists, so the snippet cannot drift from the CLI.
"""
import re
import shlex
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("PyYAML (python3-yaml) is not installed: skipped")
    sys.exit(77)


def main(nonroot, path):
    problems = []
    with open(path, encoding="utf-8") as f:
        try:
            wf = yaml.safe_load(f)
        except yaml.YAMLError as e:
            return [f"YAML error: {e}".replace("\n", " ")]
    if not isinstance(wf, dict):
        return [f"{path}: not a mapping"]
    # YAML 1.1 reads the key `on` as True.
    on = wf.get("on", wf.get(True))
    if not on:
        problems.append("no 'on' trigger")
    if not isinstance(wf.get("name"), str):
        problems.append("no workflow name")
    jobs = wf.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return problems + ["no jobs"]
    perms = dict(wf.get("permissions") or {})
    uploads, runs = 0, []
    for jid, job in jobs.items():
        if not isinstance(job, dict) or "runs-on" not in job:
            problems.append(f"jobs.{jid}: no runs-on")
            continue
        perms.update(job.get("permissions") or {})
        steps = job.get("steps")
        if not isinstance(steps, list) or not steps:
            problems.append(f"jobs.{jid}: no steps")
            continue
        for i, st in enumerate(steps):
            where = f"jobs.{jid}.steps[{i}]"
            if not isinstance(st, dict) or ("uses" in st) == ("run" in st):
                problems.append(f"{where}: a step needs exactly one of 'uses' and 'run'")
                continue
            if "uses" in st:
                if not re.match(r"[\w.-]+/[\w./-]+@[\w.-]+$", st["uses"]):
                    problems.append(f"{where}: uses {st['uses']!r} is not OWNER/REPO@REF")
                if st["uses"].startswith("github/codeql-action/upload-sarif@"):
                    uploads += 1
                    sf = (st.get("with") or {}).get("sarif_file")
                    if not sf:
                        problems.append(f"{where}: upload-sarif without sarif_file")
                    elif not any(f"--format sarif" in r and sf in r for r in runs):
                        problems.append(f"{where}: no earlier step writes {sf} with --format sarif")
            else:
                runs.append(st["run"])
    if uploads == 0:
        problems.append("no github/codeql-action/upload-sarif step")
    if perms.get("security-events") != "write":
        problems.append("upload-sarif needs permissions: security-events: write")
    # Every nonroot invocation against the CLI's own --help.
    helps, n = {}, 0
    for r in runs:
        for line in r.splitlines():
            line = line.split(" > ")[0].split(" | ")[0]
            words = shlex.split(line, comments=True)
            for k, w in enumerate(words):
                if not w.endswith("/nonroot") and w != "nonroot":
                    continue
                if k + 1 >= len(words):
                    continue
                cmd = words[k + 1]
                if cmd not in helps:
                    p = subprocess.run([nonroot, cmd, "--help"], capture_output=True, text=True)
                    helps[cmd] = p.stdout if p.returncode == 0 else None
                if helps[cmd] is None:
                    problems.append(f"'nonroot {cmd}': no such subcommand")
                    continue
                n += 1
                for o in words[k + 2:]:
                    if o.startswith("--") and not re.search(r"(^|[^\w-])" + re.escape(o.split("=")[0]) + r"([^\w-]|$)", helps[cmd]):
                        problems.append(f"'nonroot {cmd} {o}': not an option of nonroot {cmd}")
    if n == 0:
        problems.append("no step runs nonroot")
    if not problems:
        print(f"ok: {path}: {len(jobs)} job(s), {uploads} SARIF upload(s), {n} nonroot command(s) match the CLI")
    return problems


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    ps = main(sys.argv[1], sys.argv[2])
    for p in ps:
        print(f"{sys.argv[2]}: {p}")
    sys.exit(1 if ps else 0)
