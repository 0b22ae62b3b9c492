// The campaign list `npm run fuzz` runs, in order. Each entry is a module whose default export
// is a FuzzTarget, with its seed corpus in fuzz/corpus/<name>/.
export const TARGETS: Record<string, string> = {
  'request-head': new URL('./request-head.ts', import.meta.url).href,
  'response-head': new URL('./response-head.ts', import.meta.url).href,
  chunked: new URL('./chunked.ts', import.meta.url).href,
  ntlm: new URL('./ntlm.ts', import.meta.url).href,
  spnego: new URL('./spnego.ts', import.meta.url).href,
  credentials: new URL('./credentials.ts', import.meta.url).href,
  'proxy-header': new URL('./proxy-header.ts', import.meta.url).href,
  'activesync-query': new URL('./activesync-query.ts', import.meta.url).href,
};
