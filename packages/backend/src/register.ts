// Side-effect imports, bundled into this package's output (see tsup.config.ts). tfjs-core's own Node entry
// registers neither gradients nor chained ops (`x.add(y)`), and its ES module files cannot be loaded by
// plain Node, so every @mann package that trains imports this package first.
//
// tfjs-core itself must load before the bundled copies: whichever module first runs `getOrMakeEngine()` creates
// the one global engine, and it must be tfjs-core's, whose Tensor class has its op handler installed.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
