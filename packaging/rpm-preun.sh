# rpm %preun: disable hoist-boot on the final removal (not on upgrade).
if [ "$1" -eq 0 ]; then
	if command -v systemctl >/dev/null 2>&1; then
		systemctl --no-reload disable hoist-boot.service >/dev/null 2>&1 || :
	elif command -v chkconfig >/dev/null 2>&1; then
		chkconfig --del hoist-boot >/dev/null 2>&1 || :
	fi
fi
