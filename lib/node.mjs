// ES module entry for Node: the same objects as the CommonJS entry.
import cjs from './node.cjs';

export const { Pipeline, HalideError, init, toBuffer, toImageData } = cjs;
export default cjs;
