// The version lives in one place, package.json: `portcullis --version`, the Debian package
// (scripts/build-deb.sh) and the changelog headings follow it.
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
