/** One Jest run over every workspace. Tests are TypeScript, transpiled by SWC (type checking is `npm run typecheck`). */
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
  // memory passes it after a file (still one file at a time on a 2-core machine).
  workerIdleMemoryLimit: '1GB',
};
