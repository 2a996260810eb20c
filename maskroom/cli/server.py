"""The command server behind quick CLI commands (the client side: maskroom/launcher.py).

``python -m maskroom.cli.server`` imports the CLI with the catalog layer, listens on
the launcher's socket and, for each command, forks a child that takes the client's
stdin/stdout/stderr, working folder, environment and umask and runs the command as
``maskroom`` would.  The server itself never opens a catalog (a fork must not share a
database connection) and starts no thread.  It exits after ``IDLE_SECONDS`` without
a command, or when the maskroom code it imported changed on disk (an upgrade or an
edit): that request is answered "start it yourself" and the next command leaves a
fresh server.
"""
from __future__ import annotations

import io
import json
import os
import resource
import signal
import socket
import struct
import sys

from maskroom.launcher import socket_path

IDLE_SECONDS = 600.0
MAX_REQUEST = 4 << 20  # bytes of arguments and environment


def code_stamp() -> float:
    """The newest modification time of the maskroom source files this process imported."""
    newest = 0.0
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.startswith("maskroom") and path:
            try:
                newest = max(newest, os.stat(path).st_mtime)
            except OSError:
                return float("inf")  # a file went away: stale
    return newest


def _listen(path: str) -> socket.socket | None:
    """The listening socket, or None when another live server holds the path."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return None  # one is running
    except OSError:
        pass
    finally:
        probe.close()
    try:
        os.unlink(path)  # a dead server's socket
    except FileNotFoundError:
        pass
    old = os.umask(0o077)  # only this user may connect
    try:
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
    finally:
        os.umask(old)
    srv.listen(16)
    return srv


def _serve_one(conn: socket.socket, fds: list[int], request: dict) -> None:  # in the forked child
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_at_fork = usage.ru_utime + usage.ru_stime  # (a fork's child starts its count at zero; be sure)
    for target, fd in zip((0, 1, 2), fds):
        os.dup2(fd, target)
    for fd in fds:
        os.close(fd)
    os.chdir(request["cwd"])
    os.umask(int(request["umask"]))
    os.environ.clear()
    os.environ.update(request["env"])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # Fresh text streams on the client's descriptors (buffering and isatty as a new process has).
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), errors="surrogateescape")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), errors="surrogateescape",
                                  line_buffering=os.isatty(1))
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), errors="backslashreplace", line_buffering=True)
    sys.argv = ["maskroom", *request["argv"]]
    conn.sendall(struct.pack("!I", os.getpid()))
    status = 1
    try:
        from maskroom.cli import main

        main()
        status = 0
    except SystemExit as exc:
        code = exc.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if not isinstance(code, int) and code is not None:
            print(code, file=sys.stderr)
    except KeyboardInterrupt:
        status = 130
    except BaseException:  # noqa: BLE001 - as the interpreter would: the traceback, status 1
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                pass
    usage = resource.getrusage(resource.RUSAGE_SELF)  # the command's CPU, for bench/cli_startup.py
    try:
        conn.sendall(struct.pack("!id", status, usage.ru_utime + usage.ru_stime - cpu_at_fork))
    except OSError:
        pass
    os._exit(status)


def serve(path: str | None = None, idle: float = IDLE_SECONDS) -> None:
    import maskroom.cli  # noqa: F401 - what a quick command needs, imported once for every child
    from maskroom.cli import library_cmds  # noqa: F401
    from maskroom.services import catalog_admin, library  # noqa: F401

    path = path or socket_path()
    srv = _listen(path)
    if srv is None:
        return
    mine = os.stat(path).st_ino
    stamp = code_stamp()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    srv.settimeout(idle)
    try:
        while True:
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                return  # idle: leave
            with conn:
                try:
                    msg, fds, _flags, _addr = socket.recv_fds(conn, MAX_REQUEST, 3)
                    size = struct.unpack("!I", msg[:4])[0]
                    body = msg[4:]
                    while len(body) < size:
                        more = conn.recv(size - len(body))
                        if not more:
                            break
                        body += more
                    request = json.loads(body)
                except (OSError, ValueError, struct.error):
                    continue
                if code_stamp() != stamp or len(fds) != 3:
                    conn.sendall(struct.pack("!I", 0))  # run it yourself; a new server follows
                    for fd in fds:
                        os.close(fd)
                    return
                if os.fork() == 0:
                    srv.close()
                    _serve_one(conn, fds, request)
                for fd in fds:
                    os.close(fd)
    finally:
        srv.close()
        try:
            if os.stat(path).st_ino == mine:  # not a newer server's socket
                os.unlink(path)
        except OSError:
            pass


if __name__ == "__main__":
    serve()
