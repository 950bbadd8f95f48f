#!/bin/sh
# Build shmd and run it in the foreground on run/shmd.sock (Ctrl-C stops it).
set -e
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
scripts/deps.sh
scripts/build.sh "$top/build" --enable-werror
mkdir -p run
sock="$top/run/shmd.sock"
cat <<MSG
shmd is starting on $sock (state in run/state). In another terminal:

  export SHMD_SOCKET=$sock
  build/client/shmdctl create demo 1M --lifetime persistent
  echo hello | build/client/shmdctl write demo
  build/client/shmdctl read demo --size 5
  build/client/shmdctl ls
  build/client/shmdctl status
  build/client/shmdctl watch          # events, until Ctrl-C
  build/client/shmdctl rm demo

MSG
exec build/daemon/shmd --config /dev/null --socket "$sock" \
	--state-dir "$top/run/state" "$@"
