/**
 * The layer rule (docs/ARCHITECTURE.md, Layers): each folder under source/ imports only the
 * folders listed for it, there is no import cycle between files, only store/ and redis/ speak
 * Redis, and only console/ imports Ink or React. The table here is the one the guide prints.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '../../source');

/** Layer -> the layers it may import (itself always allowed). */
export const LAYERS: Record<string, string[]> = {
  'cli.tsx': ['commands'],
  commands: ['console', 'services', 'config', 'model'],
  console: ['services', 'model'],
  services: ['dispatch', 'runtime', 'git', 'github', 'store', 'redis', 'config', 'model'],
  dispatch: ['github', 'store', 'config', 'model'],
  runtime: ['git', 'store', 'redis', 'config', 'model'],
  git: ['model'],
  github: ['model'],
  store: ['model'],
  redis: ['config', 'model'],
  config: ['model'],
  model: [],
};

/** Packages only some layers may import. */
const PACKAGES: Record<string, string[]> = {
  ioredis: ['store', 'redis'],
  ink: ['console'],
  react: ['console'],
  'react/jsx-runtime': ['console'],
  zustand: ['console'],
  'zustand/vanilla': ['console'],
  // The verbs' flag grammar is shared by the CLI and the console's command line (services/flags.ts).
  meow: ['cli.tsx', 'commands', 'services'],
};

interface Import {
  spec: string;
  typeOnly: boolean;
}

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(join(dir, e.name))
      : /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')
        ? [join(dir, e.name)]
        : [],
  );

const layerOf = (file: string): string => relative(SOURCE, file).split('/')[0]!;

/** Every import and re-export of a file, with whether it is erased at run time. */
const importsOf = (file: string): Import[] => {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: Import[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const typeOnly =
        !!c &&
        (c.isTypeOnly ||
          (!c.name &&
            !!c.namedBindings &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      out.push({ spec: node.moduleSpecifier.text, typeOnly });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      out.push({ spec: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      out.push({ spec: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
};

const resolveLocal = (from: string, spec: string): string => {
  const base = resolve(dirname(from), spec).replace(/\.js$/, '');
  return [`${base}.ts`, `${base}.tsx`].find((f) => graph.has(f)) ?? `${base}.ts`;
};

const graph = new Map<string, { file: string; imports: Import[] }>();
for (const file of files(SOURCE)) graph.set(file, { file, imports: importsOf(file) });

/** Upward or sideways imports between layers: "from -> to (file)". */
export const layerViolations = (): string[] => {
  const bad: string[] = [];
  for (const { file, imports } of graph.values()) {
    const from = layerOf(file);
    for (const { spec, typeOnly } of imports) {
      if (spec.startsWith('.')) {
        const to = layerOf(resolveLocal(file, spec));
        if (to !== from && !(LAYERS[from] ?? []).includes(to))
          bad.push(`${from} -> ${to} (${relative(SOURCE, file)} imports ${spec})`);
      } else if (!spec.startsWith('node:')) {
        const allowed = PACKAGES[spec];
        // A type (a connection handed down, say) is not a call: only values count here.
        if (allowed && !allowed.includes(from) && !(spec === 'ioredis' && typeOnly))
          bad.push(`${from} -> ${spec} (${relative(SOURCE, file)})`);
      }
    }
  }
  return bad;
};

/**
 * Import cycles between files through imports that exist at run time (a cycle of type-only
 * imports is erased by the compiler and cannot leave a module half-initialised).
 */
export const cycles = (): string[][] => {
  const edges = new Map<string, string[]>();
  for (const { file, imports } of graph.values())
    edges.set(
      file,
      imports.filter((i) => i.spec.startsWith('.') && !i.typeOnly).map((i) => resolveLocal(file, i.spec)),
    );
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const walk = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of edges.get(f) ?? []) {
      if (state.get(g) === 'open') found.push(stack.slice(stack.indexOf(g)).map((x) => relative(SOURCE, x)));
      else if (!state.has(g)) walk(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of edges.keys()) if (!state.has(f)) walk(f);
  return found;
};

/** Redis commands outside store/ and redis/: a Db's connection or key builder used directly. */
export const redisOutsideStore = (): string[] => {
  const bad: string[] = [];
  for (const { file } of graph.values()) {
    const layer = layerOf(file);
    if (layer === 'store' || layer === 'redis') continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/\bdb\.(redis|keys)\b/.test(line)) bad.push(`${relative(SOURCE, file)}:${i + 1}: ${line.trim()}`);
      });
    for (const { spec, typeOnly } of graph.get(file)!.imports)
      if (spec === 'ioredis' && !typeOnly) bad.push(`${relative(SOURCE, file)} imports ioredis values`);
  }
  return bad;
};

describe('the layer rule', () => {
  it('every folder under source/ is a layer of the table', () => {
    const layers = new Set([...graph.keys()].map(layerOf));
    expect([...layers].filter((l) => !(l in LAYERS))).toEqual([]);
  });

  it('imports point down only', () => {
    expect(layerViolations()).toEqual([]);
  });

  it('no import cycles between files', () => {
    expect(cycles()).toEqual([]);
  });

  it('only store/ and redis/ speak Redis', () => {
    expect(redisOutsideStore()).toEqual([]);
  });

  it('docs/ARCHITECTURE.md lists the same edges as the table', () => {
    const guide = readFileSync(resolve(SOURCE, '../docs/ARCHITECTURE.md'), 'utf8');
    const rows = new Map(
      [...guide.matchAll(/^\| `([^`]+?)\/?` \|[^|]*\| ([^|]*) \|$/gm)].map((m) => [
        m[1]!,
        m[2]!
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s && s !== '-')
          .sort(),
      ]),
    );
    for (const [layer, allowed] of Object.entries(LAYERS))
      expect({ layer, allowed: rows.get(layer) }).toEqual({ layer, allowed: [...allowed].sort() });
  });

  it('the checker sees a planted upward import and a planted cycle', () => {
    // A self-check: the rules above must be able to fail.
    const saved = new Map(graph);
    try {
      const model = join(SOURCE, 'model/planted.ts');
      const store = join(SOURCE, 'store/planted.ts');
      graph.set(model, { file: model, imports: [{ spec: '../store/planted.js', typeOnly: false }] });
      graph.set(store, { file: store, imports: [{ spec: '../model/planted.js', typeOnly: false }] });
      expect(layerViolations()).toContain('model -> store (model/planted.ts imports ../store/planted.js)');
      expect(cycles()).toContainEqual(['model/planted.ts', 'store/planted.ts']);
    } finally {
      graph.clear();
      for (const [k, v] of saved) graph.set(k, v);
    }
  });
});
