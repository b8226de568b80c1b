#!/bin/sh
# Prints, one a line, the Debian/Ubuntu packages that hold the shared
# libraries a library links against, so that an image can install exactly
# those (the names differ between releases: libcurl4 on Ubuntu 22.04,
# libcurl4t64 on 24.04, libyaml-cpp0.7 or 0.8, ...).
#
#   deploy/runtime-packages.sh /opt/certsync/lib/lua/5.1/libcertsync.so
#
# Fails if a library cannot be found at all. A library found on disk but
# owned by no package (e.g. a copy under /usr/local) is named on stderr.
set -eu

lib=${1:?usage: runtime-packages.sh LIBRARY.so}
if [ ! -f "$lib" ]; then
  echo "runtime-packages: $lib does not exist" >&2
  exit 1
fi

missing=$(ldd "$lib" | awk '/=> not found/ { print $1 }')
if [ -n "$missing" ]; then
  echo "runtime-packages: $lib needs libraries that are not installed: $missing" >&2
  exit 1
fi

# dpkg records a file under the path its package shipped it at; with merged
# /usr that may be /lib/... or /usr/lib/..., whichever ldd printed.
owner() {
  for candidate in "$1" "/usr$1" "${1#/usr}"; do
    pkg=$(dpkg-query -S "$candidate" 2>/dev/null | head -n 1 | cut -d: -f1)
    if [ -n "$pkg" ]; then
      echo "$pkg"
      return 0
    fi
  done
  return 1
}

ldd "$lib" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r path; do
  owner "$path" || owner "$(realpath "$path")" || echo "runtime-packages: no package owns $path" >&2
done | sort -u
