"""Waiting on I/O: clients of a slow loopback server, one after another, on threads, and on asyncio.

Claims tested:

- Seed 001 ("Python is only slow if you use it wrong"): threads are "okay for I/O": the "GIL will release for I/O".
- Seed 002 ("Velocidade"): use a ``ThreadPoolExecutor`` "when the task being executed involves a lot of blocking
  (i.e. making requests over the network)".
- Seed 003 (GIL): "it's usually fine using threads for I/O bound threads, but not for CPU bound threads".
- Seed 004 (CPython, Grumpy, PyPy): event-driven programming ("Twisted/async.io") as the alternative to threads.

Together: threads and asyncio both overlap waits on I/O, on every interpreter, GIL or no GIL. ``N`` clients that
each wait ``REQUESTS`` times ``delay`` ms should take about ``REQUESTS * delay`` ms in all when their waits overlap,
and ``N`` times that when they do not.

The clients talk to a TCP server on 127.0.0.1 (port 0: the OS picks a free one) in a process of its own, started
by the process's first call (the answer check's, or a worker's first warm-up) and kept for its later calls; it ends
when the process that started it does (its stdin closes). A client opens one connection, sends ``REQUESTS`` lines
``b"<client>:<request>\\n"`` one after another, reads each reply (the same line, echoed ``size`` ms after the server
read it) before sending the next, then closes with a reset (``SO_LINGER`` 0: see ``_reset_on_close``).
``DEFAULT_DELAY_MS`` is the matrix's size.

Variants:

- ``serial``: the clients one after another in the calling thread, blocking sockets: the reference, no overlap.
- ``threads``: one thread per client, all started then joined inside the timed call (blocking sockets, as in the
  seeds' ``Thread(get_webpage, ...)`` examples).
- ``asyncio``: one coroutine per client (``asyncio.open_connection``), run by ``asyncio.run`` inside the timed call,
  event loop start-up and close included.

Why the server is built this way: only the clients' concurrency should decide the time, so the server must never
serialize them. It is one ``selectors`` loop in one thread that accepts every connection at once and answers each line
from a timer (a heap of due times), so any number of replies wait at the same time and a reply is never held up by
another client's. A reply comes at least ``size`` ms after its request, up to about 1 ms later (epoll takes its
timeout in whole ms), on every variant alike. It binds to loopback only: the benchmark must open nothing to the
network.

It runs in a process of its own, on the same interpreter for every column (the orchestrator's:
``_harness.peer_python``), as the other end of a network connection does. In the clients' process, and on their
interpreter, it shared their GIL: on a GIL build its thread waited for the clients' to let go before it could send a
due reply, which timed the server's wait for the GIL, not the clients' overlap. Measured here (2026-12-06, medians of
12 calls, 2 ms delay): asyncio with 64 clients took 22.0 ms on CPython 3.12 and 19.9 ms on 3.15 with the server in
their process, 12.5 and 11.8 ms with it in a process of its own (on Debian's CPython 3.11), while on the free-threaded
3.13t it took 13.4 and 12.9 ms either way; the report's verdict named 3.13t the fastest for I/O-bound concurrency
(1.36x [1.02-1.80]) on that wait. Threads with 64 clients: 26.5 against 21.2 ms (3.12), 26.0 against 17.9 ms (3.15).
The server starts outside the timed calls (a cost of the process, not of its clients); each call opens and closes its
own connections.

The answer checked before timing: ``(REQUESTS, wrong)``, where ``wrong`` lists every client whose replies were not
exactly its own requests in order (with what it got). It is ``(REQUESTS, [])`` for every variant and every ``N``
only when each of the ``N * REQUESTS`` requests got its own reply: the harness compares a variant at ``N`` clients
with the reference at one.
"""

import asyncio
import heapq
import os
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time

from _harness import in_threads, main, peak_memory, peer_python

DEFAULT_DELAY_MS = 2

# The delay (ms) the tests use: short, so that every variant at every N runs quickly.
SMALL_SIZES = (1,)

# Requests per connection: more than one, so that a client waits on an open connection, not only on connecting.
REQUESTS = 2

# Loopback only: the benchmark must not listen on, or talk to, anything but this machine.
HOST = "127.0.0.1"

# Room for every client of a call to be waiting in the accept queue before the server thread first runs.
BACKLOG = 1024

# The option that runs this script as the server process (``serve``) instead of the harness.
SERVE_OPTION = "--serve"


def _line(client, request):
    return b"%d:%d\n" % (client, request)


def _nodelay(sock):
    # A request or reply is one short write: never let Nagle's algorithm hold it back waiting for an ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _reset_on_close(sock):
    # SO_LINGER 0: close() resets the connection, so it leaves no TIME_WAIT entry. A cell opens tens of thousands of
    # connections in a few seconds; their TIME_WAIT entries would each hold a local port for a minute and fill the
    # ephemeral range that every call's server port (port 0) and client ports are taken from.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class DelayServer:
    """A TCP echo server on 127.0.0.1 that answers each line ``delay_ms`` ms after reading it, as a context manager.

    ``with DelayServer(2) as server:`` listens on ``server.port`` (``server.socket`` is the listening socket) and
    serves from one thread; leaving the block stops that thread, joins it and closes every socket it opened, then
    re-raises whatever the server thread failed with.
    """

    def __init__(self, delay_ms):
        self.delay = delay_ms / 1000.0
        self.socket = None
        self.port = None
        self._thread = None
        self._wake_r = self._wake_w = None
        self._error = None

    def __enter__(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((HOST, 0))
            # Listening before the thread starts: clients may connect at once, the kernel queues them.
            listener.listen(BACKLOG)
            listener.setblocking(False)
            # The other thread cannot interrupt select(): a byte on this pair wakes it to stop.
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self.socket = listener
            self.port = listener.getsockname()[1]
            self._thread = threading.Thread(target=self._serve, name="io_threads-server")
            self._thread.start()
        except BaseException:
            self._close_sockets()
            listener.close()
            raise
        return self

    def __exit__(self, *exc_info):
        try:
            self._wake_w.send(b"x")
        finally:
            self._thread.join()
            self._close_sockets()
        if self._error is not None and exc_info[0] is None:
            raise self._error

    def _close_sockets(self):
        for sock in (self.socket, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()

    def _serve(self):
        selector = selectors.DefaultSelector()
        # Per connection: bytes read but not yet a whole line, and bytes due out that the socket did not take yet.
        pending_in = {}
        pending_out = {}
        # (due time, sequence number, connection, line): the sequence number keeps equal due times in arrival order.
        timers = []
        sequence = 0

        def drop(conn):
            selector.unregister(conn)
            pending_in.pop(conn, None)
            pending_out.pop(conn, None)
            conn.close()

        def send(conn, data):
            out = pending_out[conn] + data
            try:
                sent = conn.send(out)
            except BlockingIOError:
                sent = 0
            except OSError:
                # The client went away before its reply: nothing left to answer on this connection.
                drop(conn)
                return
            pending_out[conn] = out[sent:]
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if pending_out[conn] else 0)
            selector.modify(conn, events)

        try:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                timeout = None
                if timers:
                    timeout = max(0.0, timers[0][0] - time.monotonic())
                stopping = False
                for key, events in selector.select(timeout):
                    sock = key.fileobj
                    if sock is self._wake_r:
                        stopping = True
                    elif sock is self.socket:
                        # Accept everything queued: one readiness event may stand for many connections.
                        while True:
                            try:
                                conn, _ = sock.accept()
                            except BlockingIOError:
                                break
                            conn.setblocking(False)
                            _nodelay(conn)
                            pending_in[conn] = b""
                            pending_out[conn] = b""
                            selector.register(conn, selectors.EVENT_READ)
                    elif sock in pending_in:
                        if events & selectors.EVENT_WRITE:
                            send(sock, b"")
                        if events & selectors.EVENT_READ and sock in pending_in:
                            try:
                                data = sock.recv(4096)
                            except OSError:
                                data = b""
                            if not data:
                                drop(sock)
                                continue
                            lines = (pending_in[sock] + data).split(b"\n")
                            pending_in[sock] = lines.pop()
                            due = time.monotonic() + self.delay
                            for line in lines:
                                sequence += 1
                                heapq.heappush(timers, (due, sequence, sock, line + b"\n"))
                if stopping:
                    return
                now = time.monotonic()
                while timers and timers[0][0] <= now:
                    _, _, conn, line = heapq.heappop(timers)
                    if conn in pending_out:
                        send(conn, line)
        except BaseException as error:
            self._error = error
        finally:
            # On a stop or a failure alike: clients still waiting see the connection close instead of hanging.
            for conn in list(pending_in):
                conn.close()
            selector.close()


def _read_line(sock):
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = sock.recv(256)
        if not chunk:
            raise ConnectionError("the server closed the connection before replying")
        reply += chunk
    return reply


def _client(port, client):
    replies = []
    with socket.create_connection((HOST, port)) as sock:
        _nodelay(sock)
        for request in range(REQUESTS):
            sock.sendall(_line(client, request))
            replies.append(_read_line(sock))
        _reset_on_close(sock)
    return replies


async def _async_client(port, client):
    # asyncio's TCP transports set TCP_NODELAY themselves.
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        replies = []
        for request in range(REQUESTS):
            writer.write(_line(client, request))
            await writer.drain()
            reply = await reader.readline()
            if not reply.endswith(b"\n"):
                raise ConnectionError("the server closed the connection before replying")
            replies.append(reply)
        _reset_on_close(writer.get_extra_info("socket"))
        return replies
    finally:
        writer.close()
        await writer.wait_closed()


async def _async_clients(port, workers):
    return await asyncio.gather(*[_async_client(port, client) for client in range(workers)])


def _answer(workers, replies):
    # Independent of N when every client got exactly its own requests back, in order (see the module docstring).
    replies = list(replies) + [None] * (workers - len(replies))
    wrong = [
        (client, got)
        for client, got in enumerate(replies)
        if got != [_line(client, request) for request in range(REQUESTS)]
    ]
    return (REQUESTS, wrong)


def serve(delay_ms):
    """The server process: serve on a port it prints on stdout, until its stdin closes (the process that started it
    has ended, or let it go)."""
    with DelayServer(delay_ms) as server:
        sys.stdout.write("%d\n" % server.port)
        sys.stdout.flush()
        while sys.stdin.buffer.read(4096):
            pass


# delay ms -> (the server process, its port): this process's servers, one per delay.
_servers = {}


def server_port(delay_ms):
    """The port of this process's server for ``delay_ms``, started by the first call that needs it."""
    if delay_ms not in _servers:
        command = [peer_python(), os.path.abspath(__file__), SERVE_OPTION, str(delay_ms)]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = process.stdout.readline()
        if not line.strip().isdigit():
            process.stdin.close()
            raise RuntimeError("the io_threads server (%s) exited with status %s before it listened"
                               % (" ".join(command), process.wait()))
        _servers[delay_ms] = (process, int(line))
    return _servers[delay_ms][1]


def stop_servers():
    """End this process's servers and wait for them (tests that must leave nothing behind); a process's own end
    closes their stdin as well, which ends them too."""
    while _servers:
        _, (process, _) = _servers.popitem()
        process.stdin.close()
        process.stdout.close()
        process.wait()


def serial(size, workers):
    port = server_port(size)
    return _answer(workers, [_client(port, client) for client in range(workers)])


def threads(size, workers):
    port = server_port(size)
    return _answer(workers, in_threads(lambda client: _client(port, client), list(range(workers))))


def asyncio_(size, workers):
    return _answer(workers, asyncio.run(_async_clients(server_port(size), workers)))


VARIANTS = {
    "serial": serial,
    "threads": threads,
    "asyncio": asyncio_,
    "threads_memory": peak_memory(threads),
    "asyncio_memory": peak_memory(asyncio_),
}

if __name__ == "__main__":
    if sys.argv[1:2] == [SERVE_OPTION]:
        serve(int(sys.argv[2]))
    else:
        main("io_threads", VARIANTS, reference="serial")
