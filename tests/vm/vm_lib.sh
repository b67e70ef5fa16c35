# shellcheck shell=bash
# vm_lib.sh - the VM test's plumbing (test_vm_boot.sh): host packages, the
# cached base image, the tree's .deb, the per-test disk, one bounded qemu
# boot, and reading the guest's report. Every process it starts is stopped
# by pid from vm_cleanup (the test's EXIT trap).

VM_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_CACHE=${HOIST_VM_CACHE:-/var/cache/hoist-vm}
VM_BOOT_TIMEOUT=${HOIST_VM_BOOT_TIMEOUT:-300}   # seconds per boot (a boot takes ~35 s)
VM_SMP=${HOIST_VM_SMP:-2}
VM_MEM=${HOIST_VM_MEM:-1024}
VM_QEMU_PID=""
VM_RESULT_PID=""

# Guest-side addresses (the slirp network is link-local so that the
# metadata address 169.254.169.254 can be forwarded at all).
VM_S3_ADDR=169.254.0.100
VM_RESULT_ADDR=169.254.0.101

now_ms() { date +%s%3N; }

# Installs the host packages the VM test needs (idempotent; root only when some are missing).
vm_setup_host() {
	local p missing=()
	for p in qemu-system-x86 mmdebstrap socat e2fsprogs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || { echo "vm: missing packages ${missing[*]} (run as root)" >&2; return 1; }
	echo "vm: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
		apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	}
}

# Prints the base image directory for the current recipe, building it first
# if this machine has none (under a lock, so concurrent runs build it once).
# The cache key is the recipe (build-base.sh) plus the apt sources it uses;
# images of older recipes are removed.
vm_base() {
	local sources=/etc/apt/sources.list.d/debian.sources key dir d
	[ -f "$sources" ] || sources=/etc/apt/sources.list
	key=$(cat "$VM_HOME/build-base.sh" "$sources" | sha256sum | cut -c1-16)
	dir=$VM_CACHE/base-$key
	if [ ! -f "$dir/base.img" ]; then
		mkdir -p "$VM_CACHE" || return 1
		(
			flock -w 900 9 || { echo "vm: base image lock busy" >&2; exit 1; }
			if [ ! -f "$dir/base.img" ]; then
				for d in "$VM_CACHE"/base-*; do
					[ -d "$d" ] && [ "$d" != "$dir" ] && rm -rf -- "$d"
				done
				bash "$VM_HOME/build-base.sh" "$dir" >"$VM_CACHE/build.log" 2>&1 ||
					{ tail -n 30 "$VM_CACHE/build.log" >&2; exit 1; }
			fi
		) 9>"$VM_CACHE/.lock" || return 1
	fi
	echo "$dir"
}

# Builds the tree's .deb (Release, no sanitizers, no tests) in BUILDDIR, as
# scripts/package.sh does; prints its path. HOIST_VM_CMAKE_ARGS adds cmake arguments.
vm_build_deb() {
	local src=$1 dir=$2
	# shellcheck disable=SC2086  # word splitting of the extra arguments is wanted
	{
		cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DHOIST_TESTS=OFF \
			${HOIST_VM_CMAKE_ARGS:-} &&
			cmake --build "$dir" -j2 &&
			rm -f "$dir"/hoist_*.deb &&
			(cd "$dir" && cpack -G DEB)
	} >"$dir.log" 2>&1 || { tail -n 40 "$dir.log" >&2; return 1; }
	ls "$dir"/hoist_*.deb
}

# Copies the base image to DISK and injects the .deb, the verdict script and its unit.
vm_make_disk() {
	local base=$1 disk=$2 deb=$3 g=$VM_HOME/guest out
	cp --sparse=always "$base/base.img" "$disk" || return 1
	# debugfs reports errors on stderr but exits 0: check the result below.
	debugfs -w -f - "$disk" >/dev/null 2>"$disk.debugfs" <<-EOF
		write $deb /root/hoist.deb
		write $g/hoist-vm-verdict /usr/local/sbin/hoist-vm-verdict
		sif /usr/local/sbin/hoist-vm-verdict mode 0100755
		write $g/hoist-vm-verdict.service /etc/systemd/system/hoist-vm-verdict.service
		symlink /etc/systemd/system/multi-user.target.wants/hoist-vm-verdict.service /etc/systemd/system/hoist-vm-verdict.service
	EOF
	out=$(debugfs -R 'ls -l /etc/systemd/system/multi-user.target.wants' "$disk" 2>/dev/null)
	if [[ "$out" != *hoist-vm-verdict.service* ]] ||
		! debugfs -R 'stat /root/hoist.deb' "$disk" 2>/dev/null | grep -q "Size: $(stat -c %s "$deb")"; then
		echo "vm: injecting files into $disk failed:" >&2
		cat "$disk.debugfs" >&2
		return 1
	fi
}

# Lists listening sockets of the given pids that are not on loopback (empty = good).
vm_public_listeners() {
	local pid pat=""
	for pid in "$@"; do pat="$pat|pid=$pid,"; done
	ss -Hltnup 2>/dev/null | grep -E "${pat#|}" | awk '$5 !~ /^(127\.0\.0\.1|\[::1\]):/'
}

# Boots DISK once: vm_boot NAME DISK BASE IMDS_PORT|"" S3_PORT RESULT_PORT.
# No IMDS port = no route to 169.254.169.254 at all (restrict=on drops it).
# Writes $VM_DIR/console-NAME.log; sets VM_BOOT_MS and VM_QEMU_RC.
vm_boot() {
	local name=$1 disk=$2 base=$3 imds=$4 s3=$5 res=$6 net t0 qpid i bad
	net="user,id=n0,restrict=on,net=169.254.0.0/16,host=169.254.0.2,dns=169.254.0.3,dhcpstart=169.254.0.15"
	[ -n "$imds" ] && net="$net,guestfwd=tcp:169.254.169.254:80-cmd:socat - TCP:127.0.0.1:$imds"
	net="$net,guestfwd=tcp:$VM_S3_ADDR:80-cmd:socat - TCP:127.0.0.1:$s3"
	net="$net,guestfwd=tcp:$VM_RESULT_ADDR:80-cmd:socat - TCP:127.0.0.1:$res"
	t0=$(now_ms)
	timeout --kill-after=10 "$VM_BOOT_TIMEOUT" qemu-system-x86_64 \
		-machine q35 -accel tcg -cpu max -smp "$VM_SMP" -m "$VM_MEM" \
		-nodefaults -display none -no-reboot -monitor none \
		-serial "file:$VM_DIR/console-$name.log" \
		-kernel "$base/vmlinuz" -initrd "$base/initrd.img" \
		-append "console=ttyS0 root=/dev/vda rw panic=-1 hoistvm.boot=$name hoistvm.result=$VM_RESULT_ADDR" \
		-drive "file=$disk,format=raw,if=virtio" \
		-netdev "$net" -device virtio-net-pci,netdev=n0 \
		</dev/null >"$VM_DIR/qemu-$name.log" 2>&1 &
	VM_QEMU_PID=$!
	# The only host sockets a boot may add: none (guestfwd cmd: starts socat per connection).
	for ((i = 0; i < 20; i++)); do
		qpid=$(pgrep -P "$VM_QEMU_PID" | head -n 1)
		[ -n "$qpid" ] && break
		sleep 0.1
	done
	sleep 2
	# shellcheck disable=SC2086  # BED_PIDS is a space-separated list
	bad=$(vm_public_listeners "$VM_QEMU_PID" ${qpid:+"$qpid"} ${BED_PIDS:-} ${VM_RESULT_PID:+"$VM_RESULT_PID"})
	# shellcheck disable=SC2034  # results for the caller
	VM_LISTEN_BAD=$bad
	wait "$VM_QEMU_PID"
	# shellcheck disable=SC2034  # results for the caller
	VM_QEMU_RC=$?
	VM_QEMU_PID=""
	# shellcheck disable=SC2034
	VM_BOOT_MS=$(($(now_ms) - t0))
}

# Prints section NAME of a guest report file (the lines after "@@ NAME").
vm_section() {
	awk -v s="@@ $2" '$0 == s { on = 1; next } /^@@ / { on = 0 } on' "$1"
}

# Prints key's value from a "Key=Value" section (systemctl show, record files).
vm_kv() {
	vm_section "$1" "$2" | sed -n "s/^$3=//p" | head -n 1
}

# Starts the host result server on a free 127.0.0.1 port; sets VM_RESULT_PORT.
vm_result_start() {
	local i
	mkdir -p "$VM_DIR/results"
	python3 "$VM_HOME/result_server.py" --dir "$VM_DIR/results" --port-file "$VM_DIR/result.port" \
		</dev/null >"$VM_DIR/result.stdout" 2>"$VM_DIR/result.stderr" &
	VM_RESULT_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$VM_DIR/result.port" ] && break
		sleep 0.1
	done
	VM_RESULT_PORT=$(cat "$VM_DIR/result.port" 2>/dev/null)
	[ -n "$VM_RESULT_PORT" ] || { echo "vm: result server did not start" >&2; cat "$VM_DIR/result.stderr" >&2; return 1; }
}

# Stops what this library started (qemu, the result server) by pid.
vm_cleanup() {
	if [ -n "$VM_QEMU_PID" ]; then
		kill -TERM "$VM_QEMU_PID" 2>/dev/null
		wait "$VM_QEMU_PID" 2>/dev/null
	fi
	if [ -n "$VM_RESULT_PID" ]; then
		kill -TERM "$VM_RESULT_PID" 2>/dev/null
		wait "$VM_RESULT_PID" 2>/dev/null
	fi
	VM_QEMU_PID="" VM_RESULT_PID=""
}
