// Runs the official converter (@microfocus/alm-octane-test-result-convertion)
// on one JUnit file, for comparison and benchmarks.
// Usage: node octane-npm-convert.js PACKAGE_DIR INPUT OUTPUT
'use strict';
const fs = require('fs');
const [packageDir, input, output] = process.argv.slice(2);
if (!packageDir || !input || !output) {
  console.error('usage: node octane-npm-convert.js PACKAGE_DIR INPUT OUTPUT');
  process.exit(2);
}
const { convertJUnitXMLToOctaneXML } = require(packageDir);
const xml = fs.readFileSync(input).toString();
const build = { server_id: 'compare', job_id: 'compare', build_id: '1' };
fs.writeFileSync(output, convertJUnitXMLToOctaneXML(xml, build));
