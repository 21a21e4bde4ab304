#!/usr/bin/env node
// Thin launcher: Deputy's sources are TypeScript run directly by Node 24 (type stripping).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(`deputy needs Node.js 24 or newer (this is ${process.version}). Run it through npm (npm run deputy -- …), which uses the pinned Node 24.`);
  process.exit(2);
}
const { cli } = await import('../src/cli/main.ts');
await cli();
