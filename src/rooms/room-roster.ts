import type { Contact, PresenceStatus } from '../linklocal/contact.js';
import type { ChatState } from './room-stanzas.js';
import type { RoomMember } from './room-types.js';

/** What the room knows of one member (ourselves included). */
export interface MemberState {
  name: string;
  nick: string | undefined;
  /** Undefined until the member announced a status in the room. */
  status: PresenceStatus | undefined;
  statusMessage: string | undefined;
  typing: ChatState;
}

/** A contact's link-local presence, by name (the LinkLocalService's ContactDirectory). */
export type ContactLookup = (name: string) => Contact | undefined;

/** A member's change: what it is now and what it was. */
export type MemberChange = [after: RoomMember, before: RoomMember];

/**
 * The room's members, their nicks, statuses and typing, and how they show:
 * pure bookkeeping, no I/O. The room feeds it the group's view changes and
 * the members' status stanzas; it answers with the changes to announce.
 */
export class Roster {
  readonly self: MemberState;
  private readonly others = new Map<string, MemberState>();

  constructor(
    self: Omit<MemberState, 'typing'>,
    private readonly contacts: ContactLookup = () => undefined,
  ) {
    this.self = { ...self, typing: 'active' };
  }

  /** The others (not ourselves). */
  get size(): number {
    return this.others.size;
  }

  get alone(): boolean {
    return this.others.size === 0;
  }

  names(): string[] {
    return [...this.others.keys()];
  }

  has(name: string): boolean {
    return this.others.has(name);
  }

  /** Everyone, ourselves first when `withSelf`; others sorted by name. */
  members(withSelf: boolean): RoomMember[] {
    const others = [...this.others.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((m) => this.show(m, false));
    return withSelf ? [this.show(this.self, true), ...others] : others;
  }

  /** One of the others as shown, or undefined. */
  other(name: string): RoomMember | undefined {
    const state = this.others.get(name);
    return state === undefined ? undefined : this.show(state, false);
  }

  /** Ourselves as shown. */
  me(): RoomMember {
    return this.show(this.self, true);
  }

  /** How a sender is called in a line: its display name if a member, else its name. */
  displayName(name: string): string {
    return this.other(name)?.displayName ?? name;
  }

  /** Members the group reports joined; returns the new ones (ourselves and known ones are skipped). */
  join(names: readonly string[], selfName: string): RoomMember[] {
    const added: RoomMember[] = [];
    for (const name of names) {
      if (name === selfName || this.others.has(name)) continue;
      const state: MemberState = { name, nick: undefined, status: undefined, statusMessage: undefined, typing: 'active' };
      this.others.set(name, state);
      added.push(this.show(state, false));
    }
    return added;
  }

  /** Members the group reports gone; returns the ones we knew, as they were. */
  lose(names: readonly string[]): RoomMember[] {
    const removed: RoomMember[] = [];
    for (const name of names) {
      const state = this.others.get(name);
      if (state === undefined) continue;
      this.others.delete(name);
      removed.push(this.show(state, false));
    }
    return removed;
  }

  /** A member's `<presence>` in the room; returns the change, if it shows. */
  announce(name: string, status: { status: PresenceStatus; message: string | undefined; nick: string | undefined }): MemberChange | undefined {
    const state = this.others.get(name);
    if (state === undefined) return undefined;
    const before = this.show(state, false);
    state.status = status.status;
    state.statusMessage = status.message;
    state.nick = status.nick;
    const after = this.show(state, false);
    return sameMember(before, after) ? undefined : [after, before];
  }

  /** A member's chat state; true when it changed. */
  typing(name: string, typing: ChatState): boolean {
    const state = this.others.get(name);
    if (state === undefined || state.typing === typing) return false;
    state.typing = typing;
    return true;
  }

  /** A contact's link-local presence changed from `previous`; returns the change of the member, if it shows. */
  contactChanged(name: string, previous: Contact | undefined): MemberChange | undefined {
    const state = this.others.get(name);
    if (state === undefined) return undefined;
    const before = this.show(state, false, previous);
    const after = this.show(state, false);
    return sameMember(before, after) ? undefined : [after, before];
  }

  /** We have something other than the defaults to tell newcomers. */
  hasStatusToAnnounce(): boolean {
    return this.self.nick !== undefined || this.self.status !== 'avail' || this.self.statusMessage !== undefined;
  }

  clear(): void {
    this.others.clear();
  }

  private show(state: MemberState, self: boolean, contactOverride?: Contact): RoomMember {
    const contact = self ? undefined : (contactOverride ?? this.contacts(state.name));
    const nick = state.nick ?? contact?.alias;
    const statusKnown = state.status !== undefined;
    return {
      name: state.name,
      self,
      nick,
      displayName: nick ?? state.name,
      status: state.status ?? contact?.status ?? 'avail',
      statusMessage: statusKnown ? state.statusMessage : contact?.message,
      typing: state.typing,
      contact,
    };
  }
}

function sameMember(a: RoomMember, b: RoomMember): boolean {
  return a.nick === b.nick && a.status === b.status && a.statusMessage === b.statusMessage && a.displayName === b.displayName;
}
