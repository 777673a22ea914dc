import { newMessageId } from '../../src/bus/messages/message-id.js'
const seen = new Set<string>()
const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
for (let i = 0; i < 1_000_000; i++) { const id = newMessageId(); if (!re.test(id)) throw new Error(id); seen.add(id) }
console.log(seen.size)
let t = performance.now(); for (let i = 0; i < 1_000_000; i++) newMessageId(); console.log('ns/id', ((performance.now() - t) * 1e6 / 1e6).toFixed(0))
