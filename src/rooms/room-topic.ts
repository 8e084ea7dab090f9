import type { RoomStanza } from './room-stanzas.js';
import type { TopicChange } from './room-types.js';

/**
 * Newcomers need the topic. One old member re-sends it, with XEP-0203
 * `<delay>` naming the setter: the one whose name sorts first among the
 * members before this view change (all old members agree on that view, so
 * exactly one of them sends). Nothing is sent when there is no topic.
 */
export function mustReannounce(topic: TopicChange | undefined, membersBefore: readonly string[], selfName: string): topic is TopicChange {
  if (topic === undefined || topic.topic === '') return false;
  return [...membersBefore, selfName].sort()[0] === selfName;
}

/**
 * A received `<subject>` as a topic change, or undefined when it is no news:
 * old members hear every re-announcement, and only a topic new to us counts.
 */
export function receivedTopic(
  room: string,
  sender: string,
  read: Extract<RoomStanza, { type: 'topic' }>,
  known: TopicChange | undefined,
  fresh: { now: Date; id: () => string },
): TopicChange | undefined {
  const replay = read.replay !== undefined;
  if (replay && known !== undefined && known.topic === read.topic) return undefined;
  return {
    room,
    topic: read.topic,
    setBy: read.replay?.setBy ?? sender,
    setAt: read.replay?.setAt ?? fresh.now,
    announcedBy: sender,
    replay,
    id: read.id ?? `local:${fresh.id()}`,
  };
}
