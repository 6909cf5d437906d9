import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTestDatabase, openDatabase, type Database, type TestDatabase } from '../src/index';

const FIXTURES = path.join(__dirname, 'fixtures');
const SCHEMA = path.join(FIXTURES, 'schema.prisma');
const GENERATED = path.join(__dirname, 'generated', 'client');

/**
 * Generate the fixture client (gitignored) unless it is already there for this schema.
 * PRISMA_SCHEMA_ENGINE_BINARY stops the CLI from trying to download an engine it will not use.
 */
function ensureClient(): void {
  const stamp = path.join(GENERATED, '.schema-sha256');
  const hash = createHash('sha256').update(readFileSync(SCHEMA)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && existsSync(path.join(GENERATED, 'client.ts'))) return;
  execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate', '--schema', SCHEMA], {
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    stdio: 'pipe',
  });
  writeFileSync(stamp, hash);
}

/** The slice of the generated client this test uses (typed by hand: the client is generated at test time). */
interface NoteRow {
  id: number;
  title: string;
  status: 'DRAFT' | 'PUBLISHED';
  tags: string[];
  createdAt: Date;
  comments?: { body: string }[];
}
interface FixtureClient {
  note: {
    create(args: { data: Record<string, unknown> }): Promise<NoteRow>;
    findUnique(args: { where: { title: string }; include?: { comments: true } }): Promise<NoteRow | null>;
    count(): Promise<number>;
  };
  $transaction<T>(callback: (tx: FixtureClient) => Promise<T>): Promise<T>;
  $disconnect(): Promise<void>;
}
type ClientConstructor = new (options: { adapter: Database['adapter'] }) => FixtureClient;

let PrismaClient: ClientConstructor;
beforeAll(() => {
  ensureClient();
  PrismaClient = (require(path.join(GENERATED, 'client')) as { PrismaClient: ClientConstructor }).PrismaClient;
});

async function exerciseClient(database: Database): Promise<void> {
  expect(await database.migrate()).toEqual(['20250101000000_init']);
  const prisma = new PrismaClient({ adapter: database.adapter });
  try {
    const created = await prisma.note.create({
      data: { title: 'first', tags: ['a', 'b'], comments: { create: [{ body: 'hello' }] } },
    });
    expect(created).toMatchObject({ id: 1, title: 'first', status: 'DRAFT', tags: ['a', 'b'] });
    expect(created.createdAt).toBeInstanceOf(Date);

    const found = await prisma.note.findUnique({ where: { title: 'first' }, include: { comments: true } });
    expect(found?.comments?.map((comment) => comment.body)).toEqual(['hello']);

    // Driver errors must reach Prisma as Prisma errors (P2002), not as raw driver errors.
    await expect(prisma.note.create({ data: { title: 'first' } })).rejects.toMatchObject({ code: 'P2002' });

    // An interactive transaction that throws leaves nothing behind.
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.note.create({ data: { title: 'second' } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await prisma.note.count()).toBe(1);
  } finally {
    await prisma.$disconnect();
  }
}

const migrationsDir = path.join(FIXTURES, 'migrations');

test('PrismaClient queries embedded PGlite through the adapter openDatabase returns', async () => {
  const database = await openDatabase({ service: 'fixture', migrationsDir });
  try {
    expect(database.kind).toBe('pglite');
    await exerciseClient(database);
  } finally {
    await database.close();
  }
});

const describePostgres = process.env.TEST_POSTGRES_URL ? describe : describe.skip;
describePostgres('with TEST_POSTGRES_URL', () => {
  let testDatabase: TestDatabase;
  beforeAll(async () => {
    testDatabase = await createTestDatabase('fixture');
  });
  afterAll(async () => {
    await testDatabase.drop();
  });

  test('PrismaClient queries PostgreSQL through the adapter openDatabase returns', async () => {
    expect(testDatabase.kind).toBe('postgres');
    const database = await openDatabase({ service: 'fixture', databaseUrl: testDatabase.databaseUrl!, migrationsDir });
    try {
      expect(database.kind).toBe('postgres');
      await exerciseClient(database);
    } finally {
      await database.close();
    }
  });
});
