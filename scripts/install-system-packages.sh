#!/usr/bin/env bash
# Installs the Debian packages the tests and the benchmark need: OpenSSH's server (the SFTP tests start
# their own sshd on a loopback port), Chromium (the web app's end-to-end tests drive it headless through
# playwright-core; no browser download) and pigz (the benchmark's gzip baseline). Safe to run again.
set -euo pipefail

missing=()
command -v /usr/sbin/sshd >/dev/null 2>&1 || missing+=(openssh-server)
command -v pigz >/dev/null 2>&1 || missing+=(pigz)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Need root to install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

# The package's postinst would start the system sshd on port 22; our tests run their own, so forbid it.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  created_policy=1
fi
trap '[ $created_policy -eq 1 ] && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
