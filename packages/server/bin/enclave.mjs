#!/usr/bin/env node
// Runs the prebuilt bundle (packages/server/dist/, made by `npm start` or `npm run build:server`)
// when it is current; otherwise the TypeScript sources directly through tsx, so there is still no
// build step between a clone or an edit and a working server. ENCLAVE_FROM_SOURCE=1 forces the
// sources.
import { freshBundle } from '../scripts/bundle.mjs';

const bundle = process.env.ENCLAVE_FROM_SOURCE === '1' ? null : freshBundle();
if (bundle) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
