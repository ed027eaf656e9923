// Runs one exported fold in onnxruntime-node (the runtime the product uses; onnxruntime for Python
// is not installed here) so that export.py can compare it with PyTorch on the same input.
// Usage: node onnx_check.js <model.onnx> <input.raw> <float32|float16> <b,c,h,w> <output.raw>
// Prints {"inputs": [...], "outputs": [...], "dims": [...], "type": "float32"|"float16"} and
// writes the first output's raw little-endian values.
'use strict';
const fs = require('node:fs');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, inputPath, inputType, shapeText, outputPath] = process.argv.slice(2);
  if (!outputPath) throw new Error('usage: node onnx_check.js <model.onnx> <input.raw> <float32|float16> <b,c,h,w> <output.raw>');
  const dims = shapeText.split(',').map(Number);
  const raw = fs.readFileSync(inputPath);
  const data =
    inputType === 'float16'
      ? new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2)
      : new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  const result = await session.run({ [session.inputNames[0]]: new ort.Tensor(inputType, data, dims) });
  const output = result[session.outputNames[0]];
  fs.writeFileSync(outputPath, Buffer.from(output.data.buffer, output.data.byteOffset, output.data.byteLength));
  process.stdout.write(JSON.stringify({ inputs: session.inputNames, outputs: session.outputNames, dims: output.dims, type: output.type }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
