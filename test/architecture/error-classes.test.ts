import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The rules for errors, read from the source with the type checker so a new
 * error class is held to them without anyone registering it:
 * - every error the library throws on purpose is a class extending CliqueError;
 * - its codes (the literal types of `code`, or the literal it passes to
 *   `super`) are kebab-case, the one naming rule for codes;
 * - each error class lives alone in a file named after it (`RoomError` in
 *   room-error.ts).
 */
const SRC = resolve(import.meta.dirname, '../../src');
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Test machinery (src/testing) not yet split; a new entry here is a step backwards. */
const NOT_YET_IN_OWN_FILE = new Set(['SimulationError', 'DeliveryCheckError']);

interface ErrorClass {
  name: string;
  file: string;
  codes: string[] | undefined;
  classesInFile: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function kebabFileName(className: string): string {
  return `${className.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}.ts`;
}

function stringLiterals(type: ts.Type): string[] | undefined {
  const parts = type.isUnion() ? type.types : [type];
  const values = parts.map((t) => (t.isStringLiteral() ? t.value : undefined));
  return values.every((v): v is string => v !== undefined) ? values : undefined;
}

function errorClasses(): ErrorClass[] {
  const program = ts.createProgram(sourceFiles(SRC), {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const isCliqueError = (type: ts.Type): boolean => {
    if (type.getSymbol()?.getName() === 'CliqueError' && type.getSymbol()?.declarations?.some((d) => d.getSourceFile().fileName.endsWith('/base/clique-error.ts'))) {
      return true;
    }
    return (checker.getBaseTypes(type as ts.InterfaceType) ?? []).some(isCliqueError);
  };
  const found: ErrorClass[] = [];
  for (const source of program.getSourceFiles()) {
    if (!source.fileName.startsWith(SRC)) continue;
    const classes = source.statements.filter(ts.isClassDeclaration);
    for (const declaration of classes) {
      if (declaration.name === undefined) continue;
      const symbol = checker.getSymbolAtLocation(declaration.name);
      if (symbol === undefined) continue;
      const instance = checker.getDeclaredTypeOfSymbol(symbol);
      if (declaration.name.text === 'CliqueError' || !isCliqueError(instance)) continue;
      const code = instance.getProperty('code');
      let codes = code === undefined ? undefined : stringLiterals(checker.getTypeOfSymbolAtLocation(code, declaration));
      if (codes === undefined) {
        // `code` is left as string: take what the constructor passes to super().
        const constructor = declaration.members.find(ts.isConstructorDeclaration);
        const superCall = constructor?.body?.statements
          .map((s) => (ts.isExpressionStatement(s) && ts.isCallExpression(s.expression) ? s.expression : undefined))
          .find((c) => c?.expression.kind === ts.SyntaxKind.SuperKeyword);
        const first = superCall?.arguments[0];
        if (first !== undefined) codes = stringLiterals(checker.getTypeAtLocation(first));
      }
      found.push({ name: declaration.name.text, file: relative(SRC, source.fileName), codes, classesInFile: classes.length });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

describe('error classes', () => {
  const classes = errorClasses();

  it('are found (the scan sees the known ones)', () => {
    const names = classes.map((c) => c.name);
    for (const known of ['RoomError', 'LinkLocalServiceError', 'LinkError', 'MdnsError', 'XmlError', 'EngineError', 'DriverError', 'TransportError', 'PacketError']) {
      expect(names).toContain(known);
    }
  });

  it('each have a closed set of codes, all kebab-case', () => {
    const open = classes.filter((c) => c.codes === undefined || c.codes.length === 0).map((c) => `${c.name} (${c.file}): code is not a set of string literals`);
    const badCodes = classes.flatMap((c) => (c.codes ?? []).filter((code) => !KEBAB.test(code)).map((code) => `${c.name}: '${code}'`));
    expect([...open, ...badCodes]).toEqual([]);
  });

  it('each live alone in a file named after the class', () => {
    const misplaced = classes
      .filter((c) => !NOT_YET_IN_OWN_FILE.has(c.name))
      .filter((c) => c.classesInFile !== 1 || basename(c.file) !== kebabFileName(c.name))
      .map((c) => `${c.name} is in ${c.file}${c.classesInFile !== 1 ? ` with ${c.classesInFile - 1} other classes` : ''}`);
    expect(misplaced).toEqual([]);
  });

  it('the kebab-case rule rejects what it should', () => {
    expect(['not-joined', 'too-large', 'mdns-conflict', 'usage'].every((c) => KEBAB.test(c))).toBe(true);
    expect(['notJoined', 'Not-joined', 'not_joined', 'not--joined', '-x', 'x-', ''].some((c) => KEBAB.test(c))).toBe(false);
  });
});
