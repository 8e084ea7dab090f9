import { InvalidArgumentError } from 'commander';
import { isIPv4 } from 'node:net';

/** `--group`/`--address`: an IPv4 multicast address. */
export function parseGroup(value: string): string {
  const first = Number(value.split('.')[0]);
  if (!isIPv4(value) || first < 224 || first > 239) throw new InvalidArgumentError('not an IPv4 multicast address (224.0.0.0 - 239.255.255.255)');
  return value;
}

/** `--port`: a UDP/TCP port number. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new InvalidArgumentError('not a port number (1-65535)');
  return port;
}
