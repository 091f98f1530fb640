// Mistakes a TypeScript user can make with the API: every line marked
// `@ts-expect-error` must be a compile error (tsc reports an unused
// `@ts-expect-error`, so a mistake the types let through fails the check).
import { Pipeline, HalideError, init, toBuffer, toImageData, type BufferOf, type ExternBuffer, type PipelineOptions, type RunArgs } from 'halide-wasm-executor';

declare const bytes: Uint8Array;
declare const p: Pipeline;
declare const response: Response;

// ---- loading
// @ts-expect-error a file name is not a module
Pipeline.loadSync('brighten.wasm');
// @ts-expect-error loadSync cannot take a Response (only load streams)
Pipeline.loadSync(response);
// @ts-expect-error loadSync cannot take a promise
Pipeline.loadSync(Promise.resolve(bytes));
// @ts-expect-error a plain array of bytes is not a module
void Pipeline.load([0, 97, 115, 109]);
// @ts-expect-error loadSync cannot take a Response in a list either
Pipeline.loadSync([bytes, response]);
// @ts-expect-error threads is a number
Pipeline.loadSync(bytes, { threads: 'auto' });
// @ts-expect-error runAsync returns a promise, not a value
const ran: void = p.runAsync({});
// @ts-expect-error load is a static method, not a constructor
new Pipeline();
// @ts-expect-error load returns a promise: not a Pipeline until awaited
const notYet: Pipeline = Pipeline.load(bytes);

// ---- options
// @ts-expect-error option names are checked ('memoryLimit' is not one)
Pipeline.loadSync(bytes, { memoryLimit: 1 << 20 });
// @ts-expect-error 'maxMemory' is not 'maxMemoryBytes'
Pipeline.loadSync(bytes, { maxMemory: 1 << 20 });
// @ts-expect-error 'extern' is not 'externs'
Pipeline.loadSync(bytes, { extern: {} });
// @ts-expect-error maxMemoryBytes is a number
Pipeline.loadSync(bytes, { maxMemoryBytes: '64MB' });
// @ts-expect-error env values are strings
Pipeline.loadSync(bytes, { env: { HL_NUM_THREADS: 1 } });
// @ts-expect-error print is a function
Pipeline.loadSync(bytes, { print: true });
// @ts-expect-error print receives a string
Pipeline.loadSync(bytes, { print: (text: Uint8Array) => void text });
// @ts-expect-error entry is a name
Pipeline.loadSync(bytes, { entry: 0 });
// @ts-expect-error the options are an object
Pipeline.loadSync(bytes, 'brighten');
// @ts-expect-error trace events have no 'name' (it is 'func')
Pipeline.loadSync(bytes, { trace: (e) => void e.name });
// @ts-expect-error a trace callback returns an id (or nothing), not a string
Pipeline.loadSync(bytes, { trace: () => 'id' });
// @ts-expect-error trace events have no 'parent_id' (it is 'parentId')
Pipeline.loadSync(bytes, { trace: (e) => e.parent_id });
// @ts-expect-error an extern stage is a function or { fn, args }
Pipeline.loadSync(bytes, { externs: { f: 'f' } });
// @ts-expect-error extern argument kinds are 'buffer' or type names
Pipeline.loadSync(bytes, { externs: { f: { fn: () => 0, args: ['buffer', 'i32'] } } });
// @ts-expect-error an extern stage runs synchronously: it cannot be async
Pipeline.loadSync(bytes, { externs: { f: async () => 0 } });
// @ts-expect-error extern buffers have 'shape', not 'extent'
Pipeline.loadSync(bytes, { externs: { f: (b) => b.extent[0] } });
// @ts-expect-error extern data is null in a bounds query: check before use
Pipeline.loadSync(bytes, { externs: { f: (b: ExternBuffer<'uint8'>) => b.data[0] } });

// ---- arguments in options (JIT flavour)
const declared: PipelineOptions = {
  entry: 'f',
  arguments: [
    // @ts-expect-error `kind` misspelt
    { name: 'k', knd: 'scalar', type: 'int32' },
    // @ts-expect-error kind is 'input', 'output' or 'scalar'
    { name: 'in', kind: 'buffer', type: 'uint8', dimensions: 2 },
    // @ts-expect-error 'u8' is not a type name ('uint8' is)
    { name: 'out', kind: 'output', type: 'u8', dimensions: 2 },
    // @ts-expect-error a buffer's dimensions are required
    { name: 'out2', kind: 'output', type: 'uint8' },
  ],
};

// ---- run
// @ts-expect-error run takes an object of arguments by name
p.run(123);
// @ts-expect-error run takes an object, not a list
p.run([{ data: new Uint8Array(1), shape: [1] }]);
// @ts-expect-error run needs its arguments
p.run();
// @ts-expect-error data is a typed array, not a plain array
p.run({ input: { data: [1, 2, 3], shape: [3] } });
// @ts-expect-error data is a typed array, not an ArrayBuffer
p.run({ input: { data: new ArrayBuffer(3), shape: [3] } });
// @ts-expect-error a buffer needs a shape
p.run({ input: { data: new Uint8Array(3) } });
// @ts-expect-error shape is an array of extents
p.run({ input: { data: new Uint8Array(3), shape: 3 } });
// @ts-expect-error 'extents' is not 'shape'
p.run({ input: { data: new Uint8Array(3), shape: [3], extents: [3] } });
// @ts-expect-error 'stride' is not 'strides'
p.run({ input: { data: new Uint8Array(3), shape: [3], stride: [1] } });
// @ts-expect-error scalars are numbers, bigints or booleans
p.run({ gain: '1.5' });
// @ts-expect-error null is not a scalar (leave it out for the default)
p.run({ gain: null });
// @ts-expect-error a bare typed array is not a buffer object
p.run({ input: new Uint8Array(3) });

// ---- element types
// @ts-expect-error a uint8 buffer's data is a Uint8Array
const wrong: BufferOf<'uint8'> = { data: new Int8Array(3), shape: [3] };
// @ts-expect-error 64-bit integers are BigInt64Arrays
const wrong64: BufferOf<'int64'> = { data: new Float64Array(3), shape: [3] };
// @ts-expect-error no such element type
type NoSuch = BufferOf<'uint12'>;

// ---- a pipeline with its arguments declared
interface BrightenArgs extends RunArgs {
  input: BufferOf<'uint8'>;
  gain?: number;
  brighten: BufferOf<'uint8'>;
}
const typed = Pipeline.loadSync<BrightenArgs>(bytes);
const u8 = { data: new Uint8Array(3), shape: [1, 1, 3] };
// @ts-expect-error a declared argument is missing
typed.run({ input: u8 });
// @ts-expect-error the output's element type is wrong
typed.run({ input: u8, brighten: { data: new Float32Array(3), shape: [1, 1, 3] } });
// @ts-expect-error gain is a number here
typed.run({ input: u8, brighten: u8, gain: true });

// ---- results
// @ts-expect-error name is read-only
p.name = 'other';
// @ts-expect-error arguments describe kind, not 'direction'
void p.arguments[0]!.direction;
// @ts-expect-error stats has memoryBytes, not 'memory'
void p.stats().memory;
// @ts-expect-error allocBuffer takes a type name
p.allocBuffer('u8', [4]);
// @ts-expect-error freeBuffer takes a buffer from allocBuffer
p.freeBuffer(new Uint8Array(4));
// @ts-expect-error dispose returns nothing to await on
void p.dispose().then;

// ---- errors
declare const e: HalideError;
// @ts-expect-error codes are negative numbers or known names ('oom' is not one)
if (e.code === 'oom') void 0;
// @ts-expect-error 'bad-arg' is not a code ('bad-argument' is)
new HalideError('x', { code: 'bad-arg' });

void notYet;
void declared;
void wrong;
void wrong64;

// Images: a layout that does not exist, a range of one value, a number as an image.
declare const imagePipeline: Pipeline;
// @ts-expect-error no such layout
toBuffer({ data: new Uint8Array(4), width: 1, height: 1 }, imagePipeline, { layout: 'diagonal' });
// @ts-expect-error a range is two numbers
toImageData({ data: new Float32Array(1), shape: [1, 1] }, { range: [0] });
// @ts-expect-error not an image
toBuffer(42, imagePipeline);
// @ts-expect-error load takes no number
void Pipeline.load(42);
// @ts-expect-error init takes a location or the wasm, not a number
void init(42);
// @ts-expect-error 'wasmPaths' is not an init option
void init({ wasmPaths: '/x/' });
