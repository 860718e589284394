# shellcheck shell=bash
# QEMU system emulation 10.0 from Debian's bookworm-backports (bookworm's own 7.2
# is older than the kernels it boots), with the firmware its machines load:
# SeaBIOS for x86 and OpenSBI for riscv64 (bookworm-backports), UEFI for
# loongarch64 (qemu-efi-loongarch64, from trixie: bookworm has none; the file
# is architecture-independent); SLOF and the s390 loader come with
# qemu-system-data.
# Fetched with the private apt configuration and unpacked into the cache, never
# installed; QEMU finds its firmware beside its own executable (../share/qemu).
# The shared libraries it links are bookworm's (the backport is built for
# bookworm): those the host lacks are installed with the host's apt. Once
# fetched, the cached packages are checked against their recorded sha256 and used
# without asking the mirror.
#
#   source runners/lib/private-apt.sh runners/lib/qemu-system.sh
#   dir=$(qemu_system_dir CACHE_DIR LOG)  # then "$dir/usr/bin/qemu-system-x86_64"

QEMU_SYSTEM_PACKAGES="qemu-system-x86/bookworm-backports qemu-system-arm/bookworm-backports
qemu-system-ppc/bookworm-backports qemu-system-mips/bookworm-backports qemu-system-misc/bookworm-backports qemu-system-riscv/bookworm-backports
qemu-system-s390x/bookworm-backports qemu-system-common/bookworm-backports qemu-system-data/bookworm-backports
seabios/bookworm-backports opensbi/bookworm-backports qemu-efi-loongarch64/trixie"

qemu_system_dir() {
    local cache=$1 log=$2 apt_dir unpacked qver deb p pkgs=()
    apt_dir=$cache/apt-qemu-system
    mkdir -p "$apt_dir/debs"
    private_apt_verify "$apt_dir" 2>/dev/null || rm -f "$apt_dir"/debs/*.deb
    for p in $QEMU_SYSTEM_PACKAGES; do
        ls "$apt_dir"/debs/"${p%/*}"_*.deb >/dev/null 2>&1 || pkgs+=("$p")
    done
    if [ "${#pkgs[@]}" -gt 0 ]; then
        private_apt_init "$apt_dir" "bookworm-backports bookworm trixie" "amd64" || return 1
        private_apt_download "$apt_dir" "${pkgs[@]}" || return 1
    fi
    deb=$(ls "$apt_dir"/debs/qemu-system-x86_*.deb | head -n1)
    # 1:10.0.2+ds-… -> 10.0
    qver=$(dpkg-deb -f "$deb" Version | sed -E 's/^[0-9]+://; s/^([0-9]+\.[0-9]+).*/\1/')
    unpacked=$cache/qemu-system-$qver
    if [ "$(cat "$unpacked/.from" 2>/dev/null)" != "$(private_apt_stamp "$apt_dir")" ]; then
        rm -rf "$unpacked" "$unpacked.tmp"
        for deb in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$unpacked.tmp" || return 1; done
        # Debian links SeaBIOS's images into /usr/share/qemu from the seabios
        # package's own directory; do the same inside the unpacked tree.
        for p in "$unpacked.tmp"/usr/share/seabios/*.bin; do
            [ -e "$unpacked.tmp/usr/share/qemu/$(basename "$p")" ] \
                || ln -s "../seabios/$(basename "$p")" "$unpacked.tmp/usr/share/qemu/"
        done
        private_apt_stamp "$apt_dir" >"$unpacked.tmp/.from"
        mv "$unpacked.tmp" "$unpacked"
    fi
    _qemu_system_libraries "$apt_dir" "$log" || return 1
    echo "$unpacked"
}

# The libraries the packages depend on that the host has not installed.
_qemu_system_libraries() {
    local apt_dir=$1 log=$2 deb dep need=()
    for deb in "$apt_dir"/debs/*.deb; do
        while read -r dep; do
            case $dep in qemu-* | seabios | opensbi | ipxe-qemu | "") continue ;; esac
            dpkg-query -W -f '${Status}' "$dep" 2>/dev/null | grep -q 'install ok installed' && continue
            [[ " ${need[*]} " == *" $dep "* ]] || need+=("$dep")
        done < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/:any//; s/^ +//; s/ +$//')
    done
    [ "${#need[@]}" -eq 0 ] && return 0
    echo "installing the libraries qemu-system needs: ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >"$log" 2>&1 || {
        apt-get update -qq >>"$log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$log" 2>&1
    } || { echo "could not install ${need[*]} (see $log)" >&2; return 1; }
}
