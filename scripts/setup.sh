#!/usr/bin/env bash
# Installs everything hoist needs to build, test and run its demo on Debian 12.
# Idempotent: does nothing when every package is already there. Run as root.
set -euo pipefail

packages=(
	build-essential cmake pkg-config git ca-certificates curl openssl
	libcurl4-openssl-dev libssl-dev libyaml-dev zlib1g-dev libarchive-dev libcmocka-dev
	python3 nginx-light
	# the libFuzzer harnesses (tests/fuzz, ctest label "fuzz"): clang and its fuzzer runtime;
	# strace for the systematic crash test (tests/e2e/crashpoints.py)
	clang libclang-rt-14-dev strace
	signify-openbsd # release signatures: tests check hoist against the real signify (issue 10)
)
# Packaging and man pages (issue 5) when those parts are present.
[ -d "$(dirname "$0")/../packaging" ] && packages+=(dpkg-dev fakeroot lintian rpm systemd man-db mandoc shellcheck)
# The benchmarks (bench/, docs/performance.md), on request: HOIST_BENCH=1 bash scripts/setup.sh.
[ "${HOIST_BENCH:-0}" = 1 ] && packages+=(awscli strace time)
# The simulated fleet (issue 11): Ansible drives sshd-per-namespace hosts; headless Chromium checks the dashboard.
[ -d "$(dirname "$0")/../tests/fleet" ] && packages+=(ansible-core openssh-server openssh-client iproute2 chromium)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages (${missing[*]}); run as root" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The S3 stand-in: moto_server with boto3 (preinstalled on the project's
# machines; Debian 12 does not package moto, so a fresh machine gets it from pip).
if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c 'import boto3, botocore' 2>/dev/null; then
	echo "setup: installing moto[server] and boto3 with pip"
	if ! python3 -m pip --version >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip python3-venv >/dev/null
	fi
	python3 -m pip install --quiet --break-system-packages 'moto[server]>=5,<6' boto3 \
		|| python3 -m pip install --quiet 'moto[server]>=5,<6' boto3
fi
echo "setup: ok"
