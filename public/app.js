// Mailroom console: live updates over Server-Sent Events and forms submitted without a reload.
// Plain DOM code, no framework; every value goes in through textContent, never innerHTML.
'use strict'

const page = document.body.dataset.page
// Where the console is mounted in its host app ('' at the root): its stream and pages are under it.
const base = document.body.dataset.base ?? ''
const $ = (selector, root = document) => root.querySelector(selector)
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)]

function setText(element, text) {
  if (element && element.textContent !== String(text)) element.textContent = String(text)
}

// Server-rendered pieces (views/*.eta, sent by the stream) go in as they are: one source for each piece of
// markup, every value escaped by the template. Put in only when changed, so nothing flickers.
function setHtml(element, html) {
  if (element && element.dataset.html !== html) {
    element.innerHTML = html
    element.dataset.html = html
  }
}

function updatePanel(status) {
  const panel = $(`[data-module="${CSS.escape(status.name)}"]`)
  if (!panel) return
  for (const field of ['queueLength', 'inFlight', 'handled', 'delayed', 'errorQueueLength']) setText($(`[data-field="${field}"]`, panel), status[field])
  setText($('[data-field="state"]', panel), status.running ? 'running' : 'stopped')
  $('[data-field="fault"]', panel).hidden = !status.faultInjected
  const where = $('[data-field="where"]', panel)
  if (where) {
    where.hidden = status.location === 'here'
    setText(where, status.location === 'stale' ? 'not reporting' : 'in another process')
  }
  panel.classList.toggle('stopped', !status.running)
  const instances = $('[data-instances]', panel)
  if (instances) instances.hidden = (status.instances ?? []).length < 2
  panel.classList.toggle('faulty', status.faultInjected)
  const show = { running: status.running, stopped: !status.running, healthy: !status.faultInjected, faulty: status.faultInjected }
  for (const form of $$('form[data-show-when]', panel)) $('button', form).hidden = !show[form.dataset.showWhen]
}

function appendLogs(lines) {
  for (const line of lines) {
    const list = $(`[data-module="${CSS.escape(line.module)}"] [data-log]`)
    if (!list) continue
    // The page may already show it: rendered with the page, and sent again by the stream's first tick.
    const shown = [...list.children].some((item) => item.dataset.at === String(line.at) && item.textContent.endsWith(` ${line.text}`))
    if (shown) continue
    list.insertAdjacentHTML('beforeend', line.html)
    while (list.children.length > 12) list.firstElementChild.remove()
  }
}

const csrfToken = () => $('input[name="_csrf"]')?.value ?? ''

function renderOrders(orders, html) {
  const body = $('[data-orders]')
  if (!body || html === undefined) return
  setHtml(body, html)
  // The stream's rows carry no CSRF token: each page has its own.
  for (const form of $$('form', body)) {
    $('input[name="_csrf"]', form).value = csrfToken()
    if (!form.dataset.enhanced) enhance(form)
  }
  const empty = $('[data-orders-empty]')
  if (empty) empty.hidden = orders.length > 0
}

function renderSagas(sagas, html) {
  for (const [module, { count }] of Object.entries(sagas)) {
    const section = $(`[data-module="${CSS.escape(module)}"] [data-sagas]`)
    if (!section) continue
    setText($('[data-saga-count]', section), String(count))
    setHtml($('[data-saga-list]', section), html.sagas[module] ?? '')
  }
  for (const [module, list] of Object.entries(html.instances)) setHtml($(`[data-module="${CSS.escape(module)}"] [data-instances]`), list)
  for (const [module, pace] of Object.entries(html.pace ?? {})) setHtml($(`[data-module="${CSS.escape(module)}"] [data-pace]`), pace)
}

let knownFailed
function showGateway(gateway) {
  const line = $('[data-gateway]')
  if (!line) return
  line.hidden = !gateway
  if (!gateway) return
  for (const key of ['charged', 'duplicates', 'chargedTwice']) setText($(`[data-gateway-field="${key}"]`, line), gateway[key])
}

function showFailedCount(count) {
  for (const pill of $$('[data-failed-count]')) {
    pill.textContent = count > 0 ? String(count) : ''
    pill.hidden = count === 0
  }
  if (page === 'failed' && knownFailed !== undefined && count !== knownFailed) {
    const notice = $('[data-new-failures]')
    if (notice) notice.hidden = false
  }
  if (knownFailed === undefined) knownFailed = count
}

function updateMonitoring(metrics) {
  for (const [module, html] of Object.entries(metrics.html)) {
    const card = $(`[data-monitor="${CSS.escape(module)}"]`)
    if (card) card.outerHTML = html.trim()
  }
}

function connect() {
  const live = $('[data-live]')
  const source = new EventSource(`${base}/api/stream`)
  source.addEventListener('open', () => live?.classList.add('on'))
  source.addEventListener('error', () => live?.classList.remove('on'))
  source.addEventListener('snapshot', (event) => {
    const data = JSON.parse(event.data)
    for (const status of data.modules) updatePanel(status)
    appendLogs(data.logs)
    if (data.orders) renderOrders(data.orders, data.ordersHtml)
    showGateway(data.gateway)
    renderSagas(data.sagas, data.html)
    showFailedCount(data.failedCount)
    showTransport(data.transport, data.transportText)
  })
  source.addEventListener('metrics', (event) => updateMonitoring(JSON.parse(event.data)))
}

function showTransport(transport, text) {
  if (!transport) return
  setText($('[data-transport]'), text)
  $('[data-transport]')?.classList.toggle('down', transport.kind !== 'embedded' && transport.state !== 'connected')
}

function toast(text, isError) {
  let box = $('.toast')
  if (!box) {
    box = document.createElement('div')
    box.className = 'toast'
    box.setAttribute('role', 'status')
    document.body.append(box)
  }
  box.textContent = text
  box.classList.toggle('error', Boolean(isError))
  box.classList.add('show')
  clearTimeout(toast.timer)
  toast.timer = setTimeout(() => box.classList.remove('show'), 2500)
}

function describe(result) {
  if (result.orderIds) return `Placed ${result.orderIds.length} orders`
  if (result.orderId && result.conversationId) return `Placed ${result.orderId}`
  if (result.orderId) return `Cancelling ${result.orderId}`
  // A module in another process gets the command over the broker; its panel shows the outcome when it reports.
  if (result.name && result.location !== 'here') return `${result.name}: sent to its process`
  if (result.name) return `${result.name}: ${result.running ? 'running' : 'stopped'}${result.faultInjected ? ', fault injected' : ''}`
  return 'Done'
}

function enhance(form) {
  form.dataset.enhanced = 'yes'
  form.addEventListener('submit', async (event) => {
    const submitter = event.submitter
    if (form.hasAttribute('data-reload')) {
      // Bulk actions reload the page with the result; the button says what is going on meanwhile.
      if (submitter) {
        submitter.textContent = (submitter.getAttribute('formaction') || form.action).endsWith('/delete') ? 'Deleting…' : 'Retrying…'
        // Disabled after the browser has taken the submission, so a second click sends nothing.
        setTimeout(() => (submitter.disabled = true))
      }
      return
    }
    event.preventDefault()
    // button.formAction falls back to the page's own URL when the attribute is absent; read the attribute.
    const action = submitter?.getAttribute('formaction') || form.action
    if (submitter) submitter.disabled = true
    try {
      const response = await fetch(action, { method: 'POST', headers: { accept: 'application/json' }, body: new URLSearchParams(new FormData(form, submitter)) })
      const result = await response.json()
      if (!response.ok) toast(result.message || `Failed (${response.status})`, true)
      else toast(describe(result))
    } catch {
      toast('The server did not answer', true)
    } finally {
      if (submitter) submitter.disabled = false
    }
  })
}

for (const form of $$('form[data-enhance]')) enhance(form)

const selectAll = $('[data-select-all]')
selectAll?.addEventListener('change', () => {
  for (const box of $$('input[type="checkbox"][form="bulk"]')) box.checked = selectAll.checked
})

connect()
