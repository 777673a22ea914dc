import { describe, expect, it } from 'vitest'
import { startConsole } from './support/console-app.js'

describe('GET /api/stream', () => {
  it('refuses a client past its cap with 503 and Retry-After, and takes one again once a place is free', async () => {
    const running = await startConsole({ listen: true, streamMaxClients: 2 })
    const open = async () => {
      const abort = new AbortController()
      const response = await fetch(`${running.url}/api/stream`, { signal: abort.signal, headers: { accept: 'text/event-stream' } })
      return { response, abort }
    }
    try {
      const first = await open()
      const second = await open()
      expect([first.response.status, second.response.status]).toEqual([200, 200])
      const third = await fetch(`${running.url}/api/stream`, { headers: { accept: 'text/event-stream' } })
      expect(third.status).toBe(503)
      expect(third.headers.get('retry-after')).toBe('5')
      expect(await third.json()).toMatchObject({ code: 'MAILROOM_ERR_WEB_TOO_MANY_STREAMS' })
      expect(await (await fetch(`${running.url}/metrics`)).text()).toContain('mailroom_console_stream_refused_total 1')
      // One leaves: the next is taken.
      first.abort.abort()
      let again = 503
      for (let tries = 0; tries < 50 && again === 503; tries++) {
        const attempt = await fetch(`${running.url}/api/stream`, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(2_000) }).catch(() => undefined)
        again = attempt?.status ?? 503
        if (again === 503) await new Promise((resolve) => setTimeout(resolve, 50))
        else await attempt?.body?.cancel()
      }
      expect(again).toBe(200)
      second.abort.abort()
    } finally {
      await running.close()
    }
  })
})
