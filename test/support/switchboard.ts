// A raw TCP upstream whose behaviour a request picks with `x-upstream: reset | silent | reply`:
// reset the connection, never answer, or send back the exact bytes of `x-reply` (base64).
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Switchboard {
  address: string;
  close(): Promise<void>;
}

export async function startSwitchboard(): Promise<Switchboard> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const behaviour = /\r\nx-upstream: *([a-z]+)/i.exec(head)?.[1] || 'reply';
      if (behaviour === 'reset') return void socket.resetAndDestroy();
      if (behaviour === 'silent') return;
      const reply = /\r\nx-reply: *([A-Za-z0-9+/=]+)/i.exec(head)?.[1];
      socket.end(reply ? Buffer.from(reply, 'base64') : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
