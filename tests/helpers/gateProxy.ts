import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export interface GateProxy {
  /** host:port to give the process whose traffic is gated. */
  address: string;
  /** Resolves when the gate first closed. */
  closed: Promise<void>;
  stop: () => Promise<void>;
}

/**
 * A TCP proxy to `upstream` that stops forwarding what its clients send as soon as `shut()` is true,
 * checked when each chunk arrives. Whatever a client sends after it made `shut()` true (for a worker:
 * completing the activity after storing a record) therefore never reaches the server: a crash point
 * without a timing window and without a hook in the code under test.
 */
export async function startGateProxy(upstream: string, shut: () => boolean, onClose: () => void): Promise<GateProxy> {
  const [host, port] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  let signal!: () => void;
  const closed = new Promise<void>((resolve) => (signal = resolve));
  let isClosed = false;
  const server = createServer((client) => {
    const server = createConnection({ host, port });
    sockets.add(client).add(server);
    client.on('data', (chunk) => {
      if (!isClosed && shut()) {
        isClosed = true;
        onClose();
        signal();
      }
      if (!isClosed) server.write(chunk);
    });
    server.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on('close', end).on('error', end);
    server.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    closed,
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
