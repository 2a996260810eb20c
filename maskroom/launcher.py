"""The ``maskroom`` command's entry point: a command server for quick catalog commands.

Importing SQLAlchemy and the catalog's mapped classes costs a fresh Python process
about 0.4 s of CPU, more than the whole work of ``maskroom rate 4 12`` (issue 17's
target is 0.3 s).  As Mercurial's chg does, the first such command runs as usual
and then leaves a *command server* behind: a process with those modules imported,
listening on a socket private to the user.  Later quick commands send it their
arguments, environment, working folder and their stdin/stdout/stderr descriptors; it
forks a child that runs the command exactly as this process would (a fork per
command: nothing is shared between two commands but the imported code) and sends
back the exit status.

This module imports nothing of maskroom's, so a command the server answers costs
only the interpreter's start.  Anything unusual (no server yet, a server started
from older code, a platform without fork or Unix sockets, ``MASKROOM_SERVER=0``)
runs the command in this process instead, so the server is never needed for a
command to work.  The server exits after ``IDLE_SECONDS`` without a command
(maskroom/cli/server.py).
"""
from __future__ import annotations

import os
import socket
import struct
import sys

# Commands that only read or change the catalog: the ones a script calls in a loop.
# Anything else (import, export, the app...) starts the usual way.
QUICK_COMMANDS = frozenset({"ls", "show", "rate", "flag", "label", "tag", "keywords", "collection", "history"})
ENV_SWITCH = "MASKROOM_SERVER"  # "0": never use or start a server
CONNECT_TIMEOUT = 0.5  # seconds to reach the server and hear that a child started


def socket_path() -> str:
    """The server's socket: in the user's runtime folder (or a private one in /tmp)."""
    base = os.environ.get("MASKROOM_RUNTIME_DIR") or os.environ.get("XDG_RUNTIME_DIR")
    if not base:
        base = os.path.join("/tmp", f"maskroom-{os.getuid()}")
    return os.path.join(base, f"maskroom-{sys.implementation.cache_tag}.sock")


def _quick(argv: list[str]) -> bool:
    # The first word that is not an option is the command (after --catalog VALUE).
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 1 if "=" in argv[i] or argv[i] not in ("--catalog",) else 2
    return i < len(argv) and argv[i] in QUICK_COMMANDS and "--help" not in argv and "-h" not in argv


def _wanted(argv: list[str]) -> bool:
    return (os.environ.get(ENV_SWITCH, "1") != "0" and hasattr(os, "fork") and hasattr(socket, "AF_UNIX")
            and hasattr(socket, "send_fds") and _quick(argv))


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        part = conn.recv(n - len(data))
        if not part:
            return None
        data += part
    return data


def _via_server(argv: list[str]) -> int | None:
    """The command's exit status as run by the server; None when there is none to ask."""
    import json
    import signal

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(CONNECT_TIMEOUT)
    try:
        conn.connect(socket_path())
        request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                              "umask": os.umask(os.umask(0o22))}).encode()
        socket.send_fds(conn, [struct.pack("!I", len(request)) + request], [0, 1, 2])
        head = _recv_exact(conn, 4)  # the child's pid, or 0: "start it yourself" (older code)
    except (OSError, ValueError):
        conn.close()
        return None
    pid = struct.unpack("!I", head)[0] if head else 0
    if not pid:
        conn.close()
        return None
    conn.settimeout(None)  # the command takes as long as it takes
    forward = lambda signum, _frame: os.kill(pid, signum)  # noqa: E731 - Ctrl-C reaches the command
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    tail = _recv_exact(conn, struct.calcsize("!id"))
    conn.close()
    if tail is None:  # the child died without a word (killed)
        return 1
    status, cpu = struct.unpack("!id", tail)
    if os.environ.get("MASKROOM_SERVER_CPU_LOG"):  # bench/cli_startup.py: the child's CPU is not ours to count
        with open(os.environ["MASKROOM_SERVER_CPU_LOG"], "a") as log:
            log.write(f"{cpu}\n")
    return status


def _start_server() -> None:
    """Leave a server behind for the next quick command (its own session, no terminal)."""
    import subprocess

    try:
        # cwd "/": `-m` puts the working folder first on the path, and a checkout's own
        # maskroom/ folder there must not stand in for the installed package.
        subprocess.Popen([sys.executable, "-m", "maskroom.cli.server"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                         close_fds=True, cwd="/")
    except OSError:
        pass  # no server: commands still run, just slower


def run() -> None:
    argv = sys.argv[1:]
    wanted = _wanted(argv)
    if wanted:
        status = _via_server(argv)
        if status is not None:
            sys.exit(status)
    from maskroom.cli import main

    try:
        main()
    finally:
        if wanted:
            _start_server()
