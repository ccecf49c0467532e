#!/bin/sh
# Prints the serial log FILE as the checks read it: without the CRs of the emulated UART's
# CR LF, and with every Linux kernel message on a line of its own. The kernel writes its
# console messages straight to the UART while user space's output still drains through the
# tty, so a message ("[    6.255075] PM: suspend entry (deep)") can land in the middle of a
# line the guest's init printed; the checks anchor those lines at both ends. A guest that
# draws a screen (memtest86+, GRUB's menu) moves the cursor with terminal sequences: each
# move (ESC [ row;col H) becomes a line break and the other sequences go (private ones too,
# OVMF's ESC [ = 3 h), so that what it draws reads as lines too.
# usage: tests/boot/serial-text.sh FILE               (a missing FILE prints nothing)
#        tests/boot/serial-text.sh FILE --has REGEX   whether a line of that text matches
#            REGEX (grep -E): exit 0 yes, 1 no, 2 a REGEX grep cannot read (emu-*.sh --until)
text() {
    [ -r "$1" ] || return 0
    tr -d '\r' <"$1" | sed -E 's/\x1b\[[0-9;]*H/\n/g; s/\x1b(\[[0-9;?=<>]*[A-Za-z]|[()][A-Z0-9])//g' |
        sed -E 's/(.)(\[ *[0-9]+\.[0-9]{6}\] )/\1\n\2/g'
}
if [ "${2:-}" = --has ]; then
    # grep's status is the pipeline's (no pipefail in sh): its early exit at a match is fine.
    text "$1" | grep -aEq -- "$3"
    exit
fi
text "$1"
