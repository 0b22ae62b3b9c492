import { writeFileSync } from 'node:fs';
import { configMarkdown } from '../src/config/config-docs.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configMarkdown());
