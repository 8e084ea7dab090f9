import { describe, expect, it } from 'vitest';
import { parseChatInput } from '../../src/cli/chat/chat-commands.js';
import { lookUpPerson } from '../../src/cli/chat/person-lookup.js';
import type { ContactJson, MemberJson } from '../../src/service/control-protocol.js';

const contact = (name: string, alias: string | null): ContactJson => ({ name, alias, status: 'avail', message: null, addresses: ['127.0.0.1'], port: 5298 });
const member = (name: string, nick: string | null): MemberJson => ({ member: name, nick, status: 'avail', statusMessage: null });

describe('who /msg, /query and /invite mean', () => {
  const contacts = [contact('bob@desk', 'Bob'), contact('carol@lab', 'Carol'), contact('carol@home', 'carol')];
  const members = [member('bob@desk', 'bobby'), member('dave@box', 'Dave'), member('eve@box', 'bob')];

  it('a full name is taken as written', () => {
    expect(lookUpPerson('bob@desk', contacts, members)).toEqual({ kind: 'found', name: 'bob@desk' });
    expect(lookUpPerson('dave@box', [], members)).toEqual({ kind: 'found', name: 'dave@box' });
    // Not seen yet: the service waits for it to appear.
    expect(lookUpPerson('zoe@far', contacts, members)).toEqual({ kind: 'found', name: 'zoe@far' });
  });

  it('a room nick or a contact alias, without regard to case', () => {
    expect(lookUpPerson('dave', contacts, members)).toEqual({ kind: 'found', name: 'dave@box' });
    expect(lookUpPerson('BOBBY', contacts, members)).toEqual({ kind: 'found', name: 'bob@desk' });
  });

  it('several people behind one word: ambiguous, with the candidates', () => {
    expect(lookUpPerson('carol', contacts, members)).toEqual({ kind: 'ambiguous', candidates: ['carol@home', 'carol@lab'] });
    // An alias of one and the nick of another.
    expect(lookUpPerson('bob', contacts, members)).toEqual({ kind: 'ambiguous', candidates: ['bob@desk', 'eve@box'] });
  });

  it('nobody', () => {
    expect(lookUpPerson('mallory', contacts, members)).toEqual({ kind: 'none' });
  });
});

describe('/msg and /query', () => {
  it('parse', () => {
    expect(parseChatInput('/msg bob hello there')).toEqual({ kind: 'msg', to: 'bob', text: 'hello there' });
    expect(parseChatInput('/msg bob')).toMatchObject({ kind: 'error' });
    expect(parseChatInput('/query bob@desk')).toEqual({ kind: 'query', to: 'bob@desk' });
    expect(parseChatInput('/query')).toEqual({ kind: 'query', to: undefined });
    expect(parseChatInput('/query a b')).toMatchObject({ kind: 'error' });
  });
});
