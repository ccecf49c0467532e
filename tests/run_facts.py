"""What a recorded result states beside its figures, so that a later run can be compared
with it: the machine, the Bochs build and thinvisor's commit. Shared by make bench's report
(tests/bench/report.py) and make stress's and make fuzz's (tests/reliability/report.py).
Every fact is best-effort: a missing one reads "unknown", never an error."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def command_output(argv):
    """A command's first stdout line, or None."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = p.stdout.strip().splitlines()
    return lines[0] if p.returncode == 0 and lines else None


def machine():
    """The host CPU's model name and how many logical CPUs it has: figures move with the
    machine's build of Bochs (docs/benchmarks.md saw 4 instructions per CPUID exit come from
    the machine)."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count() or '?'} logical CPUs"


def bochs_build(version="3.0"):
    """Which Bochs ran: 3.0's build-info.txt (beside the binary bochs-build.sh names:
    version, build date, patches), or the version of Debian's package for 2.7."""
    if version == "2.7":
        v = command_output(["dpkg-query", "-W", "-f=${Version}", "bochs"])
        return f"2.7: Debian's package bochs {v}" if v else "2.7: Debian's package (version unknown)"
    binary = command_output([os.path.join(ROOT, "tests/boot/bochs-build.sh"), "--path"])
    try:
        with open(os.path.join(os.path.dirname(binary), "build-info.txt")) as f:
            info = [line.strip() for line in f]
    except (OSError, TypeError):
        return f"{version}: build-info.txt not found"
    patches = [line for line in info if line.startswith("patches:")]
    return f"{version}: {info[0] if info else 'unknown build'}" + (f"; {patches[0]}" if patches else "")


def commit():
    """thinvisor's commit, `git describe --always --dirty`, or "unknown" outside a clone."""
    if command_output(["git", "-C", ROOT, "rev-parse", "--is-inside-work-tree"]) != "true":
        return "unknown"
    return command_output(["git", "-C", ROOT, "describe", "--always", "--dirty"]) or "unknown"
