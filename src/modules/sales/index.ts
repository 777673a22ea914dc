import { defineModule } from '../../bus/index.js'
import { placeOrder } from './handlers/place-order.js'

export default defineModule({ name: 'sales', handlers: [placeOrder], concurrency: 4 })
