import { OMNIGLOT_SOURCE_SIZE } from '@mann/omniglot';
import { drawingToInput } from './preprocess';

/** Stroke width in 105x105 pixels: close to the pen of the Omniglot drawings (2 to 3 pixels wide). */
const STROKE_WIDTH = 2.5;

/**
 * A 105x105 drawing canvas (Omniglot's own resolution) for mouse, pen and touch, drawn with pointer events.
 * `onStrokeStart` runs when the pen goes down, `onStroke` each time a stroke ends.
 */
export class DrawingPad {
  onStrokeStart: () => void = () => {};
  onStroke: () => void = () => {};
  private readonly context: CanvasRenderingContext2D;
  private last: { x: number; y: number } | null = null;
  private inked = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    canvas.width = OMNIGLOT_SOURCE_SIZE;
    canvas.height = OMNIGLOT_SOURCE_SIZE;
    this.context = canvas.getContext('2d', { willReadFrequently: true })!;
    canvas.addEventListener('pointerdown', (event) => {
      canvas.setPointerCapture(event.pointerId);
      this.onStrokeStart();
      this.last = this.toCanvas(event);
      this.dot(this.last);
      event.preventDefault();
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!this.last) return;
      const point = this.toCanvas(event);
      this.line(this.last, point);
      this.last = point;
    });
    const end = () => {
      if (!this.last) return;
      this.last = null;
      if (this.inked) this.onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear(): void {
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.inked = false;
  }

  /** The drawing as the model's input: see `drawingToInput`. */
  toInput(imageSize: number): Float32Array {
    const { data } = this.context.getImageData(0, 0, OMNIGLOT_SOURCE_SIZE, OMNIGLOT_SOURCE_SIZE);
    const alpha = new Uint8ClampedArray(OMNIGLOT_SOURCE_SIZE * OMNIGLOT_SOURCE_SIZE);
    for (let i = 0; i < alpha.length; i++) alpha[i] = data[4 * i + 3];
    return drawingToInput(alpha, imageSize);
  }

  private toCanvas(event: PointerEvent): { x: number; y: number } {
    const box = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * this.canvas.width,
      y: ((event.clientY - box.top) / box.height) * this.canvas.height,
    };
  }

  private dot(point: { x: number; y: number }): void {
    this.context.fillStyle = '#000';
    this.context.beginPath();
    this.context.arc(point.x, point.y, STROKE_WIDTH / 2, 0, 2 * Math.PI);
    this.context.fill();
    this.inked = true;
  }

  private line(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const c = this.context;
    c.strokeStyle = '#000';
    c.lineWidth = STROKE_WIDTH;
    c.lineCap = 'round';
    c.beginPath();
    c.moveTo(from.x, from.y);
    c.lineTo(to.x, to.y);
    c.stroke();
    this.inked = true;
  }
}
