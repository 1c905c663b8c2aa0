// Writes NAME.br (brotli, quality 11) and NAME.gz (gzip, level 9) beside each file given, for
// the server to send by content negotiation, and prints each file's sizes.
// Usage: node .ci/precompress.mjs FILE...
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
for (const file of process.argv.slice(2)) {
  const data = readFileSync(file);
  const br = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  const gz = gzipSync(data, { level: 9 });
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gz);
  console.error(`${file}: ${kb(data.length)}, gzip ${kb(gz.length)}, brotli ${kb(br.length)}`);
}
