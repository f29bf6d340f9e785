// A ParallelTrainer worker: its own tfjs and a copy of the model. For each step it takes the weights from shared
// memory, computes the gradient of its shard's mean loss and writes it to its shared gradient array. Answers go
// over a MessagePort that the main thread reads synchronously after an Atomics notification. Loaded by the
// bootstrap in parallel_trainer.ts, which reports load failures and crashes.
import { workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@mann/backend';
import { outputGroups } from './config';
import { MemoryAugmentedNetwork } from './model';
import { predictChoices } from './loss';
import { episodeTensors } from './tensors';
import { Trainer } from './trainer';
import type { EpisodeBatch } from '@mann/episodes';
import { ANSWERS, type StepRequest, type WorkerAnswer, type WorkerSetup } from './parallel_protocol';

const setup = workerData as WorkerSetup;
const control = new Int32Array(setup.control);
const weights = new Float32Array(setup.weights);
const gradients = new Float32Array(setup.gradients);
let trainer: Trainer | null = null;

function answer(message: WorkerAnswer, transfer: ArrayBuffer[] = []): void {
  setup.port.postMessage(message, transfer);
  // The message is queued on the main thread's port before the count moves, so the main thread finds it.
  Atomics.add(control, ANSWERS, 1);
  Atomics.notify(control, ANSWERS);
}

function failure(error: unknown): WorkerAnswer {
  const e = error instanceof Error ? error : new Error(String(error));
  return { type: 'error', message: e.message, stack: e.stack };
}

function step(request: StepRequest): WorkerAnswer {
  if (!trainer) throw new Error('the worker received a step before it was ready');
  const { model } = trainer;
  tf.tidy(() => {
    for (const slot of setup.slots) {
      // slice: a private copy, so no tensor ever aliases the shared array the main thread rewrites.
      model.variables[slot.name].assign(tf.tensor(weights.slice(slot.offset, slot.offset + slot.size), slot.shape));
    }
  });
  const { groups } = outputGroups(model.config);
  const input = episodeTensors(request.shard as EpisodeBatch);
  try {
    const { value, grads, logits } = trainer.gradients(input.images, input.previousLabels, input.targets, groups);
    try {
      for (const slot of setup.slots) gradients.set(grads[slot.name].dataSync(), slot.offset);
      const loss = value.dataSync()[0];
      const predictions = predictChoices(logits, groups);
      return { type: 'done', loss, predictions, tensors: -1, ms: 0 };
    } finally {
      tf.dispose([value, grads, logits] as unknown as tf.TensorContainer);
    }
  } finally {
    tf.dispose(input as unknown as tf.TensorContainer);
  }
}

setup.port.on('message', (request: StepRequest) => {
  const started = performance.now();
  let reply: WorkerAnswer;
  try {
    reply = step(request);
  } catch (error) {
    reply = failure(error);
  }
  if (reply.type === 'done') {
    reply.tensors = tf.memory().numTensors;
    reply.ms = performance.now() - started;
    answer(reply, [reply.predictions.buffer as ArrayBuffer]);
  } else {
    answer(reply);
  }
});

// Not top-level await: this file is also built as CommonJS.
void (async () => {
  try {
    await useBackend(setup.backend);
    const model = new MemoryAugmentedNetwork(setup.config);
    trainer = new Trainer(model, { fastPath: setup.fastPath });
    answer({ type: 'ready', fastPath: trainer.fastPath });
  } catch (error) {
    answer(failure(error));
  }
})();
