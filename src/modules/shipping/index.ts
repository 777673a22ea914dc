import { defineModule } from '../../bus/index.js'
import { prepareShipment } from './handlers/prepare-shipment.js'
import { shipBilledOrder } from './handlers/ship-billed-order.js'

export default defineModule({ name: 'shipping', handlers: [prepareShipment, shipBilledOrder], concurrency: 4 })
