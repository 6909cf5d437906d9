import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

let cachedRoot: string | undefined;

/**
 * The monorepo root: the nearest ancestor of this file whose package.json declares
 * `workspaces` (or that holds supergraph.yaml). Walking up, rather than a fixed `../..`,
 * keeps this working from src/, from a bundle, and from Jest's transformed copies.
 */
export function getRepoRoot(): string {
  if (cachedRoot) return cachedRoot;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'supergraph.yaml')) || declaresWorkspaces(path.join(dir, 'package.json'))) {
      cachedRoot = dir;
      return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`Cannot find the repository root above ${__dirname}`);
  }
}

function declaresWorkspaces(packageJsonPath: string): boolean {
  if (!existsSync(packageJsonPath)) return false;
  try {
    const parsed: unknown = JSON.parse(readFileSync(packageJsonPath, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'workspaces' in parsed;
  } catch {
    return false;
  }
}

/** `<repo>/prisma/<service>`: schema.prisma + migrations/ of one service. */
export function getServiceDir(service: string): string {
  assertServiceName(service);
  return path.join(getRepoRoot(), 'prisma', service);
}

export function getDefaultSchemaPath(service: string): string {
  return path.join(getServiceDir(service), 'schema.prisma');
}

export function getDefaultMigrationsDir(service: string): string {
  return path.join(getServiceDir(service), 'migrations');
}

/** Where the embedded database of a service lives when no URL is configured. */
export function getDefaultDataDir(service: string): string {
  assertServiceName(service);
  return path.join(getRepoRoot(), '.data', service);
}

/** Every service that has a schema: the folders of `<repo>/prisma` holding schema.prisma, sorted. */
export function listServices(): string[] {
  const prismaDir = path.join(getRepoRoot(), 'prisma');
  if (!existsSync(prismaDir)) return [];
  return readdirSync(prismaDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(prismaDir, entry.name, 'schema.prisma')))
    .map((entry) => entry.name)
    .sort();
}

/** Service names become directory names and env var prefixes: keep them boring. */
export function assertServiceName(service: string): void {
  if (!/^[a-z][a-z0-9_-]*$/.test(service)) {
    throw new Error(`Invalid service name "${service}": use lowercase letters, digits, "-" or "_"`);
  }
}
