// The rainy-day page: the form starts a run; the run is read twice a second until it is done, and its
// figures go in as the server drew them (views/rainy-day-run.eta, the page's own template).
'use strict'
;(() => {
  const form = document.querySelector('[data-rainy-form]')
  if (!form) return
  const view = document.querySelector('[data-rainy-view]')
  const button = document.querySelector('[data-rainy-run]')
  const say = (text) => {
    const line = document.querySelector('[data-rainy-state]')
    if (line) line.textContent = text
  }

  function render(state) {
    button.disabled = state.running
    if (view.dataset.html !== state.html) {
      view.innerHTML = state.html
      view.dataset.html = state.html
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
      say('The server did not answer; reload the page.')
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
        say((await response.json()).message || `Failed (${response.status})`)
        button.disabled = false
        return
      }
    } catch {
      say('The server did not answer.')
      button.disabled = false
      return
    }
    await poll()
  })
  void poll()
})()
