# ufw, run for real: a web server with SSH rate-limited (`ufw limit`, which
# ufw writes as -m recent rules), Redis open to the application subnet only
# and Sentinel to one host, both families (IPV6=yes, ufw's default).
set -e
ufw default deny incoming
ufw default allow outgoing
ufw limit 22/tcp
ufw allow 80/tcp
ufw allow 443/tcp
ufw allow from 192.0.2.0/24 to any port 6379 proto tcp
ufw allow from 2001:db8::/64 to any port 6379 proto tcp
ufw allow from 192.0.2.10 to any port 26379 proto tcp
ufw --force enable
