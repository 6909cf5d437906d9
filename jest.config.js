/** One Jest run over every workspace. Tests are TypeScript, transpiled by SWC (type checking is `npm run typecheck`). */
const os = require('node:os');

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/subgraphs', '<rootDir>/apps', '<rootDir>/docker'],
  testMatch: ['**/?(*.)test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
    // ESM-only dependencies (jose, used by jwks-rsa) are turned into CommonJS for Jest.
    '^.+\\.m?js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  testTimeout: 60_000,
  // Suites start whole platforms (PGlite is WebAssembly, ~100 MB each): one process running every
  // file in band grew past 20 GB. With a limit, files run in a worker that is replaced once its
  // memory passes it after a file.
  workerIdleMemoryLimit: '1GB',
  // Two files at a time even on 2 cores (Jest's default there is one): the platform suites spend
  // much of their time waiting (restarts, retries, settling), so two overlap well. On 2 cores this
  // took the suite from ~1,100 s to ~825 s, with the slowest test (the embedded crash/restart burst
  // of eventResilience) at 204 s of its 360 s limit. At most 4: each file may start whole platforms.
  maxWorkers: Math.min(4, Math.max(2, os.availableParallelism())),
};
