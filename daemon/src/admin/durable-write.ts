/** Writing that is on disk before the caller goes on: the audit append and the flag file's temp copy. */
import { open } from 'node:fs/promises';

/** Writes `text` to `path` opened with `flags` ('a' to append, 'wx' to create) and fsyncs it. */
export async function writeSynced(path: string, text: string, flags: string, mode: number): Promise<void> {
  const handle = await open(path, flags, mode);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}
