# shellcheck shell=bash
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

# fetched_once DIR KEY LOCK COMMAND...: what COMMAND (a download into the cache)
# printed and its exit status, from the first call with KEY since DIR was
# emptied: COMMAND runs once, under LOCK, whoever asks first (the matrix's fetch
# lane or a row), and every later call gets that answer. A failure is then the
# reason of every caller, not tried again: a retry would hide the mirror's bad
# hour in one row and show it in another.
fetched_once() {
    local f=$1/$2 lock=$3
    shift 3
    [ -e "$f.status" ] || with_lock "$lock" _fetch_first "$f" "$@"
    cat "$f.out" 2>/dev/null
    cat "$f.err" >&2 2>/dev/null
    return "$(cat "$f.status" 2>/dev/null || echo 1)"
}
_fetch_first() {
    local f=$1
    shift
    [ -e "$f.status" ] && return 0
    mkdir -p "$(dirname "$f")"
    "$@" >"$f.out" 2>"$f.err"
    echo $? >"$f.status.tmp"
    mv "$f.status.tmp" "$f.status"
}

# sync_sources ROOT DEST [PATHSPEC...]: the files of the git checkout ROOT (tracked,
# and untracked but not ignored; only PATHSPEC, default all) copied into DEST, each
# written only where its content differs, and files no longer listed removed.
# Cargo compares modification times, so a build in DEST redoes only what changed
# since the last build there from any clone; and DEST's path is the same for every
# clone, so are the paths compiled into what it builds.
sync_sources() {
    local root=$1 dest=$2 f
    shift 2
    [ $# -gt 0 ] || set -- .
    git -C "$root" rev-parse --git-dir >/dev/null 2>&1 \
        || { echo "sync_sources: $root is not a git checkout" >&2; return 1; }
    mkdir -p "$dest"
    git -C "$root" ls-files --cached --others --exclude-standard -- "$@" | sort -u >"$dest.files"
    while IFS= read -r f; do
        [ -f "$root/$f" ] || continue
        if ! cmp -s "$root/$f" "$dest/$f"; then
            mkdir -p "$(dirname "$dest/$f")"
            cp "$root/$f" "$dest/$f"
        fi
    done <"$dest.files"
    (cd "$dest" && find . -type f | sed 's|^\./||' | sort) | comm -13 "$dest.files" - \
        | while IFS= read -r f; do rm -f "$dest/$f"; done
}
