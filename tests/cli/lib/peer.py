#!/usr/bin/python3
"""Scripted socket peers for the sockit CLI tests (loopback only, stdlib only).

Usage: peer.py [-6] MODE [ARG...]

Every mode that listens binds port 0 on 127.0.0.1 (or ::1 with -6), prints
"port N" on stdout once it listens, and writes what it saw to the file named
by $PEER_REPORT (lines "bytes N", "sha256 HEX", "eof yes|no", "datagram N").

  blackhole              listen(backlog 0) and never accept; fill the accept
                         queue so that further SYNs are dropped (connects hang)
  reply-after-eof FILE   read until EOF, then send FILE and close
  eof-first TEXT         send TEXT and shut down the write side at once, then
                         read until EOF
  reset-after N          read N bytes, then close with SO_LINGER 0 (RST)
  send-reset N           send N bytes, wait until they are acknowledged, then
                         close with SO_LINGER 0 (RST) while the peer still reads
  silent                 accept and say nothing, read and discard until EOF
  udp-sizes              UDP: record the size and hash of each datagram
  free-port              print a TCP port that was free a moment ago and exit
  free-udp-port          the same for UDP
"""
import fcntl
import hashlib
import os
import socket
import struct
import sys
import termios
import time


def report(lines):
    path = os.environ.get("PEER_REPORT")
    if not path:
        return
    with open(path + ".tmp", "w") as f:
        f.write("".join(line + "\n" for line in lines))
    os.rename(path + ".tmp", path)  # readers never see half a report


def announce(port):
    sys.stdout.write("port %d\n" % port)
    sys.stdout.flush()


def listener(family, backlog=1, kind=socket.SOCK_STREAM):
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
    if kind == socket.SOCK_STREAM:
        s.listen(backlog)
    return s


def read_all(conn):
    h, n = hashlib.sha256(), 0
    while True:
        b = conn.recv(1 << 16)
        if not b:
            return h.hexdigest(), n
        h.update(b)
        n += len(b)


def unacked(conn):
    """Bytes sent but not yet acknowledged by the peer (SIOCOUTQ)."""
    buf = fcntl.ioctl(conn.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


def rst_close(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def blackhole(family):
    s = listener(family, backlog=0)
    port = s.getsockname()[1]
    addr = s.getsockname()[:2]
    held = []
    # Each completed handshake sits in the accept queue; once it is full the
    # kernel drops SYNs, so the next connect stalls. Stop at the first stall.
    for _ in range(16):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.settimeout(0.3)
        try:
            c.connect(addr)
            held.append(c)
        except (socket.timeout, OSError):
            c.close()
            break
    else:
        sys.exit("blackhole: the accept queue never filled")
    announce(port)
    while True:
        time.sleep(3600)


def main():
    args = sys.argv[1:]
    family = socket.AF_INET
    if args and args[0] == "-6":
        family = socket.AF_INET6
        args = args[1:]
    mode, rest = args[0], args[1:]

    if mode in ("free-port", "free-udp-port"):
        kind = socket.SOCK_DGRAM if mode == "free-udp-port" else socket.SOCK_STREAM
        s = listener(family, kind=kind)
        print(s.getsockname()[1])
        return
    if mode == "blackhole":
        blackhole(family)
        return
    if mode == "udp-sizes":
        s = listener(family, kind=socket.SOCK_DGRAM)
        announce(s.getsockname()[1])
        seen = []
        while True:
            b, _ = s.recvfrom(1 << 17)
            seen.append("datagram %d %s" % (len(b), hashlib.sha256(b).hexdigest()))
            report(seen)

    s = listener(family)
    announce(s.getsockname()[1])
    conn, _ = s.accept()
    s.close()
    if mode == "reply-after-eof":
        digest, n = read_all(conn)
        report(["bytes %d" % n, "sha256 %s" % digest, "eof yes"])
        with open(rest[0], "rb") as f:
            conn.sendall(f.read())
        conn.close()
    elif mode == "eof-first":
        conn.sendall(rest[0].encode())
        conn.shutdown(socket.SHUT_WR)
        digest, n = read_all(conn)
        report(["bytes %d" % n, "sha256 %s" % digest, "eof yes"])
        conn.close()
    elif mode == "reset-after":
        want, got = int(rest[0]), 0
        while got < want:
            b = conn.recv(want - got)
            if not b:
                break
            got += len(b)
        report(["bytes %d" % got])
        rst_close(conn)
    elif mode == "send-reset":
        conn.sendall(os.urandom(int(rest[0])))
        # Wait (bounded) until the peer's kernel has acknowledged everything,
        # so the RST follows data that was delivered.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and unacked(conn):
            time.sleep(0.01)
        report(["sent %s" % rest[0]])
        rst_close(conn)
    elif mode == "silent":
        digest, n = read_all(conn)
        report(["bytes %d" % n, "sha256 %s" % digest, "eof yes"])
        conn.close()
    else:
        sys.exit("peer.py: unknown mode %r" % mode)


if __name__ == "__main__":
    main()
