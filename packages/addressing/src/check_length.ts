/** Throws when a typed array has the wrong length (a run's inputs are flat, so the length is the shape check). */
export function checkLength(caller: string, name: string, values: Float32Array, expected: number): void {
  if (!(values instanceof Float32Array) || values.length !== expected) {
    const got = values instanceof Float32Array ? `length ${values.length}` : String(values);
    throw new Error(`${caller}: ${name} must be a Float32Array of length ${expected}, got ${got}.`);
  }
}
