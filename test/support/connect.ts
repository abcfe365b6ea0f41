// Connect streaming envelopes: 1 flag byte, 4-byte big-endian length, payload.
export const END_STREAM = 0x02;

export function envelope(flags: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Splits a complete Connect stream body into its envelopes. */
export function parseEnvelopes(data: Buffer): { flags: number; payload: string }[] {
  const out: { flags: number; payload: string }[] = [];
  let at = 0;
  while (at + 5 <= data.length) {
    const len = data.readUInt32BE(at + 1);
    out.push({ flags: data[at], payload: data.subarray(at + 5, at + 5 + len).toString() });
    at += 5 + len;
  }
  return out;
}
