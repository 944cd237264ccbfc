// Lint Cypher with Neo4j's own language service (parser + semantic analysis, offline).
//
//   node tools/lint_cypher.mjs queries.json
//
// queries.json: [{"name": "...", "query": "..."}, ...]. Prints one JSON object per
// query with its diagnostics and exits 1 when any query has an error or a
// deprecation warning. Undefined-parameter diagnostics are ignored: values are
// always parameters, supplied by idgraph at run time.
import { readFileSync } from "node:fs";
import { lintCypherQuery } from "@neo4j-cypher/language-support";

const UNDEFINED_PARAMETER = /^Parameter \$\w+ is not defined\.$/;
const queries = JSON.parse(readFileSync(process.argv[2], "utf8"));
let failed = 0;
for (const { name, query } of queries) {
  const { diagnostics } = lintCypherQuery(query, {});
  const problems = diagnostics
    .filter((d) => !UNDEFINED_PARAMETER.test(d.message))
    .map((d) => ({
      severity: d.severity === 1 ? "error" : d.severity === 2 ? "warning" : "info",
      message: d.message,
      line: d.range.start.line + 1,
      column: d.range.start.character + 1,
    }));
  const blocking = problems.filter((p) => p.severity !== "info");
  if (blocking.length) failed += 1;
  console.log(JSON.stringify({ name, ok: blocking.length === 0, problems }));
}
console.error(`${queries.length} queries linted, ${failed} with errors or deprecations`);
process.exit(failed ? 1 : 0);
