#!/bin/sh
# Runs inside a brick container in the SELinux guest (copied to the rootfs as /check.sh).
#   check.sh NAME OTHER-FILE...
# Writes one PASS/FAIL line per expectation to /out/result in its own rootfs: container_t may
# not write the payload's stdout (SELinux replaces that fd at exec), only its own files. /out,
# not /: Landlock (brick's fallback on hosts without SELinux) grants whole subtrees only.
me=$1
shift
{
  ctx=$(tr -d '\000' </proc/self/attr/current)
  echo "context $ctx"

  if [ "$(cat /data 2>&1)" = "data of $me" ]; then
    echo "PASS $me: reads its own /data"
  else
    echo "FAIL $me: reads its own /data: $(cat /data 2>&1)"
  fi

  if echo "written by $me" >"/out/written-$me" && [ "$(cat "/out/written-$me" 2>&1)" = "written by $me" ]; then
    echo "PASS $me: creates and reads back /out/written-$me in its rootfs"
  else
    echo "FAIL $me: creates and reads back /out/written-$me in its rootfs"
  fi

  # The other container's rootfs is bound at /other (read-only, no idmap: its files are
  # world-readable, so DAC allows the read and only the MCS categories can refuse it).
  for f in "$@"; do
    out=$(cat "$f" 2>&1)
    case $out in
    *"Permission denied"*) echo "PASS $me: reading the other container's $f -> EACCES" ;;
    *) echo "FAIL $me: reading the other container's $f -> expected EACCES, got: $out" ;;
    esac
  done

  # The host's /etc is bound read-write at /hostetc with an idmap, so the container's root
  # owns it as far as DAC goes: only the SELinux type can refuse the write.
  out=$(touch "/hostetc/brick-escape-$me" 2>&1)
  rc=$?
  case $out in
  *"Permission denied"*) echo "PASS $me: creating a file in the host's /etc -> EACCES" ;;
  *) echo "FAIL $me: creating a file in the host's /etc -> expected EACCES, got rc=$rc: $out" ;;
  esac
} >/out/result.tmp 2>&1
mv /out/result.tmp /out/result
