import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A small TypeScript stand-in for the original's mesh.py: spawns one
 * `clique node --stdio NAME` per node, routes every SEND line to the RECV of
 * the other (linked) nodes, optionally dropping datagrams, and records what
 * each node printed.
 */
export interface MeshNode {
  name: string;
  child: ChildProcessWithoutNullStreams;
  /** Every stdout line in order. */
  lines: string[];
  stderr: string;
  exitCode: number | null | undefined;
  /** Decoded OUTPUT lines. */
  outputs: Array<{ sender: string; text: string }>;
  /** Current peers according to NEWNODES/LOSTNODES. */
  peers: Set<string>;
  sentByType: Map<number, number>;
}

export class StdioMesh {
  readonly nodes = new Map<string, MeshNode>();
  private readonly unlinked = new Set<string>();

  constructor(
    private readonly options: { dropChance?: number; extraArgs?: string[] } = {},
  ) {}

  spawn(name: string): MeshNode {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'node', '--stdio', name, ...(this.options.extraArgs ?? [])], {
      cwd: process.cwd(),
    });
    const node: MeshNode = { name, child, lines: [], stderr: '', exitCode: undefined, outputs: [], peers: new Set(), sentByType: new Map() };
    this.nodes.set(name, node);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (node.stderr += chunk));
    child.on('exit', (code) => (node.exitCode = code));
    child.stdin.on('error', () => {}); // the node may exit while we still route to it
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(node, line));
    return node;
  }

  /** Stop routing between two nodes (both directions). */
  unlink(a: string, b: string): void {
    this.unlinked.add(`${a}\u0000${b}`);
    this.unlinked.add(`${b}\u0000${a}`);
  }

  write(name: string, line: string): void {
    const node = this.nodes.get(name)!;
    if (node.exitCode === undefined) node.child.stdin.write(`${line}\n`);
  }

  input(name: string, text: string): void {
    this.write(name, `INPUT:${Buffer.from(text).toString('base64')}`);
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.nodes.values()].map(
        (node) =>
          new Promise<void>((resolve) => {
            if (node.exitCode !== undefined) return resolve();
            node.child.once('exit', () => resolve());
            node.child.kill('SIGKILL');
          }),
      ),
    );
  }

  private onLine(node: MeshNode, line: string): void {
    node.lines.push(line);
    if (line.startsWith('SEND:')) {
      const payload = line.slice(5);
      const bytes = Buffer.from(payload, 'base64');
      const type = bytes[7] ?? -1;
      node.sentByType.set(type, (node.sentByType.get(type) ?? 0) + 1);
      for (const other of this.nodes.values()) {
        if (other === node || this.unlinked.has(`${node.name}\u0000${other.name}`)) continue;
        if (this.options.dropChance !== undefined && Math.random() < this.options.dropChance) continue;
        this.write(other.name, `RECV:${payload}`);
      }
    } else if (line.startsWith('OUTPUT:')) {
      const rest = line.slice(7);
      const colon = rest.lastIndexOf(':');
      node.outputs.push({ sender: rest.slice(0, colon), text: Buffer.from(rest.slice(colon + 1), 'base64').toString() });
    } else if (line.startsWith('NEWNODES:')) {
      for (const name of line.slice(9).split(' ').filter((n) => n !== '')) node.peers.add(name);
    } else if (line.startsWith('LOSTNODES:')) {
      for (const name of line.slice(10).split(' ').filter((n) => n !== '')) node.peers.delete(name);
    }
  }
}
