// Prints "status<TAB>name" for every test_run of an Octane XML file, sorted,
// so two converters' outputs can be compared with diff.
// Usage: node octane-runs.js XML_JS_DIR FILE
'use strict';
const fs = require('fs');
const [xmlJsDir, file] = process.argv.slice(2);
const { xml2js } = require(xmlJsDir);
const document = xml2js(fs.readFileSync(file).toString(), { compact: false });
const lines = [];
const walk = (node) => {
  if (node.type === 'element' && node.name === 'test_run') {
    const attributes = node.attributes || {};
    lines.push(`${attributes.status}\t${attributes.name}`);
  }
  (node.elements || []).forEach(walk);
};
walk(document);
lines.sort();
process.stdout.write(lines.map((line) => line + '\n').join(''));
