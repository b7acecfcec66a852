// Writes jest's totals to a file so scripts/test.mjs can print the single
// "N passed, N failed" line that CI reads (jest's own summary is not that line).
// A suite that cannot even run (syntax error, failing import) counts as one failure.
const { writeFileSync } = require("node:fs");

module.exports = class SummaryReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.STEVEDORE_JEST_SUMMARY;
    if (!file) return;
    writeFileSync(file, JSON.stringify({
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
    }));
  }
};
