// Worker threads do not inherit the tsx loader from `--import tsx`, so register it here (as
// bin/portcullis.js does) before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
