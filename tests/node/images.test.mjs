// Images in one line: toBuffer / toImageData on plain { data, width, height }
// images (Node has no ImageData), and outputs the executor allocates when
// run() is not given them, on real fixture pipelines compared with native
// Halide's outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, HalideError, toBuffer, toImageData } from 'halide-wasm-executor';
import { wasmBytes, caseNamed, prepare, compare, readArray } from './fixtures.mjs';

const quiet = { print: () => {} };
const load = (module) => Pipeline.loadSync(wasmBytes(module), quiet);
const scalarsOf = (c) => Object.fromEntries(Object.entries(c.args).filter(([, a]) => a.kind === 'scalar' && 'value' in a).map(([k, a]) => [k, a.value]));

function isHalideError(code, pattern) {
  return (e) => {
    assert.ok(e instanceof HalideError, `not a HalideError: ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

/** An RGBA image `{ data, width, height }` of a fixture's interleaved RGBA input. */
function rgbaImage(c) {
  const a = c.args.input;
  const [width, height] = a.shape;
  return { data: new Uint8ClampedArray(readArray('uint8', a.file)), width, height };
}

test('run allocates the outputs it is not given, laid out like the first input, and returns them', () => {
  for (const name of ['brighten_u8', 'demo_invert', 'demo_blur', 'demo_local_contrast', 'sharpen_gray', 'two_outputs', 'bilateral_grid']) {
    const c = caseNamed(name);
    const p = load(c.module);
    const { args, outputs } = prepare(c);
    for (const o of outputs) delete args[o.name];
    const out = p.run(args);
    assert.deepEqual(Object.keys(out).sort(), outputs.map((o) => o.name).sort(), name);
    for (const o of outputs) {
      const want = c.args[o.name];
      assert.deepEqual(out[o.name].shape, want.shape, `${name}: ${o.name}'s shape`);
      assert.deepEqual(out[o.name].strides, want.strides, `${name}: ${o.name}'s strides`);
      assert.equal(out[o.name].data.constructor, o.data.constructor);
      assert.equal(compare(o.type, out[o.name].data, o.expected, c.tolerance ?? 0), null, `${name}: ${o.name}`);
    }
    // Given every output, run returns an empty (frozen) object.
    const given = prepare(c);
    const none = p.run(given.args);
    assert.deepEqual(Object.keys(none), []);
    assert.ok(Object.isFrozen(none));
  }
});

test('an output the executor cannot size is an error naming it; nothing changes and the pipeline stays usable', () => {
  const c = caseNamed('reductions');
  const p = load(c.module);
  const { args, outputs } = prepare(c);
  const histogram = args.histogram;
  histogram.data.fill(7);
  delete args.histogram;
  assert.throws(() => p.run(args), isHalideError('bad-argument', /argument 'histogram': missing output buffer \(int32 1-dimensional\): the executor allocates an omitted output like the first input 'input', which is 2-dimensional; pass \{ data, shape \}/));
  // A 0-D output (the sum) is allocated; the histogram given.
  delete args.total;
  const out = p.run({ ...args, histogram });
  assert.deepEqual(Object.keys(out), ['total']);
  assert.deepEqual(out.total.shape, []);
  assert.equal(compare('uint32', out.total.data, outputs.find((o) => o.name === 'total').expected), null);
  assert.equal(compare('int32', histogram.data, outputs.find((o) => o.name === 'histogram').expected), null);
  // A pipeline whose output is smaller than its input (mins): sized like the
  // input, Halide itself refuses, and the next run with the output works.
  const m = caseNamed('mins');
  const q = load(m.module);
  const ma = prepare(m);
  const shifted = ma.args.shifted;
  delete ma.args.shifted;
  assert.throws(() => q.run(ma.args), (e) => e instanceof HalideError && e.code === 'abort');
  q.run({ ...ma.args, shifted });
  assert.equal(compare('int16', shifted.data, ma.outputs[0].expected), null);
});

test('a canvas filter in one line: toBuffer, run, toImageData (interleaved RGBA pipelines)', () => {
  for (const name of ['demo_invert', 'demo_blur', 'demo_sharpen', 'demo_brighten_contrast', 'demo_local_contrast']) {
    const c = caseNamed(name);
    const p = load(c.module);
    const image = rgbaImage(c);
    const input = toBuffer(image, p);
    assert.equal(input.data, image.data, 'an 8-bit RGBA image is passed as it is');
    assert.deepEqual(input.shape, [image.width, image.height, 4]);
    const out = p.run({ input, ...scalarsOf(c) });
    const result = toImageData(out[name]);
    assert.equal(result.width, image.width);
    assert.equal(result.height, image.height);
    assert.ok(result.data instanceof Uint8ClampedArray);
    const want = readArray('uint8', c.args[name].file);
    assert.equal(compare('uint8', result.data, want, 1), null, name);
  }
});

test('planar and gray inputs, 8-bit and float, from an RGBA image', () => {
  // brighten_u8 takes planar RGB (Halide's default stride constraint).
  const c = caseNamed('brighten_u8');
  const p = load(c.module);
  const [w, h] = c.args.input.shape;
  const planar = readArray('uint8', c.args.input.file);
  const rgba = new Uint8ClampedArray(4 * w * h);
  for (let i = 0; i < w * h; i++) {
    for (let ch = 0; ch < 3; ch++) rgba[4 * i + ch] = planar[ch * w * h + i];
    rgba[4 * i + 3] = 255;
  }
  const image = { data: rgba, width: w, height: h };
  // Interleaved (the default) is refused by the pipeline's own constraint.
  assert.throws(() => p.run({ input: toBuffer(image, p), gain: 1.5 }), isHalideError('abort', /stride\.0 \(4\) == 1/));
  const input = toBuffer(image, p, { layout: 'planar' });
  assert.deepEqual(input.shape, [w, h, 3]);
  assert.deepEqual(Array.from(input.data), Array.from(planar));
  const out = p.run({ input, gain: 1.5 });
  const result = toImageData(out.brighten_u8);
  const want = readArray('uint8', c.args.brighten_u8.file);
  for (let i = 0; i < w * h; i++) {
    for (let ch = 0; ch < 3; ch++) assert.equal(result.data[4 * i + ch], want[ch * w * h + i]);
    assert.equal(result.data[4 * i + 3], 255, 'opaque');
  }
  // A 2-D float input gets gray (Rec. 601 luma) in [0, 1].
  const b = load('bilateral_grid');
  const g = toBuffer({ data: new Uint8ClampedArray([255, 0, 0, 255, 0, 0, 255, 9, 255, 255, 255, 255]), width: 3, height: 1 }, b);
  assert.deepEqual(g.shape, [3, 1]);
  assert.ok(g.data instanceof Float32Array);
  assert.deepEqual(Array.from(g.data), [76 / 255, 29 / 255, 1].map(Math.fround));
  // uint16 inputs scale 8-bit samples by 257.
  const u16 = toBuffer({ data: new Uint8Array([1, 2, 3, 4]), width: 1, height: 1 }, { name: 'x', kind: 'input', type: 'uint16', dimensions: 3 }, { layout: 'planar' });
  assert.deepEqual(Array.from(u16.data), [257, 514, 771]);
});

test('toImageData maps floats from [0, 1] (or a range) to 0..255 and widens gray and RGB', () => {
  const f = { data: new Float32Array([-0.5, 0, 0.5, 1, 2, NaN]), shape: [6, 1] };
  const px = (img) => Array.from({ length: img.width }, (_, i) => img.data[4 * i]);
  assert.deepEqual(px(toImageData(f)), [0, 0, 128, 255, 255, 0]);
  assert.deepEqual(px(toImageData(f, { range: [-1, 1] })), [64, 128, 191, 255, 255, 0]);
  assert.deepEqual(px(toImageData(f, { range: 'auto' })), [0, 51, 102, 153, 255, 0]);
  const gray = toImageData({ data: new Uint16Array([0, 65535, 257 * 100]), shape: [3, 1] });
  assert.deepEqual(Array.from(gray.data), [0, 0, 0, 255, 255, 255, 255, 255, 100, 100, 100, 255]);
  const rgb = toImageData({ data: new Int16Array([-5, 300, 7]), shape: [1, 1, 3] });
  assert.deepEqual(Array.from(rgb.data), [0, 255, 7, 255]);
  assert.equal(toImageData({ data: new Uint8Array(8), shape: [2, 1, 4], strides: [4, 8, 1] }).colorSpace, 'srgb');
  // Gray and alpha; planar RGB with padded rows (strides in elements).
  assert.deepEqual(Array.from(toImageData({ data: new Uint8Array([10, 20, 200, 100]), shape: [2, 1, 2] }).data), [10, 10, 10, 200, 20, 20, 20, 100]);
  const padded = { data: new Uint8Array([1, 2, 0, 3, 4, 0, 5, 6, 0, 7, 8, 0, 9, 10, 0, 11, 12, 0]), shape: [2, 2, 3], strides: [1, 3, 6] };
  assert.deepEqual(Array.from(toImageData(padded).data), [1, 5, 9, 255, 2, 6, 10, 255, 3, 7, 11, 255, 4, 8, 12, 255]);
});

test('the helpers refuse what is not an image with a HalideError', () => {
  const p = load('demo_invert');
  const bad = isHalideError.bind(null, 'bad-argument');
  assert.throws(() => toBuffer(null, p), bad(/expected an image/));
  assert.throws(() => toBuffer({ data: new Uint8Array(3), width: 1, height: 1 }, p), bad(/a 1x1 image has 4 RGBA samples; its data has 3/));
  assert.throws(() => toBuffer({ data: new Float32Array(4), width: 1, height: 1 }, p), bad(/must be a Uint8ClampedArray or Uint8Array/));
  assert.throws(() => toBuffer({ width: 2, height: 2 }, p), bad(/this host has no canvas/));
  assert.throws(() => toBuffer({ data: new Uint8Array(4), width: 1, height: 1 }, p, { input: 'nope' }), bad(/demo_invert has no input buffer 'nope'; its inputs: input/));
  assert.throws(() => toBuffer({ data: new Uint8Array(4), width: 1, height: 1 }, p, { layout: 'diagonal' }), bad(/unknown layout 'diagonal'/));
  assert.throws(() => toBuffer({ data: new Uint8Array(4), width: 1, height: 1 }, 42), bad(/expected a Pipeline/));
  assert.throws(() => toImageData({ data: new BigInt64Array(4), shape: [1, 1, 4] }), bad(/cannot make an image of BigInt64Array data/));
  assert.throws(() => toImageData({ data: new Uint8Array(4), shape: [1, 1, 5] }), bad(/1 to 4 channels/));
  assert.throws(() => toImageData({ data: new Uint8Array(3), shape: [2, 2] }), bad(/reaches 4 elements, but its data has 3/));
  assert.throws(() => toImageData({ data: new Float32Array(1), shape: [1, 1] }, { range: [0] }), bad(/options.range must be/));
});

test('runAsync resolves with the outputs it allocated', async () => {
  const c = caseNamed('demo_invert');
  const p = load(c.module);
  const out = await p.runAsync({ input: toBuffer(rgbaImage(c), p), ...scalarsOf(c) });
  assert.equal(compare('uint8', out.demo_invert.data, readArray('uint8', c.args.demo_invert.file), 1), null);
  const given = prepare(c);
  assert.deepEqual(await p.runAsync(given.args), {});
  p.dispose();
});
