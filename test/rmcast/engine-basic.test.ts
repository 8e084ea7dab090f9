import { describe, expect, it } from 'vitest';
import { MiniMesh } from './mini-mesh.js';

function seedFromEnv(): number {
  const env = process.env['CLIQUE_SEED'];
  return env !== undefined ? Number(env) : (Math.random() * 2 ** 32) >>> 0;
}

describe('RMulticastEngine basics', () => {
  it('two nodes connect, join and exchange a message', () => {
    const seed = seedFromEnv();
    const mesh = new MiniMesh(seed, {}, process.env['CLIQUE_DEBUG'] === '1');
    const a = mesh.add('alice');
    const b = mesh.add('bob', 3000);
    const joined = mesh.runUntil(() => a.engine.members.includes('bob') && b.engine.members.includes('alice'), 60_000);
    expect(joined, `seed ${seed}`).toBe(true);
    mesh.send(a, 'hello');
    mesh.run(2000);
    expect(mesh.messages(b), `seed ${seed}`).toEqual([{ sender: 'alice', text: 'hello', stream: 0 }]);
    mesh.leave(b);
    const lost = mesh.runUntil(() => a.engine.members.length === 0, 10_000);
    expect(lost, `seed ${seed}`).toBe(true);
  });
});
