// Runs one ONNX graph in onnxruntime-node (CPU), the runtime the daemon uses:
//   node run_onnx.mjs MODEL INPUT_NAME DTYPE SHAPE_JSON INPUT_BIN OUTPUT_NAME OUTPUT_BIN
// Input and output are raw little-endian arrays; the output's dims go to stdout as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [model, inputName, dtype, shapeJson, inputBin, outputName, outputBin] = process.argv.slice(2);
const bytes = new Uint8Array(readFileSync(inputBin)).buffer;
const data = { uint8: () => new Uint8Array(bytes), int64: () => new BigInt64Array(bytes) }[dtype]();
const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
const out = (await session.run({ [inputName]: new ort.Tensor(dtype, data, JSON.parse(shapeJson)) }))[outputName];
const result = out.data;
writeFileSync(outputBin, Buffer.from(result.buffer, result.byteOffset, result.byteLength));
process.stdout.write(JSON.stringify(out.dims) + '\n');
await session.release();
