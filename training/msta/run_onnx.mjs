// Runs one ONNX graph in onnxruntime-node (CPU), the runtime the daemon uses, on one or more inputs:
//   node run_onnx.mjs MODEL INPUT_NAME DTYPE OUTPUT_NAME SHAPE_JSON INPUT_BIN OUTPUT_BIN [SHAPE_JSON INPUT_BIN OUTPUT_BIN]...
// Inputs and outputs are raw little-endian arrays; each output's dims go to stdout as one JSON line.
// One session for all inputs: loading a full-size graph costs seconds.
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [model, inputName, dtype, outputName, ...runs] = process.argv.slice(2);
if (runs.length === 0 || runs.length % 3 !== 0) throw new Error('expected SHAPE_JSON INPUT_BIN OUTPUT_BIN triples');
const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
for (let i = 0; i < runs.length; i += 3) {
  const [shapeJson, inputBin, outputBin] = runs.slice(i, i + 3);
  const bytes = new Uint8Array(readFileSync(inputBin)).buffer;
  const data = { uint8: () => new Uint8Array(bytes), int64: () => new BigInt64Array(bytes) }[dtype]();
  const out = (await session.run({ [inputName]: new ort.Tensor(dtype, data, JSON.parse(shapeJson)) }))[outputName];
  const result = out.data;
  writeFileSync(outputBin, Buffer.from(result.buffer, result.byteOffset, result.byteLength));
  process.stdout.write(JSON.stringify(out.dims) + '\n');
}
await session.release();
