# shellcheck shell=bash
# Debian packages as .debs for the test guests' disks, downloaded, not installed: sourced by
# tests/linux/build-image.sh and tests/memtest/build-image.sh, which define log().

# apt_download DIR PKG[=VERSION]...: the .debs land in DIR. apt-get download writes into the
# current directory, so into a fresh one first: an interrupted download never enters DIR. It
# runs as root here most of the time, and apt then warns that its _apt sandbox user cannot
# write there; harmless, so filtered out.
apt_download() {
    local dir=$1 tmp rc=0
    shift
    tmp=$(mktemp -d "$dir/.dl.XXXXXX")
    (cd "$tmp" && apt-get download "$@" 2>&1) | grep -v 'unsandboxed as root' >&2 || true
    if compgen -G "$tmp/*.deb" >/dev/null; then mv "$tmp"/*.deb "$dir/"; else rc=1; fi
    rm -rf "$tmp"
    return "$rc"
}

# apt_lists_ready PKG: apt knows PKG only after an `apt-get update` (fresh containers have no
# package lists); that update, as root or through sudo.
apt_lists_ready() {
    if ! apt-cache show "$1" >/dev/null 2>&1; then
        log "apt has no package lists yet: apt-get update"
        if [[ $(id -u) == 0 ]]; then apt-get update -qq; else sudo apt-get update -qq; fi
    fi
}
