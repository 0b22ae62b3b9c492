// Schema problems as `file:line:column` problems of the YAML they came from (config and directory files).
import type { z } from 'zod';
import { type Positions, type Problem, type YamlSource, problemAt } from './yaml-source.js';

export function zodProblems(src: YamlSource | Positions, error: z.ZodError): Problem[] {
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => problemAt(src, [...i.path, k], `unknown setting "${k}"`))
      : [problemAt(src, i.path, i.message)],
  );
}
