/**
 * `mailroom/console`: the console as a Fastify plugin (see the README, "The console in your own Fastify
 * app"). Fastify and the console's own packages are optional peers of the package: install them beside it.
 */
export { mailroomConsole, type MailroomConsoleOptions } from './console-plugin.js'
export type { ConsoleLink } from './context.js'
export { ConsoleOptionError, NotAuthenticatedError, ReadOnlyError, WebErrorCodes, type WebErrorCode } from './errors.js'
