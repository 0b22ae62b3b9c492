#!/usr/bin/env -S node --max-semi-space-size=1 --initial-old-space-size=64
// Runs the TypeScript sources directly (tsx), so `npm install` is the only build step.
// The V8 flags in the first line are the gateway's (src/cli/serve-primary.ts says why).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
