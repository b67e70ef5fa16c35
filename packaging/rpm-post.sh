# rpm %post: enable hoist-boot at boot on first installation; never start it.
if [ "$1" -eq 1 ]; then
	if command -v systemctl >/dev/null 2>&1; then
		systemctl --no-reload enable hoist-boot.service >/dev/null 2>&1 || :
	elif command -v chkconfig >/dev/null 2>&1; then
		chkconfig --add hoist-boot >/dev/null 2>&1 || :
	fi
fi
chmod 0711 /var/lib/hoist 2>/dev/null || :
chmod 0750 /var/log/hoist 2>/dev/null || :
