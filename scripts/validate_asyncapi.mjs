// Validate an AsyncAPI document with the official parser (its $refs resolved from disk).
//   node scripts/validate_asyncapi.mjs NODE_PREFIX spec/ws/asyncapi.yaml
// NODE_PREFIX is the folder @asyncapi/parser was installed into (scripts/install_test_tools.py).
// Exit 1 on any error or warning; prints every diagnostic.
import { createRequire } from 'node:module';
import path from 'node:path';

const [prefix, document_path] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(prefix), 'node_modules', 'noop.js'));
const { Parser, fromFile } = require('@asyncapi/parser');

const { document, diagnostics } = await fromFile(new Parser(), document_path).parse();
const names = ['error', 'warning', 'info', 'hint'];
for (const d of diagnostics) console.log(`${names[d.severity]} ${d.code} ${d.path.join('.')}: ${d.message}`);
if (!document || diagnostics.some((d) => d.severity <= 1)) {
  console.log('invalid');
  process.exit(1);
}
console.log(`valid: ${document.info().title()} (AsyncAPI ${document.version()}), ${document.messages().length} messages`);
