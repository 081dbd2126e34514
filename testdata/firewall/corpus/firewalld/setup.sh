# firewalld, run for real (its own D-Bus, its own /etc/firewalld through
# /etc/netns): the public zone as packaged (ssh, dhcpv6-client), a "redis"
# zone holding the application subnet as source with 6379 and 26379, and a
# rich rule limiting SSH connections per minute. capture.sh stops the two
# daemons (their pids are in $CORPUS_PIDS) after the dump.
set -e
: "${CORPUS_PIDS:?}"
ip link add eth0 type veth peer name eth0-peer
ip link set eth0 up
run=$(mktemp -d /tmp/fwd-XXXXXX)
cat > "$run/bus.conf" <<EOF2
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$run/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF2
dbus-daemon --config-file="$run/bus.conf" --nofork --nopidfile >"$run/dbus.log" 2>&1 &
echo $! >> "$CORPUS_PIDS"
echo "$run" >> "$CORPUS_PIDS.dirs"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$run/bus"
i=0; until [ -S "$run/bus" ]; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
firewalld --nofork --nopid --log-target console >"$run/firewalld.log" 2>&1 &
echo $! >> "$CORPUS_PIDS"
i=0; until firewall-cmd --state >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 100 ] || { cat "$run/firewalld.log"; exit 1; }; sleep 0.3; done
fc() { firewall-cmd --permanent "$@" >/dev/null; }
fc --zone=public --add-interface=eth0
fc --new-zone=redis
fc --zone=redis --add-source=192.0.2.0/24
fc --zone=redis --add-source=2001:db8::/64
fc --zone=redis --add-port=6379/tcp
fc --zone=redis --add-port=26379/tcp
fc --zone=public --add-rich-rule='rule service name="ssh" accept limit value="10/m"'
firewall-cmd --reload >/dev/null
