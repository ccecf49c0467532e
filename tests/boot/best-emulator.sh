#!/usr/bin/env bash
# Prints the best emulator this machine has for running thinvisor with a guest:
#   kvm    QEMU with KVM, when /dev/kvm is usable and offers nested VMX (an Intel host with
#          kvm_intel's "nested" on): the guest runs at near native speed on top of thinvisor
#   bochs  Bochs otherwise: it emulates VT-x with EPT, slowly (Linux boots in minutes)
# With -v, also says why on stderr.
set -euo pipefail
why() { if [[ ${1:-} == -v ]]; then echo "best-emulator: $2" >&2; fi; }
flag=${1:-}

if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
    why "$flag" "no usable /dev/kvm: Bochs"; echo bochs; exit 0
fi
if ! grep -qw vmx /proc/cpuinfo; then
    why "$flag" "the host CPU shows no VMX (not Intel, or VT-x off): Bochs"; echo bochs; exit 0
fi
nested=$(cat /sys/module/kvm_intel/parameters/nested 2>/dev/null || echo N)
if [[ $nested != Y && $nested != 1 ]]; then
    why "$flag" "kvm_intel nested VMX is off (see README, \"QEMU with KVM\"): Bochs"
    echo bochs; exit 0
fi
why "$flag" "KVM with nested VMX"
echo kvm
