// Types for bin/runtime.js (plain JavaScript so that any node can parse it).
export declare const GATEWAY_V8_FLAGS: string[];
export declare const SUPPORTED_NODE: ReadonlyArray<{ readonly major: number; readonly minor: number }>;
export declare const SUPPORTED_TEXT: string;
export declare function runtimeProblem(versions?: { readonly node?: string; readonly bun?: string }): string | undefined;
export declare function bundledNode(from?: string): string | undefined;
export declare function withGatewayFlags(execArgv: readonly string[]): string[];
export declare function ensureRuntime(): boolean;
