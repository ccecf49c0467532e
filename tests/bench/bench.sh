#!/usr/bin/env bash
# make bench: boots the bench guests in Bochs (the IOMMU pairs in QEMU), with thinvisor and
# without it, and hands the serial logs to report.py, which prints the table and writes
# results.csv, results.json and the charts. Each boot is one "run" below; JOBS of them at a
# time, progress on stdout.
#
# usage: tests/bench/bench.sh [--out DIR] [--only REGEX] [--jobs N] [--bochs 3.0|2.7] [--doc FILE]
#   --out DIR     results and per-run logs (default build/bench)
#   --only REGEX  boot only the runs whose name matches; the report uses the logs already in
#                 DIR for the others (for working on one figure)
#   --doc FILE    also write the table as FILE, with the date, machine, Bochs and commit of
#                 the run (make bench: docs/bench-results.md); none by default, so that a run
#                 with --only or into another DIR leaves the recorded results alone
#   --jobs N      Bochs runs at once (default 2)
#   --bochs V     the Bochs (default 3.0; tests/boot/bochs-machine.sh says why there are two)
#
# Bochs runs with clock: sync=none: the emulated TSC then advances with the instruction count
# (one tick per instruction, at the default ips), so every figure repeats run to run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
out=$ROOT/build/bench only=. jobs=2 bochs=3.0 doc=
while (($#)); do
    (($# >= 2)) || { echo "bench: $1 needs a value" >&2; exit 2; }
    case $1 in
        --out) out=$2 ;; --only) only=$2 ;; --jobs) jobs=$2 ;; --bochs) bochs=$2 ;; --doc) doc=$2 ;;
        *) echo "bench: unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
    esac
    shift 2
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "bench: --jobs takes a positive integer" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

guest_disk=$ROOT/build/guest/bench-disk.img
linux_disk=$ROOT/build/linux/linux-bench-disk.img
for f in "$ROOT/build/thinvisor.elf" "$guest_disk" "$linux_disk"; do
    [[ -f $f ]] || { echo "bench: missing $f (run make bench, which builds it)" >&2; exit 2; }
done

# The runs: NAME HYPERVISOR DISK CPUS MIB. HYPERVISOR is "native" (Bochs boots the disk's MBR
# itself) or thinvisor's command line ("tv:OPTIONS", commas for blanks). test_exit makes
# thinvisor print its exit counts when the guest ends the run. Linux runs under thinvisor on
# the default path (INIT and SIPI VM exits) and with emulate_sipi, side by side (with
# --bochs 2.7 only the emulate_sipi run gets its second CPU: docs/testing.md, "Which Bochs").
# Longest first, so the Linux boots overlap.
# The 1-CPU runs time the workload: there the TSC counts CPU 0's instructions (report.py);
# emulate_sipi on 1 CPU prices the emulated xAPIC stores.
# MODEL "qemu" and "qemu-iommu" boot QEMU's q35 instead, under its SVM (without, with its
# intel-iommu, which thinvisor then programs), with -icount shift=0: the clock, and so the
# TSC, then follows executed instructions, and the pair shows what the IOMMU adds to the
# guest's figures. (A device's DMA through the IOMMU costs the guest no instructions there.)
# MODEL, when given, is Bochs's CPU model: the svm runs are an AMD Ryzen (AMD-V with nested
# paging), where thinvisor runs its SVM backend, against a native run on the same model.
# The guest's SMP under SVM runs there too, on 2 and 4 CPUs (QEMU's TCG with -icount, whose
# clock would count instructions, cannot boot SMP Linux: docs/benchmarks.md), and again with
# IPS, when given, as Bochs's instructions per emulated second instead of its default 4M: the
# exits of guest SMP come with the guest's timer, so their share of the run follows the clock
# (report.py judges the 2-CPU aim at 50 MHz; docs/benchmarks.md says why).
runs=(
    "linux-hv      tv:test_exit              $linux_disk 2 512"
    "linux-hv-esipi tv:test_exit,emulate_sipi $linux_disk 2 512"
    "linux-native  native                    $linux_disk 2 512"
    "linux-hv-1cpu tv:test_exit              $linux_disk 1 512"
    "linux-native-1cpu native                $linux_disk 1 512"
    "linux-hv-esipi-1cpu tv:test_exit,emulate_sipi $linux_disk 1 512"
    "guest-native  native                    $guest_disk 1 256"
    "guest-hv-1cpu tv:test_exit              $guest_disk 1 256"
    "guest-hv-esipi-1cpu tv:test_exit,emulate_sipi $guest_disk 1 256"
    "guest-hv-2cpu tv:test_exit              $guest_disk 2 256"
    "guest-hv-4cpu tv:test_exit              $guest_disk 4 256"
    "guest-hv-2g   tv:test_exit              $guest_disk 1 2048"
    "guest-hv-5g   tv:test_exit              $guest_disk 1 5120"
    "guest-native-2cpu-512m native           $guest_disk 2 512"
    "guest-native-1cpu-512m native           $guest_disk 1 512"
    "linux-svm-1cpu tv:test_exit             $linux_disk 1 512 ryzen"
    "linux-native-1cpu-ryzen native          $linux_disk 1 512 ryzen"
    "guest-svm-1cpu tv:test_exit             $guest_disk 1 256 ryzen"
    "guest-native-ryzen native               $guest_disk 1 256 ryzen"
    "guest-native-1cpu-512m-ryzen native     $guest_disk 1 512 ryzen"
    "linux-svm-2cpu tv:test_exit             $linux_disk 2 512 ryzen"
    "linux-native-2cpu-ryzen native          $linux_disk 2 512 ryzen"
    "linux-svm-4cpu tv:test_exit             $linux_disk 4 512 ryzen"
    "linux-native-4cpu-ryzen native          $linux_disk 4 512 ryzen"
    "linux-svm-2cpu-50mhz tv:test_exit       $linux_disk 2 512 ryzen 50000000"
    "linux-native-2cpu-ryzen-50mhz native    $linux_disk 2 512 ryzen 50000000"
    "linux-svm-4cpu-50mhz tv:test_exit       $linux_disk 4 512 ryzen 50000000"
    "linux-native-4cpu-ryzen-50mhz native    $linux_disk 4 512 ryzen 50000000"
    "guest-svm-q35-iommu tv:test_exit        $guest_disk 1 256 qemu-iommu"
    "guest-svm-q35 tv:test_exit              $guest_disk 1 256 qemu"
    "linux-svm-q35-iommu tv:test_exit        $linux_disk 1 512 qemu-iommu"
    "linux-svm-q35 tv:test_exit              $linux_disk 1 512 qemu"
)

# shellcheck source=tests/boot/lib.sh
source "$ROOT/tests/boot/lib.sh"     # make_iso

truncate -s 64K "$out/blank.iso"     # emu-bochs.sh wants a CD-ROM; native runs boot the disk

# run_one NAME HYPERVISOR DISK CPUS MIB [MODEL [IPS]]: one Bochs boot into $out/runs/NAME/.
run_one() {
    local name=$1 hv=$2 disk=$3 cpus=$4 mem=$5 model=${6:-corei7_haswell_4770} ips=${7:-}
    local dir=$out/runs/$1 iso rc=0
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$disk" "$dir/disk.img"       # Bochs locks its image: one copy per run
    local timeout=900
    [[ $name != linux-* ]] || timeout=2400
    local bochs_extra=("clock: sync=none")
    [[ -z $ips ]] || bochs_extra+=("cpu: ips=$ips")      # a later cpu: line sets only this
    if [[ $hv == native ]]; then
        iso=$out/blank.iso
        bochs_extra+=("boot: disk")
    else
        # The disk's boot sector as the bootsector module, as grub.cfg and make install do.
        dd if="$disk" of="$dir/bootsector.bin" bs=512 count=1 status=none
        local opts=${hv#tv:}
        make_iso "$dir" multiboot2 "${opts//,/ }" "$dir/bootsector.bin" || {
            echo "bench: $name: grub-mkrescue failed, see $dir/grub-mkrescue.log" >&2; return 1; }
        iso=$dir/test.iso
    fi
    if [[ $model == qemu* ]]; then
        local qemu_extra=(-icount shift=0,sleep=off -machine q35)
        [[ $model != qemu-iommu ]] || qemu_extra+=(-device intel-iommu)
        "$ROOT/tests/boot/emu-qemu.sh" --iso "$iso" --disk "$dir/disk.img" --cpus "$cpus" \
            --mem "$mem" --serial "$dir/serial.log" --timeout "$timeout" --workdir "$dir/emu" \
            -- "${qemu_extra[@]}" >"$dir/emu.out" 2>&1 || rc=$?
    else
        "$ROOT/tests/boot/emu-bochs.sh" --bochs "$bochs" --iso "$iso" --disk "$dir/disk.img" --cpus "$cpus" \
            --mem "$mem" --model "$model" --serial "$dir/serial.log" --timeout "$timeout" --workdir "$dir/emu" \
            -- "${bochs_extra[@]}" >"$dir/emu.out" 2>&1 || rc=$?
    fi
    tr -d '\r' <"$dir/serial.log" >"$dir/serial.txt" 2>/dev/null || : >"$dir/serial.txt"
    rm -f "$dir/disk.img"            # 12 MiB each; the log is what the report reads
    printf '%s\n' "name=$name" "hypervisor=$hv" "cpus=$cpus" "mem_mib=$mem" "model=$model" \
        "ips=${ips:-4000000}" "status=$rc" >"$dir/run.info"
    return "$rc"
}

start=$SECONDS
selected=()
for r in "${runs[@]}"; do
    read -r name _ <<<"$r"
    [[ $name =~ $only ]] && selected+=("$r")
done
echo "bench: ${#selected[@]} run(s) (Bochs $bochs; QEMU for the IOMMU pairs), $jobs at a time, logs in $out/runs/ (the Linux boots take minutes)"
n=0
for r in "${selected[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    n=$((n + 1))
    read -r name hv disk cpus mem model ips <<<"$r"
    (
        t0=$SECONDS
        echo "bench: [$n/${#selected[@]}] $name: $cpus CPU(s), $mem MiB, ${hv//,/ }${model:+, $model}${ips:+, $((ips / 1000000)) MHz clock}: started"
        if run_one "$name" "$hv" "$disk" "$cpus" "$mem" "$model" "$ips"; then
            echo "bench: $name: done in $((SECONDS - t0)) s"
        else
            echo "bench: $name: FAILED after $((SECONDS - t0)) s: $(tail -n 1 "$out/runs/$name/emu.out")"
        fi
    ) &
done
wait
echo "bench: all runs ended after $((SECONDS - start)) s wall"
/usr/bin/python3 "$here/report.py" --out "$out" --bochs "$bochs" ${doc:+--doc "$doc"}
