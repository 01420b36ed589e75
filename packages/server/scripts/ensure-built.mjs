#!/usr/bin/env node
/*
 * Build the server bundle (packages/server/dist/) when it is missing or older than its sources.
 * `npm start` and `npm test` run this first; a bundle that is already current costs a directory walk.
 */
import { buildBundle, freshBundle } from './bundle.mjs';

if (process.argv.includes('--force') || !freshBundle()) {
  const ms = await buildBundle();
  console.log(`server bundle built in ${ms} ms`);
}
