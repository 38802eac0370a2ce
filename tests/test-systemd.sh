#!/usr/bin/env bash
# asocd@.service: systemd-analyze verify finds nothing to say about the
# unit make built (its ExecStart pointed at this build's asocd), and
# asocd's readiness (Type=notify) comes only once it serves, on a notify
# socket of the test's own (tests/sdnotify-check.py).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
SRC=${top_srcdir:-$(dirname "$0")/..}
UNIT=$B/systemd/asocd@.service

check "make built asocd@.service for the prefix" bash -c "
    grep -q '^ExecStart=/.*/asocd --foreground --config /etc/asoc/%i.conf' '$UNIT' &&
    ! grep -q '@[a-z]*@' '$UNIT'"
check "the unit asks for what asocd needs" bash -c "
    grep -qx 'Type=notify' '$UNIT' && grep -qx 'LimitMEMLOCK=infinity' '$UNIT' &&
    grep -qx 'NoNewPrivileges=yes' '$UNIT' && grep -qx 'ProtectSystem=strict' '$UNIT'"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$T/units"
	sed "s|^ExecStart=[^ ]*/asocd |ExecStart=$ASOCD |" "$UNIT" >"$T/units/asocd@test.service"
	check "systemd-analyze verify is clean" bash -c "
	    out=\$(systemd-analyze verify --man=no '$T/units/asocd@test.service' 2>&1) || rc=1
	    printf '%s\n' \"\$out\"; [ -z \"\$out\" ] && [ -z \"\${rc:-}\" ]"
	# ... and would say so: a unit with a mistake is not clean.
	sed 's/^Type=notify/Type=notifyy/' "$T/units/asocd@test.service" >"$T/units/asocd@bad.service"
	check_fails "systemd-analyze verify catches a broken unit" "notifyy" \
	    bash -c "out=\$(systemd-analyze verify --man=no '$T/units/asocd@bad.service' 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"
else
	not_ok "systemd-analyze is missing: apt-get install systemd"
fi

check "READY=1 only once the control socket accepts (path)" \
    python3 "$SRC/tests/sdnotify-check.py" serve "$ASOCD" "$T" --munge no
check "READY=1 only once the control socket accepts (abstract name)" \
    python3 "$SRC/tests/sdnotify-check.py" abstract "$ASOCD" "$T" --munge no
head -c 32 /dev/urandom >"$T/key" && chmod 600 "$T/key"
check "no READY=1 while asocd waits for its peers" \
    python3 "$SRC/tests/sdnotify-check.py" never "$ASOCD" "$T" --munge no \
    --discovery --world 2 --key-file "$T/key" --listen 127.0.0.1 \
    --port $((20000 + RANDOM % 20000)) --discovery-port $((40000 + RANDOM % 20000)) \
    --discovery-addr 127.255.255.255
finish
