#!/usr/bin/env -S node --max-semi-space-size=1 --initial-old-space-size=64
// Runs the TypeScript sources directly (tsx), so `npm install` is the only build step.
// The V8 flags in the first line are the gateway's (bin/runtime.js says why). A node that is not a
// supported runtime (the system's Node 20, say) is replaced by the bundled one before anything loads.
import { ensureRuntime } from './runtime.js';

if (ensureRuntime()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
