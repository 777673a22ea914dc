/**
 * `mailroom/amqp`: the RabbitMQ transport, for modules in processes of their own. A module of its own so
 * that the bus (`mailroom`) never loads the AMQP client for those who do not use it.
 */
export { createAmqpTransport, amqpNames, type AmqpTransportOptions } from './transport/amqp-transport.js'
export { createAmqpConsoleLink, type AmqpConsoleLinkOptions } from './transport/amqp-console-link.js'
