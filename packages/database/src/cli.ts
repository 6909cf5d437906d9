/**
 * Database command line: `tsx packages/database/src/cli.ts <command>`.
 *   migrate [service...]             apply migrations (PostgreSQL from <SERVICE>_DATABASE_URL, else PGlite in .data/<service>)
 *   migration <service> <name>       write a migration from the current migrations to schema.prisma
 *   check-drift [service...]         exit 1 when a schema.prisma and its migrations disagree
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { checkMigrationDrift, createMigration } from './drift';
import { openDatabase } from './openDatabase';
import { getDefaultDataDir, getDefaultSchemaPath, getRepoRoot, listServices } from './paths';
import { ensurePostgresDatabase, getDatabaseUrlVariable, parsePostgresUrl } from './postgres';

const USAGE = `Usage: tsx packages/database/src/cli.ts <command>
  migrate [service...]        apply pending migrations (default: every service under prisma/)
                              PostgreSQL from <SERVICE>_DATABASE_URL (created if missing), else PGlite in .data/<service>
  migration <service> <name>  write prisma/<service>/migrations/<timestamp>_<name>/migration.sql from schema.prisma
  check-drift [service...]    fail when a schema.prisma and its migrations disagree`;

function resolveServices(names: string[]): string[] {
  const services = names.length > 0 ? names : listServices();
  if (services.length === 0) throw new Error(`No services: no prisma/<service>/schema.prisma under ${getRepoRoot()}`);
  for (const service of services) {
    if (!existsSync(getDefaultSchemaPath(service))) throw new Error(`Unknown service "${service}": ${getDefaultSchemaPath(service)} does not exist`);
  }
  return services;
}

async function migrate(names: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const services = resolveServices(names);
  // Validate every URL before touching any database, so a typo does not leave half the services migrated.
  const targets = services.map((service) => {
    const variable = getDatabaseUrlVariable(service);
    const databaseUrl = env[variable] || undefined;
    if (databaseUrl !== undefined) parsePostgresUrl(databaseUrl, variable);
    return { service, variable, databaseUrl };
  });
  for (const { service, variable, databaseUrl } of targets) {
    if (databaseUrl !== undefined && (await ensurePostgresDatabase(databaseUrl))) {
      console.log(`${service}: created database ${parsePostgresUrl(databaseUrl, variable).database}`);
    }
    const dataDir = getDefaultDataDir(service);
    const database = await openDatabase(databaseUrl !== undefined ? { service, databaseUrl } : { service, dataDir });
    try {
      const applied = await database.migrate();
      const where = databaseUrl !== undefined ? `PostgreSQL (${variable})` : `PGlite ${path.relative(process.cwd(), dataDir) || dataDir}`;
      console.log(
        applied.length > 0 ? `${service}: applied ${applied.join(', ')} to ${where}` : `${service}: up to date (${where})`,
      );
    } finally {
      await database.close();
    }
  }
}

async function migration(args: string[]): Promise<void> {
  const [service, name, ...rest] = args;
  if (!service || !name || rest.length > 0) throw new Error('Usage: migration <service> <name>');
  resolveServices([service]);
  const result = await createMigration(service, name);
  if (!result.created) {
    console.log(`${service}: no changes (migrations already match schema.prisma)`);
    return;
  }
  console.log(`${service}: wrote ${path.relative(process.cwd(), path.join(result.migrationPath, 'migration.sql'))}\n`);
  console.log(result.sql);
}

async function checkDrift(names: string[]): Promise<boolean> {
  let ok = true;
  for (const service of resolveServices(names)) {
    const report = await checkMigrationDrift(service);
    if (report.ok) {
      console.log(`${service}: migrations match schema.prisma`);
      continue;
    }
    ok = false;
    console.error(`${service}: schema.prisma and its migrations disagree; to bring the migrations up to the schema:`);
    for (const line of report.differences) console.error(`  ${line}`);
    console.error(`  fix: tsx packages/database/src/cli.ts migration ${service} <name>`);
  }
  return ok;
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'migrate':
      await migrate(args, env);
      return 0;
    case 'migration':
      await migration(args);
      return 0;
    case 'check-drift':
      return (await checkDrift(args)) ? 0 : 1;
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(command ? `Unknown command "${command}"\n\n${USAGE}` : USAGE);
      return 2;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
