import { fileURLToPath } from 'node:url'
import { Eta } from 'eta'
import type { FastifyReply } from 'fastify'
import type { ConsoleContext, ConsoleLink } from './context.js'

/** The console's templates (views/), rendered by its own Eta: a host app's view engine, if any, is its own business. */
const eta = new Eta({ views: fileURLToPath(new URL('../../views', import.meta.url)), cache: true })

export interface NavItem extends ConsoleLink {
  /** Shows the count of failed messages beside it. */
  badge?: boolean
}

/** The menu of every page: the host's pages, then the console's. */
export function consoleNav(console: Pick<ConsoleContext, 'base' | 'home' | 'links'>): NavItem[] {
  const { base } = console
  return [
    ...console.links,
    ...(console.home ? [{ href: `${base}/`, label: 'Modules', page: 'modules' }] : []),
    { href: `${base}/failed`, label: 'Failed messages', page: 'failed', badge: true },
    { href: `${base}/monitoring`, label: 'Monitoring', page: 'monitoring' },
  ]
}

export interface PageData {
  title: string
  /** Marks the menu's item. */
  page: string
  /** Where the console is mounted: its assets, stream and pages are under it. */
  base: string
  nav: readonly NavItem[]
  /** Scripts of the host's page beside the console's own. */
  scripts?: readonly string[]
  [key: string]: unknown
}

/** A piece of a page (views/<view>.eta) alone: what the live stream sends, drawn by the same template as the page. */
export function renderFragment(view: string, data: object): string {
  return eta.render(view, data)
}

/** Renders `view` inside the layout (Eta escapes every value by default). */
export function renderPage(reply: FastifyReply, view: string, data: PageData): FastifyReply {
  const body = eta.render(view, data)
  return reply.type('text/html; charset=utf-8').send(eta.render('layout', { ...data, body }))
}
