#!/usr/bin/python3
"""make stress's report (docs/reliability.md, "Figures of the last run"): reads what
tests/run.sh left in RESULTS for the reliability cases (the hostile-guest program, the SMP
stress, the bad boot inputs) and writes them with the date, machine and commit of the run
as docs/reliability-results.md; make fuzz's, from its logs (--fuzz), as docs/fuzz-results.md.
So measured figures reach the docs only this way, never copied by hand.

The bad boot inputs are the cases the table in docs/reliability.md, "Bad boot input", names:
that table is the one list of them; --cases prints them with the stress cases as a TESTS
regex for tests/run.sh.

usage: report.py --cases
       report.py --results DIR --doc FILE     (make stress)
       report.py --fuzz DIR --doc FILE        (make fuzz)
"""
import argparse
import datetime
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from run_facts import bochs_build, command_output, commit, machine  # noqa: E402
RELIABILITY_DOC = os.path.join(ROOT, "docs", "reliability.md")
HOSTILE_CASE = "bochs_hostile_guest"
STRESS_CASES = ("bochs_smp_stress_nmi", "bochs_smp_stress_nmi_emulate_sipi")


def bad_input_cases():
    """The case names of the "Bad boot input" table, in its order: the second column."""
    cases, inside = [], False
    for line in open(RELIABILITY_DOC, encoding="utf-8"):
        if line.startswith("## "):
            inside = line.strip() == "## Bad boot input"
        elif inside and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            m = re.fullmatch(r"`([a-z0-9_]+)`", cells[1]) if len(cells) > 2 else None
            if m:
                cases.append((cells[0], m.group(1)))
    return cases


def all_cases():
    return [HOSTILE_CASE, *STRESS_CASES] + [c for _, c in bad_input_cases()]


def case_result(results, case):
    """(passed, failed, seconds, serial log text) of one boot case, or None if it did not run."""
    path = os.path.join(results, f"boot-{case}.result")
    if not os.path.exists(path):
        return None
    text = open(path, encoding="utf-8", errors="replace").read()
    took = re.search(r"\(\S+ took (\d+)s\)", text)
    log = os.path.join(results, f"boot-{case}", "serial.log")
    serial = open(log, encoding="utf-8", errors="replace").read() if os.path.exists(log) else ""
    return (len(re.findall(r"^PASS ", text, re.M)), len(re.findall(r"^FAIL ", text, re.M)),
            int(took.group(1)) if took else None, serial)


def verdict(res):
    passed, failed, took, _ = res
    word = "every check passed" if failed == 0 and passed else f"**{failed} check(s) failed**"
    return f"{word} ({passed} passed, {failed} failed; {took} s wall)"


def hostile_section(results):
    res = case_result(results, HOSTILE_CASE)
    out = ["## The hostile-guest program", ""]
    if res is None:
        return out + [f"Not run (`{HOSTILE_CASE}`).", ""]
    serial = res[3]
    seed = re.search(r"^hostile: seed (\S+), (\d+) operations over (\d+) CPU", serial, re.M)
    total = re.search(r"^hostile: (\d+) operations in (\d+) ms", serial, re.M)
    out.append(f"`{HOSTILE_CASE}`: {verdict(res)}." + (
        f" Seed {seed.group(1)}, {int(seed.group(2)):,} operations drawn over {seed.group(3)} CPUs"
        if seed else " (no seed line in the log)") + (
        f"; {int(total.group(1)):,} run in {int(total.group(2)):,} ms emulated." if total else "."))
    out += ["", "| kind | operations | drawn but skipped | raised an exception (as they must) |",
            "| --- | ---: | ---: | ---: |"]
    for m in re.finditer(r"^hostile: ([^:\n]+): (\d+) operations \((\d+) drawn but skipped\), "
                         r"(\d+) raised", serial, re.M):
        out.append(f"| {m.group(1)} | {int(m.group(2)):,} | {int(m.group(3)):,} | {int(m.group(4)):,} |")
    out += ["", "| CPU | operations | outcome digest | failures |", "| ---: | ---: | --- | ---: |"]
    for m in re.finditer(r"^hostile: CPU (\d+): (\d+) operations, outcome digest ([0-9a-f]+), "
                         r"(\d+) failure", serial, re.M):
        out.append(f"| {m.group(1)} | {int(m.group(2)):,} | `{m.group(3)}` | {m.group(4)} |")
    return out + [""]


def stress_section(results):
    out = ["## SMP stress and NMIs", "",
           "| case | INIT-SIPI cycles | emulated ms | CPUID loops per AP | NMIs sent / taken | "
           "INIT exits per AP | result |", "| --- | ---: | ---: | --- | --- | --- | --- |"]
    for case in STRESS_CASES:
        res = case_result(results, case)
        if res is None:
            out.append(f"| `{case}` | | | | | | not run |")
            continue
        serial = res[3]
        cyc = re.search(r"^stress: (\d+) INIT-SIPI cycles over (\d+) APs in (\d+) ms; CPUID loops:"
                        r"([ \d]*)$", serial, re.M)
        nmi = re.search(r"^stress: (\d+) NMIs sent, (\d+) taken", serial, re.M)
        inits = [f"{int(n):,}" for n in re.findall(r"^exits: CPU [1-9]\d*: INIT +(\d+)", serial, re.M)]
        loops = ", ".join(f"{int(n):,}" for n in cyc.group(4).split()) if cyc else ""
        out.append(f"| `{case}` | {int(cyc.group(1)):,} | {int(cyc.group(3)):,} | {loops} | "
                   if cyc else f"| `{case}` | | | | ")
        out[-1] += (f"{nmi.group(1)} / {nmi.group(2)} | " if nmi else "| ") + \
            (", ".join(inits) or "none (emulated)") + f" | {verdict(res)} |"
    return out + [""]


def bad_input_section(results):
    out = ["## Bad boot input", "", "| input | case | result |", "| --- | --- | --- |"]
    for what, case in bad_input_cases():
        res = case_result(results, case)
        out.append(f"| {what} | `{case}` | {'not run' if res is None else verdict(res)} |")
    return out + [""]


def fuzz_section(fuzz):
    """make fuzz's figures from its logs (libFuzzer's -print_final_stats=1 lines)."""
    out = ["## Every target", "",
           "| target | executions | seconds | executions per second | corpus entries | result |",
           "| --- | ---: | ---: | ---: | ---: | --- |"]
    logs = sorted(glob.glob(os.path.join(fuzz, "*.log")))
    for log in logs:
        text = open(log, encoding="utf-8", errors="replace").read()
        stat = dict(re.findall(r"^stat::(\w+): *(\d+)", text, re.M))
        crashed = re.search(r"^(==\d+==ERROR|SUMMARY: \w+Sanitizer|.*deadly signal)", text, re.M)
        runs = int(stat.get("number_of_executed_units", 0))
        secs = re.search(r"^wall_seconds: (\d+)", text, re.M)        # make fuzz appends it
        secs = int(secs.group(1)) if secs else 0
        corpus = re.findall(r"\bcorp: (\d+)/", text)
        rate = f"{int(stat['average_exec_per_sec']):,}" if "average_exec_per_sec" in stat else ""
        out.append(f"| {os.path.basename(log)[:-4]} | {runs:,} | {secs:,} | {rate} | "
                   f"{corpus[-1] if corpus else ''} | {'**crash**' if crashed else 'no crash'} |")
    if not logs:
        out.append("| (no fuzz logs) | | | | | |")
    return out + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", action="store_true", help="print the cases as a TESTS regex")
    ap.add_argument("--results", help="tests/run.sh's results (build/test)")
    ap.add_argument("--fuzz", help="make fuzz's logs (build/fuzz)")
    ap.add_argument("--doc", help="the file to write")
    args = ap.parse_args()
    if args.cases:
        print("^(" + "|".join(all_cases()) + ")$")
        return 0
    if not args.doc or bool(args.results) == bool(args.fuzz):
        ap.error("--doc and one of --results and --fuzz are needed (or --cases)")
    qemu = command_output(["qemu-system-x86_64", "--version"])
    target, title = ("stress", "Reliability results") if args.results else ("fuzz", "Fuzzing results")
    lines = [f"# {title}", "",
             f"Generated by `make {target}` (`tests/reliability/report.py`); do not edit by hand. What",
             "each figure means and what the runs found: [reliability.md](reliability.md).", "",
             f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"- Machine: {machine()}"]
    if args.results:
        lines.append(f"- Emulators: Bochs {bochs_build()}; "
                     f"{qemu or 'QEMU (version unknown)'}")
    lines += [f"- thinvisor: {commit()} (`git describe --always --dirty`)", ""]
    if args.results:
        lines += hostile_section(args.results) + stress_section(args.results) + \
            bad_input_section(args.results)
    else:
        lines += fuzz_section(args.fuzz)
    with open(args.doc, "w") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")
    print(f"{target}: the figures, with the run's date, machine and commit, in {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
