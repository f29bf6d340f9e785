// The model trained in the Train mode, kept in the browser (IndexedDB) so that a reload can restore it: one record,
// replaced by each Save. It holds the checkpoint with Adam's state, so training can go on where it stopped.
import type { CheckpointFiles } from './data';

const DATABASE = 'mann-browser-example';
const STORE = 'checkpoints';
/** The one key used: the latest model saved. */
const KEY = 'trained-here';

/** What is stored: the checkpoint and when it was saved (ISO time). */
export interface SavedCheckpoint extends CheckpointFiles {
  savedAt: string;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

async function open(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') throw new Error('this browser has no IndexedDB (or it is turned off, as in some private windows)');
  const req = indexedDB.open(DATABASE, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE);
  return request(req);
}

/** Runs `action` on the store in one transaction and closes the database when it is done. */
async function withStore<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    const transaction = db.transaction(STORE, mode);
    const done = new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    });
    const [result] = await Promise.all([request(action(transaction.objectStore(STORE))), done]);
    return result;
  } finally {
    db.close();
  }
}

/** Saves the checkpoint, replacing the one saved before. Errors say why (quota, private mode...). */
export async function saveCheckpoint(checkpoint: CheckpointFiles): Promise<SavedCheckpoint> {
  const saved: SavedCheckpoint = { ...checkpoint, savedAt: new Date().toISOString() };
  try {
    await withStore('readwrite', (store) => store.put(saved, KEY));
  } catch (error) {
    throw new Error(`The model could not be saved in this browser: ${(error as Error).message ?? error}.`);
  }
  return saved;
}

/** The checkpoint saved last, or null when there is none. */
export async function loadSavedCheckpoint(): Promise<SavedCheckpoint | null> {
  const found = await withStore('readonly', (store) => store.get(KEY) as IDBRequest<SavedCheckpoint | undefined>);
  return found ?? null;
}

/** Forgets the saved checkpoint. */
export async function deleteSavedCheckpoint(): Promise<void> {
  await withStore('readwrite', (store) => store.delete(KEY));
}
