#!/usr/bin/env bash
# The systemd unit's sandbox, as systemd itself scores it: exposure must stay
# at 2.0 or lower ("OK"; 10 is an unsandboxed root service).
# Usage: unit_security.sh UNIT_FILE
set -euo pipefail
unit=$1
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze is missing (Debian package systemd; scripts/bootstrap installs it)" >&2
  exit 1
fi
report=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1)
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$report")
if [[ -z "$score" ]]; then
  echo "no exposure level in systemd-analyze's report for $unit:" >&2
  echo "$report" >&2
  exit 1
fi
echo "exposure level of $(basename "$unit"): $score (limit 2.0)"
if ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
  echo "$report" | grep -v '^✓' >&2
  exit 1
fi
