"""One background event loop for every environment of the process.

Gymnasium environments are synchronous; the Temporal client is asyncio. All Temporal calls run on one
loop in a daemon thread, so an environment works the same in a script, in a notebook (whose own loop
is already running) and from several threads at once (the vector helpers).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from temporalio.client import Client

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_clients: dict[tuple[str, str], Client] = {}
_connecting: asyncio.Lock | None = None


def loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="durable-mlgym", daemon=True).start()
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
