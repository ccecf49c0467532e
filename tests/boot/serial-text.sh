#!/bin/sh
# Prints the serial log FILE as the checks read it: without the CRs of the emulated UART's
# CR LF, and with every Linux kernel message on a line of its own. The kernel writes its
# console messages straight to the UART while user space's output still drains through the
# tty, so a message ("[    6.255075] PM: suspend entry (deep)") can land in the middle of a
# line the guest's init printed; the checks anchor those lines at both ends. A guest that
# draws a screen (memtest86+, GRUB's menu) moves the cursor with terminal sequences: each
# move (ESC [ row;col H) becomes a line break and the other sequences go, so that what it
# draws reads as lines too.
# usage: tests/boot/serial-text.sh FILE   (a missing FILE prints nothing)
[ -r "$1" ] || exit 0
tr -d '\r' <"$1" | sed -E 's/\x1b\[[0-9;]*H/\n/g; s/\x1b(\[[0-9;?]*[A-Za-z]|[()][A-Z0-9])//g' |
    sed -E 's/(.)(\[ *[0-9]+\.[0-9]{6}\] )/\1\n\2/g'
