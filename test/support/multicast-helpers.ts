import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

/** Loopback only (NETWORK SAFETY): every test socket joins and sends on 127.0.0.1. */
export const LOOPBACK = '127.0.0.1';

/** A random group 239.255.71.X and high port, so parallel test files do not hear each other. */
export function testGroup(): { group: string; port: number } {
  return { group: `239.255.71.${randomInt(1, 254)}`, port: randomInt(20_000, 60_000) };
}

/** A plain socket that can inject raw datagrams into a group over loopback. */
export async function rawSender(): Promise<{ send(bytes: Uint8Array, group: string, port: number): Promise<void>; close(): void }> {
  const socket: Socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind({ port: 0, address: '0.0.0.0' }, () => resolve()));
  socket.setMulticastInterface(LOOPBACK);
  socket.setMulticastTTL(1);
  return {
    send: (bytes, group, port) =>
      new Promise<void>((resolve, reject) => socket.send(bytes, port, group, (error) => (error ? reject(error) : resolve()))),
    close: () => socket.close(),
  };
}
