# shellcheck shell=bash
# Debian kernel images for `vdsoconf boot`, fetched with a private apt
# configuration into $VDSOCONF_CACHE/kernels and unpacked there (never installed).
#
# A row's kernel is pinned once fetched: the package holding the image that the
# metapackage named then is kept (with its .deb, checked against the sha256 its index gave before
# every use) and booted again without asking the mirror, so a warm run boots the
# same kernel whatever the mirror serves that day. Delete
# $VDSOCONF_CACHE/kernels/pins/<suite>-<arch>-<package> to take a newer one.
#
#   source runners/lib/private-apt.sh runners/qemu/kernel-fetch.sh
#   kernel_image DEB_ARCH SUITE PACKAGE   # prints the path of the kernel image
#   (PACKAGE: a metapackage, or a versioned linux-image-*/linux-binary-* package)

kernel_image() {
    local arch=$1 suite=$2 pkg=$3 base apt pin image_pkg binary_pkg deb unpacked image
    base=${VDSOCONF_CACHE:?}/kernels
    apt=$base/apt-$suite-$arch
    pin=$base/pins/$suite-$arch-$pkg
    mkdir -p "$apt/debs" "$base/pins"
    image_pkg=$(cat "$pin" 2>/dev/null)
    private_apt_verify "$apt" || true
    if [ -z "$image_pkg" ] || ! ls "$apt"/debs/"${image_pkg%%:*}"_*.deb >/dev/null 2>&1; then
        private_apt_init "$apt" "$suite" "$arch" || { echo "apt index of $suite/$arch unavailable" >&2; return 1; }
        # The metapackage depends on the versioned image package; from 6.19 on,
        # that package holds no kernel and depends on the linux-binary-* package
        # that does (at usr/lib/modules/VERSION/vmlinuz). The pin names the
        # package that holds the image.
        # A versioned package (linux-image-7.0.13+deb13-cloud-amd64,
        # linux-binary-…) names one kernel; a metapackage names the newest.
        # (A version has a dot: linux-image-686 is bookworm's i386 metapackage.)
        case $pkg in
        linux-image-[0-9]*.* | linux-binary-[0-9]*.*) image_pkg=$pkg ;;
        *)
            # shellcheck disable=SC2046
            image_pkg=$(apt-cache $(private_apt_opts "$apt") depends "$pkg:$arch" 2>/dev/null \
                | sed -nE 's/^  Depends: (linux-image-[^ ]+)$/\1/p' | head -n1)
            ;;
        esac
        [ -n "$image_pkg" ] || { echo "no $pkg for $arch in $suite" >&2; return 1; }
        # shellcheck disable=SC2046
        binary_pkg=$(apt-cache $(private_apt_opts "$apt") depends "${image_pkg%%:*}:$arch" 2>/dev/null \
            | sed -nE 's/^  Depends: (linux-binary-[^ ]+)$/\1/p' | head -n1)
        [ -n "$binary_pkg" ] && image_pkg=$binary_pkg
        private_apt_download "$apt" "$image_pkg" 2>"$apt.err" || { echo "download of $image_pkg failed: $(tail -n1 "$apt.err")" >&2; return 1; }
        echo "$image_pkg" >"$pin"
    fi
    deb=$(ls "$apt"/debs/"${image_pkg%%:*}"_*.deb | head -n1)
    unpacked=$base/${image_pkg%%:*}
    if [ "$(cat "$unpacked/.from" 2>/dev/null)" != "$(sha256sum <"$deb" | cut -d' ' -f1)" ]; then
        rm -rf "$unpacked" "$unpacked.tmp"
        dpkg-deb -x "$deb" "$unpacked.tmp" || { echo "cannot unpack $deb" >&2; return 1; }
        sha256sum <"$deb" | cut -d' ' -f1 >"$unpacked.tmp/.from"
        mv "$unpacked.tmp" "$unpacked"
    fi
    image=$(ls "$unpacked"/boot/vmlinuz-* "$unpacked"/boot/vmlinux-* \
        "$unpacked"/usr/lib/modules/*/vmlinuz "$unpacked"/usr/lib/modules/*/vmlinux 2>/dev/null | head -n1)
    [ -n "$image" ] || { echo "$image_pkg has no boot/vmlinu[xz]-* nor usr/lib/modules/*/vmlinu[xz]" >&2; return 1; }
    echo "$image"
}
