import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, type Command, type Option } from 'commander';
import { CliqueError } from '../base/clique-error.js';
import { UsageError } from './usage-error.js';

/**
 * `$XDG_CONFIG_HOME/clique/config.json` (default `~/.config/clique/config.json`):
 * defaults for the options of every command, so a person need not type
 * `--nick` and `--interface` each time.
 *
 *   {
 *     "nick": "alice",
 *     "interface": "192.168.1.20",
 *     "commands": { "send": { "waitMembers": 0 }, "listen": { "history": 20 } }
 *   }
 *
 * Top-level settings apply to each command that has that option (by its long
 * name, in camelCase as `--wait-members` → `waitMembers`); `commands.<name>`
 * settings only to that command, and win over top-level ones. What the
 * command line says wins, then the environment (CLIQUE_INTERFACE), then this
 * file, then the built-in default. Values go through the option's own check,
 * so a bad value is refused as it would be on the command line, naming the
 * file. A missing file is no file; a broken one is an error with its line.
 */
export interface ConfigFile {
  path: string;
  settings: Record<string, unknown>;
  commands: Record<string, Record<string, unknown>>;
}

/** Where the config file is for this environment. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME'] !== undefined && env['XDG_CONFIG_HOME'] !== '' ? env['XDG_CONFIG_HOME'] : join(env['HOME'] ?? homedir(), '.config');
  return join(base, 'clique', 'config.json');
}

/** The config file, or undefined when there is none. Throws UsageError when it is broken. */
export function readConfigFile(path: string = configPath()): ConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`${path}: cannot read the config file: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const at = /at position (\d+)/.exec(message);
    const { line, column } = lineAndColumn(text, at !== null ? Number(at[1]) : text.length);
    throw new UsageError(`${path}:${line}:${column}: not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`);
  }
  if (!isPlainObject(value)) throw new UsageError(`${path}: the config file must hold one JSON object ({ "nick": "alice", ... })`);
  const { commands = {}, ...settings } = value;
  if (!isPlainObject(commands) || !Object.values(commands).every(isPlainObject)) {
    throw new UsageError(`${path}: "commands" must map command names to objects of settings ({ "send": { "waitMembers": 0 } })`);
  }
  return { path, settings, commands: commands as Record<string, Record<string, unknown>> };
}

/**
 * Fills the options of `command` that neither the command line nor the
 * environment set from the config file. Settings no command knows are
 * errors (a typo should not be ignored); those other commands know are
 * skipped.
 */
export function applyConfig(command: Command, config: ConfigFile, program: Command): void {
  const known = new Set(allCommands(program).flatMap((c) => c.options.map((o) => o.attributeName())));
  for (const key of Object.keys(config.settings)) {
    if (!known.has(key)) throw new UsageError(`${config.path}: unknown setting "${key}" (settings are option names in camelCase, e.g. "nick", "interface", "waitMembers")`);
  }
  const commandNames = new Set(allCommands(program).map((c) => c.name()));
  for (const name of Object.keys(config.commands)) {
    if (!commandNames.has(name)) throw new UsageError(`${config.path}: "commands" names no command "${name}"`);
  }
  const own = config.commands[command.name()] ?? {};
  for (const key of Object.keys(own)) {
    if (!command.options.some((o) => o.attributeName() === key)) throw new UsageError(`${config.path}: clique ${command.name()} has no option for "${key}"`);
  }
  const merged = { ...config.settings, ...own };
  for (const [key, value] of Object.entries(merged)) {
    // `--history-file <path>` and `--no-history-file` share one attribute: the value's type picks the option.
    const options = (command.options as Option[]).filter((o) => o.attributeName() === key);
    if (options.length === 0) continue;
    const source = command.getOptionValueSource(key);
    if (source !== undefined && source !== 'default' && source !== 'implied') continue;
    const option = options.find((o) => (typeof value === 'boolean') === !(o.required || o.optional)) ?? options[0]!;
    // `"service": true` is what no `--no-service` means already.
    if (option.negate && value === true) continue;
    command.setOptionValueWithSource(key, configValue(option, value, config.path, key), 'config');
  }
}

/** A setting as the option would take it from the command line. */
function configValue(option: Option, value: unknown, path: string, key: string): unknown {
  const where = `${path}: "${key}"`;
  const takesValue = option.required || option.optional;
  if (!takesValue) {
    if (typeof value !== 'boolean') throw new UsageError(`${where} must be true or false`);
    // `--no-service` is the option; the setting says what the attribute is ("service": false).
    return value;
  }
  if (typeof value !== 'string' && typeof value !== 'number') throw new UsageError(`${where} must be a string or a number`);
  const text = String(value);
  if (option.argChoices !== undefined && !option.argChoices.includes(text)) throw new UsageError(`${where} must be one of ${option.argChoices.join(', ')}`);
  if (option.parseArg === undefined) return text;
  try {
    return option.parseArg(text, undefined);
  } catch (error) {
    if (error instanceof InvalidArgumentError || error instanceof CliqueError) throw new UsageError(`${where}: ${error.message.replace(/^--[\w-]+: /, '')}`);
    throw error;
  }
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, Math.min(position, text.length));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}
