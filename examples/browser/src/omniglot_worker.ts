/// <reference lib="webworker" />
// Decodes the authors' Omniglot zips off the main thread (about 13,000 PNGs per archive), so the page stays
// responsive while the characters load.
import { readOmniglotZip, type OmniglotSet } from '@mann/omniglot';

export interface DecodeRequest {
  /** Absolute URLs of the zips to fetch, in order. */
  urls: string[];
  imageSize: number;
}

export type DecodeMessage =
  | { kind: 'progress'; text: string }
  | { kind: 'done'; sets: OmniglotSet[] }
  | { kind: 'error'; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (event: MessageEvent<DecodeRequest>) => {
  const { urls, imageSize } = event.data;
  const post = (message: DecodeMessage, transfer: Transferable[] = []) => scope.postMessage(message, transfer);
  try {
    const sets: OmniglotSet[] = [];
    for (const url of urls) {
      const name = decodeURIComponent(url.split('/').pop() ?? url);
      post({ kind: 'progress', text: `Fetching ${name}…` });
      const response = await fetch(url);
      if (!response.ok) throw new Error(`Fetching ${url} failed: HTTP ${response.status} ${response.statusText}.`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      post({ kind: 'progress', text: `Decoding ${name} (${(bytes.length / 1e6).toFixed(1)} MB) and resizing to ${imageSize}x${imageSize}…` });
      sets.push(readOmniglotZip(bytes, { name, imageSize }));
    }
    post({ kind: 'done', sets }, sets.flatMap((set) => set.characters.map((character) => character.pixels.buffer as ArrayBuffer)));
  } catch (error) {
    post({ kind: 'error', message: (error as Error).message });
  }
};
