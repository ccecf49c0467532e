#!/usr/bin/env bash
# dpkg on a staged root, as the install tests need it: a dpkg database of its own under
# ROOT/var/lib/dpkg (made on first use), the maintainer scripts run without chroot (the root
# has no shell of its own) with DPKG_ROOT=ROOT, which tells them the system is not the running
# one, and the package's Depends not enforced (the staged root has no libc6 to satisfy them).
# Not root: under fakeroot, which records the files' owner as root.
#
# usage: tests/install/dpkg-root.sh ROOT DPKG-ARGS...   e.g. ROOT -i FILE.deb, ROOT -P thinvisor
set -euo pipefail
root=$1
shift
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
[[ -e $root/var/lib/dpkg/status ]] || : >"$root/var/lib/dpkg/status"
# dpkg wants ldconfig and start-stop-daemon in PATH, which a user's PATH may lack.
export PATH=$PATH:/usr/sbin:/sbin
cmd=(dpkg --root="$root" --log=/dev/null --force-script-chrootless --force-depends)
if [[ $(id -u) != 0 ]]; then
    command -v fakeroot >/dev/null || { echo "dpkg-root: needs fakeroot (make deps)" >&2; exit 2; }
    cmd=(fakeroot "${cmd[@]}" --force-not-root)
fi
"${cmd[@]}" "$@"
