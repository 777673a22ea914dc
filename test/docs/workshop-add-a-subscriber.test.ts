import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mkdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { freePort, startApp } from '../../scripts/chaos/app-process.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

// Performs docs/workshop.md, exercise "Add a subscriber without touching the publisher".

/** The code blocks of the exercise in docs/workshop.md, as a student reads them. */
function addASubscriber(): { file: string; text: string; mode: 'file' | 'add' }[] {
  const doc = readFileSync(join(root, 'docs/workshop.md'), 'utf8')
  const start = doc.search(/^## \d+\. Add a subscriber without touching the publisher$/m)
  if (start < 0) throw new Error('docs/workshop.md has no exercise "Add a subscriber without touching the publisher"')
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1))
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => {
    const lines = match[1]!.split('\n').map((line) => line.replace(/^ {2}/, ''))
    const head = /^\/\/ (file|add to): (\S+)$/.exec(lines[0]!)
    if (!head) throw new Error(`a code block of the exercise does not say its file: ${lines[0]}`)
    return { mode: head[1] === 'file' ? 'file' : 'add', file: head[2]!, text: lines.slice(1).join('\n') }
  })
}

describe('docs/workshop.md: add a subscriber without touching the publisher', () => {
  it('runs the new module as the text tells it: a new file, one line in the composition root, npm start, orders flow into it', { timeout: 90_000 }, async () => {
    const steps = addASubscriber()
    expect(steps.map((step) => `${step.mode} ${step.file}`)).toEqual(['file src/modules/email/index.ts', 'add src/shop-modules.ts'])
    expect(steps[1]!.text.trim().split('\n')).toHaveLength(1)

    // A copy of the project, as a student's checkout, with the exercise done to it.
    const copy = mkdtempSync(join(tmpdir(), 'mailroom-exercise-3-'))
    try {
      for (const part of ['src', 'views', 'public', 'package.json', 'tsconfig.json']) cpSync(join(root, part), join(copy, part), { recursive: true })
      symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'))
      for (const step of steps) {
        const target = join(copy, step.file)
        if (step.mode === 'file') {
          mkdirSync(dirname(target), { recursive: true })
          writeFileSync(target, step.text)
        } else appendFileSync(target, step.text)
      }

      const app = await startApp({
        port: await freePort(),
        dataDir: join(copy, 'data'),
        main: join(copy, 'src/main.ts'),
        env: { MAILROOM_BUYERS_REMORSE_MS: '0', MAILROOM_GATEWAY_LIMIT: 'off', MAILROOM_BILLING_RATE: 'off' },
      })
      try {
        const placed = (await (await fetch(`${app.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { orderId: string }
        // A fourth panel, and the receipt in its log.
        const shopPage = async () => (await fetch(`${app.url}/`)).text()
        await expect.poll(shopPage, { timeout: 10_000, interval: 100 }).toContain(`Sending receipt for ${placed.orderId}`)
        expect(await shopPage()).toContain('data-module="email"')
        // Handled once its outcome is committed, a moment after the line it logged.
        const email = async () => ((await (await fetch(`${app.url}/api/modules`)).json()) as { name: string; handled: number }[]).find((module) => module.name === 'email')
        await expect.poll(email, { timeout: 5_000, interval: 50 }).toMatchObject({ handled: 1 })
        // Its monitoring row too, with no change to src/web.
        expect(await (await fetch(`${app.url}/monitoring`)).text()).toContain('email')
        // Sales and Billing did not change: the same files as in the project.
        for (const file of ['src/modules/sales/index.ts', 'src/modules/billing/index.ts']) expect(readFileSync(join(copy, file), 'utf8')).toBe(readFileSync(join(root, file), 'utf8'))
      } finally {
        await app.stop()
      }
    } finally {
      rmSync(copy, { recursive: true, force: true })
    }
  })
})
