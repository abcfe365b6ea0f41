// A raw TCP upstream whose behaviour a request picks with `x-upstream: reset | silent | reply`:
// reset the connection, never answer, or send back the exact bytes of `x-reply` (base64).
import { onRequestHead, startRawUpstream, type RawUpstream } from './raw-upstream';

export type Switchboard = RawUpstream;

export function startSwitchboard(): Promise<Switchboard> {
  return startRawUpstream((socket) =>
    onRequestHead(socket, (head) => {
      const behaviour = /\r\nx-upstream: *([a-z]+)/i.exec(head)?.[1] || 'reply';
      if (behaviour === 'reset') return void socket.resetAndDestroy();
      if (behaviour === 'silent') return;
      const reply = /\r\nx-reply: *([A-Za-z0-9+/=]+)/i.exec(head)?.[1];
      socket.end(reply ? Buffer.from(reply, 'base64') : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    }),
  );
}
