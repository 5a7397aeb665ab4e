import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/**
 * A plain-JavaScript copy of the project's TypeScript, for benchmarks that measure a process's
 * memory: `node --import tsx` keeps a module-loader thread and its caches alive, about 45 MiB of
 * RSS on its own, which is not the product's. Each file is transpiled alone (no type check, no
 * bundling), so a tree that runs under tsx runs here the same way.
 *
 * The copy keeps the layout (`<out>/src/...`, `<out>/bench/...`) and gets what the code looks
 * for around it: a package.json (named like the project, "type": "module") and links to the
 * project's node_modules/ and proto/. Put it in a temporary folder; nothing is written in the
 * project.
 *
 * Source maps are files beside the code (`x.js.map`, named by a `sourceMappingURL` comment), as
 * `tsc` writes dist/ for the product: V8 keeps every module's source text in its heap, and an
 * inline map (base64 in that text, and its URL once more as a string of its own) measured ~2 MiB
 * of a control plane's idle heap that the product does not hold.
 */
export function transpileTree(projectDir: string, outDir: string, roots: string[]): { files: number; ms: number } {
  const began = performance.now();
  mkdirSync(outDir, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')) as { name?: string };
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ name: pkg.name, private: true, type: 'module' })}\n`);
  for (const link of ['node_modules', 'proto']) {
    if (existsSync(join(projectDir, link)) && !existsSync(join(outDir, link))) symlinkSync(join(projectDir, link), join(outDir, link), 'dir');
  }
  let files = 0;
  for (const root of roots) for (const file of tsFiles(join(projectDir, root))) {
    const out = join(outDir, relative(projectDir, file)).replace(/\.ts$/, '.js');
    const { outputText, sourceMapText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      // Source maps: profiles (bench/support/cpuprofile.ts) map back to the .ts lines.
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: true, esModuleInterop: true },
    });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
    if (sourceMapText !== undefined) writeFileSync(`${out}.map`, sourceMapText);
    files++;
  }
  return { files, ms: performance.now() - began };
}

function tsFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  return readdirSync(path).sort().flatMap((f) => tsFiles(join(path, f)));
}
