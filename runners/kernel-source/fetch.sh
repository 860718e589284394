# shellcheck shell=bash
# Debian's kernel sources (linux-source-X.Y), fetched with a private apt
# configuration into $VDSOCONF_CACHE/kernel-source and unpacked there.
#
# Pinned like the kernels (runners/qemu/kernel-fetch.sh): the package version
# fetched first is kept, with its .deb checked against the sha256 its index gave
# before every use, and unpacked again only when that .deb changes. Delete
# $VDSOCONF_CACHE/kernel-source/pins/linux-source-X.Y to take a newer one.
#
#   source runners/lib/private-apt.sh runners/kernel-source/fetch.sh
#   kernel_source 7.3     # prints the path of the unpacked source tree

# The suites searched, the newest first by apt's own priorities.
KERNEL_SOURCE_SUITES="trixie-backports trixie experimental sid bookworm-backports bookworm bullseye"

kernel_source() {
    local series=$1 base apt pin pkg version deb tree
    base=${VDSOCONF_CACHE:?}/kernel-source
    apt=$base/apt
    pkg=linux-source-$series
    pin=$base/pins/$pkg
    mkdir -p "$apt/debs" "$base/pins"
    version=$(cat "$pin" 2>/dev/null)
    private_apt_verify "$apt" || true
    if [ -z "$version" ] || [ ! -f "$apt/debs/${pkg}_${version//:/%3a}_all.deb" ]; then
        private_apt_init "$apt" "$KERNEL_SOURCE_SUITES" amd64 || { echo "apt index for $pkg unavailable" >&2; return 1; }
        # The highest version any suite has (experimental's are not apt's
        # candidate, so ask for the version table).
        # shellcheck disable=SC2046
        version=$(apt-cache $(private_apt_opts "$apt") madison "$pkg" 2>/dev/null \
            | awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -V | tail -n1)
        [ -n "$version" ] || { echo "no $pkg in $KERNEL_SOURCE_SUITES" >&2; return 1; }
        private_apt_download "$apt" "$pkg=$version" 2>"$apt.err" || { echo "download of $pkg=$version failed: $(tail -n1 "$apt.err")" >&2; return 1; }
        echo "$version" >"$pin"
    fi
    deb=$apt/debs/${pkg}_${version//:/%3a}_all.deb
    [ -f "$deb" ] || { echo "the pinned $pkg=$version is not in $apt/debs" >&2; return 1; }
    tree=$base/$pkg-$version
    if [ "$(cat "$tree/.from" 2>/dev/null)" != "$(sha256sum <"$deb" | cut -d' ' -f1)" ]; then
        rm -rf "$tree" "$tree.tmp"
        mkdir -p "$tree.tmp"
        dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/src/$pkg.tar.xz" \
            | tar -xJf - -C "$tree.tmp" --strip-components=1 \
            || { echo "cannot unpack $deb" >&2; rm -rf "$tree.tmp"; return 1; }
        sha256sum <"$deb" | cut -d' ' -f1 >"$tree.tmp/.from"
        mv "$tree.tmp" "$tree"
    fi
    echo "$tree"
}
