import path from 'node:path';
import type { FileDirectory } from '../directory/file-directory.js';
import type { LabOptions } from '../lab/lab-context.js';

/** Lab settings for the demo and `portcullis lab`; tests override the timings. */
export function labOptions(directory: FileDirectory, externalUrl: string, over: Partial<LabOptions> = {}): LabOptions {
  return {
    directory,
    externalUrl,
    internalUrl: 'https://exch01.lab.local',
    auth: {},
    mapi: { pendingPeriodMs: 30_000, notificationWaitMs: 300_000 },
    eas: { maxPingMs: 3_540_000 },
    netbiosComputer: 'EXCH01',
    ...over,
  };
}

/** The repository root, where the demo keeps its generated files. */
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
/** The demo's generated CA, certificates and admin token (`npm run demo` writes them on its first run). */
export const DEMO_PKI_DIR = path.join(ROOT, '.demo');
