// The IAM evaluator process of the local AWS: @cloud-copilot/iam-simulate (pinned in package.json)
// behind a JSON-lines protocol. One request a line on stdin:
//   {"id": 1, "simulation": {...iam-simulate Simulation...}}
// one answer a line on stdout, in order:
//   {"id": 1, "result": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied", "denials": [...]}
//   {"id": 1, "error": "<one line>"}            (invalid input: policy, action, ARN, context key)
// Python (local_aws/iam/evaluator.py) keeps one such process for the whole emulator.
'use strict'
const readline = require('node:readline')
const { runSimulation, getDenialReasons } = require('@cloud-copilot/iam-simulate')

const lines = readline.createInterface({ input: process.stdin, terminal: false })

async function answer(line) {
  let id = null
  try {
    const message = JSON.parse(line)
    id = message.id
    const response = await runSimulation(message.simulation, { simulationMode: 'Strict' })
    if (response.resultType === 'error') {
      return { id, error: response.errors.message, details: response.errors }
    }
    // A "*" resource of an action that has resource types (DescribeStacks with no stack name) is
    // simulated once per resource type: allowed only if allowed for every one (as a policy must
    // name "*" to grant it), the first refused one gives the reason.
    const results = response.resultType === 'single' ? [response.result] : response.results
    const refused = results.find((r) => r.analysis && r.analysis.result !== 'Allowed')
    const chosen = refused || results[0]
    const result = refused ? refused.analysis.result : 'Allowed'
    const denials = refused ? getDenialReasons(refused.analysis) : []
    return {
      id,
      result,
      denials,
      ignoredContextKeys: chosen.ignoredContextKeys || [],
    }
  } catch (err) {
    return { id, error: String((err && err.message) || err).split('\n')[0] }
  }
}

// Answers are written in request order: the Python side matches them by id anyway.
let chain = Promise.resolve()
lines.on('line', (line) => {
  if (!line.trim()) return
  chain = chain.then(async () => {
    process.stdout.write(JSON.stringify(await answer(line)) + '\n')
  })
})
lines.on('close', () => chain.then(() => process.exit(0)))
