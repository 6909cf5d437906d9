/** The time source of the auth rules (backoff, expiries, key overlap); tests inject one they can advance. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
