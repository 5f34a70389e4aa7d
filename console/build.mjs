// Bundles the web console (docs/console.md): src/app.js and src/app.css by esbuild, minified,
// with src/index.html and src/icon.svg, into the directory given (CMake passes
// build/console/dist; cmake/embed_console.cmake then compiles them into custos).
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] || path.join(here, '..', 'build', 'console', 'dist'));
fs.mkdirSync(out, { recursive: true });
const common = { bundle: true, minify: true, legalComments: 'none', charset: 'utf8', logLevel: 'warning' };
await esbuild.build({
  ...common,
  entryPoints: [path.join(here, 'src', 'app.js')],
  outfile: path.join(out, 'app.js'),
  format: 'esm',
  target: 'es2020',
});
await esbuild.build({ ...common, entryPoints: [path.join(here, 'src', 'app.css')], outfile: path.join(out, 'app.css') });
for (const name of ['index.html', 'icon.svg']) {
  fs.copyFileSync(path.join(here, 'src', name), path.join(out, name));
}
