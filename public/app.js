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

// The same words as views/shop.eta: one line per process running the module, shown when there are two or more.
function showInstances(list, instances) {
  if (!list) return
  list.hidden = instances.length < 2
  const lines = instances.map((i) => ({ text: `${i.id}: ${i.running ? 'running' : 'stopped'}, handled ${i.handled}${i.reporting ? '' : ', not reporting'}`, quiet: !i.reporting }))
  if ([...list.children].map((item) => item.textContent).join('\n') === lines.map((line) => line.text).join('\n')) return
  list.replaceChildren(...lines.map((line) => {
    const item = document.createElement('li')
    item.textContent = line.text
    if (line.quiet) item.className = 'quiet'
    return item
  }))
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
  showInstances($('[data-instances]', panel), status.instances ?? [])
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
    const item = document.createElement('li')
    item.dataset.at = String(line.at)
    item.className = line.level
    const time = document.createElement('time')
    time.textContent = new Date(line.at).toISOString().slice(11, 23)
    item.append(time, ` ${line.text}`)
    list.append(item)
    while (list.children.length > 12) list.firstElementChild.remove()
  }
}

const csrfToken = () => $('input[name="_csrf"]')?.value ?? ''

function renderOrders(orders) {
  const body = $('[data-orders]')
  if (!body) return
  const rows = orders.map((order) => {
    const row = document.createElement('tr')
    row.dataset.order = order.orderId
    const cell = (...content) => {
      const td = document.createElement('td')
      td.append(...content)
      return td
    }
    const code = document.createElement('code')
    code.textContent = order.orderId
    const tick = (text, className) => {
      const span = document.createElement('span')
      span.className = `tick ${className}`
      span.textContent = text
      return span
    }
    const cancelled = order.sales === 'cancelled'
    let sales
    if (order.sales === 'in-window') {
      const form = document.createElement('form')
      form.method = 'post'
      form.action = `/actions/orders/${encodeURIComponent(order.orderId)}/cancel`
      form.className = 'inline'
      const token = document.createElement('input')
      token.type = 'hidden'
      token.name = '_csrf'
      token.value = csrfToken()
      const button = document.createElement('button')
      button.type = 'submit'
      button.className = 'small'
      button.textContent = 'Cancel'
      form.append(token, button)
      enhance(form)
      sales = cell(tick('in window', 'window'), form)
    } else if (cancelled) sales = cell(tick('cancelled', 'cancelled'))
    else sales = cell(tick(order.placed ? 'placed' : '…', order.placed ? 'yes' : ''))
    const billing = cell(tick(order.billed ? 'billed' : cancelled ? '—' : '…', order.billed ? 'yes' : ''))
    const shipping = cell(tick(order.shipped ? 'shipped' : order.delayed ? 'delayed' : cancelled ? '—' : '…', order.shipped ? 'yes' : order.delayed ? 'late' : ''))
    const link = document.createElement('a')
    link.href = `${base}/conversations/${encodeURIComponent(order.conversationId)}`
    link.textContent = 'conversation →'
    row.append(cell(code), sales, billing, shipping, cell(link))
    return row
  })
  body.replaceChildren(...rows)
  const empty = $('[data-orders-empty]')
  if (empty) empty.hidden = orders.length > 0
}

function renderSagas(sagas) {
  for (const [module, { count, instances }] of Object.entries(sagas)) {
    const section = $(`[data-module="${CSS.escape(module)}"] [data-sagas]`)
    if (!section) continue
    setText($('[data-saga-count]', section), String(count))
    const items = instances.map((instance) => {
      const item = document.createElement('li')
      const name = document.createElement('code')
      name.textContent = `${instance.saga} ${instance.id}`
      const data = document.createElement('span')
      data.className = 'data'
      data.textContent = JSON.stringify(instance.data)
      item.append(name, ' ', data)
      return item
    })
    $('[data-saga-list]', section).replaceChildren(...items)
  }
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

const series = {}
function updateMonitoring(latest) {
  for (const [module, sample] of Object.entries(latest)) {
    const card = $(`[data-monitor="${CSS.escape(module)}"]`)
    if (!card) continue
    for (const metric of $$('[data-metric]', card)) {
      const key = metric.dataset.metric
      const values = (series[`${module}.${key}`] ??= [])
      values.push(sample[key])
      if (values.length > 60) values.shift()
      setText($('[data-value]', metric), Number(sample[key]).toFixed(key === 'queueLength' || key === 'retries' ? 0 : 1))
      const max = Math.max(1, ...values)
      const points = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * 200},${38 - (v / max) * 34}`).join(' ')
      $('polyline', metric).setAttribute('points', points)
    }
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
    renderOrders(data.orders)
    showGateway(data.gateway)
    renderSagas(data.sagas)
    showFailedCount(data.failedCount)
    showTransport(data.transport)
  })
  source.addEventListener('metrics', (event) => updateMonitoring(JSON.parse(event.data)))
}

// The same words as describeTransport in src/web/routes/pages.ts.
function showTransport(transport) {
  if (!transport) return
  const waiting = transport.unconfirmed > 0 ? `, ${transport.unconfirmed} waiting for the broker` : ''
  setText($('[data-transport]'), transport.kind === 'embedded' ? 'Transport: embedded, every module in this process' : `Transport: RabbitMQ at ${transport.address}, ${transport.state}${waiting}`)
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
