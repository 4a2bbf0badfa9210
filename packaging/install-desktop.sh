#!/usr/bin/env bash
# Install (or remove) actdesk's desktop integration for this user: the application
# entry, its icons, and the MIME type of .actdesk projects.
#
#   install-desktop.sh [--prefix DIR] [--exec PATH] [--uninstall]
#
# --prefix  data folder to install into (default: $XDG_DATA_HOME, else ~/.local/share)
# --exec    the actdesk executable the entry starts (default: the one beside this script
#           in an unpacked build, else `actdesk` on PATH)
#
# Works from an unpacked build (the script sits beside the `actdesk` executable) and from
# a source checkout (packaging/install-desktop.sh). Uses xdg-utils (xdg-desktop-menu,
# xdg-icon-resource, xdg-mime) when they are installed, else copies the files itself and
# refreshes whichever caches it can (update-mime-database, update-desktop-database,
# gtk-update-icon-cache).
set -euo pipefail

die() { echo "install-desktop.sh: error: $*" >&2; exit 2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
exec_path=""
action=install
while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix) [[ $# -ge 2 ]] || die "--prefix needs a folder"; prefix="$2"; shift 2 ;;
        --exec) [[ $# -ge 2 ]] || die "--exec needs a path"; exec_path="$2"; shift 2 ;;
        --uninstall) action=uninstall; shift ;;
        -h|--help) sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

if [[ -d "$here/_internal/resources" ]]; then  # an unpacked PyInstaller build
    resources="$here/_internal/resources"
    default_exec="$here/actdesk"
elif [[ -d "$here/../resources" ]]; then  # a source checkout
    resources="$(cd "$here/../resources" && pwd)"
    default_exec="$(command -v actdesk || true)"
else
    die "no resources/ folder next to $here: run the script from an unpacked build or a source checkout"
fi

icons="$resources/icons/hicolor"
sizes=()
for dir in "$icons"/*x*/apps; do
    size="${dir#"$icons"/}"
    sizes+=("${size%%x*}")
done

have() { command -v "$1" >/dev/null 2>&1; }
# Runs a command with $XDG_DATA_HOME at the prefix: xdg-utils (user mode) and update-mime-database install and look there.
with_prefix() { XDG_DATA_HOME="$prefix" "$@"; }
use_xdg=false
if have xdg-desktop-menu && have xdg-icon-resource && have xdg-mime; then use_xdg=true; fi

# What xdg-utils do after installing, for when they are absent.
refresh_caches() {
    if have update-mime-database; then with_prefix update-mime-database "$prefix/mime"; fi
    if have update-desktop-database; then update-desktop-database -q "$prefix/applications"; fi
    if have gtk-update-icon-cache && [[ -d "$prefix/icons/hicolor" ]]; then
        gtk-update-icon-cache -q -t -f "$prefix/icons/hicolor" || true  # a cache is an optimisation
    fi
}

# A Desktop Entry Exec argument: quoted when the path holds anything but safe characters.
# Inside quotes \ " ` $ take a backslash; then the value's own escaping doubles every
# backslash, and a literal % is written %%.
desktop_exec_arg() {
    local path="$1" bs='\'
    if [[ "$path" =~ ^[A-Za-z0-9_./+-]+$ ]]; then
        printf '%s' "$path"
        return
    fi
    path="${path//"$bs"/"$bs$bs"}"
    path="${path//'"'/"$bs"'"'}"
    path="${path//'`'/"$bs"'`'}"
    path="${path//'$'/"$bs"'$'}"
    path="${path//"$bs"/"$bs$bs"}"
    path="${path//%/%%}"
    printf '"%s"' "$path"
}

if [[ "$action" == uninstall ]]; then
    rm -f "$prefix/icons/hicolor/scalable/apps/actdesk.svg"
    if $use_xdg; then
        with_prefix xdg-desktop-menu uninstall --mode user actdesk.desktop
        for size in "${sizes[@]}"; do
            with_prefix xdg-icon-resource uninstall --noupdate --mode user --context apps --size "$size" actdesk
        done
        with_prefix xdg-icon-resource forceupdate --mode user
        with_prefix xdg-mime uninstall --mode user "$resources/mime/actdesk.xml"
    else
        rm -f "$prefix/applications/actdesk.desktop" "$prefix/mime/packages/actdesk.xml"
        for size in "${sizes[@]}"; do rm -f "$prefix/icons/hicolor/${size}x${size}/apps/actdesk.png"; done
        refresh_caches
    fi
    echo "removed actdesk's desktop entry, icons and MIME type from $prefix"
    exit 0
fi

exec_path="${exec_path:-$default_exec}"
[[ -n "$exec_path" ]] || die "no actdesk executable found on PATH; name it with --exec PATH"
[[ -x "$exec_path" ]] || die "$exec_path is not an executable; name actdesk's with --exec PATH"
exec_path="$(cd "$(dirname "$exec_path")" && pwd)/$(basename "$exec_path")"

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
exec_arg="$(desktop_exec_arg "$exec_path")"
while IFS= read -r line; do
    case "$line" in
        Exec=*) printf 'Exec=%s %%f\n' "$exec_arg" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$resources/actdesk.desktop" > "$staging/actdesk.desktop"

install -D -m 644 "$icons/scalable/apps/actdesk.svg" "$prefix/icons/hicolor/scalable/apps/actdesk.svg"
if $use_xdg; then
    with_prefix xdg-desktop-menu install --novendor --mode user "$staging/actdesk.desktop"
    for size in "${sizes[@]}"; do
        with_prefix xdg-icon-resource install --noupdate --novendor --mode user --context apps --size "$size" \
            "$icons/${size}x${size}/apps/actdesk.png" actdesk
    done
    with_prefix xdg-icon-resource forceupdate --mode user
    with_prefix xdg-mime install --novendor --mode user "$resources/mime/actdesk.xml"
else
    install -D -m 644 "$staging/actdesk.desktop" "$prefix/applications/actdesk.desktop"
    for size in "${sizes[@]}"; do
        install -D -m 644 "$icons/${size}x${size}/apps/actdesk.png" \
            "$prefix/icons/hicolor/${size}x${size}/apps/actdesk.png"
    done
    install -D -m 644 "$resources/mime/actdesk.xml" "$prefix/mime/packages/actdesk.xml"
    refresh_caches
fi
echo "installed actdesk's desktop entry (starting $exec_path), icons and MIME type into $prefix"
