#!/usr/bin/env bash
# Zydis, the x86 decoder thinvisor's kernel and host tests build from source (third_party/
# zydis.mk), fetched once from Debian bookworm's source package into a cache outside the
# clone, so that every clone on the machine shares it, with thinvisor's patches applied
# (third_party/zydis-patches/: decoding bugs its fuzzer found, each says which and where
# upstream fixed it; a change of them is a new cache entry). Its Zycore headers come from
# Debian's libzycore-dev (make deps). Prints the source folder (include/, src/).
#
# usage: third_party/zydis.sh          fetch unless cached; print the folder
#        third_party/zydis.sh --path   print the folder if it is there, else fail saying how
#        third_party/zydis.sh --dir    print where the folder is or will be (for make)
# Environment: THINVISOR_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/thinvisor),
#              DEBIAN_MIRROR (third_party/debian-source.sh)
set -euo pipefail

VERSION=4.0.0
die() { echo "zydis: error: $*" >&2; exit 1; }

here=$(dirname "${BASH_SOURCE[0]}")
PATCHES=("$here"/zydis-patches/*.patch)
cache=${THINVISOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thinvisor}
dest=$cache/zydis-$VERSION-$(cat "${PATCHES[@]}" | sha256sum | cut -c1-12)
if [[ ${1:-} == --dir ]]; then
    echo "$dest"
    exit 0
fi
if [[ -r $dest/include/Zydis/Decoder.h && -r $dest/src/Decoder.c ]]; then
    echo "$dest"
    exit 0
fi
[[ ${1:-} != --path ]] ||
    die "the Zydis $VERSION source is not fetched yet (looked in $dest); 'make deps' fetches it"
[[ $# -eq 0 ]] || { echo "usage: $0 [--path]" >&2; exit 2; }
[[ -r /usr/include/Zycore/Types.h ]] ||
    die "Zydis needs Zycore's headers: the Debian package libzycore-dev ('make deps' installs it)"

mkdir -p "$cache"
work=$(mktemp -d "$cache/zydis-fetch.XXXXXX")
trap 'rm -rf "$work" "$work.log"' EXIT
echo "zydis: fetching the Zydis $VERSION source from Debian bookworm (once)" >&2
"$here/debian-source.sh" bookworm zydis "$VERSION" "$work/tarballs" >/dev/null
orig=$(ls "$work"/tarballs/zydis_"$VERSION".orig.tar.*)
mkdir -p "$work/src"
tar -C "$work/src" -xf "$orig"
top=$(find "$work/src" -mindepth 2 -maxdepth 2 -name include -printf '%h\n' | head -n 1)
[[ -n $top && -r $top/src/Decoder.c ]] || die "no Zydis sources in $orig"
for p in "${PATCHES[@]}"; do
    patch -d "$top" -p1 --forward --quiet <"$p" >/dev/null || die "$(basename "$p") does not apply"
done
mkdir -p "$work/out"
mv "$top/include" "$top/src" "$top/LICENSE" "$work/out/"
{
    echo "zydis $VERSION from Debian bookworm's source package $(basename "$orig")"
    echo "patches: $(for p in "${PATCHES[@]}"; do basename "$p"; done | paste -sd ' ')"
} >"$work/out/source.txt"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$dest"
