#!/usr/bin/env bash
# Local users are kept apart: the socket's directory must be the daemon
# user's and mode 0700, another user cannot reach the socket, and where an
# admin opened the way anyway, SO_PEERCRED refuses them (logged).  The
# daemon runs as nobody; the intruder is the "daemon" user.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

as() { setpriv --reuid "$1" --regid "$(id -g "$1")" --clear-groups "${@:2}"; }
OTHER=daemon
chmod 711 "$T"	# so nobody and daemon can reach their own folders below

mkdir -m 755 "$T/open"
chown nobody "$T/open"
check_fails "a socket folder others can enter is refused at start" \
    "mode 0755 and owned by uid $(id -u nobody): other users could reach the socket" \
    as nobody "$ASOCD" -f --socket "$T/open/s.sock" --munge no
mkdir -m 700 "$T/theirs"
check_fails "a socket folder of another user is refused at start" \
    "owned by uid 0" \
    as nobody "$ASOCD" -f --socket "$T/theirs/s.sock" --munge no 2>/dev/null

J=$T/job
mkdir -m 700 "$J"
chown nobody "$J"
# setpriv itself, not the function: $! must be the daemon's PID.
setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups \
    "$ASOCD" -f --socket "$J/asocd.sock" --log-file "$J/d.log" --munge no &
DAEMONS+=($!)
wait_daemon "$J/asocd.sock" "${DAEMONS[-1]}" || true
check "the job user's client is served" as nobody "$STAT" --socket "$J/asocd.sock"
check "root's client is served" "$STAT" --socket "$J/asocd.sock"
check_fails "another user cannot reach the socket (0700 folder)" \
    "another user's or job's" as "$OTHER" "$STAT" --socket "$J/asocd.sock"
check_fails "another user cannot send through it either" \
    "another user's or job's" as "$OTHER" "$XFER" --socket "$J/asocd.sock" self --size 4096

# An admin opens the folder and the socket to everyone: the uid check on
# the connection still refuses, and says so in the log.
chmod 711 "$J"
chmod 666 "$J/asocd.sock"
check_fails "with the folder opened, the client will not hand memory to another user's daemon" \
    "runs as uid $(id -u nobody), not as you (uid $(id -u $OTHER)): not handing it memory" \
    as "$OTHER" "$XFER" --socket "$J/asocd.sock" self --size 4096
check "and the daemon refused the connection (SO_PEERCRED); logged with the uid" \
    grep -q "refused client pid [0-9]*: uid $(id -u $OTHER) is not this daemon's user (uid $(id -u nobody))" "$J/d.log"
check "the job user's transfers go on" as nobody "$XFER" --socket "$J/asocd.sock" self --size 1048577
check "the daemon survived" all_daemons_alive
finish
