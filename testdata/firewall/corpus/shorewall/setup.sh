# Shorewall and Shorewall6, run for real: Debian's packages (unpacked by
# capture.sh into $CORPUS_SW, never installed) compile the
# one-interface example they ship, with SSH and Redis rules appended
# (rules4, rules6), and --preview prints the iptables-restore input that
# `shorewall start` would load; it is loaded here the same way.
set -e
R=${CORPUS_SW:?}
ip link add eth0 type veth peer name eth0-peer
ip link set eth0 up
for fam in 4 6; do
	p=shorewall restore=iptables-restore
	[ $fam = 4 ] || p=shorewall6 restore=ip6tables-restore
	conf=$(mktemp -d)
	for f in "$R/usr/share/doc/$p/examples/one-interface"/*; do
		case $f in *.annotated | */README.txt) ;; *) cp "$f" "$conf/" ;; esac
	done
	cat "rules$fam" >> "$conf/rules"
	perl -I "$R/usr/share/shorewall" "$R/usr/share/shorewall/compiler.pl" \
		--shorewallrc="$R/usr/share/shorewall/shorewallrc" \
		--config_path="$conf:$R/etc/$p:$R/usr/share/$p:$R/usr/share/shorewall" \
		--directory="$conf" --family=$fam --preview > "$conf/preview"
	# The ruleset is the text the compiled program feeds iptables-restore.
	awk '/^[[:space:]]*cat << __EOF__ >&3$/ { on = 1; next } /^__EOF__$/ { on = 0 } on' "$conf/preview" | $restore
	rm -rf "$conf"
done
