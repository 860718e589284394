# shellcheck shell=bash
# Rust cross toolchains from Debian's packages, for the qemu matrix.
#
# The rustup toolchain has only the x86_64 standard library and may not download
# more, so the matrix builds foreign targets with a Debian compiler and Debian's
# per-architecture standard library. Each toolchain below is a (compiler, std)
# pair from Debian suites; for every target the first pair whose packages can be
# fetched is used:
#
#   debian-web  rustc-web from bookworm-security (runs on bookworm) with
#               libstd-rust-web-dev:<arch> from trixie (the documented pair)
#   debian-sid  rustc and libstd-rust-dev:<arch> from sid, for when the mirror
#               cannot give the first (an index that fails its checksum drops
#               the whole suite for that architecture)
#   debian-web-src  rustc-web with the standard library built from source
#               (rust-web-src, the same Debian version as the compiler) by
#               cargo's -Zbuild-std, for the targets Debian builds no std for
#               (32-bit and big-endian powerpc, x32, mips); the build directory
#               keeps the built std, so only the first build pays for it
#
# Nothing is installed into the system: packages are fetched with a private apt
# configuration into $VDSOCONF_CACHE/toolchains (their sha256, as the index gave
# it, recorded and checked before every use) and unpacked there. The compiler
# runs through the loader of its own package set (sid's needs a newer glibc than
# the host's). A compiler and a std are used together only when `rustc --version`
# equals the version recorded in every rlib of the std.
#
#   source runners/qemu/toolchain.sh
#   toolchain_for_target TRIPLE DEB_ARCH   # prints the name of a usable toolchain,
#                                          # or fails with the reasons on stderr
#   toolchain_rustc NAME                   # the compiler wrapper to put in RUSTC

# name | compiler suites | compiler package | std suites | std package
TOOLCHAINS=(
    "debian-web|bookworm bookworm-security|rustc-web|trixie|libstd-rust-web-dev"
    "debian-sid|sid|rustc|sid|libstd-rust-dev"
    "debian-web-src|bookworm bookworm-security|rustc-web|bookworm bookworm-security|rust-web-src"
)

# Packages a compiler depends on that the host provides (the linker driver and
# the C library headers); everything else is unpacked beside the compiler.
TOOLCHAIN_FROM_HOST='^(gcc|gcc-[0-9]+|binutils|libc6-dev|libc-dev|cpp|cpp-[0-9]+)$'

toolchain_cache() { echo "${VDSOCONF_CACHE:?}/toolchains"; }

toolchain_field() { # toolchain_field NAME INDEX
    local t
    for t in "${TOOLCHAINS[@]}"; do
        IFS='|' read -r -a f <<<"$t"
        if [ "${f[0]}" = "$1" ]; then
            echo "${f[$2]}"
            return 0
        fi
    done
    return 1
}

toolchain_rustc() { echo "$(toolchain_cache)/$1/rustc"; }

# toolchain_builds_std NAME: whether NAME builds the standard library from source
# (cargo needs RUSTC_BOOTSTRAP=1 and -Zbuild-std for it).
toolchain_builds_std() { [[ $(toolchain_field "$1" 4) == *-src ]]; }

# _tc_apt DIR SUITES ARCH: a private apt configuration for one architecture, so a
# broken index of one architecture cannot take the others down with it. A failure
# is not tried again: it costs the targets that need that index, with apt's reason.
_tc_apt() {
    local dir=$1 suites=$2 arch=$3
    mkdir -p "$dir"
    if private_apt_init "$dir" "$suites" "$arch" 2>"$dir.err"; then
        rm -f "$dir.err"
        return 0
    fi
    return 1
}

# The first error apt printed, for a "not built" reason.
_tc_apt_error() {
    grep -m1 -E '^(E|W): ' "$1.err" 2>/dev/null | sed -E 's/^[EW]: //; s/ +\[IP: [^]]*\]//' | cut -c1-220
}

# _tc_closure DIR PKG...: PKG and its dependencies, recursively, without the
# packages the host provides and without virtual packages.
_tc_closure() {
    local dir=$1
    shift
    local -A seen=()
    local queue=("$@") p d
    while [ "${#queue[@]}" -gt 0 ]; do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        [ -n "${seen[$p]:-}" ] && continue
        seen[$p]=1
        echo "$p"
        # shellcheck disable=SC2046
        while read -r d; do
            [[ $d =~ $TOOLCHAIN_FROM_HOST ]] && continue
            [ -z "${seen[$d]:-}" ] && queue+=("$d")
        done < <(apt-cache $(private_apt_opts "$dir") depends --no-recommends --no-suggests \
            --no-conflicts --no-breaks --no-replaces --no-enhances --no-pre-depends "$p" 2>/dev/null \
            | sed -nE 's/^  Depends: ([^<][^ ]*)$/\1/p')
    done
}

# _tc_compiler NAME: fetches and unpacks the compiler once; writes the wrapper.
_tc_compiler() {
    local name=$1 base root suites pkg apt loader libs rustc_bin sysroot
    base=$(toolchain_cache)/$name
    root=$base/root
    apt=$base/apt-amd64
    # A compiler unpacked from packages that still match their recorded sha256 is
    # used as it is, without asking the mirror.
    if [ -x "$base/rustc" ] && private_apt_verify "$apt" 2>/dev/null \
        && [ "$(cat "$root/.from" 2>/dev/null)" = "$(private_apt_stamp "$apt")" ] \
        && "$base/rustc" -vV >/dev/null 2>&1; then
        return 0
    fi
    suites=$(toolchain_field "$name" 1)
    pkg=$(toolchain_field "$name" 2)
    mkdir -p "$base"
    if ! _tc_apt "$apt" "$suites" amd64; then
        echo "compiler $pkg ($suites): $(_tc_apt_error "$apt")" >&2
        return 1
    fi
    mapfile -t pkgs < <(_tc_closure "$apt" "$pkg")
    if ! private_apt_download "$apt" "${pkgs[@]}" 2>"$apt.err"; then
        echo "compiler $pkg ($suites): $(_tc_apt_error "$apt")" >&2
        return 1
    fi
    rm -rf "$root" "$base"/std-*.ok "$base/rustc"
    mkdir -p "$root"
    local deb
    for deb in "$apt"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
    private_apt_stamp "$apt" >"$root/.from"
    loader=$(find "$root" -name 'ld-linux-x86-64.so.2' -type f | head -n1)
    libs=$(find "$root" -name '*.so*' \( -type f -o -type l \) -printf '%h\n' | sort -u | paste -sd:)
    rustc_bin=$(find "$root" -path '*/bin/rustc' -type f | head -n1)
    if [ -z "$rustc_bin" ]; then
        echo "compiler $pkg ($suites): the package has no bin/rustc" >&2
        return 1
    fi
    sysroot=$(dirname "$(dirname "$rustc_bin")")
    {
        echo '#!/bin/sh'
        echo "# $pkg from Debian $suites, run with its own libraries (written by runners/qemu/toolchain.sh)"
        if [ -n "$loader" ]; then
            echo "exec '$loader' --library-path '$libs' '$rustc_bin' --sysroot '$sysroot' \"\$@\""
        else
            echo "LD_LIBRARY_PATH='$libs' exec '$rustc_bin' --sysroot '$sysroot' \"\$@\""
        fi
    } >"$base/rustc.tmp"
    chmod +x "$base/rustc.tmp"
    if ! "$base/rustc.tmp" -vV >/dev/null 2>"$base/rustc.err"; then
        echo "compiler $pkg ($suites) does not run here: $(head -n1 "$base/rustc.err")" >&2
        return 1
    fi
    mv "$base/rustc.tmp" "$base/rustc"
}

# _tc_std NAME TRIPLE DEB_ARCH: unpacks the std for one target into the compiler's
# sysroot (fetching the compiler first) and checks that their versions agree.
_tc_std() {
    local name=$1 triple=$2 arch=$3 base suites pkg apt sysroot libdir
    base=$(toolchain_cache)/$name
    suites=$(toolchain_field "$name" 3)
    pkg=$(toolchain_field "$name" 4)
    apt=$base/apt-$arch
    if toolchain_builds_std "$name"; then
        _tc_std_source "$name" "$triple"
        return
    fi
    # An unpacked std is kept while its packages match their recorded sha256 and
    # its compiler was not unpacked again (which removes every std-*.ok).
    if [ -f "$base/std-$triple.ok" ]; then
        if [ "$(cat "$base/std-$triple.ok")" != "$(private_apt_stamp "$apt" 2>/dev/null)" ] \
            || ! private_apt_verify "$apt" || ! _tc_compiler "$name"; then
            rm -f "$base/std-$triple.ok"
        fi
    fi
    if [ ! -f "$base/std-$triple.ok" ]; then
        mkdir -p "$base"
        if ! _tc_apt "$apt" "$suites" "$arch"; then
            echo "$pkg:$arch ($suites): $(_tc_apt_error "$apt")" >&2
            return 1
        fi
        if ! private_apt_download "$apt" "$pkg:$arch" 2>"$apt.err"; then
            echo "$pkg:$arch ($suites): $(_tc_apt_error "$apt")" >&2
            return 1
        fi
        _tc_compiler "$name" || return 1
        sysroot=$("$base/rustc" --print sysroot)
        local deb tmp=$base/unpack-$arch
        rm -rf "$tmp"
        deb=$(ls "$apt"/debs/"${pkg}"_*_"$arch".deb | head -n1)
        dpkg-deb -x "$deb" "$tmp"
        libdir=$(find "$tmp" -type d -path "*/lib/rustlib/$triple/lib" | head -n1)
        if [ -z "$libdir" ]; then
            echo "$pkg:$arch has no standard library for $triple" >&2
            return 1
        fi
        mkdir -p "$sysroot/lib/rustlib/$triple"
        rm -rf "$sysroot/lib/rustlib/$triple/lib"
        mv "$libdir" "$sysroot/lib/rustlib/$triple/lib"
        rm -rf "$tmp"
    fi
    toolchain_verify "$name" "$triple" || return 1
    private_apt_stamp "$apt" >"$base/std-$triple.ok"
}

# _tc_std_source NAME TRIPLE: the standard library's source, from the package of
# the same Debian version as the compiler, where cargo's -Zbuild-std looks for it
# (the sysroot's lib/rustlib/src/rust); the target needs a built-in target
# specification of this compiler.
_tc_std_source() {
    local name=$1 triple=$2 base suites pkg apt src sysroot cver sver
    base=$(toolchain_cache)/$name
    suites=$(toolchain_field "$name" 3)
    pkg=$(toolchain_field "$name" 4)
    apt=$base/apt-source
    _tc_compiler "$name" || return 1
    if ! "$base/rustc" --print target-list | grep -qx "$triple"; then
        echo "rustc $("$base/rustc" --version | cut -d' ' -f2) has no target $triple" >&2
        return 1
    fi
    if [ ! -f "$base/source.ok" ] || [ "$(cat "$base/source.ok")" != "$(private_apt_stamp "$apt" 2>/dev/null)" ] \
        || ! private_apt_verify "$apt" 2>/dev/null; then
        rm -f "$base/source.ok"
        if ! _tc_apt "$apt" "$suites" amd64; then
            echo "$pkg ($suites): $(_tc_apt_error "$apt")" >&2
            return 1
        fi
        if ! private_apt_download "$apt" "$pkg" 2>"$apt.err"; then
            echo "$pkg ($suites): $(_tc_apt_error "$apt")" >&2
            return 1
        fi
        # The same Debian version as the compiler's package, or the library's
        # source may not build with (or match) this compiler.
        cver=$(ls "$base"/apt-amd64/debs/"$(toolchain_field "$name" 2)"_*.deb 2>/dev/null | head -n1 | sed -E 's/.*_(.*)_[^_]*\.deb$/\1/')
        sver=$(ls "$apt"/debs/"$pkg"_*.deb 2>/dev/null | head -n1 | sed -E 's/.*_(.*)_[^_]*\.deb$/\1/')
        if [ -z "$cver" ] || [ "$cver" != "$sver" ]; then
            echo "$pkg ${sver:-?} is not the compiler's version (${cver:-?})" >&2
            return 1
        fi
        src=$base/source
        rm -rf "$src"
        mkdir -p "$src"
        dpkg-deb -x "$apt"/debs/"$pkg"_*.deb "$src"
        private_apt_stamp "$apt" >"$base/source.ok"
    fi
    src=$(find "$base/source/usr/src" -mindepth 1 -maxdepth 1 -type d -name 'rustc-*' | head -n1)
    if [ -z "$src" ] || [ ! -f "$src/library/Cargo.lock" ]; then
        echo "$pkg has no library/ to build the standard library from" >&2
        return 1
    fi
    sysroot=$("$base/rustc" --print sysroot)
    mkdir -p "$sysroot/lib/rustlib/src"
    ln -sfn "$src" "$sysroot/lib/rustlib/src/rust"
    echo "source" >"$base/std-$triple.ok"
}

# toolchain_verify NAME TRIPLE: every rlib of the target's std must have been built
# by exactly this compiler (rustc refuses mismatched metadata with a confusing error).
toolchain_verify() {
    local name=$1 triple=$2 rustc want f got n=0 sysroot
    rustc=$(toolchain_rustc "$name")
    want=$("$rustc" --version) || return 1
    sysroot=$("$rustc" --print sysroot)
    for f in "$sysroot/lib/rustlib/$triple/lib/"*.rlib; do
        [ -e "$f" ] || continue
        n=$((n + 1))
        got=$(grep -aoE -m1 'rustc [0-9]+\.[0-9]+\.[0-9]+[^"]*\([^)]*\)( \([^)]*\))?' "$f" | head -n1)
        if [ "$got" != "$want" ]; then
            echo "version mismatch in $name for $triple: the compiler is '$want'," \
                "but $(basename "$f") was built by '${got:-an unknown compiler}'" >&2
            rm -f "$(toolchain_cache)/$name/std-$triple.ok"
            return 1
        fi
    done
    if [ "$n" -eq 0 ]; then
        echo "$name has no rlibs for $triple" >&2
        return 1
    fi
}

# toolchain_for_target TRIPLE DEB_ARCH: the first toolchain that can build TRIPLE.
# One already unpacked and verified is used without asking the mirror again, so a
# target keeps the toolchain it was first built with (the same compiler every run);
# when that is not the first choice, toolchain_fallback says why.
toolchain_for_target() {
    local triple=$1 arch=$2 t name why=""
    for t in "${TOOLCHAINS[@]}"; do
        name=${t%%|*}
        if [ -f "$(toolchain_cache)/$name/std-$triple.ok" ] && _tc_std "$name" "$triple" "$arch" 2>/dev/null; then
            echo "$name"
            return 0
        fi
    done
    mkdir -p "$(toolchain_cache)"
    # A toolchain before the one used that failed only because Debian has no such
    # package (no std built for the architecture) is not a fallback: building the
    # std from source is then the way. A mirror's failure is.
    local mirror_failed=0
    for t in "${TOOLCHAINS[@]}"; do
        name=${t%%|*}
        if _tc_std "$name" "$triple" "$arch" 2>"$(toolchain_cache)/why-$triple"; then
            if [ "$mirror_failed" = 1 ]; then
                echo "$why" >"$(toolchain_cache)/$name/fallback-$triple"
            else
                rm -f "$(toolchain_cache)/$name/fallback-$triple"
            fi
            echo "$name"
            return 0
        fi
        grep -q 'Unable to locate package' "$(toolchain_cache)/why-$triple" || mirror_failed=1
        why+="${why:+; }$name: $(tr '\n' ' ' <"$(toolchain_cache)/why-$triple" | sed 's/ *$//')"
    done
    echo "$why" >&2
    return 1
}

# toolchain_fallback NAME TRIPLE: why the toolchains before NAME could not build
# TRIPLE when it was first fetched (empty when NAME was the first choice, or when
# those before it failed only for want of a package: no std built by Debian).
toolchain_fallback() {
    cat "$(toolchain_cache)/$1/fallback-$2" 2>/dev/null || true
}

# Cross C compilers (the linkers) for targets the host's own Debian release has
# none for (bookworm has no loongarch64 one). Fetched from the first suite below
# whose packages can be got, unpacked into the cache with the C library they were
# built against, and run through that library's own loader: each of their
# executables is replaced by a script that starts it so (the driver finds cc1,
# collect2, as and ld beside it, so they are wrapped too).
CROSS_GCC_SUITES="trixie sid"

# cross_gcc_bin TRIPLE DEB_ARCH: prints a directory holding TRIPLE-gcc and the
# other TRIPLE-* tools (nothing else, so PATH can take it first), or fails with
# the reasons on stderr.
cross_gcc_bin() {
    local triple=$1 arch=$2 base suite why="" pkgs
    base=$(toolchain_cache)/cross-$triple
    if [ -x "$base/bin/$triple-gcc" ] && private_apt_verify "$base/apt" 2>/dev/null \
        && [ "$(cat "$base/root/.from" 2>/dev/null)" = "$(private_apt_stamp "$base/apt")" ] \
        && "$base/bin/$triple-gcc" --version >/dev/null 2>&1; then
        echo "$base/bin"
        return 0
    fi
    for suite in $CROSS_GCC_SUITES; do
        rm -rf "$base"
        mkdir -p "$base"
        if ! _tc_apt "$base/apt" "$suite" amd64; then
            why+="${why:+; }$suite: $(_tc_apt_error "$base/apt")"
            continue
        fi
        mapfile -t pkgs < <(_tc_closure "$base/apt" "gcc-${triple//_/-}" "binutils-${triple//_/-}" "libc6-dev-$arch-cross")
        if ! private_apt_download "$base/apt" "${pkgs[@]}" 2>"$base/apt.err"; then
            why+="${why:+; }$suite: $(_tc_apt_error "$base/apt")"
            continue
        fi
        if _cross_gcc_unpack "$base" "$triple" 2>"$base/unpack.err"; then
            echo "$base/bin"
            return 0
        fi
        why+="${why:+; }$suite: $(head -n1 "$base/unpack.err")"
    done
    echo "no cross C compiler for $triple from Debian ($why)" >&2
    return 1
}

# _is_x86_64_program FILE: a 64-bit little-endian ELF executable or PIE (e_type 2
# or 3) for x86-64 (e_machine 62).
_is_x86_64_program() {
    local h
    h=$(od -An -tx1 -N20 "$1" 2>/dev/null | tr -d ' \n')
    [[ $h == 7f454c460201* ]] && [[ ${h:32:8} == 02003e00 || ${h:32:8} == 03003e00 ]]
}

_cross_gcc_unpack() {
    local base=$1 triple=$2 root=$1/root deb loader libs f tool
    mkdir -p "$root" "$base/bin"
    for deb in "$base"/apt/debs/*.deb; do dpkg-deb -x "$deb" "$root" || return 1; done
    loader=$(find "$root" -name 'ld-linux-x86-64.so.2' -type f | head -n1)
    libs=$root/usr/lib/x86_64-linux-gnu
    [ -n "$loader" ] || { echo "the package set has no x86-64 loader"; return 1; }
    while read -r f; do
        case $f in *.so | *.so.*) continue ;; esac
        _is_x86_64_program "$f" || continue
        mv "$f" "$f.real"
        printf '#!/bin/sh\nexec "%s" --library-path "%s" --argv0 "$0" "%s" "$@"\n' "$loader" "$libs" "$f.real" >"$f"
        chmod +x "$f"
    done < <(find "$root/usr/bin" "$root/usr/libexec" "$root/usr/$triple/bin" -type f -perm -u+x 2>/dev/null)
    for tool in "$root"/usr/bin/"$triple"-*; do
        [ -e "$tool" ] && ln -sf "$tool" "$base/bin/$(basename "$tool")"
    done
    printf 'int main(void) { return 0; }\n' >"$base/probe.c"
    "$base/bin/$triple-gcc" -static -o "$base/probe" "$base/probe.c" || {
        echo "$triple-gcc from Debian does not link a static program here"
        return 1
    }
    private_apt_stamp "$base/apt" >"$root/.from"
}
