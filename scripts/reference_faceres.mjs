/**
 * Reference descriptors of the ORIGINAL HSE FaceRes graph model of @vladmandic/human@3.3.6 (models/faceres.json
 * and faceres.bin), run on pure-JS @tensorflow/tfjs@4.22.0, CPU backend, for tests/test_faceres.py and the
 * conversion's parity check (lsgan.nets.weight_conversion.FACERES_PATTERN_DESCRIPTOR).
 *
 * The inputs are made here, the same way tests/test_faceres.py makes them: 224×224×3 RGB in 0-255 (Human feeds
 * its 0-1 face tensor times 255): "grey" (every value 128) and "pattern" (value (7·row + 3·col + 50·channel) mod 256,
 * which tells rows from columns and channels apart). It records the global pool ("global_pooling/Mean", 1024
 * values) of each.
 *
 * Not needed by the test suite; rerun it only to remake the fixture:
 *
 *   mkdir -p /tmp/faceres-ref && cd /tmp/faceres-ref && npm init -y >/dev/null
 *   npm install @tensorflow/tfjs@4.22.0 && npm pack @vladmandic/human@3.3.6 && tar xzf vladmandic-human-3.3.6.tgz
 *   node REPO/scripts/reference_faceres.mjs package/models REPO/tests/data/faceres_reference.json
 *
 * Packages are resolved from the current folder, so run it from the folder where they are installed.
 */

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'resolve-here.js'));
const tf = require('@tensorflow/tfjs');

const SIZE = 224;

function makeInput(name) {
  const values = new Float32Array(SIZE * SIZE * 3);
  for (let row = 0; row < SIZE; row++) {
    for (let col = 0; col < SIZE; col++) {
      for (let channel = 0; channel < 3; channel++) {
        const at = (row * SIZE + col) * 3 + channel;
        values[at] = name === 'grey' ? 128 : (7 * row + 3 * col + 50 * channel) % 256;
      }
    }
  }
  return tf.tensor4d(values, [1, SIZE, SIZE, 3]);
}

async function main() {
  const [modelDir, outPath] = process.argv.slice(2);
  if (!modelDir || !outPath) throw new Error('usage: node reference_faceres.mjs MODEL_DIR OUT.json');
  await tf.setBackend('cpu');
  await tf.ready();
  const json = JSON.parse(fs.readFileSync(path.join(modelDir, 'faceres.json'), 'utf8'));
  const weights = fs.readFileSync(path.join(modelDir, 'faceres.bin'));
  const artifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature,
  };
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  const result = { tfjs: tf.version.tfjs, backend: tf.getBackend(), package: '@vladmandic/human@3.3.6', inputs: {} };
  for (const name of ['grey', 'pattern']) {
    const input = makeInput(name);
    const pooled = model.execute(input, 'global_pooling/Mean');
    result.inputs[name] = Array.from(await pooled.data());
    tf.dispose([input, pooled]);
  }
  fs.writeFileSync(outPath, JSON.stringify(result));
  console.log(`wrote ${outPath}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
