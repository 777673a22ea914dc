// The rainy-day page: the form starts a run; the run's figures are read twice a second until it is done.
// The same rows and words as views/rainy-day.eta; every value goes in through textContent.
'use strict'
;(() => {
  const form = document.querySelector('[data-rainy-form]')
  if (!form) return
  const harmful = ['failed', 'chargedTwice', 'failedButCharged']
  const show = (figures, key) => {
    if (!figures) return ''
    if (figures[key] === null) return '—'
    if (key.endsWith('Ms')) return `${Math.round(figures[key])} ms`
    if (key === 'answered') return `${figures.answered} / ${figures.orders}`
    return String(figures[key])
  }
  const tone = (figures, key) => (!figures || figures[key] === null || !harmful.includes(key) ? '' : figures[key] > 0 ? 'bad' : figures.settled ? 'good' : '')
  const stateLine = document.querySelector('[data-rainy-state]')
  const button = document.querySelector('[data-rainy-run]')

  function render(state) {
    const run = state.latest
    button.disabled = state.running
    if (!run) return
    stateLine.textContent = `Run ${run.id}: ${run.state}, ${(run.elapsedMs / 1000).toFixed(1)} s`
    for (const cell of document.querySelectorAll('[data-figure]')) {
      const figures = run[cell.dataset.side]
      const text = show(figures, cell.dataset.figure)
      if (cell.textContent !== text) cell.textContent = text
      cell.className = tone(figures, cell.dataset.figure)
    }
    const events = document.querySelector('[data-rainy-events]')
    if (events.children.length !== run.events.length) {
      events.replaceChildren(...run.events.map((event) => {
        const item = document.createElement('li')
        const time = document.createElement('time')
        time.textContent = `${(event.atMs / 1000).toFixed(1)} s`
        item.append(time, ` ${event.text}`)
        return item
      }))
    }
  }

  let polling = false
  async function poll() {
    if (polling) return
    polling = true
    try {
      for (;;) {
        const response = await fetch('/api/rainy-day', { headers: { accept: 'application/json' } })
        const state = await response.json()
        render(state)
        if (!state.running) break
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    } catch {
      stateLine.textContent = 'The server did not answer; reload the page.'
    } finally {
      polling = false
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    button.disabled = true
    try {
      const response = await fetch(form.action, { method: 'POST', headers: { accept: 'application/json' }, body: new URLSearchParams(new FormData(form)) })
      if (!response.ok) {
        stateLine.textContent = (await response.json()).message || `Failed (${response.status})`
        button.disabled = false
        return
      }
    } catch {
      stateLine.textContent = 'The server did not answer.'
      button.disabled = false
      return
    }
    await poll()
  })
  void poll()
})()
