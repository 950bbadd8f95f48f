#!/bin/sh
# Configure (once) and build shmd in a build directory: build.sh DIR [configure args].
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
   [ "$top/Makefile.am" -nt "$top/Makefile.in" ]; then
	(cd "$top" && autoreconf --install --force >/dev/null 2>&1) ||
		(cd "$top" && autoreconf --install --force)
fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
	# Debian's python3, for python3-numpy, when there is one.
	if [ -x /usr/bin/python3 ] && [ -z "${PYTHON:-}" ]; then
		PYTHON=/usr/bin/python3 "$top/configure" --quiet "$@"
	else
		"$top/configure" --quiet "$@"
	fi
fi
make -j"$(nproc)" >/dev/null
