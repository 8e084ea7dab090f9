import { describe, expect, it } from 'vitest';
import { MdnsError } from '../../src/mdns/mdns-error.js';
import {
  checkInstanceLabel,
  compareProbeSets,
  encodeTxt,
  fitTxtValue,
  instanceOf,
  ipv6Bytes,
  messageWireLength,
  rdataBytes,
  type MdnsRecord,
} from '../../src/mdns/records.js';
import { aliasFromTxt, contactFromService, presenceTxt } from '../../src/linklocal/presence-txt.js';
import { roomRecords } from '../../src/linklocal/room-advertiser.js';

const txtStrings = (strings: Uint8Array[]): string[] => strings.map((s) => Buffer.from(s).toString());

describe('mDNS record helpers', () => {
  it('refuses instance labels that are empty, over 63 bytes of UTF-8, or hold control characters', () => {
    for (const bad of ['', 'x'.repeat(64), 'é'.repeat(32), 'tab\there', 'nul\u0000', 'del\u007f', 'lone \ud800']) {
      expect(() => checkInstanceLabel(bad, 'room name')).toThrow(MdnsError);
    }
    for (const good of ['lunch (2)', 'é'.repeat(31), 'team.alpha', 'a.b.c', '.', 'back\\slash', 'x'.repeat(63)]) {
      expect(() => checkInstanceLabel(good, 'room name')).not.toThrow();
    }
  });

  it('recovers instance names by stripping the service suffix, case-insensitively, and unescaping the one label', () => {
    expect(instanceOf('john\\.smith@laptop._presence._tcp.local', '_presence._tcp')).toBe('john.smith@laptop');
    expect(instanceOf('back\\\\slash._clique._udp.local', '_clique._udp')).toBe('back\\slash');
    // Two labels before the suffix are a deeper name, not an instance called 'john.smith@laptop'.
    expect(instanceOf('john.smith@laptop._presence._tcp.local', '_presence._tcp')).toBeUndefined();
    expect(instanceOf('Lunch._CLIQUE._udp.Local', '_clique._udp')).toBe('Lunch');
    expect(instanceOf('_clique._udp.local', '_clique._udp')).toBeUndefined();
    expect(instanceOf('lunch._other._udp.local', '_clique._udp')).toBeUndefined();
  });

  it('encodes IPv6 addresses to 16 bytes, including :: and embedded IPv4', () => {
    expect(Buffer.from(ipv6Bytes('ff15::71:23')).toString('hex')).toBe('ff150000000000000000000000710023');
    expect(Buffer.from(ipv6Bytes('::ffff:10.0.0.1')).toString('hex')).toBe('00000000000000000000ffff0a000001');
    expect(Buffer.from(ipv6Bytes('fe80::1%eth0')).toString('hex')).toBe('fe800000000000000000000000000001');
    expect(() => ipv6Bytes('10.0.0.1')).toThrow(MdnsError);
  });

  it('TXT: refuses bad keys and over-long strings; fitTxtValue cuts on a character boundary', () => {
    expect(() => encodeTxt([['a=b', 'x']])).toThrow(MdnsError);
    expect(() => encodeTxt([['msg', 'x'.repeat(252)]])).toThrow(MdnsError);
    expect(txtStrings(encodeTxt([['msg', 'x'.repeat(251)], ['gone', undefined]]))).toHaveLength(1);
    const cut = fitTxtValue('msg', '€'.repeat(100));
    expect(Buffer.byteLength(`msg=${cut}`)).toBeLessThanOrEqual(255);
    expect(cut).toBe('€'.repeat(83));
  });

  it('wire length of a message matches the uncompressed encoding size', () => {
    const srv: MdnsRecord = { name: 'a.local', type: 'SRV', ttl: 1, cacheFlush: true, data: { priority: 0, weight: 0, port: 1, target: 'b.local' } };
    // header 12 + name 9 + fixed 10 + rdata (6 + 9)
    expect(messageWireLength({ id: 0, response: true, truncated: false, questions: [], answers: [srv], authorities: [], additionals: [] })).toBe(46);
    expect(rdataBytes({ name: 'x', type: 'TXT', ttl: 1, cacheFlush: false, data: [] })).toEqual(Buffer.of(0));
  });

  it('probe tie-break: lexicographically later data wins, a superset beats its prefix', () => {
    const a = (data: string): MdnsRecord => ({ name: 'h.local', type: 'A', ttl: 120, cacheFlush: true, data });
    expect(compareProbeSets([a('10.0.0.2')], [a('10.0.0.1')])).toBeGreaterThan(0);
    expect(compareProbeSets([a('10.0.0.1')], [a('10.0.0.2')])).toBeLessThan(0);
    expect(compareProbeSets([a('10.0.0.1'), a('10.0.0.9')], [a('10.0.0.1')])).toBeGreaterThan(0);
    expect(compareProbeSets([a('10.0.0.1')], [a('10.0.0.1')])).toBe(0);
  });
});

describe('presence TXT (spec §6.1, §6.2)', () => {
  it('writes keys in salut order, leaves out unset ones and an empty msg', () => {
    expect(txtStrings(presenceTxt({ status: 'avail', message: '', first: 'Ann', last: '' }, 5298))).toEqual([
      'txtvers=1',
      'port.p2pj=5298',
      '1st=Ann',
      'last=',
      'status=avail',
    ]);
    expect(txtStrings(presenceTxt({ status: 'away', message: 'At the pub', nick: 'A', caps: { node: 'n', hash: 'sha-1', ver: 'v' } }, 1))).toEqual([
      'txtvers=1',
      'port.p2pj=1',
      'nick=A',
      'status=away',
      'msg=At the pub',
      'node=n',
      'hash=sha-1',
      'ver=v',
    ]);
  });

  it('alias: nick, else first and last, empty values count as absent', () => {
    expect(aliasFromTxt({ nick: 'N', '1st': 'F', last: 'L' })).toBe('N');
    expect(aliasFromTxt({ nick: '', '1st': 'F', last: 'L' })).toBe('F L');
    expect(aliasFromTxt({ last: 'L' })).toBe('L');
    expect(aliasFromTxt({ '1st': '', last: '' })).toBeUndefined();
  });

  it('unknown status keeps the previous one; port.p2pj is ignored for the SRV port; link-local IPv6 gets a scope', () => {
    const service = {
      instance: 'bob@desk',
      fqdn: 'bob@desk._presence._tcp.local',
      serviceType: '_presence._tcp',
      host: 'desk.local',
      port: 5299,
      txt: [Buffer.from('status=busy'), Buffer.from('port.p2pj=1')],
      addresses: ['10.0.0.5', 'fe80::1'],
    };
    const previous = contactFromService({ ...service, txt: [Buffer.from('status=dnd')] }, undefined);
    const contact = contactFromService(service, previous, 'eth0');
    expect(contact).toMatchObject({ status: 'dnd', port: 5299, addresses: ['10.0.0.5', 'fe80::1%eth0'] });
    expect(contactFromService(service, undefined).status).toBe('avail');
  });
});

describe('room records (spec §2.1)', () => {
  it('refuses bad ports and unpublishable names; a dotted name is one escaped label', () => {
    expect(() => roomRecords({ name: 'x', address: '239.255.71.1', port: 0 })).toThrow(MdnsError);
    expect(() => roomRecords({ name: 'x'.repeat(64), address: '239.255.71.1', port: 1 })).toThrow(MdnsError);
    const dotted = roomRecords({ name: 'team.alpha', address: '239.255.71.1', port: 1 });
    expect(dotted.map((r) => r.record.name)).toContain('team\\.alpha._clique._udp.local');
    expect(() => roomRecords({ name: 'x', address: 'not-an-ip', port: 1 })).toThrow(MdnsError);
  });
});
