// Shared by both pages: starts the backend named by ?backend=, runs a small computation, a gradient and a few
// training steps of a tiny @mann/model network, and writes the result (JSON) into #result and window.result.
import { createRandom, sampleEpisodes, syntheticPatterns } from '@mann/episodes';
import { MemoryAugmentedNetwork, Trainer, labelEncodingFor } from '@mann/model';

function show(result) {
  window.result = result;
  document.querySelector('#result').textContent = JSON.stringify(result, null, 2);
  document.body.dataset.status = result.error === undefined ? 'done' : 'error';
}

export async function run(start, tf) {
  const wanted = new URL(location.href).searchParams.get('backend') ?? 'cpu';
  try {
    const started = await start(wanted);
    const backend = tf.getBackend();
    // [[1, 2], [3, 4]] x [[5, 6], [7, 8]]
    const product = Array.from(await tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).data());
    // d/dx sum(tanh(x) * x) = tanh(x) + x (1 - tanh(x)^2): needs tfjs-core's gradients registered in the bundle.
    const gradient = Array.from(await tf.grad((x) => tf.sum(tf.mul(tf.tanh(x), x)))(tf.tensor1d([-1, 0.5, 2])).data());
    // A few training steps of a tiny MANN on one fixed batch: the loss must fall.
    const model = new MemoryAugmentedNetwork({ controllerUnits: 8, memorySlots: 4, memoryWidth: 4, heads: 1, ways: 2, imageSize: 3 });
    const trainer = new Trainer(model, { optimizer: 'adam', learningRate: 3e-2 });
    const data = syntheticPatterns({ classes: 4, samplesPerClass: 4, sampleShape: [3, 3], noise: 0.05, seed: 1 });
    const batch = sampleEpisodes(data, { ways: 2, shots: 2, batchSize: 2, labels: labelEncodingFor(model.config), random: createRandom(2) });
    const losses = [];
    for (let step = 0; step < 5; step++) losses.push(trainer.trainStep(batch).loss);
    show({ wanted, started, backend, product, gradient, losses, tensors: tf.memory().numTensors });
  } catch (error) {
    show({ wanted, backend: tf.getBackend() ?? null, error: String(error?.message ?? error) });
  }
}
