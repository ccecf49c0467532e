#!/bin/sh
# Prints the serial log FILE as the checks read it: without the CRs of the emulated UART's
# CR LF, and with every Linux kernel message on a line of its own. The kernel writes its
# console messages straight to the UART while user space's output still drains through the
# tty, so a message ("[    6.255075] PM: suspend entry (deep)") can land in the middle of a
# line the guest's init printed; the checks anchor those lines at both ends.
# usage: tests/boot/serial-text.sh FILE   (a missing FILE prints nothing)
[ -r "$1" ] || exit 0
tr -d '\r' <"$1" | sed -E 's/(.)(\[ *[0-9]+\.[0-9]{6}\] )/\1\n\2/g'
