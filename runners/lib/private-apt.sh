# shellcheck shell=bash
# Private apt configuration: fetch Debian packages of any suite or architecture into a
# cache directory without changing the host's apt state. The mirror URI is read from
# the machine's own apt sources; no registry host is written in this repository.
#
#   source runners/lib/private-apt.sh
#   private_apt_init CACHE_DIR "bookworm-backports trixie" "amd64 arm64"
#   private_apt_download CACHE_DIR pkg[:arch][=version] ...   # .debs land in CACHE_DIR/debs

# The URI of one of the machine's Debian archives: `main` (default) or `security`.
private_apt_mirror() {
    local which=${1:-main} uri
    uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null \
        | if [ "$which" = security ]; then grep security; else grep -v security; fi \
        | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' \
        | awk '{print $1}' | grep -E '^https?://' | head -n1)
    if [ -z "$uri" ]; then
        echo "private-apt: no Debian $which archive found in /etc/apt/sources.list{,.d}" >&2
        return 1
    fi
    echo "$uri"
}

private_apt_opts() {
    local dir=$1
    echo "-o Dir::Etc::SourceList=$dir/sources.list -o Dir::Etc::SourceParts=/dev/null \
-o Dir::State=$dir/state -o Dir::Cache=$dir/cache -o Dir::Etc::Preferences=/dev/null \
-o Dir::Etc::PreferencesParts=/dev/null -o APT::Architectures=$(cat "$dir/arches") \
-o Debug::NoLocking=1 -o Acquire::Languages=none -o APT::Sandbox::User=root"
}

# private_apt_init DIR "SUITES" "ARCHES": writes the sources and updates the lists
# (only if the configuration changed, or the last complete update is over a day old).
private_apt_init() {
    local dir=$1 suites=$2 arches=$3 mirror security=""
    mirror=$(private_apt_mirror) || return 1
    mkdir -p "$dir/state/lists/partial" "$dir/cache/archives/partial" "$dir/debs"
    local sources=""
    for s in $suites; do
        local uri=$mirror
        # Security updates live in their own archive (suites named like bookworm-security).
        if [[ $s == *-security ]]; then
            [ -n "$security" ] || security=$(private_apt_mirror security) || return 1
            uri=$security
        fi
        sources+="deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $s main"$'\n'
    done
    local arch_list=${arches// /,}
    if [ "$sources" != "$(cat "$dir/sources.list" 2>/dev/null)"$'\n' ] || [ "$arch_list" != "$(cat "$dir/arches" 2>/dev/null)" ] \
        || [ -z "$(find "$dir/updated" -mtime -1 2>/dev/null)" ]; then
        rm -f "$dir/updated"
        printf '%s' "$sources" > "$dir/sources.list"
        echo "$arch_list" > "$dir/arches"
        # shellcheck disable=SC2046
        apt-get $(private_apt_opts "$dir") update -qq >&2 || return 1
        touch "$dir/updated"
    fi
}

# private_apt_download DIR PKG...: downloads into DIR/debs (skips files already there)
# and records each new file's SHA256, as the package index gives it, in
# DIR/debs/SHA256SUMS; a file whose bytes do not match is deleted and fails.
private_apt_download() {
    local dir=$1; shift
    # shellcheck disable=SC2046
    (cd "$dir/debs" && apt-get $(private_apt_opts "$dir") download -qq "$@" >&2) || return 1
    _private_apt_record "$dir"
}

_private_apt_record() {
    local dir=$1 deb name pkg ver arch want got bad=0
    touch "$dir/debs/SHA256SUMS"
    for deb in "$dir"/debs/*.deb; do
        [ -e "$deb" ] || continue
        name=$(basename "$deb")
        grep -q "  $name\$" "$dir/debs/SHA256SUMS" && continue
        pkg=$(dpkg-deb -f "$deb" Package 2>/dev/null) ver=$(dpkg-deb -f "$deb" Version 2>/dev/null)
        arch=$(dpkg-deb -f "$deb" Architecture 2>/dev/null)
        # Without ":arch" apt answers for its native architecture.
        [ "$arch" = all ] || pkg=$pkg:$arch
        # shellcheck disable=SC2046
        want=$(apt-cache $(private_apt_opts "$dir") show "$pkg=$ver" 2>/dev/null | sed -n 's/^SHA256: //p')
        got=$(sha256sum "$deb" | cut -d' ' -f1)
        if ! grep -qx "$got" <<<"$want"; then
            echo "private-apt: $name: sha256 $got is not the index's (${want:-no entry for $pkg=$ver}); deleted" >&2
            rm -f "$deb"
            bad=1
            continue
        fi
        echo "$got  $name" >>"$dir/debs/SHA256SUMS"
    done
    return "$bad"
}

# private_apt_verify DIR: every .deb in DIR/debs still has the SHA256 recorded from
# its index (one not yet recorded is checked against DIR's index now); a changed
# file, or one the index does not vouch for, is deleted (fetched again on next use).
private_apt_verify() {
    local dir=$1 deb name bad=0
    [ -d "$dir/debs" ] || return 0
    _private_apt_record "$dir" || bad=1
    for deb in "$dir"/debs/*.deb; do
        [ -e "$deb" ] || continue
        name=$(basename "$deb")
        if ! grep "  $name\$" "$dir/debs/SHA256SUMS" 2>/dev/null | (cd "$dir/debs" && sha256sum -c --quiet --strict - >/dev/null 2>&1); then
            echo "private-apt: cached $name does not match its recorded sha256; deleted" >&2
            rm -f "$deb"
            bad=1
        fi
    done
    return "$bad"
}

# private_apt_stamp DIR: the sha256 of DIR's SHA256SUMS, kept beside a tree unpacked
# from DIR's packages: a tree whose stamp differs is unpacked again.
private_apt_stamp() {
    sha256sum <"$1/debs/SHA256SUMS" | cut -d' ' -f1
}
