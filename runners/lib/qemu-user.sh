# shellcheck shell=bash
# QEMU user mode from Debian's bookworm-backports (10.0; bookworm's own 7.2 gives
# guests no vDSO), fetched with the private apt configuration and unpacked into
# the cache, never installed. Its binaries are static. Once fetched, the cached
# package is checked against its recorded sha256 and used without asking the mirror.
#
#   source runners/lib/private-apt.sh runners/lib/qemu-user.sh
#   dir=$(qemu_user_dir CACHE_DIR)     # then "$dir/usr/bin/qemu-aarch64"

qemu_user_dir() {
    local cache=$1 apt_dir deb qver unpacked
    apt_dir=$cache/apt-qemu
    mkdir -p "$apt_dir/debs"
    private_apt_verify "$apt_dir" || true
    deb=$(ls "$apt_dir"/debs/qemu-user_*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
        private_apt_init "$apt_dir" "bookworm-backports" "amd64" || return 1
        private_apt_download "$apt_dir" qemu-user/bookworm-backports || return 1
        deb=$(ls "$apt_dir"/debs/qemu-user_*.deb | head -n1)
    fi
    # 1:10.0.2+ds-… -> 10.0
    qver=$(dpkg-deb -f "$deb" Version | sed -E 's/^[0-9]+://; s/^([0-9]+\.[0-9]+).*/\1/')
    unpacked=$cache/qemu-user-$qver
    if [ "$(cat "$unpacked/.from" 2>/dev/null)" != "$(private_apt_stamp "$apt_dir")" ]; then
        rm -rf "$unpacked" "$unpacked.tmp"
        dpkg-deb -x "$deb" "$unpacked.tmp" || return 1
        private_apt_stamp "$apt_dir" >"$unpacked.tmp/.from"
        mv "$unpacked.tmp" "$unpacked"
    fi
    echo "$unpacked"
}
