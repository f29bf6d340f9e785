import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@mann/backend';
await useBackend(process.argv[2]??'wasm');
function time(name, f, n=20){ for(let i=0;i<3;i++) tf.dispose(f()); const t0=performance.now(); for(let i=0;i<n;i++) tf.dispose(f()); console.log(name, ((performance.now()-t0)/n).toFixed(3),'ms'); }
const a=tf.randomNormal([800,405]), w=tf.randomNormal([405,800]);
time('800x405x800', ()=>tf.matMul(a,w));
const s=tf.randomNormal([16,365]), w2=tf.randomNormal([365,800]);
time('16x365x800', ()=>tf.matMul(s,w2), 200);
const s3=tf.randomNormal([16,800]);
time('16x800x365 transB', ()=>tf.matMul(s3,w2,false,true), 200);
const big=tf.randomNormal([800,365]), dz=tf.randomNormal([800,800]);
time('365x800x800 transA', ()=>tf.matMul(big,dz,true,false));
time('upload+matmul+download', ()=>{ const x=tf.tensor2d(new Float32Array(16*365),[16,365]); const y=tf.matMul(x,w2); y.dataSync(); x.dispose(); return y;},200);
time('add small', ()=>tf.add(s,s), 500);
// JS loop
const M=new Float32Array(16*128*40), K=new Float32Array(16*4*40), S=new Float32Array(16*4*128);
function sim(){ for(let b=0;b<16;b++) for(let h=0;h<4;h++){ const ko=(b*4+h)*40; for(let n=0;n<128;n++){ const mo=(b*128+n)*40; let acc=0; for(let w=0;w<40;w++) acc+=K[ko+w]*M[mo+w]; S[(b*4+h)*128+n]=acc; } } }
for(let i=0;i<50;i++) sim(); let t0=performance.now(); for(let i=0;i<200;i++) sim(); console.log('js 327K MAC', ((performance.now()-t0)/200).toFixed(3),'ms');
