# Debian kernel images for `vdsoconf boot`, fetched with a private apt
# configuration into $VDSOCONF_CACHE/kernels and unpacked there (never installed).
#
#   source runners/lib/private-apt.sh runners/qemu/kernel-fetch.sh
#   kernel_image DEB_ARCH SUITE PACKAGE   # prints the path of the kernel image

kernel_image() {
    local arch=$1 suite=$2 pkg=$3 base apt image_pkg deb unpacked image
    base=${VDSOCONF_CACHE:?}/kernels
    apt=$base/apt-$suite-$arch
    mkdir -p "$apt"
    private_apt_init "$apt" "$suite" "$arch" || { echo "apt index of $suite/$arch unavailable" >&2; return 1; }
    # The metapackage depends on the versioned image package.
    # shellcheck disable=SC2046
    image_pkg=$(apt-cache $(private_apt_opts "$apt") depends "$pkg:$arch" 2>/dev/null \
        | sed -nE 's/^  Depends: (linux-image-[^ ]+)$/\1/p' | head -n1)
    [ -n "$image_pkg" ] || { echo "no $pkg for $arch in $suite" >&2; return 1; }
    unpacked=$base/${image_pkg%%:*}
    if [ ! -d "$unpacked/boot" ]; then
        private_apt_download "$apt" "$image_pkg" 2>"$apt.err" || { echo "download of $image_pkg failed: $(tail -n1 "$apt.err")" >&2; return 1; }
        deb=$(ls "$apt"/debs/"${image_pkg%%:*}"_*.deb | head -n1)
        rm -rf "$unpacked.tmp"
        dpkg-deb -x "$deb" "$unpacked.tmp" && mv "$unpacked.tmp" "$unpacked"
        rm -f "$deb" # the unpacked kernel is the cache
    fi
    image=$(ls "$unpacked"/boot/vmlinuz-* "$unpacked"/boot/vmlinux-* 2>/dev/null | head -n1)
    [ -n "$image" ] || { echo "$image_pkg has no boot/vmlinu[xz]-*" >&2; return 1; }
    echo "$image"
}
