import type { ClassDataset } from '@mann/episodes';

/** Side of a dataset's square 2-D samples, or an error naming `caller` (rotations need square images). */
export function squareSide(dataset: ClassDataset, caller: string): number {
  const shape = dataset.sampleShape;
  if (shape.length !== 2 || shape[0] !== shape[1]) {
    throw new Error(`${caller}: needs square 2-D samples, got sampleShape [${shape.join(', ')}]`);
  }
  return shape[0];
}
