// Side-effect imports, bundled into this package's output (see tsup.config.ts). tfjs-core's own Node entry
// registers neither gradients nor chained ops (`x.add(y)`), and its ES module files cannot be loaded by
// plain Node, so every @mann package that trains imports this package first.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
