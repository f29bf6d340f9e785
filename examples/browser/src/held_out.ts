// The held-out characters, fetched a few at a time: an episode fetches only the characters it shows (5 small files
// for a 5-way episode), then the rest follow in the background, so the first episode starts after a few kB of
// data instead of the two Omniglot zips (14 MB).
import { createRandom, sampleEpisodes, type ClassDataset, type EpisodeBatch, type LabelEncoding } from '@mann/episodes';
import { OmniglotDataset } from '@mann/omniglot';
import { checkHeldOutIndex, decodeCharacterFile, describeFile, drawersOf, HELD_OUT_DIR, REBUILD_HINT, type HeldOutCharacter, type HeldOutIndex } from './held_out_files';
import { sha256Hex } from './sha256';

/** What an episode is drawn with: the arguments `sampleEpisodes` gets on the page, with a seed for `random`. */
export interface EpisodeOptions {
  /** Classes per episode. */
  ways: number;
  /** Drawings of each class per episode. */
  shots: number;
  /** Seed of `createRandom`: the same seed gives the same episode. */
  seed: number;
  /** How labels are drawn and encoded (`labelEncodingFor(model.config)`). */
  labels: LabelEncoding;
  /** Told what is being fetched when an episode needs characters not fetched yet. */
  onProgress?: (text: string) => void;
}

/** Characters the model never trained on, fetched as episodes need them. */
export interface HeldOut {
  /** Which characters these are and why the model never trained on them. */
  readonly description: string;
  /** Number of characters (classes). */
  readonly numClasses: number;
  /** Shape of one drawing, `[imageSize, imageSize]`. */
  readonly sampleShape: readonly number[];
  /** Characters fetched so far. */
  readonly fetchedClasses: number;
  /**
   * One episode (batch of 1), exactly `sampleEpisodes(dataset, { ways, shots, batchSize: 1, labels, random:
   * createRandom(seed) })` over all the characters, after fetching the few it shows.
   */
  sampleEpisode(options: EpisodeOptions): Promise<EpisodeBatch>;
  /** Fetches every character not fetched yet, a few at a time, at low priority. */
  fetchAll(): Promise<void>;
}

/** Where the index is and what it must be (from `virtual:mann-assets`). */
export interface HeldOutSource {
  /** Absolute URL of `held-out/index-<sha>.json`; character files are fetched from the same folder. */
  indexUrl: string;
  /** SHA-256 (hex) the index must have. */
  indexSha256: string;
  /** The model's image side: the index must hold images of this size. */
  imageSize: number;
}

export interface OpenHeldOutOptions {
  /** `fetch`, or a stand-in (tests). */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  onProgress?: (text: string) => void;
  /**
   * Fetch the characters no episode has needed yet in the background, starting this many ms after the first
   * episode is ready (default 2000); `false`: never, each episode fetches what it shows.
   */
  backgroundFetchDelayMs?: number | false;
  /** Files fetched at once in the background (default 2). */
  backgroundConcurrency?: number;
}

function kilobytes(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(2)} MB`;
}

async function fetchBytes(
  fetcher: (url: string, init?: RequestInit) => Promise<Response>,
  url: string,
  where: string,
  init?: RequestInit,
): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetcher(url, init);
  } catch (error) {
    throw new Error(`${where}: could not be fetched (${(error as Error).message}); check the connection or the server, or ${REBUILD_HINT}.`);
  }
  if (!response.ok) {
    throw new Error(`${where}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}; the file is missing: ${REBUILD_HINT}.`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Stands in for the real dataset in a dry run of the sampler: records the classes read, writes zeros. */
class RecordingDataset implements ClassDataset {
  readonly classes = new Set<number>();
  readonly numClasses: number;
  readonly sampleShape: readonly number[];
  private readonly size: number;

  constructor(private readonly index: HeldOutIndex) {
    this.numClasses = index.characters.length;
    this.sampleShape = [index.imageSize, index.imageSize];
    this.size = index.imageSize * index.imageSize;
  }

  samplesIn(classIndex: number): number {
    return drawersOf(this.index, classIndex).length;
  }

  read(classIndex: number, _sampleIndex: number, out: Float32Array, offset: number): void {
    this.classes.add(classIndex);
    out.fill(0, offset, offset + this.size);
  }
}

/** The real dataset: same classes and sizes, reads through `OmniglotDataset` from the characters fetched. */
class FetchedDataset implements ClassDataset {
  readonly numClasses: number;
  readonly sampleShape: readonly number[];

  constructor(
    private readonly index: HeldOutIndex,
    private readonly fetched: ReadonlyMap<number, OmniglotDataset>,
  ) {
    this.numClasses = index.characters.length;
    this.sampleShape = [index.imageSize, index.imageSize];
  }

  samplesIn(classIndex: number): number {
    return drawersOf(this.index, classIndex).length;
  }

  read(classIndex: number, sampleIndex: number, out: Float32Array, offset: number, random: () => number): void {
    const dataset = this.fetched.get(classIndex);
    if (!dataset) throw new Error(`held-out class ${classIndex} was read but not fetched (the dry run of the sampler did not read it)`);
    dataset.read(0, sampleIndex, out, offset, random);
  }
}

class LazyHeldOut implements HeldOut {
  readonly description: string;
  readonly numClasses: number;
  readonly sampleShape: readonly number[];
  private readonly fetched = new Map<number, OmniglotDataset>();
  private readonly pending = new Map<number, Promise<OmniglotDataset>>();
  private readonly dataset: FetchedDataset;
  private backgroundStarted = false;

  constructor(
    private readonly index: HeldOutIndex,
    private readonly baseUrl: string,
    private readonly fetcher: (url: string, init?: RequestInit) => Promise<Response>,
    private readonly options: OpenHeldOutOptions,
  ) {
    this.description = index.description;
    this.numClasses = index.characters.length;
    this.sampleShape = [index.imageSize, index.imageSize];
    this.dataset = new FetchedDataset(index, this.fetched);
  }

  get fetchedClasses(): number {
    return this.fetched.size;
  }

  async sampleEpisode({ ways, shots, seed, labels, onProgress }: EpisodeOptions): Promise<EpisodeBatch> {
    // Neither dataset draws from `random` in `read`, so the dry run and the real one draw the same episode.
    const recorder = new RecordingDataset(this.index);
    sampleEpisodes(recorder, { ways, shots, batchSize: 1, labels, random: createRandom(seed) });
    const missing = [...recorder.classes].filter((c) => !this.fetched.has(c));
    if (missing.length > 0) {
      const bytes = missing.reduce((sum, c) => sum + this.index.characters[c][2], 0);
      onProgress?.(`Fetching ${missing.length} held-out character${missing.length === 1 ? '' : 's'} (${kilobytes(bytes)})…`);
    }
    // Every fetch settles before a failure is reported, so a retry starts afresh rather than joining a failing one.
    const results = await Promise.allSettled([...recorder.classes].map((c) => this.character(c, 'high')));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    const batch = sampleEpisodes(this.dataset, { ways, shots, batchSize: 1, labels, random: createRandom(seed) });
    this.scheduleBackground();
    return batch;
  }

  async fetchAll(): Promise<void> {
    const queue = this.index.characters.map((_, c) => c).filter((c) => !this.fetched.has(c));
    const concurrency = Math.max(1, this.options.backgroundConcurrency ?? 2);
    const worker = async () => {
      for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
        try {
          await this.character(c, 'low');
        } catch (error) {
          queue.length = 0; // the other workers stop too
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  private scheduleBackground(): void {
    const delay = this.options.backgroundFetchDelayMs ?? 2000;
    if (this.backgroundStarted || delay === false) return;
    this.backgroundStarted = true;
    setTimeout(() => {
      // A failure here is reported when an episode needs that character (each episode fetches what it lacks).
      this.fetchAll().catch((error: Error) => console.warn(`Fetching the held-out characters in the background stopped: ${error.message}`));
    }, delay);
  }

  /** Character `c` as a one-class `OmniglotDataset`, fetched once (concurrent callers share the fetch). */
  private character(c: number, priority: RequestPriority): Promise<OmniglotDataset> {
    const done = this.fetched.get(c);
    if (done) return Promise.resolve(done);
    let pending = this.pending.get(c);
    if (!pending) {
      const url = new URL(this.index.characters[c][1], this.baseUrl).href;
      pending = fetchBytes(this.fetcher, url, describeFile(this.index, c), { priority })
        .then((file) => decodeCharacterFile(this.index, c, file))
        .then((character) => {
          const dataset = new OmniglotDataset([character]);
          this.fetched.set(c, dataset);
          return dataset;
        })
        .finally(() => this.pending.delete(c));
      this.pending.set(c, pending);
    }
    return pending;
  }
}

/**
 * Fetches and checks the index of the held-out characters (a few dozen kB); the characters themselves are fetched
 * by `sampleEpisode` as episodes need them. Errors are one line naming the file and the fix.
 */
export async function openHeldOut(source: HeldOutSource, options: OpenHeldOutOptions = {}): Promise<HeldOut> {
  const fetcher = options.fetch ?? ((url, init) => fetch(url, init));
  options.onProgress?.('Fetching the index of the held-out characters…');
  const index = await fetchIndex(source, fetcher, HELD_OUT_DIR);
  return new LazyHeldOut(index, source.indexUrl, fetcher, options);
}

/** Fetches an index (of `folder`), checks its SHA-256, shape and image size; errors name the file and the fix. */
async function fetchIndex(
  source: HeldOutSource,
  fetcher: (url: string, init?: RequestInit) => Promise<Response>,
  folder: string,
): Promise<HeldOutIndex> {
  const where = `${folder}/${source.indexUrl.split('/').pop()}`;
  const bytes = await fetchBytes(fetcher, source.indexUrl, where);
  const sha256 = await sha256Hex(bytes);
  if (sha256 !== source.indexSha256) {
    throw new Error(`${where}: SHA-256 ${sha256.slice(0, 16)}…, this page expects ${source.indexSha256.slice(0, 16)}…; the file is damaged or from another build: ${REBUILD_HINT}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Error(`${where}: not valid JSON (${(error as Error).message}); ${REBUILD_HINT}.`);
  }
  const index = checkHeldOutIndex(json, where);
  if (index.imageSize !== source.imageSize) {
    throw new Error(
      `${where}: holds ${index.imageSize}x${index.imageSize} images but the model takes ${source.imageSize}x${source.imageSize}; ` +
        `the page was built for another checkpoint: ${REBUILD_HINT} and the checkpoint you want (MANN_CHECKPOINT).`,
    );
  }
  return index;
}

/** Options of {@link fetchAllCharacters}. */
export interface FetchAllOptions {
  /** `fetch`, or a stand-in (tests). */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  /** Folder the files are in, for messages (default {@link HELD_OUT_DIR}). */
  folder?: string;
  /** Files fetched at once (default 6, a browser's connections per host). */
  concurrency?: number;
  /** Told how many characters are in after each one. */
  onProgress?: (done: number, total: number, bytes: number) => void;
}

/**
 * Fetches an index and every character it lists, each checked against its SHA-256 (the Train mode's training
 * characters, all of which a training run draws from). Returns them in the index's order; the first file that is
 * missing or damaged stops it with one line naming the file and the fix.
 */
export async function fetchAllCharacters(
  source: HeldOutSource,
  options: FetchAllOptions = {},
): Promise<{ index: HeldOutIndex; characters: HeldOutCharacter[] }> {
  const fetcher = options.fetch ?? ((url, init) => fetch(url, init));
  const folder = options.folder ?? HELD_OUT_DIR;
  const index = await fetchIndex(source, fetcher, folder);
  const characters = new Array<HeldOutCharacter>(index.characters.length);
  const queue = index.characters.map((_, c) => c);
  let done = 0;
  let bytes = 0;
  let failed = false;
  const worker = async () => {
    for (let c = queue.shift(); c !== undefined && !failed; c = queue.shift()) {
      try {
        const url = new URL(index.characters[c][1], source.indexUrl).href;
        const file = await fetchBytes(fetcher, url, describeFile(index, c, folder));
        characters[c] = await decodeCharacterFile(index, c, file, folder);
        bytes += file.length;
        options.onProgress?.(++done, characters.length, bytes);
      } catch (error) {
        failed = true; // the other workers stop too
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 6) }, worker));
  return { index, characters };
}
