// Realistic uses of the public API that must compile (and keep the types
// the values really have). The package is CommonJS, so this file is too:
// its import resolves the "require" condition (lib/node.d.cts).
import {
  Pipeline,
  HalideError,
  type ArgumentDescriptor,
  type BufferOf,
  type ExternBuffer,
  type HalideBuffer,
  type HalideErrorCode,
  type HalideType,
  type PipelineOptions,
  type RunArgs,
  type Stats,
  type TraceEvent,
  type RunOutputs,
  type OutputBuffer,
  type BufferArgumentDescriptor,
  toBuffer,
  toImageData,
} from 'halide-wasm-executor';

declare const bytes: Uint8Array;
declare const w: number;
declare const h: number;
declare const pixels: Uint8Array;
declare const image: ImageData;

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
function expectType<T>(_: T): void {}
function assertType<T extends true>(): void {}

async function readme(): Promise<void> {
  const p = await Pipeline.load(bytes);
  expectType<Pipeline>(p);
  expectType<string>(p.name);
  expectType<string>(p.target);
  const args: ArgumentDescriptor[] = p.arguments;
  for (const a of args) {
    if (a.kind === 'scalar') {
      const d: number | bigint | boolean | undefined = a.default;
      expectType<0>(a.dimensions);
      void d;
    } else {
      expectType<'input' | 'output'>(a.kind);
      expectType<number>(a.dimensions);
    }
    expectType<HalideType>(a.type);
  }
  const out = new Uint8Array(w * h * 3);
  p.run({ input: { data: pixels, shape: [w, h, 3] }, gain: 1.5, brighten: { data: out, shape: [w, h, 3] } });
  // ImageData, interleaved, with strides and mins.
  p.run({
    input: { data: image.data, shape: [w, h, 4], strides: [4, 4 * w, 1], mins: [0, 0, 0] },
    brighten: { data: out, shape: [w, h, 3] },
  });
  // bigint for 64-bit scalars, boolean for bool, undefined takes the default.
  p.run({ offset: 3n, enabled: true, gain: undefined, f: { data: new Float32Array(4), shape: [4] } });

  const s: Stats = p.stats();
  const n: number = s.memoryBytes + s.heapInUseBytes + s.liveAllocations + s.runs;
  void n;
  p.dispose();
}

async function loading(response: Response, module: WebAssembly.Module): Promise<void> {
  await Pipeline.load(fetch('brighten.wasm'));
  await Pipeline.load(response);
  await Pipeline.load(bytes.buffer);
  await Pipeline.load(module, {});
  await Pipeline.load(Promise.resolve(bytes));
  Pipeline.loadSync(bytes, null);
  Pipeline.loadSync(new DataView(bytes.buffer));
  Pipeline.loadSync(module);
  // Builds in order of preference: the first the host can run.
  const best: Pipeline = await Pipeline.load([fetch('blur_threads.wasm'), fetch('blur.wasm')], { threads: 4 });
  Pipeline.loadSync([bytes, module], { threads: null });
  void best;
}

async function offTheThread(p: Pipeline): Promise<void> {
  const out = new Float32Array(16);
  const done: Promise<RunOutputs> = p.runAsync({ input: { data: new Float32Array(16), shape: [4, 4] }, output: { data: out, shape: [4, 4] } });
  await done;
}

function options(): PipelineOptions {
  const events: TraceEvent[] = [];
  const o: PipelineOptions = {
    entry: 'brighten',
    print: (text) => console.log(text.trimEnd()),
    error: (text) => {
      void text.length;
    },
    env: { HL_NUM_THREADS: '1' },
    maxMemoryBytes: 64 << 20,
    trace(e) {
      events.push(e);
      expectType<number>(e.id);
      expectType<Int32Array>(e.coordinates);
      if (e.event === 'store' && typeof e.value === 'number') return e.id + 1;
      return;
    },
    externs: {
      // Untyped parameters are buffers.
      ext_sum_next(pre, out) {
        if (pre.data === null) {
          pre.mins[0] = out.mins[0]!;
          pre.shape[0] = out.shape[0]! + 1;
          return 0;
        }
        if (pre.type === 'int32' && out.type === 'int32' && out.data) {
          expectType<Int32Array>(pre.data);
          out.data[0] = pre.data[0]! + pre.data[1]!;
        }
        return 0;
      },
      // Buffers annotated with their element type.
      scale(input: ExternBuffer<'float32'>, output: ExternBuffer<'float32'>) {
        if (!input.data || !output.data) return;
        expectType<Float32Array>(input.data);
        output.data.set(input.data.subarray(0, output.data.length));
      },
      // Declared arguments with scalars.
      offset: {
        fn: (input: ExternBuffer, k: number, output: ExternBuffer) => (input.data && output.data && k > 0 ? 0 : -1),
        args: ['buffer', 'int32', 'buffer'],
      },
    },
  };
  return o;
}

function jitFlavour(): Pipeline {
  return Pipeline.loadSync(bytes, {
    entry: 'f',
    arguments: [
      { name: '__user_context', kind: 'scalar', type: 'handle' },
      { name: 'k', kind: 'scalar', type: 'int32', dimensions: 0 },
      { name: 'f', kind: 'output', type: 'float32', dimensions: 2 },
    ],
  });
}

function reuseArguments(p: Pipeline): Pipeline {
  // A pipeline's own descriptors are valid declarations.
  return Pipeline.loadSync(bytes, { entry: p.name, arguments: p.arguments });
}

function errors(p: Pipeline): void {
  try {
    p.run({});
  } catch (e) {
    if (e instanceof HalideError) {
      expectType<'HalideError'>(e.name);
      const code: number | HalideErrorCode = e.code;
      if (typeof code === 'number') {
        expectType<number>(code);
      } else if (code === 'callback') {
        void e.cause;
      }
      void e.message;
      void e.stack;
    }
  }
  const err = new HalideError('x: wrong', { code: 'bad-argument' });
  expectType<Error>(err);
  new HalideError('x', { code: -27, cause: new Error('inner') });
}

function typedPipeline(): void {
  // The arguments of one pipeline, checked at compile time.
  interface BrightenArgs extends RunArgs {
    input: BufferOf<'uint8'>;
    gain?: number;
    brighten: BufferOf<'uint8'>;
  }
  const p = Pipeline.loadSync<BrightenArgs>(bytes);
  p.run({ input: { data: new Uint8ClampedArray(12), shape: [2, 2, 3] }, brighten: { data: new Uint8Array(12), shape: [2, 2, 3] } });
  assertType<Equal<BufferOf<'float32'>, HalideBuffer<Float32Array>>>();
  assertType<Equal<BufferOf<'int64'>['data'], BigInt64Array>>();
  // float16 data: the bits in a Uint16Array, or a Float16Array.
  const half: BufferOf<'float16'> = { data: new Uint16Array(4), shape: [4] };
  const half2: BufferOf<'float16'> = { data: new Float16Array(4), shape: [4] };
  void half;
  void half2;
}

function zeroCopy(p: Pipeline): void {
  const b = p.allocBuffer('float32', [16, 16]);
  expectType<Float32Array>(b.data);
  expectType<'float32'>(b.type);
  b.data.fill(1);
  p.run({ input: b, output: { data: new Float32Array(256), shape: [16, 16] } });
  p.freeBuffer(b);
  const c = p.allocBuffer('uint16', [4, 4], [1, 4]);
  p.freeBuffer(c);
}

void readme;
void loading;
void offTheThread;
void options;
void jitFlavour;
void reuseArguments;
void errors;
void typedPipeline;
void zeroCopy;

// `using` (TS 5.2+): Symbol.dispose is declared on Pipeline.
async function usingDeclarations(): Promise<void> {
  using p = await Pipeline.load(bytes);
  p.run({ gain: 1 });
  using q = Pipeline.loadSync(bytes);
  expectType<() => void>(q[Symbol.dispose]);
}

// Images in one line, and the outputs run allocates.
async function canvasFilter(ctx: CanvasRenderingContext2D, bitmap: ImageBitmap, img: HTMLImageElement, file: File): Promise<void> {
  const p = await Pipeline.load(new URL('brighten.wasm', 'https://example.com/'));
  await Pipeline.load('brighten.wasm');
  await Pipeline.load(file);
  await Pipeline.load(new DataView(new ArrayBuffer(8)));
  const out = p.run({ input: toBuffer(ctx.getImageData(0, 0, w, h), p), gain: 1.5 });
  ctx.putImageData(toImageData(out.brighten), 0, 0);
  expectType<RunOutputs>(out);
  expectType<OutputBuffer>(out.anything);
  p.run({ input: toBuffer(bitmap, p, { layout: 'planar' }) });
  p.run({ input: toBuffer(img, p.arguments[0] as BufferArgumentDescriptor, { input: 'input' }) });
  p.run({ input: toBuffer({ data: new Uint16Array(4), width: 1, height: 1 }, p) });
  const d: ImageData = toImageData({ data: new Float32Array(4), shape: [2, 2] }, { range: 'auto' });
  toImageData(out.brighten, { range: [-1, 1] });
  const later: RunOutputs = await p.runAsync({ gain: 2 });
  void d;
  void later;
}
void usingDeclarations;
void canvasFilter;
