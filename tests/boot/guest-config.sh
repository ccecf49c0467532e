#!/usr/bin/env bash
# guest-config.sh IMG SEED OPS [CYCLES [NMIS [POWEROFF]]]: patches the test guest's settings
# (struct guest_config in tests/guest/guest.h) into a copy of its disk image: the hostile-guest
# program's seed and operation count, the INIT-SIPI stress cycles and the NMIs per AP
# (stress.c; 0: none), and POWEROFF, how the run ends (power.c, GUEST_END_* in guest.h): 1 by
# ACPI S5, 2 by ACPI S3 and the checks after the wake, 3 the same asking for a 32-bit wake.
# The guest is linked at 0x8000 and loaded from sector 1, so the symbol's address gives its
# place in the image.
set -euo pipefail
img=$1 seed=$2 ops=$3 cycles=${4:-0} nmis=${5:-0} poweroff=${6:-0}
root=$(cd "$(dirname "$0")/../.." && pwd)
addr=$(nm "$root/build/guest/guest.elf" | awk '$3 == "guest_config" { print $1 }')
[ -n "$addr" ] || { echo "guest-config.sh: no guest_config in guest.elf" >&2; exit 1; }
offset=$((512 + 0x$addr - 0x8000))
# little-endian words: "TVHS", seed, ops, cycles, NMIs, power off
le32() { printf "\\\\x%02x\\\\x%02x\\\\x%02x\\\\x%02x" $(($1 & 255)) $(($1 >> 8 & 255)) \
    $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
printf "$(le32 0x53485654)$(le32 "$seed")$(le32 "$ops")$(le32 "$cycles")$(le32 "$nmis")$(le32 "$poweroff")" |
    dd of="$img" bs=1 seek="$offset" conv=notrunc status=none
