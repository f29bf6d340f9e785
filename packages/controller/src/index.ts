export type * from './types';
export { lstm } from './lstm';
export type { LSTMOptions, LSTMState } from './lstm';
export { lstmStep } from './lstm_step';
export { feedForward, feedForwardStep } from './feed_forward';
export type { FeedForwardOptions, FeedForwardActivation, DenseWeights } from './feed_forward';
export { glorotUniform } from './glorot_uniform';
export { differentiatedController } from './differentiated_controller';
