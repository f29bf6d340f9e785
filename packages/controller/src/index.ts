/**
 * Controllers for memory-augmented neural networks in TensorFlow.js: an LSTM and a feed-forward network behind one
 * small interface, {@link Controller}, each with a fast implementation (hand-written gradients).
 *
 * Shapes: B = episodes in the batch, U = units.
 *
 * @module @mann/controller
 */
export type * from './types';
export { lstm } from './lstm';
export type { LSTMOptions, LSTMState } from './lstm';
export { lstmStep } from './lstm_step';
export { feedForward, feedForwardStep } from './feed_forward';
export type { FeedForwardOptions, FeedForwardActivation, DenseWeights } from './feed_forward';
export { glorotUniform } from './glorot_uniform';
export { differentiatedController } from './differentiated_controller';
export { setLstmCellImplementation, lstmCellImplementation } from './lstm_cell_wasm';
export type { LstmCellImplementation } from './lstm_cell_wasm';
