import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@meridian/service-kit';

export type ReloadResult = { status: 'reloaded' | 'unchanged' } | { status: 'rejected'; error: Error };

export interface SupergraphSourceOptions<TPrepared> {
  /** The composed supergraph file (`supergraph.graphql` or SUPERGRAPH_PATH). */
  path: string;
  /** The SDL read at start-up (already validated by `prepare`). */
  initialSdl: string;
  logger: Logger;
  /** Watch the file and reload on change (otherwise only `reload()` reloads). */
  watch: boolean;
  /** Quiet time after the last change event before the file is read (editors write in steps). */
  debounceMs?: number;
  /**
   * Validates a new SDL and builds what depends on it (the subscription planner); throws when the
   * SDL is not a valid supergraph. Runs before the gateway sees the SDL.
   */
  prepare: (sdl: string) => TPrepared;
  /** Switches the gateway to the new supergraph, with what `prepare` built (throws to refuse it). */
  onReloaded: (prepared: TPrepared, sdl: string) => void;
}

/**
 * Hot reload of the supergraph from its file: once started, the file is watched; a new file is
 * validated by `prepare` (the executor and planner built from it); if it is refused, the error
 * is logged and the running supergraph stays.
 */
export function createSupergraphSource<TPrepared>(options: SupergraphSourceOptions<TPrepared>) {
  const debounceMs = options.debounceMs ?? 100;
  let current = options.initialSdl;
  let started = false;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let queue: Promise<ReloadResult> = Promise.resolve({ status: 'unchanged' });
  let closed = false;

  async function reloadNow(): Promise<ReloadResult> {
    if (!started || closed) return { status: 'unchanged' };
    let sdl: string;
    try {
      sdl = await readFile(options.path, 'utf8');
    } catch (error) {
      return reject(new Error(`cannot read ${options.path}: ${(error as Error).message}`));
    }
    if (sdl === current) return { status: 'unchanged' };
    let prepared: TPrepared;
    try {
      if (sdl.trim() === '') throw new Error('the file is empty');
      prepared = options.prepare(sdl);
    } catch (error) {
      return reject(error as Error);
    }
    current = sdl;
    options.onReloaded(prepared, sdl);
    options.logger.info({ path: options.path }, 'supergraph reloaded');
    return { status: 'reloaded' };
  }

  function reject(error: Error): ReloadResult {
    options.logger.error({ err: error, path: options.path }, 'new supergraph rejected; the running one is kept');
    return { status: 'rejected', error };
  }

  /** Starts watching the file (when `watch` is set); reloads are refused before this. */
  function start() {
    if (started || closed) return;
    started = true;
    if (!options.watch) return;
    const file = path.basename(options.path);
    // The directory, not the file: editors and `npm run compose` replace the file (new inode).
    watcher = watch(path.dirname(options.path), (_event, name) => {
      if (name !== null && name !== file) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), debounceMs);
    });
    watcher.on('error', (error) => options.logger.error({ err: error, path: options.path }, 'cannot watch the supergraph file'));
  }

  function stop() {
    closed = true;
    clearTimeout(timer);
    watcher?.close();
  }

  /** Reads the file now and switches to it if it changed and is valid (one reload at a time). */
  function reload(): Promise<ReloadResult> {
    queue = queue.then(reloadNow, reloadNow);
    return queue;
  }

  return { start, stop, reload, current: () => current };
}

export type SupergraphSource = ReturnType<typeof createSupergraphSource>;
