#!/usr/bin/env bash
# Runs the system's grub-mkconfig against a staged root (made by stage.sh) instead of /, so that
# the tests generate grub.cfg with the installed /etc/grub.d/42_thinvisor exactly as update-grub
# would, without root, loop devices or the build machine's own GRUB setup.
#
# usage: tests/install/mkconfig.sh --root DIR [-o FILE]
#   Without -o, grub.cfg goes to stdout. grub-mkconfig's messages (and 42_thinvisor's warnings)
#   go to stderr; the exit status is grub-mkconfig's. With -o, grub-mkconfig also runs
#   grub-script-check on the result.
#
# How: grub-mkconfig hard-codes /etc (sysconfdir: grub.d, default/grub) and the path of
# grub-probe. A copy of it with those two lines changed reads DIR/etc and calls
# fake-grub-probe, which describes the disk image make-disk.sh builds (the real one would
# describe this machine's disk). grub-mkrelpath comes from the environment, as
# grub-mkconfig_lib allows. THINVISOR_SYSROOT tells 42_thinvisor where its files are. The rest
# of grub-mkconfig (sourcing default/grub, running each grub.d script, checking the syntax) is
# unchanged.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "mkconfig: error: $*" >&2; exit 2; }

root='' out=''
while (($#)); do
    case $1 in
        --root) (($# >= 2)) || die "--root needs a directory"; root=$2; shift ;;
        -o) (($# >= 2)) || die "-o needs a file"; out=$2; shift ;;
        *) die "unknown argument $1 (usage: mkconfig.sh --root DIR [-o FILE])" ;;
    esac
    shift
done
[[ -n $root && -d $root/etc/grub.d ]] || die "--root must be a staged root with etc/grub.d (stage.sh)"
root=$(cd "$root" && pwd)

system_mkconfig=$(command -v grub-mkconfig || echo /usr/sbin/grub-mkconfig)
[[ -x $system_mkconfig ]] || die "no grub-mkconfig (Debian package grub-common)"
tools=$root.mkconfig
mkdir -p "$tools"
# Each substitution must hit exactly one line, or this GRUB's grub-mkconfig differs from the
# one this was written for (2.06) and the run would silently use the real /etc.
sed -e "s|^sysconfdir=\"/etc\"\$|sysconfdir=\"$root/etc\"|" \
    -e "s|^grub_probe=\"\${sbindir}/grub-probe\"\$|grub_probe=\"$here/fake-grub-probe\"|" \
    "$system_mkconfig" >"$tools/grub-mkconfig"
for want in "sysconfdir=\"$root/etc\"" "grub_probe=\"$here/fake-grub-probe\""; do
    [[ $(grep -cxF "$want" "$tools/grub-mkconfig") == 1 ]] ||
        die "$system_mkconfig: could not redirect '${want%%=*}' (grub-mkconfig changed?)"
done
chmod +x "$tools/grub-mkconfig"

# EUID=0: grub-mkconfig (a /bin/sh script) refuses to run for other users because it normally
# writes /boot/grub; here it writes only into the staged root, so the tests need no root.
# (EUID is read-only in bash, so it is set by env for grub-mkconfig alone.)
export THINVISOR_SYSROOT=$root
export grub_probe=$here/fake-grub-probe grub_mkrelpath=$here/fake-grub-mkrelpath
exec env EUID=0 "$tools/grub-mkconfig" ${out:+-o "$out"}
