// Settings checked against something outside the config file: the groups and users policy rules
// name, against the directory. A rule naming a group nobody is in matches nobody, silently: with
// the file directory that is an error `config check` can prove; with LDAP, a warning after asking
// the directory (which may be down, or the service account may not see every group).
import type { PolicyConfig } from '../policy/policy-schema.js';
import { didYouMean } from './did-you-mean.js';
import { type Positions, type Problem, type YamlSource, problemAt, readYamlValue } from './yaml-source.js';

export interface KnownNames {
  /** Every group name the directory has (for "did you mean"), matched case-insensitively. */
  readonly groups: readonly string[];
  /** Whether a user a rule names (DOMAIN\user or UPN) exists; absent: users are not checked. */
  readonly hasUser?: (name: string) => boolean;
  /** Users by DOMAIN\user, for "did you mean". */
  readonly users?: readonly string[];
  /** Where the names come from, for the message: "the directory file d.yaml". */
  readonly source: string;
}

/** Positions in the config file, read only when there is a problem to place. */
export function lazyPlace(file: string): (at: ReadonlyArray<PropertyKey>, message: string) => Problem {
  let src: YamlSource | Positions | undefined;
  return (at, message) => {
    if (!src) {
      const r = readYamlValue(file);
      src = r.ok ? r.positions() : { file, locate: () => ({ line: 0, column: 0 }) };
    }
    return problemAt(src, at, message);
  };
}

/** Each group or user a rule names that `known` does not have. */
export function policyNameProblems(file: string, policy: PolicyConfig, known: KnownNames): Problem[] {
  const place = lazyPlace(file);
  const groups = new Set(known.groups.map((g) => g.toLowerCase()));
  const problems: Problem[] = [];
  policy.rules.forEach((rule, i) => {
    (rule.groups ?? []).forEach((g, j) => {
      if (!groups.has(g.toLowerCase())) problems.push(place(['policy', 'rules', i, 'groups', j], `rule "${rule.name}": group "${g}" is not in ${known.source}${didYouMean(g, known.groups)}: the rule matches nobody through it`));
    });
    if (known.hasUser) {
      (rule.users ?? []).forEach((u, j) => {
        const form = u.includes('\\') || u.includes('@') ? '' : ' (rules name users as DOMAIN\\user or user@domain)';
        if (!known.hasUser!(u)) problems.push(place(['policy', 'rules', i, 'users', j], `rule "${rule.name}": user "${u}" is not in ${known.source}${form || didYouMean(u, known.users ?? [])}`));
      });
    }
  });
  return problems;
}
