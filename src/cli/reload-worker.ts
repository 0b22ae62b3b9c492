// The reload thread's entry (started by reload-thread.ts): prepares one reload and posts the
// result, moving the packed directory's buffers instead of copying them.
import { parentPort, workerData } from 'node:worker_threads';
import { transferables } from '../directory/file-provider.js';
import { prepareReload } from './reload-prepare.js';

const result = prepareReload((workerData as { file: string }).file);
parentPort!.postMessage(result, result.ok && result.directory ? transferables(result.directory) : []);
