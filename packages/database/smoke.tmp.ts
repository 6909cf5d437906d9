import { checkMigrationDrift, createMigration } from './src/drift';
const loc = { schemaPath: '/tmp/db-helper/t1/schema.prisma', migrationsDir: '/tmp/db-helper/t1/migrations' };
(async () => {
  let t = Date.now();
  console.log(await checkMigrationDrift('user', loc), Date.now() - t);
  t = Date.now();
  const r = await createMigration('user', 'init', loc); console.log(r, Date.now() - t);
  t = Date.now();
  console.log(await checkMigrationDrift('user', loc), Date.now() - t);
  console.log(await createMigration('user', 'again', loc));
})().catch((e) => { console.error(e); process.exit(1); });
