/**
 * The shop's modules: the composition root's one list. A module exported here runs in `npm start`, gets
 * its console panel, its monitoring row and its failed messages, and `--modules` knows its name; nothing
 * else changes. Sales, Billing and Shipping are factories (the shop passes them its options and reads
 * their data); a new module is simply its `defineModule(...)`, one line:
 *
 *   export { email } from './modules/email/index.js'
 */
export { createSales as sales } from './modules/sales/index.js'
export { createBilling as billing } from './modules/billing/index.js'
export { createShipping as shipping } from './modules/shipping/index.js'
