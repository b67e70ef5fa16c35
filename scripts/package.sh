#!/usr/bin/env bash
# Builds the hoist packages from a clean release tree: build/pkg/hoist_<version>-1_<arch>.deb
# and build/pkg/hoist-<version>-1.<arch>.rpm (docs/packaging.md). Run as root on Debian 12
# (it installs what it needs with scripts/setup.sh); safe to run again.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=${HOIST_PACKAGE_DIR:-$src/build/pkg}

bash "$src/scripts/setup.sh"
# Packages are configured for /usr so that /etc, /var and /usr/sbin land where
# Debian and RPM systems expect them; no sanitizers, no tests.
cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DHOIST_TESTS=OFF
cmake --build "$out" -j2
generators=DEB
command -v rpmbuild >/dev/null 2>&1 && generators="DEB;RPM"
(cd "$out" && cpack -G "$generators")
lintian --tag-display-limit 0 "$out"/hoist_*.deb || true
ls -l "$out"/hoist_*.deb "$out"/hoist-*.rpm 2>/dev/null
