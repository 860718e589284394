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
-o Debug::NoLocking=1 -o Acquire::Languages=none -o Acquire::Retries=3 -o APT::Sandbox::User=root"
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

# private_apt_download DIR PKG...: downloads into DIR/debs (skips files already there).
private_apt_download() {
    local dir=$1; shift
    (cd "$dir/debs" && apt-get $(private_apt_opts "$dir") download -qq "$@" >&2)
}
