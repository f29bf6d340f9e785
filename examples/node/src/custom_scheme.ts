import * as tf from '@tensorflow/tfjs-core';
import type { AddressingScheme, AddressingState } from '@mann/addressing';
import type { AddressingSizes } from '@mann/model';

/**
 * The addressing scheme of the root README's "bring your own piece" example, with no fast implementation: each
 * head reads by content (a softmax of dot products with the slots) and adds its key to the slots it addressed,
 * before reading. `mann bench --models mann-custom` times it on the fast and the plain path.
 */
export function contentScheme({ memory, heads }: AddressingSizes): AddressingScheme {
  const { slots, width } = memory;
  return {
    name: 'content',
    heads,
    memory: { slots, width, initialValue: 1e-6 },
    parameterSize: heads * width, // one key per head
    initialState: (batch) => ({ memory: tf.fill([batch, slots, width], 1e-6) as tf.Tensor3D }),
    step: (parameters, state) =>
      tf.tidy(() => {
        const keys = tf.tanh(tf.reshape(parameters, [-1, heads, width])) as tf.Tensor3D; // [B, H, W]
        const address = (m: tf.Tensor3D) => tf.softmax(tf.matMul(keys, m, false, true)) as tf.Tensor3D; // [B, H, N]
        const memory = tf.add(state.memory, tf.matMul(address(state.memory), keys, true)) as tf.Tensor3D;
        const reads = tf.matMul(address(memory), memory) as tf.Tensor3D; // [B, H, W]
        return { reads, state: { memory } as AddressingState };
      }),
  };
}
