#!/bin/sh
# AfterInstall: render the page from the installed files and the version.
set -eu
. "$(dirname "$0")/common.sh"
mkdir -p "$WWW"
{
	echo "<html><body><h1>hoist-sample</h1>"
	echo "<p>version $HOIST_VERSION</p>"
	cat "$APP/conf/message.txt"
	echo "</body></html>"
} >"$WWW/index.html.tmp"
mv "$WWW/index.html.tmp" "$WWW/index.html"
note "page rendered"
echo "page rendered for version $HOIST_VERSION"
