/**
 * Profiles one section of a profile script, not its set-up: `MAILROOM_PROFILE=out.cpuprofile node --import
 * tsx bench/profile-recovery.ts` writes a CPU profile of the measured part alone (open it in Chrome's
 * DevTools). Without the variable the section simply runs.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

export async function profiled<T>(section: () => Promise<T>): Promise<T> {
  const out = process.env.MAILROOM_PROFILE
  if (!out) return section()
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  try {
    return await section()
  } finally {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(out, JSON.stringify(profile))
    session.disconnect()
  }
}
