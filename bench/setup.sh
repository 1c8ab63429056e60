#!/usr/bin/env bash
# Installs the tools that bench/run.sh needs from Debian's packages: wrk (the
# closed-loop load generator), nginx (the reference proxy) and taskset (from
# util-linux, to pin processes to cores). It runs apt-get update and apt-get
# install only when a tool is missing, so running it again is cheap.
set -euo pipefail

declare -A package_of=([wrk]=wrk [nginx]=nginx [taskset]=util-linux [shuf]=coreutils [ss]=iproute2 [curl]=curl)

missing=()
for tool in "${!package_of[@]}"; do
	if command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]]; then
		echo "setup: $tool is installed ($(command -v "$tool" || echo "/usr/sbin/$tool"))"
	else
		missing+=("${package_of[$tool]}")
	fi
done

if ((${#missing[@]} == 0)); then
	echo "setup: nothing to install"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "setup: missing packages: ${missing[*]}; run this script as root or install them with apt-get" >&2
	exit 1
fi
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "setup: installing ${packages[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
echo "setup: installed ${packages[*]}"
