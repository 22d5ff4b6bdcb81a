#!/usr/bin/python3
"""dfl.py CMD [ARG...]: exec CMD with SIGINT, SIGQUIT and SIGPIPE at their defaults.

A non-interactive shell starts background jobs with SIGINT ignored, and a
test runner may ignore SIGPIPE; neither is how a user's terminal runs sockit.
The exec keeps the PID, so the caller's $! is CMD's PID.
"""
import os
import signal
import sys

for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE):
    signal.signal(sig, signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_SETMASK, [])
os.execvp(sys.argv[1], sys.argv[1:])
