// The public API of halide-wasm-executor, hand-written: the one source of
// truth for every entry point's declarations (node.d.cts for `require`,
// node.d.mts for `import`, web.d.mts for the browser build re-export it).
//
// Only ES library types are referenced by name. The host types that come
// from the DOM or Node typings (`Response`, `WebAssembly.Module`,
// `Float16Array`) are looked up on `globalThis` and become `never` where the
// consumer's typings lack them, so these declarations compile with any
// `lib`/`types` setting.

// ---------------------------------------------------------------- host types

type GlobalInstance<K extends string> = typeof globalThis extends {
  [P in K]: { prototype: infer I };
}
  ? I
  : never;

/**
 * `WebAssembly.Module` where the consumer's typings declare it. (Its
 * declared interface is empty, which anything but null and undefined
 * matches; the intersection keeps out what is easily passed by mistake:
 * primitives, arrays, promises and `Response`s.)
 */
export type WasmModule = typeof globalThis extends {
  WebAssembly: { Module: { prototype: infer M } };
}
  ? M & object & { readonly length?: never; readonly then?: never; readonly arrayBuffer?: never }
  : never;

/** `Response` (from `fetch`) where the consumer's typings declare it. */
export type FetchResponse = GlobalInstance<'Response'>;

/** `Blob` (and so `File`) where the consumer's typings declare it. */
export type BlobType = GlobalInstance<'Blob'>;

/** `URL` where the consumer's typings declare it. */
export type URLType = GlobalInstance<'URL'>;

/** `ImageData` where the consumer's typings declare it (the DOM lib), else its fields. */
export type ImageDataType = [GlobalInstance<'ImageData'>] extends [never]
  ? { readonly data: Uint8ClampedArray; readonly width: number; readonly height: number; readonly colorSpace: string }
  : GlobalInstance<'ImageData'>;

/** What a 2-D canvas can draw, where the consumer's typings declare it. */
export type DrawableImage =
  | GlobalInstance<'ImageBitmap'>
  | GlobalInstance<'HTMLCanvasElement'>
  | GlobalInstance<'OffscreenCanvas'>
  | GlobalInstance<'HTMLImageElement'>
  | GlobalInstance<'HTMLVideoElement'>
  | GlobalInstance<'VideoFrame'>;

/** `Float16Array` where the consumer's typings declare it (TypeScript ≥ 5.7 with `lib: esnext`). */
export type Float16ArrayType = GlobalInstance<'Float16Array'>;

// -------------------------------------------------------------------- types

/** The name of a Halide element type, as `arguments`, extern buffers and trace events give it. */
export type HalideType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'handle';

/** Every typed array a buffer's `data` may be. */
export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array
  | Float16ArrayType;

/** The typed arrays `run` accepts as the `data` of a buffer of each element type. */
export interface TypedArrayByType {
  bool: Uint8Array | Uint8ClampedArray;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array | Uint8ClampedArray;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  /** The half floats' bits, or a `Float16Array`. */
  float16: Uint16Array | Float16ArrayType;
  /** The bfloat16 values' bits. */
  bfloat16: Uint16Array;
  float32: Float32Array;
  float64: Float64Array;
  handle: BigUint64Array;
}

/** The typed array the executor itself makes for each element type (extern buffers, `allocBuffer`). */
export interface ViewArrayByType {
  bool: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  float32: Float32Array;
  float64: Float64Array;
  handle: BigUint64Array;
}

/** A scalar argument's value: a number, a `bigint` for 64-bit integers, a boolean for `bool`. */
export type ScalarValue = number | bigint | boolean;

// ---------------------------------------------------------------- arguments

/** A buffer argument of the entry point, as `Pipeline#arguments` lists it. */
export interface BufferArgumentDescriptor {
  readonly name: string;
  readonly kind: 'input' | 'output';
  readonly type: HalideType;
  readonly dimensions: number;
}

/** A scalar argument of the entry point, as `Pipeline#arguments` lists it. */
export interface ScalarArgumentDescriptor {
  readonly name: string;
  readonly kind: 'scalar';
  readonly type: HalideType;
  readonly dimensions: 0;
  /** The value a missing scalar takes (absent: the scalar is required). */
  readonly default?: ScalarValue;
  readonly min?: ScalarValue;
  readonly max?: ScalarValue;
}

/** One argument of the entry point, read from the module's `NAME_metadata`, in call order. */
export type ArgumentDescriptor = BufferArgumentDescriptor | ScalarArgumentDescriptor;

/**
 * One argument of a module without metadata (Halide's JIT flavour), for
 * `PipelineOptions.arguments`. Every `ArgumentDescriptor` is one.
 */
export type ArgumentDeclaration =
  | BufferArgumentDescriptor
  | {
      readonly name: string;
      readonly kind: 'scalar';
      readonly type: HalideType;
      readonly dimensions?: 0;
    };

// ------------------------------------------------------------------ buffers

/**
 * A buffer for `run`, in Halide's dimension order (x first). `strides`
 * default to dense x-first, `mins` to 0. An interleaved RGBA `ImageData` is
 * `{ data: img.data, shape: [w, h, 4], strides: [4, 4 * w, 1] }`.
 */
export interface HalideBuffer<D extends TypedArray = TypedArray> {
  data: D;
  shape: readonly number[];
  strides?: readonly number[];
  mins?: readonly number[];
}

/** A `HalideBuffer` whose `data` suits element type `T`: `BufferOf<'float32'>` is `HalideBuffer<Float32Array>`. */
export type BufferOf<T extends HalideType> = HalideBuffer<TypedArrayByType[T]>;

/**
 * The arguments of `run`, by name: a scalar, or a buffer object. A missing
 * (or `undefined`) scalar takes the pipeline's default.
 */
export interface RunArgs {
  readonly [name: string]: ScalarValue | HalideBuffer | undefined;
}

/** An output `run` allocated because the caller omitted it (dense, laid out like the first input). */
export interface OutputBuffer<D extends TypedArray = TypedArray> {
  data: D;
  shape: number[];
  strides: number[];
  mins: number[];
}

/**
 * What `run` returns: the outputs it allocated for those the arguments
 * omitted, by name (an empty, frozen object when it allocated none).
 */
export interface RunOutputs {
  readonly [name: string]: OutputBuffer;
}

/** A buffer in the pipeline's own memory, from `Pipeline#allocBuffer`. */
export type AllocatedBuffer<T extends HalideType = HalideType> = T extends HalideType
  ? {
      /** A fresh view of the guest memory on every read; unusable after `freeBuffer`, `dispose` or a trap. */
      readonly data: ViewArrayByType[T];
      readonly shape: number[];
      readonly strides: number[];
      readonly mins: number[];
      readonly type: T;
    }
  : never;

// ------------------------------------------------------------ extern stages

/**
 * A `halide_buffer_t*` handed to an extern stage. `data` views the guest
 * memory directly and is valid during the call only; it is `null` in a
 * bounds query, where the callback writes the region it needs into `mins`
 * and `shape`. Narrow on `type` to get the matching typed array.
 */
export type ExternBuffer<T extends HalideType = HalideType> = T extends HalideType
  ? {
      data: ViewArrayByType[T] | null;
      shape: number[];
      strides: number[];
      mins: number[];
      type: T;
    }
  : never;

/** A value an extern stage receives: a buffer, or a scalar its declaration names. */
export type ExternArgument = ExternBuffer | ScalarValue;

/** What an extern stage returns: 0 (or nothing) for success, else a Halide error code. */
export type ExternResult = number | void;

/**
 * An extern stage (`Func.define_extern`) whose arguments are all buffers.
 * (Undeclared, a 64-bit integer argument arrives as a `bigint`; declare
 * stages with scalar arguments as an `ExternDeclaration`.)
 */
export type ExternCallback = {
  // A method's parameters are compared bivariantly: a callback may annotate
  // its buffers with one element type, e.g. `ExternBuffer<'float32'>`.
  bivariant(...buffers: ExternBuffer[]): ExternResult;
}['bivariant'];

/** The argument kinds of an extern stage: `'buffer'` or a scalar's type name. */
export type ExternArgType = 'buffer' | HalideType;

/** An extern stage with its arguments declared: `{ fn, args: ['buffer', 'int32', 'buffer'] }`. */
export interface ExternDeclaration {
  fn(...args: ExternArgument[]): ExternResult;
  args?: readonly ExternArgType[];
}

// ------------------------------------------------------------------ tracing

/** `halide_trace_event_code_t` by name. */
export type TraceEventName =
  | 'load'
  | 'store'
  | 'begin_realization'
  | 'end_realization'
  | 'produce'
  | 'end_produce'
  | 'consume'
  | 'end_consume'
  | 'begin_pipeline'
  | 'end_pipeline'
  | 'tag'
  | 'unknown';

/** One Halide trace event. */
export interface TraceEvent {
  event: TraceEventName;
  func: string;
  id: number;
  parentId: number;
  valueIndex: number;
  /** The value's type: a `HalideType`, `'uint8x4'` style for vectors. */
  type: HalideType | `${HalideType}x${number}` | (string & {});
  coordinates: Int32Array;
  /** The value: a scalar, an array of lanes for vectors, `undefined` for events without one. */
  value: ScalarValue | ScalarValue[] | undefined;
  traceTag: string;
}

// ------------------------------------------------------------------ options

/** The options of `Pipeline.load` and `Pipeline.loadSync`. Unknown names are an error. */
export interface PipelineOptions {
  /** Which pipeline, when a module has several (required with `arguments`). */
  entry?: string | null;
  /** The argument list of a module without metadata (Halide's JIT flavour); needs `entry`. */
  arguments?: readonly ArgumentDeclaration[] | null;
  /** Everything the pipeline prints (default: the console). */
  print?: ((text: string) => void) | null;
  /** Sees Halide's error text before the throw. */
  error?: ((text: string) => void) | null;
  /** Receives Halide trace events; may return an id for the event. */
  trace?: ((event: TraceEvent) => number | void) | null;
  /** The only environment the pipeline's `getenv` sees (default: empty). */
  env?: { readonly [name: string]: string } | null;
  /** Extern stages by name. */
  externs?: { readonly [name: string]: ExternCallback | ExternDeclaration } | null;
  /** A cap on the pipeline's memory, in bytes (at most 4 GiB). */
  maxMemoryBytes?: number | null;
  /**
   * How many threads a threaded module (Halide's `wasm_threads`) runs on:
   * the calling thread and `threads - 1` workers, 1 to 256 (default: the
   * host's cores; 1 with `externs` or `trace`). Other modules ignore it.
   */
  threads?: number | null;
}

/** What `Pipeline.loadSync` compiles: the module's bytes, or the module. */
export type ModuleBytes = ArrayBuffer | ArrayBufferView | WasmModule;

/**
 * What `Pipeline.load` compiles: bytes, a module, a `Response` (compiled
 * while it streams when it is `application/wasm`), a promise of one, a
 * `Blob` or `File`, or a `URL` or URL string (fetched; in Node a `file:`
 * URL, and a string without a scheme is a path).
 */
export type ModuleSource = ModuleBytes | FetchResponse | BlobType | URLType | string | PromiseLike<ModuleBytes | FetchResponse>;

/** `Pipeline#stats()`. */
export interface Stats {
  /** The size of the pipeline's linear memory. */
  memoryBytes: number;
  heapInUseBytes: number;
  liveAllocations: number;
  /** Runs so far, failed ones included. */
  runs: number;
}

// ------------------------------------------------------------------- classes

/**
 * A Halide pipeline loaded from a `.wasm` module, ready to run. `A` (by
 * default any `RunArgs`) may name the pipeline's own arguments, e.g.
 * `Pipeline.loadSync<{ input: BufferOf<'uint8'>; gain?: number; out: BufferOf<'uint8'> }>(bytes)`.
 */
export declare class Pipeline<A extends RunArgs = RunArgs, O extends RunOutputs = RunOutputs> {
  private constructor();
  /**
   * Compiles and instantiates a pipeline. Given a list of builds of it
   * (`[threaded, serial]`), loads the first this host can run: a threaded
   * build needs shared memory, which a page has only when it is
   * cross-origin isolated.
   */
  static load<A extends RunArgs = RunArgs, O extends RunOutputs = RunOutputs>(
    bytes: ModuleSource | readonly ModuleSource[],
    options?: PipelineOptions | null,
  ): Promise<Pipeline<A, O>>;
  /** The same, synchronously (Node, workers), from bytes or a compiled module. */
  static loadSync<A extends RunArgs = RunArgs, O extends RunOutputs = RunOutputs>(
    bytes: ModuleBytes | readonly ModuleBytes[],
    options?: PipelineOptions | null,
  ): Pipeline<A, O>;
  /** The pipeline's name, from its metadata. */
  readonly name: string;
  /** The Halide target the pipeline was compiled for (empty for the JIT flavour). */
  readonly target: string;
  /** The entry point's arguments in call order (a fresh copy on every read). */
  readonly arguments: ArgumentDescriptor[];
  /**
   * Runs the pipeline; the outputs are written into the caller's buffers.
   * Outputs the arguments omit are allocated like the first input buffer
   * and returned by name.
   */
  run(args: A): O;
  /**
   * Runs the pipeline in a worker of its own, made on the first call (its
   * arrays are copied there, and the outputs copied back into the
   * caller's arrays on success); calls run one at a time, in order. Every
   * failure rejects. Not for pipelines loaded with `externs` or `trace`,
   * nor for `allocBuffer` buffers.
   */
  runAsync(args: A): Promise<O>;
  stats(): Stats;
  /**
   * Allocates a buffer in the pipeline's own memory, for runs without
   * copies. Free it with `freeBuffer`; a trap or abort frees it too.
   */
  allocBuffer<T extends HalideType>(
    type: T,
    shape: readonly number[],
    strides?: readonly number[],
  ): AllocatedBuffer<T>;
  /** Frees a buffer from `allocBuffer`. */
  freeBuffer(buffer: AllocatedBuffer): void;
  /** Frees the instance now; every later call throws a `HalideError` with code `'disposed'`. */
  dispose(): void;
  /** `using p = ...` disposes of it at the end of the block: the same as `dispose()`. */
  [Symbol.dispose](): void;
}

declare global {
  // Declared here too, as @types/node does, so that the declarations
  // compile with a lib older than esnext.disposable.
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/** The named `HalideError` codes (a negative number is a Halide error code the pipeline returned). */
export type HalideErrorCode =
  | 'abort'
  | 'trap'
  | 'bad-argument'
  | 'bad-module'
  | 'out-of-memory'
  | 'callback'
  | 'disposed'
  | 'init';

/** Every error the executor raises. */
export declare class HalideError extends Error {
  constructor(message: string, options: { code: number | HalideErrorCode; cause?: unknown });
  readonly name: 'HalideError';
  /** Halide's negative error code, or what went wrong. */
  readonly code: number | HalideErrorCode;
  /**
   * Halide's `halide_error_code_t` (e.g. -27 requirement failed, -4 access
   * out of bounds, -8 constraint violated), also for an `'abort'`, where the
   * runtime printed its error instead of returning it.
   */
  readonly halideCode?: number;
  /** For `'callback'`: what the callback threw; for `'trap'`: the engine's error. */
  readonly cause?: unknown;
}

// -------------------------------------------------------------------- images

/** An image as samples: interleaved RGBA, 8-bit (an `ImageData`'s data) or 16-bit in a `Uint16Array`. */
export interface ImageLike {
  readonly data: Uint8ClampedArray | Uint8Array | Uint16Array;
  readonly width: number;
  readonly height: number;
}

/** What `toBuffer` reads: an `ImageData` or `ImageLike`, or (in browsers) anything a 2-D canvas draws. */
export type ImageSource = ImageLike | DrawableImage;

export interface ToBufferOptions {
  /** Which input buffer (default: the pipeline's first). */
  input?: string;
  /** For a 3-D input: interleaved RGBA `[w, h, 4]` (default) or planar RGB `[w, h, 3]`. */
  layout?: 'interleaved' | 'planar';
}

export interface ToImageDataOptions {
  /** The float values that become 0 and 255 (default [0, 1]); 'auto': the output's own lowest and highest. */
  range?: readonly [number, number] | 'auto';
}

/**
 * The buffer object a pipeline's input expects, holding `image`: the
 * input's element type (its typed array is known only at run time, hence
 * `any`), gray for a 2-D input, RGBA or RGB for a 3-D one.
 */
export declare function toBuffer(image: ImageSource, target: Pipeline<any, any> | BufferArgumentDescriptor, options?: ToBufferOptions): HalideBuffer<any>;

/** An `ImageData` of an output buffer (in Node, a plain object with its fields). */
export declare function toImageData(buffer: HalideBuffer, options?: ToImageDataOptions): ImageDataType;
// ------------------------------------------------------------ the executor

/** Where the executor's own wasm is, or the wasm itself, for `init`. */
export type ExecutorSource =
  | string
  | GlobalInstance<'URL'>
  | ModuleSource;

/** `init`'s options: the executor's wasm, and where a copy of the package's `lib/` and `pkg/` is served. */
export interface InitOptions {
  /** The executor's wasm (default: `pkg/web/halide_wasm_executor_bg.wasm` under `baseUrl`, else beside the package's glue). */
  wasm?: ExecutorSource;
  /** The URL of a copy of the package's `lib/` and `pkg/` directories served as files: the wasm and the package's worker scripts are taken from there (for bundlers that copy neither, e.g. esbuild). */
  baseUrl?: string | GlobalInstance<'URL'>;
}

/**
 * Loads the executor's own wasm (once; later calls resolve at once; after a
 * failure the next call tries again). `Pipeline.load` calls it by itself;
 * call it first to say where that wasm is, or to hand it over, and before
 * `Pipeline.loadSync` in a browser. A failure rejects with a `HalideError`
 * of code `'init'` naming the URL. In Node the executor is ready when the
 * package is loaded, and `init()` resolves at once.
 */
export declare function init(source?: ExecutorSource | InitOptions): Promise<void>;
