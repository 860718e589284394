# The download cache (toolchains, qemu-user, kernels), shared by every clone on the
# machine so a fresh clone downloads nothing twice: $VDSOCONF_CACHE, else the
# per-user cache directory. Every .deb in it is checked against the SHA256 its
# package index gave when it was fetched (private_apt_verify) before it is used.
#
#   source runners/lib/cache.sh
#   cache=$(vdsoconf_cache_dir)

vdsoconf_cache_dir() {
    if [ -n "${VDSOCONF_CACHE:-}" ]; then
        echo "$VDSOCONF_CACHE"
    elif [ -n "${XDG_CACHE_HOME:-}" ]; then
        echo "$XDG_CACHE_HOME/vdsoconf"
    elif [ -n "${HOME:-}" ]; then
        echo "$HOME/.cache/vdsoconf"
    else
        echo "/var/tmp/vdsoconf-cache-$(id -u)"
    fi
}

# with_lock FILE COMMAND...: runs COMMAND holding an exclusive lock on FILE, so two
# matrix rows (or two clones) never fetch or unpack the same thing at once.
with_lock() {
    local lock=$1
    shift
    mkdir -p "$(dirname "$lock")"
    (
        flock -x 9
        "$@"
    ) 9>"$lock"
}
