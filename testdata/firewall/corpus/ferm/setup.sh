# ferm, run for real on ferm.conf (capture.sh sets $FERM to Debian's ferm).
# ferm prefers the iptables-legacy tools when installed, as here: its rules
# land in the legacy tables.
set -e
"${FERM:-ferm}" ferm.conf
