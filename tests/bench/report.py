#!/usr/bin/python3
"""make bench's report: reads the serial logs bench.sh left in OUT/runs/NAME/serial.txt and
prints one table of thinvisor's figures next to the native ones, with the aims of issues 6,
13 and 27;
writes OUT/results.csv, OUT/results.json, OUT/table.md and three charts (gnuplot):
OUT/roundtrips.png (the per-exit round trips), OUT/workloads.png (the Linux boot and
workload figures as with / without ratios) and OUT/exits.png (VM exits by reason, per run);
with --doc, also FILE (make bench: docs/bench-results.md): the table with the date, machine,
Bochs and commit of the run, and the charts, copied into bench/ beside FILE.

Every figure is in emulated TSC ticks. Bochs with clock: sync=none advances the TSC by one
tick per instruction (the guest's calibration loop, loop_insns, checks it in every run), so a
tick difference is an instruction count.

usage: report.py --out DIR [--bochs VERSION] [--doc FILE]
"""
import argparse
import datetime
import itertools
import json
import os
import re
import shutil
import subprocess
import sys

# The checkout, and tests/run_facts.py in it (the machine, Bochs build and commit).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import run_facts as run_facts_lib  # noqa: E402

# The charts, by figure: file, what it shows (for the doc's links).
CHARTS = (("roundtrips.png", "round trips: the per-exit costs, with and without thinvisor"),
          ("workloads.png", "Linux boot and workload: with / without ratios, 1.0 = native"),
          ("exits.png", "VM exits during the Linux runs by reason, per run (log scale)"))
# Bar colours (colour-blind safe: Paul Tol's "bright" set), one per series of a chart.
COLOURS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377")

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
                         "(and, with emulate_sipi or SVM's guest APs, of an emulated INIT); the "
                         "guest's NMIs are re-injected. SVM: also the guest's #GPs, intercepted "
                         "so that an SVM instruction raises #UD"),
    "NMI window": ("rule", "follows NMI exiting: an NMI the guest could not take yet"),
    "I/O instruction": ("test", "test_exit only: the emulator's exit port, to print these counts"),
    "EPT violation": ("avoidable", "with emulate_sipi, and under SVM with guest APs (nested page "
                      "faults), every xAPIC write (EOIs too) traps on the read-only APIC page; "
                      "otherwise first touches of MMIO above 4 GiB and of the hidden region"),
    "external interrupt": ("avoidable", "external-interrupt exiting"),
    "interrupt window": ("avoidable", "interrupt-window exiting"),
    "HLT": ("avoidable", "HLT exiting"),
    "VMX-preemption timer": ("avoidable", "the VMX-preemption timer"),
}
UNKNOWN_CLASS = ("avoidable", "no reason recorded in report.py's EXIT_CLASS: a control thinvisor set")

# The aims of issues 6, 13 and 27.
AIM_LINUX_SLOWDOWN = 1.01          # Linux boot to init and the workload, with / without thinvisor
AIM_CPUID_INSNS = 80               # hypervisor instructions per CPUID exit (issue 27; 100 in 13)
AIM_CPUID_INSNS_SVM = 100          # the same under SVM (issue 27)
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
# The cost of the emulated xAPIC stores, as an instruction count: emulate_sipi on 1 CPU
# write-protects the APIC page all the same, so every EOI and timer write is an EPT
# violation that thinvisor decodes and performs (the SVM backend's guest SMP does the same).
WORKLOAD_1CPU_ESIPI = ("linux-hv-esipi-1cpu", "linux-native-1cpu", "1 CPU, emulate_sipi")
# The SVM backend's runs: Bochs as an AMD Ryzen (AMD-V with nested paging), each against a
# native run on the same model. 1 CPU, so the TSC is an instruction count there too.
SVM_GUEST = ("guest-svm-1cpu", "guest-native-ryzen")
SVM_LINUX = ("linux-svm-1cpu", "linux-native-1cpu-ryzen", "1 CPU, SVM")
SVM_MBR = "guest-native-1cpu-512m-ryzen"
# The guest's SMP under SVM, on 2 and 4 CPUs, each against the same model natively. The TSC
# follows all CPUs as on the VT-x 2-CPU rows (see above); both sides share that skew.
SVM_SMP = (("linux-svm-2cpu", "linux-native-2cpu-ryzen", "2 CPUs, SVM"),
           ("linux-svm-4cpu", "linux-native-4cpu-ryzen", "4 CPUs, SVM"))
# The same pairs with Bochs's clock at 50 MHz (ips=50M) instead of its default 4 MHz. Guest
# SMP under SVM exits with the guest's timer (each CPU's tick, its EOI and timer write, the
# IPIs between CPUs): a fixed number per emulated second, so at 4 MHz they are a quarter of
# every second's instructions, and the slowdown is mostly the clock's. At 50 MHz, still some
# 60 times slower than a real CPU, the share is closer to what a user pays: the aim is
# judged there (docs/benchmarks.md).
SVM_SMP_50MHZ = (("linux-svm-2cpu-50mhz", "linux-native-2cpu-ryzen-50mhz",
                  "2 CPUs, SVM, 50 MHz clock"),
                 ("linux-svm-4cpu-50mhz", "linux-native-4cpu-ryzen-50mhz",
                  "4 CPUs, SVM, 50 MHz clock"))
AIM_SVM_SMP_SLOWDOWN = 1.05        # the workload under SVM on 2 CPUs (issue 27)
# DMA protection (issue 26): QEMU's q35 under its SVM with -icount (the TSC follows executed
# instructions), thinvisor with the IOMMU (intel-iommu) beside the same machine without one.
IOMMU_GUEST = ("guest-svm-q35-iommu", "guest-svm-q35")
IOMMU_LINUX = ("linux-svm-q35-iommu", "linux-svm-q35")
# The exit table's columns: both VMX paths on 2 CPUs, then SVM on 1 and on 2.
EXIT_PATHS = LINUX_PATHS + (("linux-svm-1cpu", "SVM (1 CPU)"), ("linux-svm-2cpu", "SVM (2 CPUs)"))
WORKLOAD_PARTS = (("cpu", "CPU workload (2M xorshift steps)"),
                  ("mem", "memory workload (16 MiB: page faults, memset)"),
                  ("syscall", "syscall workload (20000 getppid)"))

# Region purposes by the categories ("region use:" lines, mm/hv_memory.c).
PURPOSE_GROUP = {
    "image": "image", "page tables": "page tables",
    "VMXON region": "VMXON/VMCS", "VMCS": "VMXON/VMCS", "VMX per-CPU state": "VMXON/VMCS",
    "per-CPU stack": "stacks", "per-CPU block": "per-CPU block",
    "EPT": "EPT", "MSR bitmap": "bitmaps", "I/O bitmaps": "bitmaps", "dummy page": "dummy page",
    "status area": "status area", "leaving: page tables for the stubs": "thinctl off: the stubs' tables",
    "free": "unused budget",
}
# A purpose not named here still gets its row, after these: the rows always sum to the total.
GROUP_ORDER = ["image", "log ring", "page tables", "VMXON/VMCS", "stacks", "per-CPU block",
               "EPT", "bitmaps", "dummy page", "status area", "thinctl off: the stubs' tables",
               "unused budget"]


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
            # "in all", "NMI kicks", "hidden-memory accesses" and "stores decoded from the
            # exit's bytes" are tallies, not reasons.
            if m and not m.group(2).strip().endswith(("in all", "kicks", "accesses", "bytes")):
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


def hypervisor_insns(with_hv, without, ticks_per_insn):
    """The instructions thinvisor adds to one round trip: the difference of the two in
    ticks, over the ticks one instruction costs; None when a figure is missing."""
    if with_hv is None or without is None or not ticks_per_insn:
        return None
    return (with_hv - without) / ticks_per_insn


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--bochs", default="3.0", help="the Bochs version the runs used")
    ap.add_argument("--doc", help="also write the table, with the run's facts, as this file")
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
    insns = hypervisor_insns(cpuid_hv, cpuid_nat, tpi_hv)
    row("1 round trips", "hypervisor instructions per CPUID exit", insns, None,
        "(CPUID round trip with - without) / ticks per instruction: exit stub to VMRESUME", "insns")
    g_esipi = run("guest-hv-esipi-1cpu")
    store_hv, store_nat = per_op(g_esipi, "apic_store"), per_op(g_nat, "apic_store")
    row("1 round trips", "xAPIC store round trip (emulate_sipi; natively: a store)", store_hv,
        store_nat, "guest rdtsc around 2000 stores of the TPR's own value; the APIC page is "
        "write-protected on that path (and on SVM's with more than one CPU)")
    row("1 round trips", "hypervisor instructions per emulated xAPIC store",
        hypervisor_insns(store_hv, store_nat, tpi_hv), None,
        "EPT violation to VMRESUME: the instruction fetched through the guest's page tables, "
        "decoded (Zydis) and performed", "insns")
    s_hv, s_nat = run(SVM_GUEST[0]), run(SVM_GUEST[1])
    tpi_svm = per_op(s_hv, "loop_insns")
    cpuid_svm, cpuid_svm_nat = per_op(s_hv, "cpuid"), per_op(s_nat, "cpuid")
    row("1 round trips", "CPUID leaf 0 round trip (SVM, Ryzen)", cpuid_svm, cpuid_svm_nat,
        "the same guest loop; without: the same CPU model natively")
    row("1 round trips", "VMMCALL round trip (SVM; natively: #UD round trip)",
        per_op(s_hv, "vmcall"), per_op(s_nat, "vmcall"), "the guest's VMCALL is VMMCALL on AMD")
    insns_svm = hypervisor_insns(cpuid_svm, cpuid_svm_nat, tpi_svm)
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
            "the TSC follows every CPU, see above")
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
    work_esipi = workload_rows(*WORKLOAD_1CPU_ESIPI)
    b_esipi, b_nat = run(WORKLOAD_1CPU_ESIPI[0])["bench"], run(WORKLOAD_1CPU_ESIPI[1])["bench"]
    ticks = [b.get(f"{p}_ticks") for b in (b_esipi, b_nat) for p, _ in WORKLOAD_PARTS]
    exits_esipi = b_esipi.get("exits_tvbench", 0) - b_esipi.get("exits_thinctl", 0)
    per_exit = None
    if work_esipi is not None and None not in ticks and exits_esipi > 0:
        half = len(WORKLOAD_PARTS)
        per_exit = (sum(ticks[:half]) - sum(ticks[half:])) / exits_esipi
    row("2 Linux", "hypervisor instructions per exit while tvbench ran (1 CPU, emulate_sipi)",
        per_exit, None, "(whole workload with - without) / its exits: almost all emulated "
        "xAPIC stores (EOIs, the timer), each decoded and performed", "insns")
    for name, path in LINUX_PATHS:
        label = f"2 CPUs, {path}"
        boot_rows(name, "linux-native", "guest-native-2cpu-512m", label)
        workload_rows(name, "linux-native", label)
    boot_svm = boot_rows(SVM_LINUX[0], SVM_LINUX[1], SVM_MBR, SVM_LINUX[2])
    work_svm = workload_rows(*SVM_LINUX)
    for runs_ in SVM_SMP:
        workload_rows(*runs_)
    work_svm_smp_50mhz = [workload_rows(*runs_) for runs_ in SVM_SMP_50MHZ]

    # 7. DMA protection: the same figures with the IOMMU on and without one.
    iommu_note = "QEMU q35, SVM, -icount; with: intel-iommu, thinvisor's DMA map; without: no IOMMU"
    i_on, i_off = run(IOMMU_GUEST[0]), run(IOMMU_GUEST[1])
    row("7 IOMMU", "CPUID leaf 0 round trip (IOMMU on / none)", per_op(i_on, "cpuid"),
        per_op(i_off, "cpuid"), iommu_note)
    row("7 IOMMU", "VMMCALL round trip (IOMMU on / none)", per_op(i_on, "vmcall"),
        per_op(i_off, "vmcall"), iommu_note)
    l_on, l_off = run(IOMMU_LINUX[0]), run(IOMMU_LINUX[1])
    init_on, init_off = l_on["bench"].get("init_tsc"), l_off["bench"].get("init_tsc")
    launch_on, launch_off = l_on["timing"].get("guest launch"), l_off["timing"].get("guest launch")
    row("7 IOMMU", "Linux boot sector to init, 1 CPU (IOMMU on / none)",
        init_on - launch_on if init_on and launch_on else None,
        init_off - launch_off if init_off and launch_off else None,
        "GRUB's and the BIOS's disk reads go through the DMA map; a device's DMA costs the "
        "guest no instructions under -icount")
    parts_on = [l_on["bench"].get(f"{p}_ticks") for p, _ in WORKLOAD_PARTS]
    parts_off = [l_off["bench"].get(f"{p}_ticks") for p, _ in WORKLOAD_PARTS]
    row("7 IOMMU", "Linux whole workload, 1 CPU (IOMMU on / none)",
        None if None in parts_on else sum(parts_on), None if None in parts_off else sum(parts_off),
        iommu_note)
    row("7 IOMMU", "hypervisor region, KiB (IOMMU on / none)",
        i_on["region"].get("total"), i_off["region"].get("total"),
        "the DMA map, a root and a context table per VT-d unit (AMD-Vi: a 2 MiB device table)",
        "KiB")

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
    def speed_aims(where, boot, work, cpuid_insns, cpuid_aim, backend):
        """The three speed aims, for the 1-CPU runs of one backend."""
        aims.append((f"Linux boot slowdown{backend} (boot sector to init; {where})",
                     f"<= {AIM_LINUX_SLOWDOWN:.2f}x", None if boot is None else f"{boot:.3f}x",
                     aim_verdict(boot, AIM_LINUX_SLOWDOWN, unit="x")))
        aims.append((f"Linux workload slowdown{backend} (CPU, memory, syscalls; {where})",
                     f"<= {AIM_LINUX_SLOWDOWN:.2f}x", None if work is None else f"{work:.3f}x",
                     aim_verdict(work, AIM_LINUX_SLOWDOWN, unit="x")))
        aims.append((f"hypervisor instructions per CPUID exit{backend}", f"<= {cpuid_aim}",
                     None if cpuid_insns is None else f"{cpuid_insns:.0f}",
                     aim_verdict(cpuid_insns, cpuid_aim)))

    speed_aims("1 CPU, default path", boot_1cpu, work_1cpu, insns, AIM_CPUID_INSNS, "")
    speed_aims("1 CPU", boot_svm, work_svm, insns_svm, AIM_CPUID_INSNS_SVM, " under SVM")
    w2 = work_svm_smp_50mhz[0]
    aims.append(("Linux workload slowdown under SVM (2 CPUs, at a 50 MHz clock)",
                 f"<= {AIM_SVM_SMP_SLOWDOWN:.2f}x", None if w2 is None else f"{w2:.3f}x",
                 aim_verdict(w2, AIM_SVM_SMP_SLOWDOWN, unit="x")))
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
              f"corei7_haswell_4770, the SVM rows ryzen; an emulated second is 4M instructions, "
              f"50M in the rows marked 50 MHz clock; figures in emulated TSC ticks, which "
              f"count instructions on 1 CPU but not on more).")
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
    seen = [g for n in sorted(hidden) for g in hidden[n]["by_purpose"]]
    for g in GROUP_ORDER + [g for g in dict.fromkeys(seen) if g not in GROUP_ORDER]:
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
    md.append("| aim (issues 6, 13, 27) | target | measured | verdict |")
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
    made = charts(out, exits, rows)
    print(f"bench: results in {out}/results.csv, results.json, table.md; charts " +
          (", ".join(made) if made else "none (gnuplot failed)"))
    if args.doc:
        write_doc(args.doc, date, table, run_facts(args.bochs), out, made)
        print(f"bench: the table, with the run's date, machine, Bochs and commit, in {args.doc}")


def run_facts(bochs):
    """What the recorded results need beside the figures to be compared with later ones."""
    return {"machine": run_facts_lib.machine(), "bochs": run_facts_lib.bochs_build(bochs),
            "commit": run_facts_lib.commit()}


def write_doc(path, date, table, facts, out, made):
    """docs/bench-results.md: the table with the facts of its run, so that measured figures
    reach the docs only this way, never copied by hand. The charts drawn are copied into
    bench/ beside it and shown inline; those not drawn are removed, so that no chart of an
    older run passes for this one's."""
    charts_dir = os.path.join(os.path.dirname(os.path.abspath(path)), "bench")
    os.makedirs(charts_dir, exist_ok=True)
    lines = [
        "# Benchmark results",
        "",
        "Generated by `make bench` (`tests/bench/report.py`); do not edit by hand. What each figure",
        "measures, the aims and what earlier runs said: [benchmarks.md](benchmarks.md).",
        "",
        f"- Date: {date} (the newest run's log)",
        f"- Machine: {facts['machine']}",
        f"- Bochs: {facts['bochs']}",
        f"- thinvisor: {facts['commit']} (`git describe --always --dirty`)",
        "",
        "## Figures",
        "",
        table.rstrip("\n"),
        "",
        "## Charts",
        "",
    ]
    for name, what in CHARTS:
        copy = os.path.join(charts_dir, name)
        if name in made:
            shutil.copyfile(os.path.join(out, name), copy)
            lines += [f"{what[0].upper()}{what[1:]}:", "", f"![{what}](bench/{name})", ""]
        else:
            if os.path.exists(copy):
                os.remove(copy)
            lines += [f"{what[0].upper()}{what[1:]}: not drawn in this run (gnuplot failed).", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


# Datablock names, one per series in the whole script, so that no panel of a multiplot
# redefines data an earlier panel drew.
DATABLOCK_IDS = itertools.count()


def gp_quote(text):
    """TEXT as a gnuplot double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bar_rows(groups, s, n, base, logscale, label_fmt):
    """Series S's bars as datablock lines "y value label side": group i from the top, its
    label at the group's centre, its bars below one another (a lone bar at the centre);
    side 1 prints the value right of the bar's end, 0 left of it (bars that grow leftwards)."""
    rows, slot = [], 0.8 / n
    for i, (_, vs) in enumerate(groups):
        v = vs[s] if s < len(vs) else None
        if v is None:
            continue
        centre = len(groups) - 1 - i
        alone = sum(x is not None for x in vs) == 1
        y = centre if alone else centre + 0.4 - slot * (s + 0.5)
        shown = max(v, base) if logscale else v      # log scale: zero at the axis
        rows.append(f"{y:.4f} {shown:.6g} {gp_quote(label_fmt.format(v))} {1 if shown >= base else 0}")
    return rows or ["-100 0 \"\" 1"]                 # gnuplot wants a point per plot


def hbar_panel(title, xlabel, groups, series, base=0.0, logscale=False, label_fmt="{:,.0f}",
               marks=(), span=(None, None), colour_from=0):
    """One horizontal grouped bar chart as gnuplot commands, and the pixel height it needs:
    one group of bars per figure, named on the y axis so long names need no rotation; one
    bar per series (a run or a path) in the key below; each bar's value at its end. Bars
    grow from BASE (1.0 for ratios: a bar's length is the difference from native).
    GROUPS: [(label, [value or None per series])]; SERIES: [key title]; MARKS: [(x, text)],
    dashed vertical lines; SPAN: values the x axis must show even if no bar reaches them."""
    n = max(len(series), 1)
    values = [v for _, vs in groups for v in vs if v is not None] + [base]
    values += [x for x in span if x is not None] + [x for x, _ in marks]
    lo, hi = min(values), max(values)
    top = len(groups) - 0.4 + (0.5 if marks else 0)       # a line above the bars for MARKS' text
    cmds = [f"set title {gp_quote(title)} font \"sans,12\"", f"set xlabel {gp_quote(xlabel)}",
            "set grid xtics", "set style fill solid 0.85 border rgb \"#333333\"",
            "set key below Left reverse maxcols 1 samplen 2 height 1.5" if n > 1 else "set key off",
            "set ytics nomirror scale 0", f"set yrange [-0.6:{top:g}]"]
    if logscale:
        cmds += ["set logscale x", "set format x \"%.0s%c\"", f"set xrange [{base:g}:{hi * 10:g}]"]
    else:
        room = (hi - lo) or 1.0                            # room for the value labels
        cmds.append(f"set xrange [{lo - 0.12 * room if lo < base else lo:g}:{hi + 0.12 * room:g}]")
    tics = ", ".join(f"{gp_quote(label)} {len(groups) - 1 - i}" for i, (label, _) in enumerate(groups))
    cmds.append(f"set ytics ({tics})")
    # Each mark's text right of its line, but the leftmost's left of it: two lines close
    # together (1.0 and an aim of 1.01 on a scale to 1.2) keep their texts apart.
    for i, (x, text) in enumerate(sorted(marks)):
        side = "right offset -0.5,0" if i == 0 and len(marks) > 1 else "left offset 0.5,0"
        cmds.append(f"set arrow from {x:g}, graph 0 to {x:g}, graph 1 nohead dashtype 2 lw 1.5 lc rgb \"black\" front")
        cmds.append(f"set label {gp_quote(text)} at {x:g}, {top - 0.25:g} {side} front")
    blocks, plots, half = [], [], 0.8 / n * 0.45
    for s, key in enumerate(series):
        name = f"$bars{next(DATABLOCK_IDS)}"
        rows = bar_rows(groups, s, n, base, logscale, label_fmt)
        blocks.append(f"{name} << EOD\n" + "\n".join(rows) + "\nEOD")
        colour = COLOURS[(colour_from + s) % len(COLOURS)]
        plots.append(f"{name} using ({base:g}):1:({base:g}):2:($1-{half:.4f}):($1+{half:.4f}) "
                     f"with boxxyerror fc rgb \"{colour}\" title {gp_quote(key)}")
        # A labels plot only for a side some bar uses: gnuplot 5.4 crashes on one whose
        # every point is undefined.
        if any(r.endswith(" 1") for r in rows):
            plots.append(f"{name} using ($4 > 0 ? $2 : 1/0):1:3 with labels left offset 0.4,0 font \",9\" notitle")
        if any(r.endswith(" 0") for r in rows):
            plots.append(f"{name} using ($4 > 0 ? 1/0 : $2):1:3 with labels right offset -0.4,0 font \",9\" notitle")
    height = 120 + (18 * n + 10 if n > 1 else 0) + (20 if marks else 0) + len(groups) * max(n * 20, 30)
    return blocks + cmds + ["plot " + ", \\\n     ".join(plots), "reset"], height


def hbar_chart(png, panels, width=1200):
    """The gnuplot commands that draw PANELS (from hbar_panel) stacked in one PNG, each as
    tall as its bars need, so that no label is squeezed."""
    total = sum(h for _, h in panels)
    cmds = [f"set terminal pngcairo size {width},{total} font \"sans,10\" noenhanced",
            f"set output {gp_quote(png)}", "set multiplot"]
    y = total
    for panel, h in panels:
        y -= h
        cmds += [f"set origin 0,{y / total:.5f}", f"set size 1,{h / total:.5f}"] + panel
    return "\n".join(cmds + ["unset multiplot", "unset output"]) + "\n"


def roundtrip_chart(out, rows):
    """(a) The round trips of section 1, with and without thinvisor, in ticks (instructions
    on these 1-CPU runs); the hypervisor's instructions per CPUID exit as a bar of their own."""
    groups = []
    for r in rows:
        if r["section"].startswith("1") and not r["figure"].startswith("ticks per"):
            aim = None
            if r["figure"].startswith("hypervisor instructions per CPUID exit"):
                aim = AIM_CPUID_INSNS_SVM if "SVM" in r["figure"] else AIM_CPUID_INSNS
            label = r["figure"] + (f" (aim <= {aim})" if aim else "")
            groups.append((label, [r["thinvisor"], r["native"]]))
    # Log scale: a CPUID exit costs about a hundred instructions, an emulated store thousands.
    panel = hbar_panel("Round trips: the cost of one exit (1 CPU; VMX as a Haswell, SVM as a Ryzen)",
                       "emulated TSC ticks per operation (= instructions: 1 CPU, clock: sync=none; "
                       "log scale)", groups,
                       ["with thinvisor", "without thinvisor (the same CPU model natively)"],
                       base=1.0, logscale=True)
    return hbar_chart(os.path.join(out, "roundtrips.png"), [panel])


def workload_chart(out, rows):
    """(b) The Linux figures of section 2 as with / without ratios, one group per figure, one
    bar per configuration, bars from 1.0 (native). Two panels: on 1 CPU the TSC counts
    instructions and the aims are judged there, to a scale that shows 1%; on 2 CPUs it does
    not, and emulate_sipi's skew would flatten the 1-CPU bars on a shared axis."""
    by_config = {}
    for r in rows:
        if r["section"].startswith("2") and r["ratio"] is not None and r["unit"] == "ticks":
            kind, config = r["figure"].rsplit(" (", 1)
            by_config.setdefault(config.rstrip(")"), {})[kind] = r["ratio"]
    panels, colour_from = [], 0
    for cpus, title, marks in (
            ("1 CPU", "Linux on 1 CPU, with / without thinvisor: the TSC counts instructions "
             "(the aims are judged here)", ((1.0, "1.0 = native"), (AIM_LINUX_SLOWDOWN, "aim"))),
            ("2 CPUs", "Linux on 2 CPUs, with / without thinvisor: the TSC follows both CPUs, "
             "not an instruction count", ((1.0, "1.0 = native"),))):
        configs = [c for c in by_config if c.startswith(cpus + ",")]
        kinds = list(dict.fromkeys(k for c in configs for k in by_config[c]))
        groups = [(k, [by_config[c].get(k) for c in configs]) for k in kinds]
        if groups:
            panels.append(hbar_panel(title, "ratio of emulated TSC ticks, with / without thinvisor",
                                     groups, configs, base=1.0, label_fmt="{:.3f}x", marks=marks,
                                     span=(0.99, 1.02), colour_from=colour_from))
        colour_from += len(configs)
    if not panels:
        # One empty series: gnuplot refuses a plot command with nothing to plot.
        panels.append(hbar_panel("Linux: no figures (no Linux run in this report, or they failed)",
                                 "ratio", [("none", [None])], ["no Linux run"]))
    return hbar_chart(os.path.join(out, "workloads.png"), panels)


def exits_chart(out, exits):
    """(c) The VM exits of the Linux runs by reason, one bar per run, log scale (counts run
    from 1 to hundreds of thousands); the class of each reason beside its name."""
    groups = [(f"{e['reason']} ({e['class']})", [e["count"][p] for _, p in EXIT_PATHS]) for e in exits]
    # LINUX_PATHS run on 2 CPUs; the SVM runs' labels say how many they had.
    keys = [f"{p}{'' if 'CPU' in p else ', 2 CPUs'} ({name})" for name, p in EXIT_PATHS]
    panel = hbar_panel("VM exits during the Linux run (power-on to shutdown) by reason and class",
                       "exits (log scale; a 0 is printed at the axis)", groups or [("(no exit counts)", [])],
                       keys, base=0.5, logscale=True)
    return hbar_chart(os.path.join(out, "exits.png"), [panel])


def charts(out, exits, rows):
    """The three charts (CHARTS) through one gnuplot script, OUT/charts.gp; the names of
    those drawn (none when gnuplot fails: the table and data files are there regardless)."""
    script = roundtrip_chart(out, rows) + workload_chart(out, rows) + exits_chart(out, exits)
    gp = os.path.join(out, "charts.gp")
    with open(gp, "w") as f:
        f.write(script)
    try:
        subprocess.run(["gnuplot", gp], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"bench: gnuplot failed ({e}); the table and data files are still there", file=sys.stderr)
        return []
    return [name for name, _ in CHARTS if os.path.exists(os.path.join(out, name))]

if __name__ == "__main__":
    main()
