/**
 * Reference outputs of the ORIGINAL face-api FaceExpressionNet (tfjs), for tests/test_expression_faceapi.py.
 *
 * Runs @vladmandic/face-api@1.7.15 on pure-JS @tensorflow/tfjs@4.22.0 (the version it is built against), CPU
 * backend, through face-api's own pipeline: extractFaceTensors(photo, [Rect]) crops the box, then
 * faceExpressionNet pads it to a square, resizes it to 112×112, normalises it and runs the net. For each input it
 * records the probabilities (by face-api label), the logits (runNet) and the per-channel means of the 112×112
 * input before normalisation (NetInput.toBatchTensor), so that a preprocessing mismatch can be told apart from a
 * network one.
 *
 * Not needed by the test suite; rerun it only to remake the fixture:
 *
 *   mkdir -p /tmp/faceapi-ref && cd /tmp/faceapi-ref && npm init -y >/dev/null
 *   npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0 @vladmandic/face-api@1.7.15
 *   python REPO/tests/faceapi_reference.py inputs          # the photos and boxes, rebuilt from scikit-image data
 *   node REPO/scripts/reference_faceapi.mjs inputs REPO/tests/data/faceapi_reference.json
 *
 * (tfjs-backend-wasm is only there because face-api's node-wasm bundle imports it; the CPU backend is used.
 * @tensorflow/tfjs-node is avoided: its native binary is downloaded from outside the npm registry.)
 * Packages are resolved from the current folder, so run it from the folder where they are installed.
 */

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'resolve-here.js'));
const tf = require('@tensorflow/tfjs');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

const INPUT_SIZE = 112;

async function main() {
  const [inputsDir, outPath] = process.argv.slice(2);
  if (!inputsDir || !outPath) throw new Error('usage: node reference_faceapi.mjs INPUTS_DIR OUT.json');
  await faceapi.tf.setBackend('cpu');
  await faceapi.tf.ready();
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.faceExpressionNet.loadFromDisk(modelDir);
  const net = faceapi.nets.faceExpressionNet;

  const records = JSON.parse(fs.readFileSync(path.join(inputsDir, 'inputs.json'), 'utf8'));
  const raw = fs.readFileSync(path.join(inputsDir, 'inputs.bin'));
  const results = [];
  for (const record of records) {
    const [height, width, channels] = record.shape;
    const pixels = new Uint8Array(raw.buffer, raw.byteOffset + record.offset, height * width * channels);
    const photo = tf.tensor3d(pixels, [height, width, channels], 'int32');
    const [x0, y0, x1, y1] = record.box;
    const [face] = await faceapi.extractFaceTensors(photo, [new faceapi.Rect(x0, y0, x1 - x0, y1 - y0)]);
    const netInput = await faceapi.toNetInput(face);
    const batch = netInput.toBatchTensor(INPUT_SIZE, true); // [1, 112, 112, 3], before normalisation
    const channelMeans = Array.from(await tf.mean(batch, [0, 1, 2]).data());
    const logits = Array.from(await net.runNet(netInput).data());
    const expressions = await net.predictExpressions(face);
    const probabilities = Object.fromEntries(faceapi.FACE_EXPRESSION_LABELS.map((label) => [label, expressions[label]]));
    results.push({
      name: record.name, built: record.built, shape: record.shape, box: record.box,
      crop_shape: face.shape, input_channel_means: channelMeans, logits, probabilities,
    });
    tf.dispose([photo, face, batch]);
  }
  const fixture = {
    about: 'face-api FaceExpressionNet outputs recorded with the original tfjs; made by scripts/reference_faceapi.mjs '
      + 'from the inputs of tests/faceapi_reference.py',
    faceapi: faceapi.version,
    tfjs: faceapi.tf.version_core,
    backend: faceapi.tf.getBackend(),
    labels: faceapi.FACE_EXPRESSION_LABELS,
    inputs: results,
  };
  fs.writeFileSync(outPath, `${JSON.stringify(fixture, null, 1)}\n`);
  console.log(`wrote ${results.length} reference outputs to ${outPath}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
