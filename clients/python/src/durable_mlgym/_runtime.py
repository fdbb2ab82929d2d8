"""One background event loop for every environment of the process.

Gymnasium environments are synchronous; the Temporal client is asyncio. All Temporal calls run on one
loop in a daemon thread, so an environment works the same in a script, in a notebook (whose own loop
is already running) and from several threads at once (the vector helpers).
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from temporalio.client import Client

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_clients: dict[tuple[str, str], Client] = {}
_connecting: asyncio.Lock | None = None
# How long the Rust threads get at exit to finish their last use of the GIL (see _shutdown).
_EXIT_GRACE_S = 0.25


def loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=_loop.run_forever, name="durable-mlgym", daemon=True)
            _thread.start()
            atexit.register(_shutdown)
        return _loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on the shared loop and wait for its result (from any thread but the loop's own)."""
    return asyncio.run_coroutine_threadsafe(coro, loop()).result()


async def client(address: str, namespace: str) -> Client:
    """One connected client per (address, namespace), shared by the environments (call on the shared loop)."""
    global _connecting
    _connecting = _connecting or asyncio.Lock()
    async with _connecting:
        key = (address, namespace)
        if key not in _clients:
            _clients[key] = await Client.connect(address, namespace=namespace)
        return _clients[key]


def _shutdown() -> None:
    """Quiesce the Temporal client before the interpreter finalizes.

    The client's Rust threads take the GIL once more after each call has returned its result to Python.
    One that tries while the interpreter is finalizing is ended by Python mid-call and crashes the process
    (SIGSEGV or SIGABRT after the script's last line; temporalio/sdk-python#300, about 1 exit in 20 here).
    atexit handlers run before finalization: cancel what is pending, drop the clients, stop the loop, and
    leave the Rust threads a moment, GIL released, to finish.
    """
    global _loop, _thread
    with _lock:
        loop, thread, _loop, _thread = _loop, _thread, None, None
    if loop is None or thread is None:
        return

    async def drain() -> None:
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        _clients.clear()

    try:
        asyncio.run_coroutine_threadsafe(drain(), loop).result(timeout=10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        time.sleep(_EXIT_GRACE_S)
