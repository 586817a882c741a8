#!/bin/sh
# Install Debian packages the real-peer tests need, when run as root; say plainly what is
# skipped otherwise. Also make sure the local PostgreSQL is running when it is installed.
set -u
missing=""
for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "system-deps: installing$missing"
        # Daemons installed as test peers (lighttpd, mosquitto, dropbear...) must not start as
        # system services: one listening on *:80 would take port 80 from every lab address.
        made_policy=""
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
                && made_policy=1
        fi
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) \
            >/tmp/iotscope-apt.log 2>&1 || echo "system-deps: apt-get failed (see /tmp/iotscope-apt.log); tests needing$missing will skip"
        if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
    else
        echo "system-deps: not root; tests needing$missing will be skipped"
    fi
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
        echo "system-deps: starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
fi
exit 0
