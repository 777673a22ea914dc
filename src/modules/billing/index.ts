import { defineModule } from '../../bus/index.js'
import { chargeForOrder } from './handlers/charge-for-order.js'

export default defineModule({ name: 'billing', handlers: [chargeForOrder], concurrency: 4 })
