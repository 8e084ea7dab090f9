import { Option } from 'commander';

/**
 * `--interface <address>` (env CLIQUE_INTERFACE): the IPv4 address of the
 * network interface that multicast and mDNS are pinned to. Tests always pass
 * 127.0.0.1; real users may omit it to use the system's default interface.
 */
export function interfaceOption(): Option {
  return new Option('-i, --interface <address>', 'IPv4 address of the interface for multicast and mDNS')
    .env('CLIQUE_INTERFACE');
}
