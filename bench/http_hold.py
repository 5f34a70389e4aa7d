#!/usr/bin/env python3
"""Holds idle keep-alive and slow-header TLS connections open against a server, for
bench/http_bench.sh (issue 14): IDLE connections that each made one GET /v1/health and then
wait, and SLOW connections that send a request head one line every 3 s (re-opened when the
server cuts them off at its head deadline, or an idle one at its idle timeout).

  bench/http_hold.py HOST PORT IDLE SLOW SECONDS
Prints one line: how many of each were open at the end, how many were re-opened.
"""
import socket
import ssl
import sys
import time

host, port, idle_n, slow_n, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(
    sys.argv[4]), float(sys.argv[5])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


def connect():
    raw = socket.create_connection((host, port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=host)


def open_idle():
    s = connect()
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: bench\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed")
        data += chunk
    s.setblocking(False)
    return s


def open_slow():
    s = connect()
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: bench\r\n")
    s.setblocking(False)
    return s


def alive(s):
    try:
        if s.recv(4096) == b"":
            return False
    except ssl.SSLWantReadError:
        return True
    except (BlockingIOError, ssl.SSLWantWriteError):
        return True
    except OSError:
        return False
    return True  # unexpected data (an answer): still open


idle = [open_idle() for _ in range(idle_n)]
slow = [open_slow() for _ in range(slow_n)]
print(f"http_hold: {len(idle)} idle and {len(slow)} slow connections open", flush=True)
reopened = 0
end = time.time() + seconds
line = 0
while time.time() < end:
    time.sleep(3)
    line += 1
    for i, s in enumerate(slow):
        try:
            s.setblocking(True)
            s.sendall(f"X-Slow-{line}: 1\r\n".encode())
            s.setblocking(False)
        except OSError:
            s.close()
            slow[i] = open_slow()
            reopened += 1
    for i, s in enumerate(idle):
        if not alive(s):
            s.close()
            idle[i] = open_idle()
            reopened += 1
print(f"http_hold: end: {len(idle)} idle, {len(slow)} slow, {reopened} re-opened", flush=True)
