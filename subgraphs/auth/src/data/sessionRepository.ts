import type { Session as SessionRow } from '../generated/prisma/client';

export type { SessionRow };
