import type { LogLine } from '../signals.js'

/** A module's last log lines, for its panel: at most `limit` are shown, trimmed in bulk (trimming one line at a time shifted the whole list at every message). */
export class RecentLogs {
  readonly #lines: LogLine[] = []

  constructor(private readonly limit: number) {}

  get lines(): readonly LogLine[] {
    return this.#lines.length > this.limit ? this.#lines.slice(-this.limit) : this.#lines
  }

  remember(line: LogLine): void {
    this.#lines.push(line)
    if (this.#lines.length >= 2 * this.limit) this.#lines.splice(0, this.#lines.length - this.limit)
  }
}
