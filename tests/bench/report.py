#!/usr/bin/python3
"""make bench's report: reads the serial logs bench.sh left in OUT/runs/NAME/serial.txt and
prints one table of thinvisor's figures next to the native ones, with the aims of issues 6
and 13;
writes OUT/results.csv, OUT/results.json, OUT/table.md (for the README) and the charts
OUT/exits.png and OUT/slowdown.png (gnuplot).

Every figure is in emulated TSC ticks. Bochs with clock: sync=none advances the TSC by one
tick per instruction (the guest's calibration loop, loop_insns, checks it in every run), so a
tick difference is an instruction count.

usage: report.py --out DIR [--bochs VERSION]
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys

# Why each VM exit reason happens, and whether a thin hypervisor could do without it.
# "required": VMX makes the instruction or event exit unconditionally (SDM Vol. 3C, 26.1.2,
# "Instructions That Cause VM Exits Unconditionally", and 26.2 for INIT, SIPI, triple fault),
# or the VMX fixed bits force it. "rule": a control thinvisor sets because a rule of
# DESIGN.md ("Rules that keep the guest whole") cannot be kept without it; the reason names
# the rule. "test": only test_exit asks for it. "avoidable": a control thinvisor chose that
# no rule needs. A reason can be two of these, depending on what caused it: the row names the
# cause seen on the path measured (the default path, or emulate_sipi where it says so).
EXIT_CLASS = {
    "CPUID": ("required", "CPUID exits unconditionally (SDM 26.1.2)"),
    "GETSEC": ("required", "exits unconditionally (SDM 26.1.2)"),
    "INVD": ("required", "exits unconditionally (SDM 26.1.2)"),
    "XSETBV": ("required", "exits unconditionally (SDM 26.1.2)"),
    "VMCALL": ("required", "VMX instructions exit unconditionally (SDM 26.1.2); the hypercall ABI"),
    "VMXON": ("required", "VMX instructions exit unconditionally (SDM 26.1.2)"),
    "INIT": ("required", "INIT always exits in VMX non-root operation (SDM 26.2)"),
    "SIPI": ("required", "a SIPI to a CPU in wait-for-SIPI exits (SDM 26.2)"),
    "triple fault": ("required", "always exits (SDM 26.2)"),
    "CR access": ("required", "CR0/CR4 bits fixed by VMX (CR4.VMXE, CR0.NE) are guest/host-masked "
                  "so the guest sees its own values (SDM 25.6.6, A.7, A.8)"),
    "WRMSR": ("rule", "MTRR writes: with EPT the guest's accesses take their type from the EPT, "
              "not the MTRRs (SDM 29.3.7.2), so each write re-types the EPT (\"MTRR writes\"); "
              "with emulate_sipi also the x2APIC ICR. SVM: EFER writes, whose SVME bit VMRUN "
              "needs and the guest must not see (SVM hidden)"),
    "RDMSR": ("rule", "the VMX capability MSRs #GP, as without VMX (\"VMX instructions (#UD)\": "
              "VMX is hidden)"),
    "exception or NMI": ("rule", "NMI exiting: the kicks of an EPT shootdown after an MTRR write "
                         "(and, with emulate_sipi, of an emulated INIT); the guest's NMIs are re-injected"),
    "NMI window": ("rule", "follows NMI exiting: an NMI the guest could not take yet"),
    "I/O instruction": ("test", "test_exit only: the emulator's exit port, to print these counts"),
    "EPT violation": ("avoidable", "with emulate_sipi every xAPIC write (EOIs too) traps on the "
                      "read-only APIC page; otherwise first touches of MMIO above 4 GiB and of the "
                      "hidden region"),
    "external interrupt": ("avoidable", "external-interrupt exiting"),
    "interrupt window": ("avoidable", "interrupt-window exiting"),
    "HLT": ("avoidable", "HLT exiting"),
    "VMX-preemption timer": ("avoidable", "the VMX-preemption timer"),
}
UNKNOWN_CLASS = ("avoidable", "no reason recorded in report.py's EXIT_CLASS: a control thinvisor set")

# The aims of issues 6 and 13.
AIM_LINUX_SLOWDOWN = 1.01          # Linux boot to init and the workload, with / without thinvisor
AIM_CPUID_INSNS = 100              # hypervisor instructions per CPUID exit (issue 13; 120 in 6)
AIM_AVOIDABLE_EXITS = 0            # during the Linux boot, on the default path
AIM_HIDDEN_4CPU_KIB = 1024         # memory hidden from the guest with 4 CPUs

# The two Linux runs under thinvisor on 2 CPUs: the default path (INIT and SIPI VM exits) and
# emulate_sipi (the path for CPUs without wait-for-SIPI), each against linux-native.
LINUX_PATHS = (("linux-hv", "default path"), ("linux-hv-esipi", "emulate_sipi"))
# The workload's own figure comes from 1-CPU runs: with 2 CPUs Bochs advances the clock by the
# mean of both CPUs' instruction counts per round, a halted CPU counting as a full quantum
# (main.cc, the SMP loop), so the TSC is not CPU 0's instruction count and moves with what
# the other CPU does; with 1 CPU it is.
WORKLOAD_1CPU = ("linux-hv-1cpu", "linux-native-1cpu", "1 CPU, default path")
# The SVM backend's runs: Bochs as an AMD Ryzen (AMD-V with nested paging), each against a
# native run on the same model. 1 CPU, so the TSC is an instruction count there too.
SVM_GUEST = ("guest-svm-1cpu", "guest-native-ryzen")
SVM_LINUX = ("linux-svm-1cpu", "linux-native-1cpu-ryzen", "1 CPU, SVM")
SVM_MBR = "guest-native-1cpu-512m-ryzen"
# The exit table's columns: both VMX paths on 2 CPUs, then SVM on 1.
EXIT_PATHS = LINUX_PATHS + (("linux-svm-1cpu", "SVM (1 CPU)"),)
WORKLOAD_PARTS = (("cpu", "CPU workload (2M xorshift steps)"),
                  ("mem", "memory workload (16 MiB: page faults, memset)"),
                  ("syscall", "syscall workload (20000 getppid)"))

# Region purposes by the categories ("region use:" lines, mm/hv_memory.c).
PURPOSE_GROUP = {
    "image": "image", "page tables": "page tables",
    "VMXON region": "VMXON/VMCS", "VMCS": "VMXON/VMCS", "VMX per-CPU state": "VMXON/VMCS",
    "per-CPU stack": "stacks", "per-CPU block": "per-CPU block",
    "EPT": "EPT", "MSR bitmap": "bitmaps", "I/O bitmaps": "bitmaps", "dummy page": "dummy page",
    "free": "unused budget",
}
GROUP_ORDER = ["image", "log ring", "page tables", "VMXON/VMCS", "stacks", "per-CPU block",
               "EPT", "bitmaps", "dummy page", "unused budget"]


def parse_run(path):
    """The facts one serial log holds, as a dict (empty when the run left no log)."""
    r = {"bench": {}, "exits": {}, "region": {}, "ept": [], "timing": {}}
    if not os.path.exists(path):
        return r
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^(?:linux-guest: )?bench: (\w+)=(\S+)(?: (\w+)=(\S+))?$", line)
            if m:
                for k, v in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
                    if k:
                        r["bench"][k] = int(v, 0) if re.match(r"^(0x[0-9a-f]+|\d+)$", v) else v
                continue
            m = re.match(r"^timing: (.*) at TSC (\d+)$", line)
            if m:
                r["timing"][m.group(1)] = int(m.group(2))
                continue
            m = re.match(r"^region use: (.+?)\s+(\d+) KiB(?: \(log ring (\d+) KiB\))?$", line)
            if m:
                r["region"][m.group(1)] = int(m.group(2))
                if m.group(3):
                    r["region"]["log ring"] = int(m.group(3))
                continue
            m = re.match(r"^EPT:\s+(\d+) x (\w+) (\w+)$", line)
            if m:
                r["ept"].append((m.group(2), m.group(3), int(m.group(1))))
                continue
            m = re.match(r"^exits: CPU (\d+): (.+?)\s+(\d+)$", line)
            # "in all", "NMI kicks" and "hidden-memory accesses" are tallies, not reasons.
            if m and not m.group(2).strip().endswith(("in all", "kicks", "accesses")):
                reason = m.group(2).strip()
                r["exits"][reason] = r["exits"].get(reason, 0) + int(m.group(3))
    return r


def per_op(run, name):
    """Ticks per operation of the guest's NAME_ticks / NAME_count pair, or None."""
    b = run["bench"]
    if f"{name}_ticks" in b and b.get(f"{name}_count"):
        return b[f"{name}_ticks"] / b[f"{name}_count"]
    return None


def fmt(v, digits=1):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


def ratio_text(ratio, digits=3, suffix="x"):
    """A with / without ratio for the table; empty when there is none."""
    return "" if ratio is None else f"{ratio:.{digits}f}{suffix}"


def aim_verdict(measured, target, lower_is_better=True, unit=""):
    """'meets' or 'misses by X' (X as a difference and, where it means something, a ratio)."""
    if measured is None:
        return "not measured"
    if (measured <= target) if lower_is_better else (measured >= target):
        return "meets"
    diff = measured - target
    if isinstance(target, float) and target > 0:
        return f"misses by {diff:.3f}{unit}"
    return f"misses by {fmt(diff, 1)}{unit}" + (f" ({measured / target:.2f}x the aim)" if target else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--bochs", default="3.0", help="the Bochs version the runs used")
    args = ap.parse_args()
    out = args.out
    runs = {}
    for name in sorted(os.listdir(os.path.join(out, "runs"))) if os.path.isdir(os.path.join(out, "runs")) else []:
        runs[name] = parse_run(os.path.join(out, "runs", name, "serial.txt"))

    def run(name):
        return runs.get(name) or parse_run("/nonexistent")

    rows = []      # (section, figure, thinvisor, native, ratio or note, unit)
    aims = []      # (aim, target, measured, verdict)

    def row(section, figure, hv, native, note="", unit="ticks"):
        ratio = hv / native if isinstance(hv, (int, float)) and isinstance(native, (int, float)) and native else None
        rows.append({"section": section, "figure": figure, "thinvisor": hv, "native": native,
                     "ratio": ratio, "unit": unit, "note": note})

    # 1. CPUID, VMCALL, hypervisor instructions per CPUID exit.
    g_hv, g_nat = run("guest-hv-1cpu"), run("guest-native")
    tpi_hv, tpi_nat = per_op(g_hv, "loop_insns"), per_op(g_nat, "loop_insns")
    row("1 round trips", "ticks per instruction (calibration loop)", tpi_hv, tpi_nat,
        "1.0 = the TSC counts instructions", "ticks")
    cpuid_hv, cpuid_nat = per_op(g_hv, "cpuid"), per_op(g_nat, "cpuid")
    row("1 round trips", "CPUID leaf 0 round trip", cpuid_hv, cpuid_nat, "guest rdtsc around 2000 CPUIDs")
    vm_hv, vm_nat = per_op(g_hv, "vmcall"), per_op(g_nat, "vmcall")
    row("1 round trips", "VMCALL round trip (natively: #UD round trip)", vm_hv, vm_nat,
        "natively VMCALL is #UD: the figure is the guest's #UD handler and return")
    insns = None
    if cpuid_hv is not None and cpuid_nat is not None and tpi_hv:
        insns = (cpuid_hv - cpuid_nat) / tpi_hv
    row("1 round trips", "hypervisor instructions per CPUID exit", insns, None,
        "(CPUID round trip with - without) / ticks per instruction: exit stub to VMRESUME", "insns")
    s_hv, s_nat = run(SVM_GUEST[0]), run(SVM_GUEST[1])
    tpi_svm = per_op(s_hv, "loop_insns")
    cpuid_svm, cpuid_svm_nat = per_op(s_hv, "cpuid"), per_op(s_nat, "cpuid")
    row("1 round trips", "CPUID leaf 0 round trip (SVM, Ryzen)", cpuid_svm, cpuid_svm_nat,
        "the same guest loop; without: the same CPU model natively")
    row("1 round trips", "VMMCALL round trip (SVM; natively: #UD round trip)",
        per_op(s_hv, "vmcall"), per_op(s_nat, "vmcall"), "the guest's VMCALL is VMMCALL on AMD")
    insns_svm = None
    if cpuid_svm is not None and cpuid_svm_nat is not None and tpi_svm:
        insns_svm = (cpuid_svm - cpuid_svm_nat) / tpi_svm
    row("1 round trips", "hypervisor instructions per CPUID exit (SVM)", insns_svm, None,
        "VMRUN's exit to the next VMRUN, VMSAVE/VMLOAD included; Bochs reports NRIP, so no "
        "instruction decode", "insns")

    # 2. Linux: the workload on 1 CPU, then boot to init and the workload on both paths on 2.
    def workload_rows(hv_name, nat_name, label):
        """The three parts, the exits while they ran and the whole; the whole's ratio."""
        b, bn = run(hv_name)["bench"], run(nat_name)["bench"]
        for part, what in WORKLOAD_PARTS:
            row("2 Linux", f"{what} ({label})", b.get(f"{part}_ticks"), bn.get(f"{part}_ticks"))
        if "exits_tvbench" in b:
            row("2 Linux", f"VM exits while tvbench ran, all CPUs ({label})",
                b["exits_tvbench"] - b.get("exits_thinctl", 0), None,
                "thinctl's exit totals before and after, less what one reading costs", "exits")
        parts = [b.get(f"{p}_ticks") for p, _ in WORKLOAD_PARTS]
        parts_n = [bn.get(f"{p}_ticks") for p, _ in WORKLOAD_PARTS]
        if None in parts or None in parts_n:
            return None
        row("2 Linux", f"whole workload ({label})", sum(parts), sum(parts_n),
            "1 CPU: the TSC is an instruction count" if "1 CPU" in label else
            "2 CPUs: the TSC follows both CPUs, see above")
        return rows[-1]["ratio"]

    def boot_rows(hv_name, nat_name, mbr_name, label):
        """Power-on to init and boot sector to init; the latter's ratio."""
        b, bn = run(hv_name)["bench"], run(nat_name)["bench"]
        init_hv, init_nat = b.get("init_tsc"), bn.get("init_tsc")
        mbr_nat = run(mbr_name)["bench"].get("first_insn_tsc")
        row("2 Linux", f"power-on to init ({label})", init_hv, init_nat,
            "thinvisor's includes the ISO's GRUB and thinvisor's own boot")
        launch = run(hv_name)["timing"].get("guest launch")
        boot_hv = init_hv - launch if init_hv is not None and launch is not None else None
        boot_nat = init_nat - mbr_nat if init_nat is not None and mbr_nat is not None else None
        row("2 Linux", f"boot sector to init ({label})", boot_hv, boot_nat,
            "with: from thinvisor's VMLAUNCH; without: from the BIOS's jump to the MBR (the bench "
            "guest's first TSC, same machine)")
        return boot_hv / boot_nat if boot_hv and boot_nat else None

    boot_1cpu = boot_rows(WORKLOAD_1CPU[0], WORKLOAD_1CPU[1], "guest-native-1cpu-512m",
                          WORKLOAD_1CPU[2])
    work_1cpu = workload_rows(*WORKLOAD_1CPU)
    for name, path in LINUX_PATHS:
        label = f"2 CPUs, {path}"
        boot_rows(name, "linux-native", "guest-native-2cpu-512m", label)
        workload_rows(name, "linux-native", label)
    boot_svm = boot_rows(SVM_LINUX[0], SVM_LINUX[1], SVM_MBR, SVM_LINUX[2])
    work_svm = workload_rows(*SVM_LINUX)

    # 3. Exits during the Linux runs, by reason, both paths side by side.
    counts = {path: run(name)["exits"] for name, path in EXIT_PATHS}
    reasons = sorted({r for c in counts.values() for r in c},
                     key=lambda r: -max(c.get(r, 0) for c in counts.values()))
    exits = []
    for reason in reasons:
        cls, why = EXIT_CLASS.get(reason, UNKNOWN_CLASS)
        exits.append({"reason": reason, "class": cls, "why": why,
                      "count": {path: counts[path].get(reason, 0) for path in counts}})
    avoidable = {path: (sum(e["count"][path] for e in exits if e["class"] == "avoidable")
                        if counts[path] else None) for path in counts}

    # 4. Hidden memory by purpose, 1/2/4 CPUs.
    hidden = {}
    for n in (1, 2, 4):
        reg = run(f"guest-hv-{n}cpu")["region"]
        if not reg:
            continue
        groups = {}
        for purpose, kib in reg.items():
            if purpose in ("total",):
                continue
            if purpose == "log ring":
                groups["log ring"] = kib
                continue
            g = PURPOSE_GROUP.get(purpose, purpose)
            groups[g] = groups.get(g, 0) + kib
        if "log ring" in groups and "image" in groups:
            groups["image"] -= groups["log ring"]      # shown apart, as the issue asks
        hidden[n] = {"total": reg.get("total"), "by_purpose": groups}

    # 5. Launch latency, 1/2/4 CPUs.
    launch_lat = {}
    for n in (1, 2, 4):
        r = run(f"guest-hv-{n}cpu")
        entry = r["timing"].get("multiboot2 entry")
        first = r["bench"].get("first_insn_tsc")
        vml = r["timing"].get("guest launch")
        if entry is not None and first is not None:
            launch_lat[n] = {"total": first - entry, "to_vmlaunch": (vml - entry) if vml else None}

    # 6. EPT page counts.
    ept = {}
    for name, label in (("guest-hv-1cpu", "256 MiB"), ("guest-hv-2g", "2 GiB"), ("guest-hv-5g", "5 GiB")):
        if run(name)["ept"]:
            ept[label] = run(name)["ept"]

    # Aims, on the default path; emulate_sipi's figures are in the table beside them.
    # Boot to init is not a pure instruction count: it holds the kernel's idle waits, which
    # Bochs fast-forwards differently with and without thinvisor. The pinned, CPU-bound
    # workload is the closer measure.
    main_path = LINUX_PATHS[0][1]
    def speed_aims(where, boot, work, cpuid_insns, backend):
        """The three speed aims, for the 1-CPU runs of one backend."""
        aims.append((f"Linux boot slowdown{backend} (boot sector to init; {where})",
                     f"<= {AIM_LINUX_SLOWDOWN:.2f}x", None if boot is None else f"{boot:.3f}x",
                     aim_verdict(boot, AIM_LINUX_SLOWDOWN, unit="x")))
        aims.append((f"Linux workload slowdown{backend} (CPU, memory, syscalls; {where})",
                     f"<= {AIM_LINUX_SLOWDOWN:.2f}x", None if work is None else f"{work:.3f}x",
                     aim_verdict(work, AIM_LINUX_SLOWDOWN, unit="x")))
        aims.append((f"hypervisor instructions per CPUID exit{backend}", f"<= {AIM_CPUID_INSNS}",
                     None if cpuid_insns is None else f"{cpuid_insns:.0f}",
                     aim_verdict(cpuid_insns, AIM_CPUID_INSNS)))

    speed_aims("1 CPU, default path", boot_1cpu, work_1cpu, insns, "")
    speed_aims("1 CPU", boot_svm, work_svm, insns_svm, " under SVM")
    av = avoidable.get(main_path)
    aims.append(("avoidable exits during the Linux run (default path)", f"{AIM_AVOIDABLE_EXITS}",
                 None if av is None else f"{av:,}", aim_verdict(av, AIM_AVOIDABLE_EXITS)))
    h4 = hidden.get(4, {}).get("total")
    aims.append(("memory hidden with 4 CPUs", f"<= {AIM_HIDDEN_4CPU_KIB} KiB",
                 None if h4 is None else f"{h4} KiB", aim_verdict(h4, AIM_HIDDEN_4CPU_KIB, unit=" KiB")))

    # ---- the table --------------------------------------------------------------------
    # The date of the newest run's log: the report may be made again later from the same logs.
    logs = [os.path.join(out, "runs", n, "serial.txt") for n in runs]
    stamp = max((os.path.getmtime(p) for p in logs if os.path.exists(p)), default=None)
    when = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc) if stamp else \
        datetime.datetime.now(datetime.timezone.utc)
    date = when.strftime("%Y-%m-%d %H:%M UTC")
    md = []
    md.append(f"Measured {date} with `make bench` (Bochs {args.bochs}, clock: sync=none, "
              f"corei7_haswell_4770, the SVM rows ryzen; figures in emulated TSC ticks, which "
              f"count instructions on 1 CPU but not on 2).")
    md.append("")
    md.append("| # | figure | thinvisor | without | with / without | how |")
    md.append("| --- | --- | ---: | ---: | ---: | --- |")
    for r in rows:
        md.append(f"| {r['section'].split()[0]} | {r['figure']} | {fmt(r['thinvisor'])} | {fmt(r['native'])} | "
                  f"{ratio_text(r['ratio'])} | {r['note']} |")
    md.append("")
    paths = [path for _, path in EXIT_PATHS]
    md.append("| 3 | exits during the Linux run (power-on to shutdown) | " +
              " | ".join(paths) + " | class | why |")
    md.append("| --- | --- | " + " | ".join("---:" for _ in paths) + " | --- | --- |")
    for e in exits:
        md.append(f"| 3 | {e['reason']} | " + " | ".join(f"{e['count'][p]:,}" for p in paths) +
                  f" | {e['class']} | {e['why']} |")
    md.append("| 3 | **avoidable, in all** | " +
              " | ".join(f"**{fmt(avoidable[p])}**" for p in paths) + " | | |")
    if not exits:
        md.append("| 3 | (no exit counts: the Linux runs under thinvisor failed) | | | | |")
    md.append("")
    md.append("| 4 | memory hidden from the guest, KiB | " + " | ".join(f"{n} CPU{'s' if n > 1 else ''}" for n in sorted(hidden)) + " |")
    md.append("| --- | --- | " + " | ".join("---:" for _ in hidden) + " |")
    for g in GROUP_ORDER:
        if any(g in hidden[n]["by_purpose"] for n in hidden):
            md.append(f"| 4 | {g} | " + " | ".join(str(hidden[n]["by_purpose"].get(g, 0)) for n in sorted(hidden)) + " |")
    md.append("| 4 | **total (the region)** | " + " | ".join(f"**{hidden[n]['total']}**" for n in sorted(hidden)) + " |")
    md.append("")
    md.append("| 5 | launch latency, ticks | " + " | ".join(f"{n} CPU{'s' if n > 1 else ''}" for n in sorted(launch_lat)) + " |")
    md.append("| --- | --- | " + " | ".join("---:" for _ in launch_lat) + " |")
    md.append("| 5 | multiboot2 entry to VMLAUNCH (thinvisor's log) | " +
              " | ".join(fmt(launch_lat[n]["to_vmlaunch"]) for n in sorted(launch_lat)) + " |")
    md.append("| 5 | multiboot2 entry to the guest's first instruction | " +
              " | ".join(fmt(launch_lat[n]["total"]) for n in sorted(launch_lat)) + " |")
    md.append("")
    md.append("| 6 | EPT pages (size, memory type) | count |")
    md.append("| --- | --- | ---: |")
    for label, items in ept.items():
        for size, mtype, count in items:
            md.append(f"| 6 | {label}: {size} {mtype} | {count:,} |")
    md.append("")
    md.append("| aim (issues 6, 13) | target | measured | verdict |")
    md.append("| --- | --- | --- | --- |")
    for a in aims:
        md.append(f"| {a[0]} | {a[1]} | {a[2] or 'n/a'} | {a[3]} |")
    table = "\n".join(md) + "\n"
    print()
    print(table)

    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table)
    results = {"date": date, "rows": rows, "exits": exits, "hidden_kib": hidden,
               "launch_ticks": launch_lat,
               "ept_pages": {k: [{"size": s, "type": t, "count": c} for s, t, c in v] for k, v in ept.items()},
               "aims": [{"aim": a[0], "target": a[1], "measured": a[2], "verdict": a[3]} for a in aims]}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(out, "results.csv"), "w") as f:
        f.write("section,figure,thinvisor,native,ratio,unit\n")
        for r in rows:
            f.write(f"{r['section']},\"{r['figure']}\",{'' if r['thinvisor'] is None else r['thinvisor']},"
                    f"{'' if r['native'] is None else r['native']},{ratio_text(r['ratio'], 4, '')},{r['unit']}\n")
        for e in exits:
            for p, c in e["count"].items():
                f.write(f"3 exits,\"{e['reason']} ({e['class']}; {p})\",{c},,,exits\n")
        for n, h in hidden.items():
            for g, kib in h["by_purpose"].items():
                f.write(f"4 hidden,\"{n} CPUs: {g}\",{kib},,,KiB\n")
            f.write(f"4 hidden,\"{n} CPUs: total\",{h['total']},,,KiB\n")
        for n, l in launch_lat.items():
            f.write(f"5 launch,\"{n} CPUs: entry to first guest instruction\",{l['total']},,,ticks\n")
        for label, items in ept.items():
            for s, t, c in items:
                f.write(f"6 EPT,\"{label}: {s} {t}\",{c},,,pages\n")
        for a in aims:
            f.write(f"aim,\"{a[0]} (target {a[1]})\",{a[2] or ''},,,\"{a[3]}\"\n")
    charts(out, exits, rows)
    print(f"bench: results in {out}/results.csv, results.json, table.md; charts exits.png, slowdown.png")


def charts(out, exits, rows):
    """exits.png (exits by reason, log scale) and slowdown.png (with / without ratios)."""
    paths = [path for _, path in LINUX_PATHS]
    with open(os.path.join(out, "exits.dat"), "w") as f:
        for e in exits:
            tag = {"rule": "u"}.get(e["class"], e["class"][0])
            f.write(f"\"{e['reason']} ({tag})\" " +
                    " ".join(str(max(e["count"][p], 0.5)) for p in paths) + "\n")
    with open(os.path.join(out, "slowdown.dat"), "w") as f:
        for r in rows:
            if r["ratio"] is not None and r["unit"] == "ticks" and not r["figure"].startswith("ticks per"):
                label = r["figure"].split(" (")[0]
                tag = r["figure"].rsplit(" (", 1)[-1].rstrip(")") if r["figure"].endswith(")") else ""
                if " CPU" in tag:                   # "1 CPU, default path" and the like
                    label += f" ({tag})"
                f.write(f"\"{label}\" {r['ratio']:.4f}\n")
    script = f"""set terminal pngcairo size 1300,650 font ",10" noenhanced
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -30 left
set rmargin 24
set grid ytics
set output "{out}/exits.png"
set title "thinvisor: VM exits during the Linux run by reason (r = required, u = rule, t = test, a = avoidable)"
set logscale y
set ylabel "exits (log scale)"
set yrange [0.5:*]
set key top right
plot "{out}/exits.dat" using 2:xtic(1) title "{paths[0]}" linecolor rgb "#4477aa", \
     "" using 3 title "{paths[1]}" linecolor rgb "#ddaa33"
set key off
set output "{out}/slowdown.png"
set title "thinvisor: with / without (1.0 = no slowdown)"
set ylabel "ratio (log scale)"
set yrange [0.5:*]
plot "{out}/slowdown.dat" using 2:xtic(1) linecolor rgb "#cc6677", \
     "" using 0:2:(sprintf("%.3fx", $2)) with labels offset 0,0.7
"""
    with open(os.path.join(out, "charts.gp"), "w") as f:
        f.write(script)
    if not exits:
        open(os.path.join(out, "exits.dat"), "a").write("\"none\" 1 1\n")
    try:
        subprocess.run(["gnuplot", os.path.join(out, "charts.gp")], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"bench: gnuplot failed ({e}); the table and data files are still there", file=sys.stderr)


if __name__ == "__main__":
    main()
