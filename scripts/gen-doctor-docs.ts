import { writeFileSync } from 'node:fs';
import { doctorMarkdown } from '../src/doctor/docs.js';

writeFileSync(new URL('../docs/doctor.md', import.meta.url), doctorMarkdown());
