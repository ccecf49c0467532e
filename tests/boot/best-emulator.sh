#!/usr/bin/env bash
# Prints the best emulator this machine has for running thinvisor with a guest:
#   kvm    QEMU with KVM, when /dev/kvm is usable and offers nested virtualization: nested
#          VMX (an Intel host with kvm_intel's "nested" on) or nested SVM (an AMD host with
#          kvm_amd's, on by default): the guest runs at near native speed on top of thinvisor
#   bochs  Bochs otherwise: it emulates VT-x with EPT, slowly (Linux boots in minutes)
# With -v, also says why on stderr.
set -euo pipefail
why() { if [[ ${1:-} == -v ]]; then echo "best-emulator: $2" >&2; fi; }
flag=${1:-}

if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
    why "$flag" "no usable /dev/kvm: Bochs"; echo bochs; exit 0
fi
if grep -qw vmx /proc/cpuinfo; then
    ext=VMX module=kvm_intel
elif grep -qw svm /proc/cpuinfo; then
    ext=SVM module=kvm_amd
else
    why "$flag" "the host CPU shows neither VMX nor SVM (or they are off in the firmware): Bochs"
    echo bochs; exit 0
fi
nested=$(cat "/sys/module/$module/parameters/nested" 2>/dev/null || echo N)
if [[ $nested != Y && $nested != 1 ]]; then
    why "$flag" "$module nested $ext is off (see docs/testing.md, \"QEMU with KVM\"): Bochs"
    echo bochs; exit 0
fi
why "$flag" "KVM with nested $ext"
echo kvm
