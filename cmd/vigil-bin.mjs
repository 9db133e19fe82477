#!/usr/bin/env node
// npm `bin` of vigil: runs the compiled CLI when present, else the TypeScript source via tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cmd/vigil.js', import.meta.url);
let mod;
if (existsSync(compiled)) {
  mod = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(new URL('./vigil.ts', import.meta.url).href);
}
process.exitCode = await mod.main(process.argv.slice(2));
