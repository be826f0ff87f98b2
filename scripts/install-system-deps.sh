#!/bin/sh
# Installs what the sandbox wiki needs from Debian: MediaWiki 1.39, PHP with SQLite.
# --no-install-recommends keeps a MySQL server out; the policy-rc.d stops the apache2 the
# package depends on from starting on port 80 (the sandbox serves with `php -S`).
set -eu
# mount and e2fsprogs: the store-fault tests mount a small tmpfs and an ext4 image (as root).
# chromium and chromium-driver: the gadgets' browser tests (headless, driven by selenium).
PKGS="mediawiki php-cli php-sqlite3 php-intl php-mbstring php-xml php-apcu mount e2fsprogs chromium chromium-driver"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
