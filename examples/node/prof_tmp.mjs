import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@mann/backend';
import { MemoryAugmentedNetwork, Trainer } from '@mann/model';
const backend = process.argv[2] ?? 'wasm';
await useBackend(backend);
const T=50,B=16;
const model = new MemoryAugmentedNetwork({});
const trainer = new Trainer(model, {optimizer:'rmsprop'});
const batch = {steps:T,batchSize:B,sampleSize:400,groups:1,choices:5,
  inputs: Float32Array.from({length:T*B*400},()=>Math.random()),
  previousLabels: new Float32Array(T*B*5), targets: Int32Array.from({length:T*B},()=>Math.floor(Math.random()*5))};
trainer.trainStep(batch);
let t0=performance.now(); trainer.trainStep(batch); console.log('batch ms', performance.now()-t0);
const prof = await tf.profile(()=>{ trainer.trainStep(batch); });
const by = {};
for (const k of prof.kernels) { const e = by[k.name] ??= {n:0,ms:0}; e.n++; e.ms += typeof k.kernelTimeMs==='number'?k.kernelTimeMs:0; }
console.log('kernels', prof.kernels.length);
console.log(Object.entries(by).sort((a,b)=>b[1].ms-a[1].ms).slice(0,30).map(([k,v])=>`${k} ${v.n} ${v.ms.toFixed(1)}`).join('\n'));
