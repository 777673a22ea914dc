/** Polls `what` every 20 ms until it says nothing is wrong (undefined); after `timeoutMs`, throws what it last said. */
export async function waitUntil(what: () => string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const missing = what()
    if (missing === undefined) return
    if (Date.now() > deadline) throw new Error(`after ${timeoutMs} ms: ${missing}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
