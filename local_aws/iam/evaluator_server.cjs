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
    if (response.resultType !== 'single') {
      return { id, error: `a wildcard resource was simulated (${response.resultType}): give one ARN` }
    }
    const analysis = response.result.analysis
    const denials = response.overallResult === 'Allowed' ? [] : getDenialReasons(analysis)
    return {
      id,
      result: response.overallResult,
      denials,
      ignoredContextKeys: response.result.ignoredContextKeys || [],
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
