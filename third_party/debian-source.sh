#!/usr/bin/env bash
# Fetches the tarballs of a Debian source package, checked, into a folder: how thinvisor gets
# the third-party code it builds itself (Zydis for the kernel, Bochs 3.0 for the tests) without
# keeping a copy in the tree or touching the machine's apt setup.
#
# usage: third_party/debian-source.sh RELEASE PACKAGE VERSION DEST
#   RELEASE  a Debian suite (bookworm, trixie); PACKAGE a source package; VERSION the upstream
#   version the caller was written for (its index entry must start with it); DEST a new folder:
#   the orig and debian tarballs land there, their names printed one per line.
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian); the log goes to $DEST.log.
#
# Trust: a private apt (its own source list, index and cache; no root) reads the suite's index,
# checked against Debian's archive keyring (Signed-By); apt-helper checks every tarball against
# the SHA256 that index gives. The .dsc is not needed (some mirrors lack it).
set -euo pipefail

die() { echo "debian-source: error: $*" >&2; exit 1; }

[[ $# -eq 4 ]] || { echo "usage: $0 RELEASE PACKAGE VERSION DEST" >&2; exit 2; }
release=$1 package=$2 version=$3 dest=$4
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
for t in apt-get=apt gpgv=gpgv; do
    command -v "${t%%=*}" >/dev/null || die "needs the Debian package ${t#*=} ('make deps' installs it)"
done
[[ -r $keyring ]] || die "needs the Debian package debian-archive-keyring ('make deps' installs it)"

mkdir -p "$dest"
log=$dest.log
: >"$log"
apt=$dest/.apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts"
echo "deb-src [signed-by=$keyring] $mirror $release main" >"$apt/sources.list"
# APT::Sandbox::User: apt's _apt user cannot write into $dest.
apt_opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/parts"
          -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
          -o "APT::Sandbox::User=$(id -un)" -o "Debug::NoLocking=1")
if ! apt-get "${apt_opts[@]}" --error-on=any update >>"$log" 2>&1; then
    tail -n 5 "$log" | sed 's/^/    /' >&2
    die "cannot read Debian $release's source index from $mirror (no network, or does apt need a proxy here? DEBIAN_MIRROR= names another Debian mirror)"
fi
# 'URI' NAME SIZE SHA256:HASH, one line per file of the source package.
uris=$(cd "$dest" && apt-get "${apt_opts[@]}" source --print-uris "$package" 2>>"$log" | grep "^'" || true)
found=$(sed -n "s/^'[^']*' ${package}_\([^ ]*\)\.dsc .*/\1/p" <<<"$uris")
[[ -n $found ]] || die "Debian $release's index has no $package source package (see $log)"
[[ $found == "$version"[+-]* || $found == "$version" ]] ||
    die "Debian $release's $package is $found; the build was written for $version"

n=0
while read -r uri name _ hash; do
    [[ $name == *.tar.* ]] || continue
    uri=${uri//\'/}
    if ! /usr/lib/apt/apt-helper "${apt_opts[@]}" download-file "$uri" "$dest/$name" "$hash" \
        >>"$log" 2>&1; then
        tail -n 3 "$log" | sed 's/^/    /' >&2
        die "cannot download $uri (or its SHA256 does not match $release's index)"
    fi
    echo "$name"
    n=$((n + 1))
done <<<"$uris"
((n > 0)) || die "no tarball in the $package $found source package (see $log)"
rm -rf "$apt"
