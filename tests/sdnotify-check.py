#!/usr/bin/env python3
"""sdnotify-check.py MODE ASOCD TMPDIR [ASOCD-ARGS...]: plays systemd's part
of Type=notify for one asocd.  It binds a notify socket of its own (a path
in TMPDIR, or an abstract name with MODE abstract), starts asocd -f with
NOTIFY_SOCKET set, and checks:
  serve, abstract: READY=1 (with MAINPID, the daemon's pid) arrives, and at
    that moment the daemon (stopped at once with SIGSTOP, so it cannot catch
    up) already accepts on its control socket;
  never: a daemon still waiting for its peers (discovery with nobody to
    find) says nothing for 3 s and has no control socket.
Stops the daemon it started, by pid.  Exit 0 and 'ok', or 1 and why."""
import os
import select
import signal
import socket
import subprocess
import sys
import time

mode, asocd, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
extra = sys.argv[4:]
ctl = os.path.join(tmp, 'sdn-%s.sock' % mode)
ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if mode == 'abstract':
    name = 'asoc-test-sdnotify-%d' % os.getpid()
    ns.bind('\0' + name)
    notify = '@' + name
else:
    notify = os.path.join(tmp, 'notify-%s.sock' % mode)
    ns.bind(notify)
env = dict(os.environ, NOTIFY_SOCKET=notify)
log = open(os.path.join(tmp, 'sdn-%s.log' % mode), 'w')
d = subprocess.Popen([asocd, '-f', '--socket', ctl] + extra, env=env,
                     stdout=log, stderr=log)


def fail(why):
    print('FAIL: ' + why)
    sys.exit(1)


try:
    wait = 3 if mode == 'never' else 20
    r, _, _ = select.select([ns], [], [], wait)
    if mode == 'never':
        if r:
            fail('a daemon that does not serve said %r' % ns.recv(4096))
        if d.poll() is not None:
            fail('the daemon exited (%d): see its log' % d.returncode)
        if os.path.exists(ctl):
            fail('the control socket exists, yet the daemon waits')
        print('ok: no READY=1 while waiting for peers, no control socket')
        sys.exit(0)
    if not r:
        fail('no READY=1 within %d s (exit status %s)' % (wait, d.poll()))
    os.kill(d.pid, signal.SIGSTOP)
    msg = ns.recv(4096).decode()
    fields = dict(l.split('=', 1) for l in msg.split('\n') if '=' in l)
    if fields.get('READY') != '1':
        fail('the message has no READY=1: %r' % msg)
    if fields.get('MAINPID') != str(d.pid):
        fail('MAINPID %r is not the daemon\'s pid %d' %
             (fields.get('MAINPID'), d.pid))
    c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        c.connect(ctl)
    except OSError as e:
        fail('READY=1 came before the control socket accepted: %s' % e)
    c.close()
    os.kill(d.pid, signal.SIGCONT)
    r, _, _ = select.select([ns], [], [], 0.5)
    if r:
        fail('a second message: %r' % ns.recv(4096))
    print('ok: READY=1 and MAINPID=%d, the control socket accepting' % d.pid)
finally:
    try:
        os.kill(d.pid, signal.SIGCONT)
        d.terminate()
        d.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        d.kill()
        d.wait()
