#!/usr/bin/env node
// `prisma generate` for one schema. The Prisma CLI downloads a schema engine at start-up for every
// command, although `generate` never runs it; pointing it at any existing file skips the download,
// so generation works offline and in locked-down CI (see docs/adr/0003-prisma-without-engine-binaries.md).
const { spawnSync } = require('node:child_process');
const schema = process.argv[2];
if (!schema) {
  console.error('usage: meridian-prisma-generate <path/to/schema.prisma>');
  process.exit(2);
}
const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const prismaCli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', schema], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
