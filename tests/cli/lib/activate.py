#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""activate.py NOTIFY SOCKIT ARGS...: socket activation as systemd does it.

Makes a listening TCP socket on 127.0.0.1 and a notify datagram socket
(NOTIFY is a path, or @name for an abstract one), starts SOCKIT ARGS with
the listener as fd 3, LISTEN_PID = its own pid, LISTEN_FDS=1 and
NOTIFY_SOCKET, waits (bounded) for its notification, then sends one line
through the listener. Prints "notify <state>", "port N" and "exit N".
"""
import os
import socket
import sys

notify_name, argv = sys.argv[1], sys.argv[2:]
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind("\0" + notify_name[1:] if notify_name.startswith("@") else notify_name)
notify.settimeout(5)
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(8)
port = lsock.getsockname()[1]
print(f"port {port}", flush=True)

pid = os.fork()
if pid == 0:
    os.dup2(lsock.fileno(), 3)  # dup2 clears close-on-exec on fd 3
    env = dict(os.environ, LISTEN_PID=str(os.getpid()), LISTEN_FDS="1",
               NOTIFY_SOCKET=notify_name)
    os.execve(argv[0], argv, env)
lsock.close()
try:
    print("notify " + notify.recv(256).decode(), flush=True)
except socket.timeout:
    print("notify none", flush=True)
with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
    c.sendall(b"activated\n")
    c.shutdown(socket.SHUT_WR)
    c.settimeout(5)
    while c.recv(4096):
        pass
_, status = os.waitpid(pid, 0)
print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)
