/**
 * Our mDNS stack as a separate process, for interop tests that run it inside
 * a network namespace (`ip netns exec NS node --import tsx mdns-ns-peer.ts ADDR`).
 * JSON commands on stdin, JSON events on stdout, one per line:
 *   {"cmd":"presence","user":…,"host":…,"port":…,"info":{…}}   {"cmd":"status","status":…,"message":…}
 *   {"cmd":"advertise","room":{name,address,port}}             {"cmd":"withdraw","name":…}
 *   {"cmd":"cached","fqdn":…}  → {"event":"cached","types":[…]} (what a passive listener holds for that room)
 *   {"cmd":"quit"}
 */
import { createInterface } from 'node:readline';
import { MdnsResponder } from '../../src/mdns/responder.js';
import { LinkLocalPresence } from '../../src/linklocal/presence-service.js';
import { RoomDirectory } from '../../src/linklocal/room-directory.js';

const iface = process.argv[2];
if (iface === undefined) throw new Error('usage: mdns-ns-peer.ts INTERFACE_ADDRESS');

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const responder = await MdnsResponder.open({ interface: iface });
// A second socket that never queries: shows what announcements alone keep in a cache.
const listener = await MdnsResponder.open({ interface: iface });
const rooms = await RoomDirectory.open({ interface: iface, responder });
rooms.on('room-added', (room) => emit({ event: 'room-added', room }));
rooms.on('room-removed', (room) => emit({ event: 'room-removed', room }));
let presence: LinkLocalPresence | undefined;

emit({ event: 'ready' });
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const cmd = JSON.parse(line) as Record<string, unknown>;
  try {
    switch (cmd['cmd']) {
      case 'presence':
        presence = await LinkLocalPresence.start({
          interface: iface,
          responder,
          user: String(cmd['user']),
          host: String(cmd['host']),
          port: Number(cmd['port']),
          info: (cmd['info'] ?? {}) as Record<string, string>,
        });
        presence.on('contact-added', (contact) => emit({ event: 'contact-added', contact }));
        presence.on('contact-updated', (contact) => emit({ event: 'contact-updated', contact }));
        presence.on('contact-removed', (contact) => emit({ event: 'contact-removed', contact }));
        for (const contact of presence.contacts.list()) emit({ event: 'contact-added', contact });
        emit({ event: 'presence', name: presence.name });
        break;
      case 'status':
        presence?.setStatus(cmd['status'] as 'avail' | 'away' | 'dnd', cmd['message'] as string | undefined);
        emit({ event: 'status-set' });
        break;
      case 'advertise': {
        const room = cmd['room'] as { name: string; address: string; port: number };
        emit({ event: 'advertise', name: room.name, result: await rooms.advertise(room) });
        break;
      }
      case 'withdraw':
        await rooms.withdraw(String(cmd['name']));
        emit({ event: 'withdrawn', name: cmd['name'] });
        break;
      case 'cached': {
        const fqdn = String(cmd['fqdn']);
        const types = [
          ...(listener.cache.lookup('_clique._udp.local', 'PTR').some((e) => e.record.data === fqdn) ? ['PTR'] : []),
          ...(['SRV', 'TXT', 'A'] as const).filter((t) => listener.cache.lookup(fqdn, t).length > 0),
        ];
        emit({ event: 'cached', fqdn, types });
        break;
      }
      case 'quit':
        await presence?.stop();
        await rooms.close();
        await listener.close();
        await responder.close();
        emit({ event: 'bye' });
        process.exit(0);
    }
  } catch (error) {
    emit({ event: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}
