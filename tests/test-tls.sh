#!/usr/bin/env bash
# TLS on the TCP peer transport: a CA and node certificates made here with
# openssl(1); transfers over TLS checked byte for byte; TLS and plaintext
# peers, a certificate of another CA and one naming another host refused
# with a log line that says why; every bad setting stops start-up with its
# message; and the community name, sent in the HELLO, never on the wire.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

if ! command -v openssl >/dev/null 2>&1; then
	echo "openssl is not installed (tests/install-deps installs it)"
	echo "0 passed, 0 failed"
	exit 77
fi

# --- certificates ---
# make_ca NAME; make_cert NAME CA SAN: EC P-256 keys, valid for two days.
make_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$T/$1.key" -out "$T/$1.crt" -days 2 \
	    -subj "/CN=asoc test $1" 2>/dev/null
}
make_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$T/$1.key" -out "$T/$1.csr" -subj "/CN=$1" 2>/dev/null &&
	printf 'subjectAltName=%s\n' "$3" >"$T/$1.ext" &&
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.crt" -CAkey "$T/$2.key" \
	    -set_serial "0x$(openssl rand -hex 8)" -days 2 \
	    -extfile "$T/$1.ext" -out "$T/$1.crt" 2>/dev/null
}
make_ca ca
make_ca otherca
make_cert node0 ca "IP:$HOST,DNS:localhost"
make_cert node1 ca "IP:$HOST,DNS:localhost"
make_cert stranger otherca "IP:$HOST,DNS:localhost"
make_cert elsewhere ca "IP:192.0.2.7,DNS:elsewhere.example"
echo "not a certificate" >"$T/junk.pem"

# tls NAME [VERIFY]: the environment of a rank with NAME's certificate,
# trusting ca.
tls() { echo "ASOC_TLS_CERT=$T/$1.crt ASOC_TLS_KEY=$T/$1.key ASOC_TLS_CA=$T/ca.crt${2:+ ASOC_TLS_VERIFY_PEER=$2}"; }

# logged DESCRIPTION RANK PATTERN: rank's log has a line matching PATTERN.
logged() {
	local desc=$1 log=$T/d$2.log
	if grep -q -E -- "$3" "$log"; then ok "$desc"; else not_ok "$desc (no /$3/ in d$2.log)" "$log"; fi
}

# --- settings that must stop start-up, each with what to fix ---
X=(-f --peers "$HOST:1,$HOST:2" --rank 0 --socket "$T/x.sock")
# no_start DESCRIPTION NEEDLE CERT KEY CA [asocd options...]: asocd with
# that --tls-cert, --tls-key and --tls-ca (files in $T, - for none) must
# refuse to start, saying NEEDLE.
no_start() {
	local desc=$1 needle=$2 tls=()
	[ "$3" = - ] || tls+=(--tls-cert "$T/$3")
	[ "$4" = - ] || tls+=(--tls-key "$T/$4")
	[ "$5" = - ] || tls+=(--tls-ca "$T/$5")
	shift 5
	check_fails "$desc" "$needle" "$ASOCD" "${X[@]}" ${tls[@]+"${tls[@]}"} "$@"
}
no_start "a certificate without a key" "tls-cert without --tls-key" \
    node0.crt - ca.crt
no_start "a key without a certificate" "tls-key without --tls-cert" \
    - node0.key ca.crt
no_start "a CA without certificate and key" "tls-ca without --tls-cert and --tls-key" \
    - - ca.crt
no_start "verify-peer (the default) without a CA" "there is no --tls-ca" \
    node0.crt node0.key -
no_start "verify-peer yes without a CA" "there is no --tls-ca" \
    node0.crt node0.key - --tls-verify-peer yes
no_start "a verify-peer that is not yes or no" "tls-verify-peer must be yes or no" \
    - - - --tls-verify-peer maybe
no_start "a certificate file that is not there" "cannot read --tls-cert $T/none.crt: No such file" \
    none.crt node0.key ca.crt
no_start "a key file that is not there" "cannot read --tls-key $T/none.key" \
    node0.crt none.key ca.crt
no_start "a CA file that is not there" "cannot read --tls-ca $T/none.crt" \
    node0.crt node0.key none.crt
no_start "a certificate file with no certificate in it" "tls-cert $T/junk.pem: not a PEM certificate" \
    junk.pem node0.key ca.crt
no_start "a key file with no key in it" "tls-key $T/junk.pem: not a PEM private key" \
    node0.crt junk.pem ca.crt
no_start "a CA file with no certificate in it" "tls-ca $T/junk.pem: no PEM CA certificate" \
    node0.crt node0.key junk.pem
no_start "a key that does not match the certificate" "does not match the certificate" \
    node0.crt node1.key ca.crt
# -days 0: it expires the second it is made.
openssl x509 -req -in "$T/node0.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
    -set_serial 99 -days 0 -out "$T/expired.crt" 2>/dev/null
sleep 1
no_start "an expired certificate" "tls-cert $T/expired.crt has expired" \
    expired.crt node0.key ca.crt
check_fails "the same from the environment" "tls-cert without --tls-key" \
    env ASOC_TLS_CERT="$T/node0.crt" "$ASOCD" "${X[@]}"
check_fails "the same from the config file" "tls-key without --tls-cert" bash -c "
    printf 'tls-key = $T/node0.key\ntls-ca = $T/ca.crt\n' >'$T/tls.conf'
    '$ASOCD' ${X[*]} --config '$T/tls.conf'"

# --- transfers over TLS (the settings from the environment) ---
ENV_0=$(tls node0) ENV_1=$(tls node1) start_cluster 2 --community tls-canary-c0ffee
for size in 0 1 67108864; do
	for order in recv-first send-first; do
		check "TLS: rank 0 -> 1, $size bytes, $order" xfer "$size" "$order" 0 1
		check "TLS: rank 1 -> 0, $size bytes, $order" xfer "$size" "$order" 1 0
	done
done
logged "rank 0 logs TLS 1.3 with rank 1 and a verified certificate" 0 \
    "TLS with rank 1 .*TLSv1\.3 .*CN *= *node1 \(verified\)"
logged "rank 1 logs TLS 1.3 with the connection it accepted" 1 \
    "TLS with $HOST:[0-9]+: TLSv1\.3 .*CN *= *node0 \(verified\)"
check "asoc-stat shows the peer's transport as tcp+tls" bash -c \
    "'$STAT' --socket '$(sock 0)' --json | grep -q '\"rank\":1,[^}]*\"transport\":\"tcp+tls\"'"
check "both daemons survived" all_daemons_alive
check "no transfer left behind" wait_stat "$(sock 1)" xfers_active 0
stop_cluster

# What goes on the wire: strace rank 0's writes to its TCP sockets while
# it dials rank 1 and sends (connections are made on first use).  The
# community name travels in the HELLO: in clear without TLS, never with.
# on_wire ENV0 ENV1: sets hits to the count of socket writes that show it.
on_wire() {
	local spid
	ENV_0=$1 ENV_1=$2 start_cluster 2 --community tls-canary-c0ffee
	strace -f -qq -yy -s 512 -e trace=write,writev,sendmsg,sendto \
	    -o "$T/strace" -p "${DAEMONS[0]}" 2>/dev/null &
	spid=$!
	BGPIDS+=("$spid")
	sleep 0.5
	xfer 1048576 recv-first 0 1 >/dev/null 2>&1 || echo "on_wire: the transfer failed" >&2
	kill -INT "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	hits=$(grep -c 'TCP:\[.*tls-canary-c0ffee' "$T/strace" || true)
	stop_cluster
}
if ! command -v strace >/dev/null 2>&1; then
	echo "strace is not installed: the wire checks are skipped"
else
	on_wire "" ""
	if ! grep -q 'TCP:\[' "$T/strace" 2>/dev/null; then
		# Containers often forbid ptrace: say so rather than fail.
		echo "strace cannot trace asocd here: the wire checks are skipped"
	else
		if [ "${hits:-0}" -gt 0 ]; then ok "without TLS the community name is on the wire (the check works)"; else
			not_ok "without TLS the community name is on the wire (the check works)" "$T/strace"; fi
		on_wire "$(tls node0)" "$(tls node1)"
		if [ "${hits:-0}" -eq 0 ] && grep -q 'TCP:\[' "$T/strace"; then
			ok "with TLS the community name is not on the wire"
		else
			not_ok "with TLS the community name is not on the wire ($hits writes show it)" "$T/strace"
		fi
	fi
fi

# --- a TLS peer and a plaintext peer refuse each other ---
ENV_0=$(tls node0) ENV_1="" start_cluster 2 --connection-timeout 3
check "TLS rank 0 cannot send to plaintext rank 1" \
    "$XFER" --socket "$(sock 0)" send --to 1 --size 100 --expect enopeer
logged "plaintext rank 1 says a TLS peer called" 1 "refused peer $HOST:[0-9]+: it speaks TLS, this asocd runs without TLS"
logged "TLS rank 0 names rank 1 and the reason" 0 "TLS with rank 1 \($HOST:[0-9]+\) failed: .*does the peer run without TLS"
check "plaintext rank 1 is refused by TLS rank 0 at once" \
    "$XFER" --socket "$(sock 1)" send --to 0 --size 100 --expect eperm
logged "TLS rank 0 says a plaintext peer called" 0 "refused peer $HOST:[0-9]+: it speaks plaintext, this asocd requires TLS"
logged "plaintext rank 1 logs the refusal" 1 "rank 0 \\(.*\\): refused us: this asocd requires TLS"
stop_cluster

# --- a certificate of another CA ---
ENV_0=$(tls node0) ENV_1=$(tls stranger) start_cluster 2 --connection-timeout 3
check "rank 0 refuses rank 1's certificate of another CA (sending)" \
    "$XFER" --socket "$(sock 0)" send --to 1 --size 100 --expect enopeer
logged "rank 0 names rank 1 and OpenSSL's reason" 0 \
    "TLS with rank 1 \($HOST:[0-9]+\) failed: error:[0-9A-F]+:SSL routines::certificate verify failed: the peer's certificate: unable to get local issuer certificate"
check "rank 0 refuses rank 1's certificate of another CA (receiving)" \
    "$XFER" --socket "$(sock 1)" send --to 0 --size 100 --expect enopeer
logged "rank 0 names the connection and the reason" 0 \
    "TLS with $HOST:[0-9]+ failed: .*certificate verify failed"
stop_cluster
ENV_0=$(tls node0 no) ENV_1=$(tls stranger no) start_cluster 2
check "with verify-peer no the same certificates are accepted (0 -> 1)" xfer 65536 recv-first 0 1
check "with verify-peer no the same certificates are accepted (1 -> 0)" xfer 65536 send-first 1 0
logged "rank 0 logs that it did not verify" 0 "not verified: --tls-verify-peer no"
stop_cluster

# --- a certificate of the right CA for another host ---
ENV_0=$(tls node0) ENV_1=$(tls elsewhere) start_cluster 2 --connection-timeout 3
check "rank 0 refuses a certificate that does not name rank 1's host" \
    "$XFER" --socket "$(sock 0)" send --to 1 --size 100 --expect enopeer
logged "and says so" 0 "TLS with rank 1 .*certificate verify failed: the peer's certificate: IP address mismatch"
stop_cluster

# The same with --peers naming hosts: the certificate's DNS names count.
if [ "$HOST" = 127.0.0.1 ] && getent hosts localhost >/dev/null; then
	HOST=localhost
	ENV_0=$(tls node0) ENV_1=$(tls node1) start_cluster 2 --connection-timeout 3
	check "by name: a certificate for DNS:localhost is accepted" xfer 4096 recv-first 0 1
	stop_cluster
	ENV_0=$(tls node0) ENV_1=$(tls elsewhere) start_cluster 2 --connection-timeout 3
	check "by name: a certificate for another host is refused" \
	    "$XFER" --socket "$(sock 0)" send --to 1 --size 100 --expect enopeer
	logged "and says so" 0 "TLS with rank 1 \(localhost:[0-9]+\) failed: .*hostname mismatch"
	stop_cluster
	HOST=127.0.0.1
fi

finish
