/**
 * The parts a bus has started, in order, each with how to stop it. A start that fails half-way stops what
 * it had started, and `stop()` stops the rest, both the last started first: one list instead of a
 * rollback written by hand at every step.
 */
export class StartedParts {
  private readonly parts: { name: string; stop: () => unknown }[] = []

  add(name: string, stop: () => unknown): void {
    this.parts.push({ name, stop })
  }

  /**
   * Stops every part, the last started first. One that fails to stop does not keep the others running:
   * its error is returned, with the part's name, once all have been stopped.
   */
  async stopAll(): Promise<{ part: string; error: unknown }[]> {
    const failures: { part: string; error: unknown }[] = []
    while (this.parts.length > 0) {
      const part = this.parts.pop()!
      try {
        await part.stop()
      } catch (error) {
        failures.push({ part: part.name, error })
      }
    }
    return failures
  }
}
