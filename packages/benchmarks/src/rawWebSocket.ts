import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import net from 'node:net';

/**
 * The subscription benchmark's WebSocket client: the smallest RFC 6455 client that speaks to the
 * gateway, on a bare TCP socket (ADR 0020). Ten thousand of them share the machine with the
 * gateway under test, so every microsecond a client spends per message is taken from the
 * gateway. `ws` as a client (its Receiver is a Writable stream, each message an event) spent
 * 25–30 % more CPU per received message than this, which parses frames straight out of the
 * socket's reads.
 *
 * What it supports is what the gateway sends: unfragmented text frames, ping (answered with pong),
 * close. No extensions (none is offered), no fragmentation, no binary messages (reported as errors).
 */
export interface RawWebSocket {
  send(text: string): void;
  close(code: number): void;
  destroy(): void;
}

export interface RawWebSocketHandlers {
  /** A text message; `payload` is a view of the socket's chunk, valid during the call only. */
  onMessage(payload: Buffer): void;
  /** The connection ended (close frame, socket closed or failed) after the handshake. */
  onClose(code: number, reason: string): void;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'; // RFC 6455, section 1.3
const HEADER_END = Buffer.from('\r\n\r\n');
const READ_BUFFER = Buffer.alloc(256 * 1024);

/** Opens a WebSocket (HTTP upgrade with `protocol`) and resolves once the server accepted it. */
export function openRawWebSocket(url: string, protocol: string, handlers: RawWebSocketHandlers): Promise<RawWebSocket> {
  const target = new URL(url);
  const key = randomBytes(16).toString('base64');
  const expectedAccept = createHash('sha1').update(key + GUID).digest('base64');
  let onChunk: (chunk: Buffer) => void = () => undefined;
  // `onread`: Node reads into one buffer shared by every client socket and calls back with it,
  // without a Buffer per read or the stream's 'data' machinery. A chunk is valid during the
  // callback only: whatever outlives it (handshake bytes, a partial frame, a pong) is copied.
  const socket = net.connect({
    host: target.hostname,
    port: Number(target.port) || 80,
    onread: {
      buffer: READ_BUFFER,
      callback: (size: number, buffer: Uint8Array) => {
        onChunk(Buffer.from(buffer.buffer, buffer.byteOffset, size));
        return true; // keep reading
      },
    },
  });
  socket.setNoDelay(true);
  const mask = Buffer.alloc(4);

  function frame(opcode: number, payload: Buffer) {
    const header = payload.length < 126 ? 2 : 4;
    if (payload.length >= 65_536) throw new Error('frames over 64 KiB are not supported by this client');
    const out = Buffer.allocUnsafe(header + 4 + payload.length);
    out[0] = 0x80 | opcode;
    if (header === 2) out[1] = 0x80 | payload.length;
    else {
      out[1] = 0x80 | 126;
      out.writeUInt16BE(payload.length, 2);
    }
    randomFillSync(mask);
    mask.copy(out, header);
    for (let i = 0; i < payload.length; i++) out[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
    socket.write(out);
  }

  let closed = false;
  function ended(code: number, reason: string) {
    if (closed) return;
    closed = true;
    handlers.onClose(code, reason);
  }

  const client: RawWebSocket = {
    send: (text) => frame(0x1, Buffer.from(text)),
    close(code) {
      const body = Buffer.allocUnsafe(2);
      body.writeUInt16BE(code, 0);
      frame(0x8, body);
      socket.end();
    },
    destroy: () => socket.destroy(),
  };

  /** Parses every complete frame of `data`; returns the bytes of an incomplete last frame. */
  function parse(data: Buffer): Buffer | undefined {
    let offset = 0;
    while (data.length - offset >= 2) {
      const first = data[offset]!;
      let length = data[offset + 1]! & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        start += 2;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = data.readUInt32BE(offset + 2) * 2 ** 32 + data.readUInt32BE(offset + 6);
        start += 8;
      }
      if (data.length < start + length) break;
      const payload = data.subarray(start, start + length);
      offset = start + length;
      const opcode = first & 0x0f;
      if ((first & 0x80) === 0 || (opcode !== 0x1 && opcode < 0x8)) {
        ended(1003, 'unsupported frame (fragmented or binary)');
        socket.destroy();
        return undefined;
      }
      if (opcode === 0x1) handlers.onMessage(payload);
      else if (opcode === 0x9) frame(0xa, Buffer.from(payload));
      else if (opcode === 0x8) {
        ended(payload.length >= 2 ? payload.readUInt16BE(0) : 1005, payload.subarray(2).toString());
        socket.end();
        return undefined;
      }
    }
    return offset < data.length ? Buffer.from(data.subarray(offset)) : undefined;
  }

  return new Promise((resolve, reject) => {
    let handshake: Buffer | undefined = Buffer.alloc(0);
    let rest: Buffer | undefined;
    socket.on('connect', () => {
      socket.write(
        `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
      );
    });
    onChunk = (chunk) => {
      if (handshake) {
        handshake = Buffer.concat([handshake, chunk]);
        const end = handshake.indexOf(HEADER_END);
        if (end < 0) return;
        const head = handshake.subarray(0, end).toString('latin1');
        const remaining = handshake.subarray(end + HEADER_END.length);
        handshake = undefined;
        const accept = /\r\nsec-websocket-accept: *([^\r]+)/i.exec(head)?.[1];
        const chosen = /\r\nsec-websocket-protocol: *([^\r]+)/i.exec(head)?.[1];
        if (!head.startsWith('HTTP/1.1 101') || accept !== expectedAccept || chosen !== protocol) {
          socket.destroy();
          reject(new Error(`WebSocket handshake refused: ${head.split('\r\n')[0]}`));
          return;
        }
        resolve(client);
        if (remaining.length > 0) rest = parse(remaining);
        return;
      }
      rest = parse(rest ? Buffer.concat([rest, chunk]) : chunk);
    };
    socket.on('error', (error) => {
      if (handshake) reject(error);
      ended(1006, error.message);
    });
    socket.on('close', () => {
      if (handshake) reject(new Error('connection closed during the WebSocket handshake'));
      ended(1006, 'connection closed');
    });
  });
}
